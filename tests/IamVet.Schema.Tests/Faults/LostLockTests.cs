namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// The migration lock lost while the migration runs: its lock connection ended by the server
/// (idle_session_timeout, a failover) or by an operator (here: pg_terminate_backend). The migration
/// checks on its own connection, just before COMMIT, that the run's lock connection still holds the
/// lock (docs/adr/0013): without it the migration rolls back (exit 5, logged ROLLED_BACK on a new
/// connection). A second run that takes the freed lock meanwhile is stopped by the first run's
/// migration connection and told that run is alive, not "gone".
/// </summary>
[TestFixture]
public sealed class LostLockTests : RunnerTest
{
    private const long Gate = 7_140_026;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Test]
    public async Task A_lock_connection_terminated_mid_move_rolls_the_up_back_with_exit_5_and_a_second_run_meanwhile_is_told_the_first_is_alive()
    {
        // Given a database whose move into hospitals waits on a gate the test holds
        await Migrator.UpToAsync(Database, Versions.AuditColumns);
        await LegacyRows.InsertAsync(Database, SeedRows);
        await Database.ExecuteAsync(Sabotage.GateAfterEachInsert("hospitals", Gate));
        var before = await StateAsync();
        await using var gate = await Sessions.HoldGateAsync(Database, Gate);

        // When the run's lock connection is terminated while its migration waits at the gate
        using var runner = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "60s");
        var migration = await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema migrate' AND a.wait_event = 'advisory'", Patience, "the migration at the gate", runner);
        var lockConnection = await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema lock'", Patience, "the lock connection");
        await Sessions.TerminateAsync(Database, lockConnection);
        Assert.That(await Sessions.GoneWithinAsync(Database, lockConnection, Patience), Is.True, "the lock connection was not terminated");

        // And a second run starts meanwhile: it takes the freed migration lock
        var second = await RunAsync("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "1s");

        // Then it stops at the first run's migration connection, saying that run is alive and lost its lock
        Assert.That(second.ExitCode, Is.EqualTo(7), second.ToString());
        Assert.That(Unwrapped(second.Output), Does.Contain($"pid {migration} (iamvet-schema migrate)")
            .And.Contain("no longer holds the migration lock").And.Contain("Its runner is still connected, so the run is alive")
            .And.Not.Contain("Its runner is gone"), second.ToString());

        // When the gate opens
        await Sessions.OpenGateAsync(gate, Gate);
        var result = await runner.WaitAsync(TimeSpan.FromSeconds(120));

        // Then the first run did not commit without its lock: rolled back, exit 5 saying why, its row ROLLED_BACK
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain("the migration lock was lost before COMMIT").And.Contain("rolled back, nothing changed"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await LogAsync(), Is.EqualTo(new[] { "ROLLED_BACK | 5 | true", "REFUSED | 7 | false" }), result.ToString());
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero, "no migration lock may be left behind");
    }

    [Test]
    public async Task A_lock_connection_terminated_while_the_down_runs_rolls_it_back_with_exit_5()
    {
        // Given an upgraded database and a session whose write lock on veterinarians holds the down inside its transaction
        await UpgradeLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        await using var writer = await Sessions.OpenAsAsync(Database, "the application");
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE veterinarians IN ROW EXCLUSIVE MODE", writer, transaction))
        {
            await hold.ExecuteNonQueryAsync();
        }

        // When the run's lock connection is terminated while the down waits, and the writer then ends
        using var down = Start("migrate", "down", "--yes", "--no-backup", "--lock-timeout", "60s");
        await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'", Patience, "the down waiting on the writer's lock", down);
        var lockConnection = await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema lock'", Patience, "the lock connection");
        await Sessions.TerminateAsync(Database, lockConnection);
        Assert.That(await Sessions.GoneWithinAsync(Database, lockConnection, Patience), Is.True, "the lock connection was not terminated");
        await transaction.RollbackAsync();
        var result = await down.WaitAsync(TimeSpan.FromSeconds(120));

        // Then the rollback did not commit without its lock: exit 5 saying why, nothing changed, its row ROLLED_BACK
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain("the migration lock was lost before COMMIT").And.Contain("rolled back, nothing changed"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await TableExistsAsync("veterinarians"), Is.True, result.ToString());
        Assert.That((await LogAsync()).Last(), Is.EqualTo("ROLLED_BACK | 5 | true"), result.ToString());
        Assert.That(await Sessions.AdvisoryLocksAsync(Database), Is.Zero, "no migration lock may be left behind");
    }

    /// <summary>Each attempt's status, exit code and whether its description says the lock was lost.</summary>
    private async Task<List<string>> LogAsync() =>
        await Database.LinesAsync("""
            SELECT status, details->>'exitCode', (description LIKE '%migration lock was lost%')::text
            FROM migration_log ORDER BY id
            """);
}
