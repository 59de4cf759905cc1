using FluentMigrator;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Migrations;

/// <summary>
/// The team's "004 cleanup", the contract step: drops from users the columns that moved to the
/// profile tables. It never runs on a plain <c>migrate up</c> (only with <c>--cleanup</c>), because
/// it must wait until the new application has proven itself. It refuses while any value of a
/// column to drop is not represented in the new tables (e.g. a VETERINARIAN carrying a
/// hospitalName: that value exists nowhere else) and names the user ids. Down re-adds the columns
/// and refills them from the profile tables, then re-creates the trigger that records old-application
/// writes to them (docs/adr/0007), which the up drops with the columns it names.
/// </summary>
[Migration(202509291000, "Cleanup: drop the moved columns from users (only with --cleanup)")]
[RequiresExplicitRequest("--cleanup")]
public sealed class DropMovedUserColumns : SqlMigration, ILocksUsersThroughout
{
    public override void Down()
    {
        base.Down();
        Execute.Sql(SqlScripts.Load("Shared.legacy_writes_trigger_on_users.sql"));
    }
}
