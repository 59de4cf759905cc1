using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// hospital_facility_images become hospital_images with a hospitalId. Legacy displayOrder is
/// mostly 0, so copying it would break UNIQUE (hospitalId, imageOrder): imageOrder is 1, 2, 3 …
/// per hospital ordered by displayOrder, createdAt, id. Rows of users that are not hospitals stay
/// where they are. Down mirrors the new table into the legacy one — added, changed, reordered and
/// deleted images — and stashes imageDescription, which has no legacy column.
/// </summary>
[Migration(202509290600, "Create hospital_images from hospital_facility_images, renumbering imageOrder per hospital")]
public sealed class CreateHospitalImages : SqlMigration;
