using IamVet.Schema.Tests.Infrastructure;

namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// A run interrupted in the middle of its data move — the runner killed with SIGKILL, or its
/// migration connection terminated by the server — leaves nothing of the new schema, the legacy
/// tables exactly as they were, no migration lock, and a migration_log row that says what happened.
/// The move is held in place by a trigger that sleeps after the INSERT into hospitals, so the kill
/// lands inside the one transaction after veterinarians and veterinary_students were already filled.
/// </summary>
[TestFixture]
public sealed class InterruptedRunTests : RunnerTest
{
    /// <summary>Long enough never to end by itself during a test; the test ends it.</summary>
    private const int StallSeconds = 300;

    private const string SleepingInTheMove = "a.application_name = 'iamvet-schema migrate' AND a.wait_event = 'PgSleep'";

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Test]
    public async Task A_runner_killed_mid_move_leaves_nothing_and_the_next_run_marks_its_row_ABORTED_then_succeeds()
    {
        // Given a database whose migration_log has its audit columns (so the attempt writes a RUNNING row first) and a stalling move
        var before = await StallTheMoveAsync();

        // When the runner is killed with SIGKILL while its migration connection is inside the move
        using var runner = Start("migrate", "up", "--yes", "--no-backup");
        var backend = await Sessions.WaitForAsync(Database, SleepingInTheMove, Patience, "the migration connection inside the hospitals move", runner);
        runner.KillHard();
        var killed = await runner.WaitAsync(Patience);

        // Then its migration backend outlives it: PostgreSQL notices a vanished client only when it next
        // talks to it (client_connection_check_interval is off by default), so the statement runs on and
        // keeps its locks. A next run waits --lock-timeout for it and stops with exit 7, naming it.
        var outlived = !await Sessions.GoneWithinAsync(Database, backend, TimeSpan.FromSeconds(1));
        var whileItRuns = await RunAsync("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "1s");
        var rowsWhileItRuns = await LogAsync();
        await Sessions.TerminateAsync(Database, backend);
        Assert.That(await Sessions.GoneWithinAsync(Database, backend, Patience), Is.True, $"backend {backend} did not end after pg_terminate_backend");

        Assert.That(killed.ExitCode, Is.EqualTo(128 + 9), killed.ToString());
        Assert.That(outlived, Is.True, "the killed runner's backend ended by itself: then nothing below was at risk, but the test no longer shows the case");
        Assert.That(whileItRuns.ExitCode, Is.EqualTo(7), whileItRuns.ToString());
        Assert.That(whileItRuns.Output, Does.Contain($"pid {backend} (iamvet-schema migrate)").And.Contain($"pg_terminate_backend({backend})"), whileItRuns.ToString());
        Assert.That(rowsWhileItRuns, Is.EqualTo(new[] { "RUNNING | unfinished", "REFUSED | finished" }), "the killed attempt stays RUNNING while its transaction is alive");
        Assert.That(await StateAsync(), Is.EqualTo(before), "nothing of the killed run may remain");
        Assert.That(await TableExistsAsync("veterinarians"), Is.False, "veterinarians was filled inside the killed transaction");
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero, "no migration lock may be left behind");

        // When the next run starts (the sabotage removed)
        await Database.ExecuteAsync(Sabotage.Remove("hospitals"));
        var next = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then it marks the killed attempt ABORTED and succeeds
        Assert.That(next.ExitCode, Is.Zero, next.ToString());
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded));
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ABORTED | finished", "REFUSED | finished", "SUCCESS | finished" }));
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id LIMIT 1"), Does.Contain("never finished"));
    }

    [Test]
    public async Task A_migration_connection_terminated_mid_move_exits_5_saying_so_and_logs_ROLLED_BACK()
    {
        // Given
        var before = await StallTheMoveAsync();

        // When the server terminates the migration connection inside the move (an operator's pg_terminate_backend, a failover)
        using var runner = Start("migrate", "up", "--yes", "--no-backup");
        var backend = await Sessions.WaitForAsync(Database, SleepingInTheMove, Patience, "the migration connection inside the hospitals move", runner);
        await Sessions.TerminateAsync(Database, backend);
        var result = await runner.WaitAsync(Patience);

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("the migration's connection was terminated by the server")
            .And.Contain("rolled the transaction back, nothing changed"), result.ToString());
        Assert.That(await Sessions.GoneWithinAsync(Database, backend, Patience), Is.True);
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero, "no migration lock may be left behind");
        var row = (await Database.RowsAsync("SELECT status, description, (details->>'exitCode')::int AS exit_code FROM migration_log")).Single();
        Assert.That(row["status"], Is.EqualTo("ROLLED_BACK"));
        Assert.That(row["exit_code"], Is.EqualTo(5));
        Assert.That(row["description"], Does.Contain("terminated by the server"));
    }

    /// <summary>Audit columns, the seed rows, and a trigger that stalls the move in hospitals; returns the state to compare with.</summary>
    private async Task<List<string>> StallTheMoveAsync()
    {
        await Migrator.UpToAsync(Database, Migrator.AuditColumns);
        await LegacyRows.InsertAsync(Database, SeedRows);
        await Database.ExecuteAsync(Sabotage.SleepAfterEachInsert("hospitals", StallSeconds));
        return await StateAsync();
    }

    private async Task<List<string>> LogAsync() =>
        await Database.LinesAsync("SELECT status, CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'finished' END FROM migration_log ORDER BY id");
}
