using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// Every HOSPITAL user moves, active or not, with ids 'hosp_' + the user id. A hospital account's
/// realName is its representative; businessLicenseFile is the newest business licence's fileUrl.
/// A HOSPITAL without hospitalName cannot satisfy the new NOT NULL: the migration refuses, naming
/// the ids, before it creates anything. postalCode, coordinates and description have no legacy
/// column: Down keeps them in iamvet_rollback_stash and the next Up restores them.
/// </summary>
[Migration(202509290500, "Create hospitals and move the hospital columns of users into it")]
public sealed class CreateHospitals : SqlMigration;
