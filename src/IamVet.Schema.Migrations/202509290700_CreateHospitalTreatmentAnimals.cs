using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// hospital_animals rows of hospital users become hospital_treatment_animals, joined to hospitals on userId. The legacy
/// table allows the same animalType twice per hospital; the new UNIQUE (hospitalId, animalType) does not,
/// so duplicates collapse to one row (the earliest, id 'hta_' + its legacy id). Rows of users that are
/// not hospitals stay where they are. Down mirrors the set of animal types per hospital back into the
/// legacy table (added and removed ones) before dropping the table.
/// </summary>
[Migration(202509290700, "Create hospital_treatment_animals from hospital_animals, one row per hospital and animalType")]
public sealed class CreateHospitalTreatmentAnimals : SqlMigration;
