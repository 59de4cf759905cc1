using Microsoft.Extensions.Logging.Abstractions;

namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// docs/adr/0008, 0009: the rollback leaves users."realName" nullable behind a CHECK NOT VALID (no
/// scan under its ACCESS EXCLUSIVE lock) and the new tables renamed (iamvet_rolled_back_*, no
/// unlink at its COMMIT), and after its COMMIT drops those tables, then makes realName NOT NULL
/// again, each in a transaction of its own (the Finish stage). Each path: done at once; left pending (as a run killed between
/// the two COMMITs, or plain FluentMigrator, leaves it) and finished by the next migrate down;
/// refused while a user has no name (exit 9, the rollback itself kept); an up from the pending state.
/// </summary>
[TestFixture]
public sealed class RollbackFinishTests : RunnerTest
{
    [Test]
    public async Task A_rollback_makes_realName_NOT_NULL_again_after_its_commit_and_leaves_no_constraint_behind()
    {
        // Given an upgraded database
        await UpgradeLegacyDatabaseWithRowsAsync();

        // When it is rolled back
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then the Finish stage ran after the commit, and users is as the legacy schema has it
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(down.Output, Does.Contain("Finish").And.Contain("NOT NULL again"), down.ToString());
        Assert.That(await RealNameIsNotNullAsync(), Is.True);
        Assert.That(await PendingConstraintsAsync(), Is.Zero);
        Assert.That(await RolledBackTablesAsync(), Is.Empty);
    }

    [Test]
    public async Task A_rollback_whose_last_step_never_ran_is_shown_by_status_and_finished_by_the_next_migrate_down()
    {
        // Given a rollback that committed but whose last step never ran (FluentMigrator alone, as a killed runner leaves it)
        await UpgradeLegacyDatabaseWithRowsAsync();
        RollBackWithoutTheFinishStage();
        Assert.That(await RealNameIsNotNullAsync(), Is.False, "the Down itself must leave realName nullable behind the constraint");
        Assert.That(await PendingConstraintsAsync(), Is.EqualTo(1));
        Assert.That(await RolledBackTablesAsync(), Has.Count.EqualTo(6), "the Down itself must rename the new tables, not drop them (docs/adr/0009)");
        Assert.That(await TableExistsAsync("veterinarians"), Is.False, "renamed out of the application's way");

        // When
        var status = await RunAsync("status");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then status says what is pending and how to finish it, and migrate down (nothing to roll back) finishes it
        Assert.That(status.ExitCode, Is.Zero, status.ToString());
        Assert.That(status.Output, Does.Contain("pending").And.Contain("migrate down"), status.ToString());
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(down.Output, Does.Contain("finished the last step of an earlier rollback"), down.ToString());
        Assert.That(await RealNameIsNotNullAsync(), Is.True);
        Assert.That(await PendingConstraintsAsync(), Is.Zero);
        Assert.That(await RolledBackTablesAsync(), Is.Empty);
    }

    [Test]
    public async Task A_user_without_a_name_keeps_the_step_pending_with_exit_9_naming_the_user_and_nothing_is_lost()
    {
        // Given a user the new application made without a name and without a profile, and a rollback
        // that committed without the audit that names such users (FluentMigrator alone)
        await UpgradeLegacyDatabaseWithRowsAsync();
        await NewApplication.SignUpAsync(Database, "nameless", "VETERINARIAN");
        RollBackWithoutTheFinishStage();
        var before = await LegacyTablesAsync();

        // When the runner tries to finish it
        var refused = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then exit 9 names the user and says the rollback is kept; the legacy tables are untouched,
        // the renamed tables (the first step, in a transaction of its own) are gone, realName's step is pending
        Assert.That(refused.ExitCode, Is.EqualTo(9), refused.ToString());
        Assert.That(refused.Output, Does.Contain("nameless").And.Contain("Nothing is lost").And.Contain("migrate down again"), refused.ToString());
        Assert.That(await LegacyTablesAsync(), Is.EqualTo(before));
        Assert.That(await RolledBackTablesAsync(), Is.Empty);
        Assert.That(await PendingConstraintsAsync(), Is.EqualTo(1));

        // When the user gets a name, the next migrate down finishes it
        await Database.ExecuteAsync("""UPDATE users SET "realName" = '이름' WHERE id = 'nameless'""");
        var finished = await RunAsync("migrate", "down", "--yes", "--no-backup");
        Assert.That(finished.ExitCode, Is.Zero, finished.ToString());
        Assert.That(await RealNameIsNotNullAsync(), Is.True);
    }

    [Test]
    public async Task An_up_from_a_pending_rollback_drops_the_constraint_so_users_without_a_name_can_be_written_again()
    {
        // Given a rollback whose last step is pending
        await UpgradeLegacyDatabaseWithRowsAsync();
        RollBackWithoutTheFinishStage();

        // When the database is upgraded again
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then the expand phase's users accept a user without realName (as the new application writes them),
        // and the tables the rollback renamed are gone (their index names are the new tables' again)
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(await PendingConstraintsAsync(), Is.Zero);
        Assert.That(await RolledBackTablesAsync(), Is.Empty);
        Assert.That(await RealNameIsNotNullAsync(), Is.False);
        await NewApplication.SignUpAsync(Database, "new-user", "VETERINARIAN");
    }

    [Test]
    public async Task An_up_from_a_pending_rollback_names_the_users_without_a_name_before_anything_changes()
    {
        // Given users the new application made without a name (a veterinarian, a student, a hospital
        // with its hospitalName) and a rollback whose last step is pending, so realName is still nullable
        await UpgradeLegacyDatabaseWithRowsAsync();
        await NewApplication.SignUpAsync(Database, "nameless", "VETERINARIAN");
        await NewApplication.SignUpAsync(Database, "nameless-stu", "VETERINARY_STUDENT");
        await NewApplication.SignUpAsync(Database, "nameless-hos", "HOSPITAL");
        await Database.ExecuteAsync("""UPDATE users SET "hospitalName" = '이름없는병원' WHERE id = 'nameless-hos'""");
        RollBackWithoutTheFinishStage();
        var before = await StateAsync();

        // When: check (what the audit runs before a backup), and an up without a backup (its users checks on the migration's snapshot)
        var check = await RunAsync("check", "--no-backup");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then both name the three users (the profile tables' name columns are NOT NULL), and nothing changed
        foreach (var result in new[] { check, up })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("user-without-real-name").And.Contain("nameless, nameless-hos, nameless-stu"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), up.ToString());
    }

    private void RollBackWithoutTheFinishStage() =>
        new MigrationExecutor(NullLoggerFactory.Instance).Apply(Database.ConnectionString, MigrationPlanner.PlanDown([Versions.Baseline, Versions.AuditColumns, Versions.SplitUsers], Versions.Baseline));

    private Task<bool> RealNameIsNotNullAsync() =>
        Database.ScalarAsync<bool>("""SELECT attnotnull FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attname = 'realName'""");

    private async Task<List<string>> RolledBackTablesAsync()
    {
        await using var connection = await Database.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT relname::text FROM pg_class WHERE relname LIKE 'iamvet\\_rolled\\_back\\_%' AND relkind = 'r' ORDER BY 1", connection);
        return await Sql.ColumnAsync(command, CancellationToken.None);
    }

    private Task<long> PendingConstraintsAsync() =>
        Database.ScalarAsync<long>("SELECT count(*) FROM pg_constraint WHERE conrelid = 'public.users'::regclass AND conname = 'users_realname_not_null'");
}
