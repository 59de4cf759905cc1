using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// Every VETERINARY_STUDENT user moves, active or not, with ids 'vst_' + the user id.
/// universityEmail keeps its uniqueness in the new table. Down writes back what the new
/// application changed or added before dropping the table.
/// </summary>
[Migration(202509290400, "Create veterinary_students and move the student columns of users into it")]
public sealed class CreateVeterinaryStudents : SqlMigration;
