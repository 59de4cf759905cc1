namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Another session holds a lock on users: the run gives up after --lock-timeout (exit 5) naming the
/// session, and nobody else waits on the runner longer than that. The reason it matters: PostgreSQL
/// queues lock requests, so while the runner's ALTER TABLE users waits for ACCESS EXCLUSIVE, every
/// new reader of users queues behind that request, even though the table's current holder would
/// let it read. lock_timeout on every connection of the run bounds that queue.
/// (Exit_5_when_another_session_holds_a_lock_on_users_beyond_the_lock_timeout in ExitCodeTests
/// covers the exit code and message for a reader's lock; here: the readers behind it, and a stronger lock.)
/// </summary>
[TestFixture]
public sealed class LockContentionTests : RunnerTest
{
    private static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Scheduling slack on a busy two-core machine: the reader starts up to one poll late, the runner reacts within one.</summary>
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(1.5);

    [Test]
    public async Task A_reader_queued_behind_the_runners_lock_request_on_users_waits_no_longer_than_the_lock_timeout()
    {
        // Given the application in a transaction that has read users (ACCESS SHARE)
        var before = await BaselineWithRowsAsync();
        await using var application = await Sessions.OpenAsAsync(Database, "iamvet-tests app");
        await using var transaction = await application.BeginTransactionAsync();
        await ExecuteAsync(application, "SELECT count(*) FROM users");

        // When the runner queues for ACCESS EXCLUSIVE on users, and another reader of users arrives behind it
        using var runner = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "3s");
        await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'",
            TimeSpan.FromSeconds(60), "the migration waiting for a lock", runner);
        await using var reader = await Sessions.OpenAsAsync(Database, "iamvet-tests reader");
        var clock = Stopwatch.StartNew();
        await ExecuteAsync(reader, "SELECT count(*) FROM users");
        var readerWaited = clock.Elapsed;
        var result = await runner.WaitAsync(TimeSpan.FromSeconds(60));
        await transaction.RollbackAsync();

        // Then the reader did queue behind the runner's request, but only until the runner gave up
        TestContext.Out.WriteLine($"the reader waited {readerWaited.TotalSeconds:0.00} s (--lock-timeout {LockTimeout.TotalSeconds} s)");
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("--lock-timeout 3s").And.Contain($"pid {application.ProcessID} (iamvet-tests app)"), result.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"),
            Does.Contain($"blocked by pid {application.ProcessID} (iamvet-tests app) holds AccessShareLock on users"));
        Assert.That(readerWaited, Is.LessThan(LockTimeout + Slack), "a reader waited on the runner longer than --lock-timeout");
        Assert.That(readerWaited, Is.GreaterThan(TimeSpan.FromSeconds(1)), "the reader was not queued behind the runner's lock request: the test no longer shows the case");
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    [Test]
    public async Task A_session_holding_users_exclusively_makes_the_run_give_up_before_migrating_within_the_lock_timeout_naming_it()
    {
        // Given a session holding users ACCESS EXCLUSIVE (a hand-run ALTER TABLE left in an open transaction)
        var before = await BaselineWithRowsAsync();
        await using var holder = await Sessions.OpenAsAsync(Database, "iamvet-tests psql");
        await using var transaction = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "LOCK TABLE users IN ACCESS EXCLUSIVE MODE");

        // When
        var clock = Stopwatch.StartNew();
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "3s");
        var took = clock.Elapsed;
        await transaction.RollbackAsync();

        // Then the data audit's read of users gave up (it used to wait for ever), named the holder and changed nothing
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("before migrating").And.Contain($"pid {holder.ProcessID} (iamvet-tests psql)"), result.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"), Is.EqualTo(
            $"ROLLED_BACK: gave up waiting for a table lock after --lock-timeout 3s, before migrating (blocked by pid {holder.ProcessID} (iamvet-tests psql) holds AccessExclusiveLock on users); nothing changed"));
        Assert.That(took, Is.LessThan(TimeSpan.FromSeconds(60)), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    [Test]
    public async Task A_backup_behind_a_lock_on_any_table_it_dumps_gives_up_within_the_lock_timeout()
    {
        // Given a session holding a table of another schema (one the audit never reads, but pg_dump locks) exclusively
        var before = await BaselineWithRowsAsync();
        await Database.ExecuteAsync("CREATE SCHEMA app_other; CREATE TABLE app_other.audit_trail (id integer)");
        await using var holder = await Sessions.OpenAsAsync(Database, "iamvet-tests psql");
        await using var transaction = await holder.BeginTransactionAsync();
        await ExecuteAsync(holder, "LOCK TABLE app_other.audit_trail IN ACCESS EXCLUSIVE MODE");

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--lock-timeout", "2s");
        await transaction.RollbackAsync();

        // Then pg_dump gave up (it used to wait for ever) and nothing changed
        Assert.That(result.ExitCode, Is.EqualTo(4), result.ToString());
        Assert.That(result.Output, Does.Contain("pg_dump failed").And.Contain("app_other.audit_trail"), result.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"),
            Does.Contain("another session held a table pg_dump must lock longer than --lock-timeout 2s"));
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "no partial dump may be left behind");
    }

    private async Task<List<string>> BaselineWithRowsAsync()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        return await StateAsync();
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
