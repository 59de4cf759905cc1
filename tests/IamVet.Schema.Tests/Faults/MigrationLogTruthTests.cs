namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// migration_log tells the truth (issue #14): a committed migration always has a row saying so,
/// written in the migration's own transaction; a run that dies leaves a row the next run marks
/// ABORTED, also before migration_log has its audit columns; and a run that cannot complete its
/// row afterwards says so in its outcome (exit 8), not in a stderr footnote.
/// </summary>
[TestFixture]
public sealed class MigrationLogTruthTests : RunnerTest
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task A_committed_run_whose_row_cannot_be_completed_afterwards_has_a_SUCCESS_row_and_exits_8_saying_its_bookkeeping_failed()
    {
        // Given a database whose migration_log refuses any change to a row once it says SUCCESS
        await Migrator.UpToAsync(Database, Versions.AuditColumns);
        await LegacyRows.InsertAsync(Database, SeedRows);
        await Database.ExecuteAsync("""
            CREATE FUNCTION test_refuse_completion() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the row of a committed migration may not change (test)';
            END $$;
            CREATE TRIGGER test_refuse_completion BEFORE UPDATE ON migration_log
                FOR EACH ROW WHEN (OLD.status = 'SUCCESS') EXECUTE FUNCTION test_refuse_completion();
            """);

        // When a migrate up commits (its row written SUCCESS in its transaction) and the run's end cannot complete that row
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then the migration committed, its row says so, and the run says its bookkeeping failed
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded), result.ToString());
        Assert.That(await Database.LinesAsync("SELECT status, version_to::text, (details ? 'fingerprints')::text FROM migration_log ORDER BY id"),
            Is.EqualTo(new[] { $"SUCCESS | {Migrator.Expanded} | true" }), result.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(8), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain("the run's bookkeeping failed").And.Contain("says the migration committed"), result.ToString());
    }

    [Test]
    public async Task A_first_ever_up_killed_mid_move_leaves_a_RUNNING_row_that_the_next_run_marks_ABORTED()
    {
        // Given a database at the legacy baseline (migration_log without its audit columns) and a stalling move
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.SleepAfterEachInsert("hospitals", 300));

        // When the first-ever up is killed with SIGKILL inside the move
        using var runner = Start("migrate", "up", "--yes", "--no-backup");
        var backend = await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema migrate' AND a.wait_event = 'PgSleep'", Patience, "the move", runner);
        runner.KillHard();
        await runner.WaitAsync(Patience);
        Assert.That(await Sessions.GoneWithinAsync(Database, backend, TimeSpan.FromSeconds(15)), Is.True, "the killed run's backend is still working");

        // Then its attempt has a row, in the legacy shape, that says it is running
        Assert.That(await Database.LinesAsync("SELECT description FROM migration_log ORDER BY id"), Is.EqualTo(new[] { "RUNNING: started" }));

        // When the next run goes up
        await Database.ExecuteAsync(Sabotage.Remove("hospitals"));
        var next = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then it marked the killed attempt ABORTED and logged itself SUCCESS
        Assert.That(next.ExitCode, Is.Zero, next.ToString());
        var rows = await Database.LinesAsync("SELECT status, left(description, 9) FROM migration_log ORDER BY id");
        Assert.That(rows, Is.EqualTo(new[] { "ABORTED | ABORTED: ", "SUCCESS | SUCCESS: " }));
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id LIMIT 1"), Does.Contain("never finished"));
    }

    [Test]
    public async Task A_first_ever_up_has_one_row_that_says_SUCCESS_with_its_audit_columns_filled()
    {
        // Given a database at the legacy baseline (migration_log without its audit columns)
        await CreateLegacyDatabaseWithRowsAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then its one row was begun in the legacy shape and completed with every audit column
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(await Database.LinesAsync("""
            SELECT status, (started_at IS NOT NULL)::text, (finished_at IS NOT NULL)::text, version_to::text, (runner_version IS NOT NULL)::text,
                   (details ? 'fingerprints')::text, (details ? 'stages')::text
            FROM migration_log ORDER BY id
            """), Is.EqualTo(new[] { $"SUCCESS | true | true | {Migrator.Expanded} | true | true | true" }));
    }
}
