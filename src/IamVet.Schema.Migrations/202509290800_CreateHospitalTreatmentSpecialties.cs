using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// hospital_specialties rows of hospital users become hospital_treatment_specialties, joined to hospitals on userId. The legacy
/// table allows the same specialty twice per hospital; the new UNIQUE (hospitalId, specialty) does not,
/// so duplicates collapse to one row (the earliest, id 'hts_' + its legacy id). Rows of users that are
/// not hospitals stay where they are. Down mirrors the set of specialties per hospital back into the
/// legacy table (added and removed ones) before dropping the table.
/// </summary>
[Migration(202509290800, "Create hospital_treatment_specialties from hospital_specialties, one row per hospital and specialty")]
public sealed class CreateHospitalTreatmentSpecialties : SqlMigration;
