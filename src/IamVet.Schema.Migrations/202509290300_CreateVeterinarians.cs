using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// Every VETERINARIAN user moves, active or not: withdrawn accounts can be restored, so their data
/// must survive (the old runbook counted only active ones). Ids are 'vet_' + the user id, so
/// up → down → up gives the same rows. Down writes back what the new application changed or
/// added (the table is the truth after Up) before dropping the table.
/// </summary>
[Migration(202509290300, "Create veterinarians and move the veterinarian columns of users into it")]
public sealed class CreateVeterinarians : SqlMigration;
