namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// A run interrupted in the middle of its data move — the runner killed with SIGKILL, or its
/// migration connection terminated by the server — leaves nothing of the new schema, the legacy
/// tables exactly as they were, no migration lock, and a migration_log row that says what happened.
/// The move is held in place by a trigger that sleeps after the INSERT into hospitals, so the kill
/// lands inside the one transaction after veterinarians and veterinary_students were already filled.
/// A connection a killed run leaves working (its pg_dump, or its migration on PostgreSQL before 14)
/// keeps the next run off until it ends.
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

        // Then its backend ends by itself, its transaction rolled back. A backend notices a vanished
        // client only when it next talks to it, which in a long statement can be much later; the
        // runner's migration connection sets client_connection_check_interval (PostgreSQL 14+), so
        // it checks every second. The assertions wait for that instead of racing it.
        Assert.That(killed.ExitCode, Is.EqualTo(128 + 9), killed.ToString());
        Assert.That(await Sessions.GoneWithinAsync(Database, backend, TimeSpan.FromSeconds(15)), Is.True,
            $"the killed runner's backend {backend} is still running its statement");
        Assert.That(await StateAsync(), Is.EqualTo(before), "nothing of the killed run may remain");
        Assert.That(await TableExistsAsync("veterinarians"), Is.False, "veterinarians was filled inside the killed transaction");
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero, "no migration lock may be left behind");
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "RUNNING | unfinished" }), "the killed attempt's row says it never finished");

        // When the next run starts (the sabotage removed)
        await Database.ExecuteAsync(Sabotage.Remove("hospitals"));
        var next = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then it marks the killed attempt ABORTED and succeeds
        Assert.That(next.ExitCode, Is.Zero, next.ToString());
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded));
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ABORTED | finished", "SUCCESS | finished" }));
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id LIMIT 1"), Does.Contain("never finished"));
    }

    [Test]
    public async Task A_connection_a_killed_run_left_working_makes_the_next_run_wait_then_exit_7_naming_it()
    {
        // Given what a runner killed during its backup leaves behind: its pg_dump (a process of its own,
        // not killed with it) still dumping, holding locks on every table, and the attempt's RUNNING row
        await Migrator.UpToAsync(Database, Versions.AuditColumns);
        await LegacyRows.InsertAsync(Database, SeedRows);
        await Database.ExecuteAsync("""
            INSERT INTO migration_log (migration_name, description, status, started_at)
            VALUES ('migrate up 202509290100 -> 202509290800', 'RUNNING: started', 'RUNNING', now())
            """);
        var before = await StateAsync();
        await using var leftover = await Sessions.OpenAsAsync(Database, "iamvet-schema pg_dump");
        var pid = leftover.ProcessID;
        var transaction = await leftover.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead);
        await using (var dumping = new Npgsql.NpgsqlCommand("LOCK TABLE users IN ACCESS SHARE MODE", leftover, transaction))
        {
            await dumping.ExecuteNonQueryAsync();
        }

        // When a run starts while it works
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "1s");
        var rows = await LogAsync();
        var state = await StateAsync();
        await transaction.RollbackAsync();
        await transaction.DisposeAsync();
        await leftover.CloseAsync();
        var afterItEnded = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then it waited --lock-timeout, stopped with exit 7 naming the connection and how to end it, left the RUNNING row alone,
        // and the run after the leftover had ended went through
        Assert.That(result.ExitCode, Is.EqualTo(7), result.ToString());
        Assert.That(result.Output, Does.Contain($"pid {pid} (iamvet-schema pg_dump)").And.Contain($"pg_terminate_backend({pid})")
            .And.Contain("Its runner is gone (killed?)"), result.ToString());
        Assert.That(rows, Is.EqualTo(new[] { "RUNNING | unfinished", "REFUSED | finished" }), "the earlier attempt stays RUNNING while its connection works");
        Assert.That(state, Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero);
        Assert.That(afterItEnded.ExitCode, Is.Zero, afterItEnded.ToString());
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ABORTED | finished", "REFUSED | finished", "SUCCESS | finished" }));
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

    [Test]
    public async Task Ctrl_C_mid_move_rolls_back_at_once_and_logs_the_attempt()
    {
        // Given
        var before = await StallTheMoveAsync();

        // When the operator presses Ctrl-C (SIGINT) inside the move, whose statement would run on for a minute
        using var runner = Start("migrate", "up", "--yes", "--no-backup");
        await Sessions.WaitForAsync(Database, SleepingInTheMove, Patience, "the migration connection inside the hospitals move", runner);
        var interrupted = System.Diagnostics.Stopwatch.StartNew();
        runner.Interrupt();
        var result = await runner.WaitAsync(Patience);

        // Then the statement is cancelled, everything rolls back within the 10 s grace, and the attempt is logged
        Assert.That(interrupted.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), result.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("interrupted (Ctrl-C or SIGTERM)").And.Contain("rolled back, nothing changed"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero, "no migration lock may be left behind");
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ROLLED_BACK | finished" }), result.ToString());
    }

    [Test]
    public async Task Ctrl_C_mid_move_through_a_proxy_that_gives_its_own_cancel_keys_rolls_back_at_once()
    {
        // Given a session-preserving proxy (as Neon's direct endpoint) whose cancel keys are its own:
        // the process id Npgsql is told is no server process's
        var before = await StallTheMoveAsync();
        await using var proxy = CancelKeyProxy.Start(Database.ConnectionString);

        // When the operator presses Ctrl-C inside the move of a run through it
        using var runner = Start(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = proxy.ConnectionString }, "migrate", "up", "--yes", "--no-backup");
        await Sessions.WaitForAsync(Database, SleepingInTheMove, Patience, "the migration connection inside the hospitals move", runner);
        var interrupted = System.Diagnostics.Stopwatch.StartNew();
        runner.Interrupt();
        var result = await runner.WaitAsync(Patience);

        // Then the runner cancels the backend it is really talking to: rolled back at once, logged
        Assert.That(result.Output, Does.Contain("through a session-preserving proxy"), result.ToString());
        Assert.That(interrupted.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), result.ToString());
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("interrupted (Ctrl-C or SIGTERM)").And.Contain("rolled back, nothing changed"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ROLLED_BACK | finished" }), result.ToString());
    }

    [Test]
    public async Task Ctrl_C_during_the_backup_stops_pg_dump_removes_its_partial_file_and_logs_the_attempt()
    {
        // Given pg_dump will wait on a table another session holds (a table of another schema, which only pg_dump reads)
        await StallTheMoveAsync();
        await Database.ExecuteAsync("CREATE SCHEMA app_other; CREATE TABLE app_other.audit_trail (id integer)");
        var before = await StateAsync();
        await using var holder = await Database.OpenAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE app_other.audit_trail IN ACCESS EXCLUSIVE MODE", holder, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        // When the operator presses Ctrl-C while pg_dump waits
        using var runner = Start("migrate", "up", "--yes", "--lock-timeout", "5m");
        var dumper = await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema pg_dump' AND a.wait_event_type = 'Lock'", Patience, "pg_dump waiting for its lock", runner);
        runner.Interrupt();
        var result = await runner.WaitAsync(Patience);

        // Then pg_dump is gone, no partial dump is left, nothing changed, and the attempt is logged
        Assert.That(result.ExitCode, Is.EqualTo(4), result.ToString());
        Assert.That(result.Output, Does.Contain("interrupted (Ctrl-C or SIGTERM) during Backup"), result.ToString());
        Assert.That(await Sessions.GoneWithinAsync(Database, dumper, Patience), Is.True, "pg_dump's session outlived the run");
        Assert.That(BackupFiles(), Is.Empty, "no partial dump may be left behind");
        await transaction.RollbackAsync();
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ABORTED | finished" }), result.ToString());
    }

    /// <summary>Audit columns, the seed rows, and a trigger that stalls the move in hospitals; returns the state to compare with.</summary>
    private async Task<List<string>> StallTheMoveAsync()
    {
        await Migrator.UpToAsync(Database, Versions.AuditColumns);
        await LegacyRows.InsertAsync(Database, SeedRows);
        await Database.ExecuteAsync(Sabotage.SleepAfterEachInsert("hospitals", StallSeconds));
        return await StateAsync();
    }

    private async Task<List<string>> LogAsync() =>
        await Database.LinesAsync("SELECT status, CASE WHEN finished_at IS NULL THEN 'unfinished' ELSE 'finished' END FROM migration_log ORDER BY id");
}
