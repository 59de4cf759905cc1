namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Issue #11: users and the legacy side tables stay readable while rows move. Every statement that
/// locks them ACCESS EXCLUSIVE is the last thing each direction does (docs/adr/0006), so a reader
/// with a short lock_timeout is never blocked by the migration before its last step.
/// <para>
/// Not timed: each test stops the migration inside its data move, deterministically, with a session
/// that holds users in SHARE mode (which blocks a write to users, not a read), asserts the lock
/// modes the migration holds and waits for there, and reads users and a side table the way the
/// application would (lock_timeout 100 ms) while it waits.
/// </para>
/// <para>
/// Writers are another matter: the up holds users and the legacy side tables against writes from
/// before its first migration to COMMIT, and the run's --lock-timeout bounds only the run's own
/// waits. An application bounds its writes' wait with its own lock_timeout (runbook §3).
/// </para>
/// </summary>
[TestFixture]
public sealed class ReadersDuringMigrationTests : RunnerTest
{
    private static readonly string[] LegacyTables = ["users", "hospital_animals", "hospital_specialties", "hospital_facility_images", "hospital_business_licenses"];

    [Test]
    public async Task Users_stays_readable_while_the_up_moves_rows()
    {
        // Given a legacy database and a session holding users in SHARE mode (readers go on, writers wait)
        await CreateLegacyDatabaseWithRowsAsync();
        await using var blocker = await HoldUsersInShareModeAsync();

        // When the up reaches the first statement that needs more than SHARE on users: the first foreign key to it
        using var up = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "60s", "--json");
        var pid = await Sessions.WaitForAsync(Database,
            "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(60), "the up waiting for users", up);

        // Then it is inside the data move, asking for SHARE ROW EXCLUSIVE (writers wait, readers do not) …
        Assert.That(await QueryOfAsync(pid), Does.Contain("veterinarians_userId_fkey"), "the up waits inside its data move");
        Assert.That(await WaitingModeOnUsersAsync(pid), Is.EqualTo("ShareRowExclusiveLock"));
        Assert.That(await HeldLocksBlockingReadersAsync(pid), Is.Empty);

        // … and the application reads users and a side table within 100 ms
        await AssertReadableAsync();

        // And once the blocker is gone the up completes
        await blocker.DisposeAsync();
        var result = await up.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM veterinarians"), Is.GreaterThan(0));

        // And the run reports the two windows: reads blocked only inside the (longer) time writes waited
        var availability = JsonNode.Parse(result.StandardOutput)!["availability"]!;
        Assert.That(availability["usersReadsBlockedMs"]!.GetValue<long>(), Is.LessThan(availability["writesBlockedMs"]!.GetValue<long>()), result.ToString());
    }

    [Test]
    public async Task Users_stays_readable_while_the_down_writes_rows_back()
    {
        // Given an upgraded database and a session holding users in SHARE mode
        await UpgradeLegacyDatabaseWithRowsAsync();
        await using var blocker = await HoldUsersInShareModeAsync();

        // When the down reaches its first write to users (the hospitals' values going back)
        using var down = Start("migrate", "down", "--yes", "--no-backup", "--lock-timeout", "60s");
        var pid = await Sessions.WaitForAsync(Database,
            "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(60), "the down waiting for users", down);

        // Then it is inside the write-back, asking for ROW EXCLUSIVE (readers do not wait for it) …
        Assert.That(await QueryOfAsync(pid), Does.Contain("UPDATE users"), "the down waits inside its write-back");
        Assert.That(await WaitingModeOnUsersAsync(pid), Is.EqualTo("RowExclusiveLock"));
        Assert.That(await HeldLocksBlockingReadersAsync(pid), Is.Empty);
        Assert.That(await TableExistsAsync("hospital_treatment_specialties"), Is.True, "no new table is dropped before the write-back ends");

        // … and the application reads users and a side table within 100 ms
        await AssertReadableAsync();

        // And once the blocker is gone the down completes
        await blocker.DisposeAsync();
        var result = await down.WaitAsync(TimeSpan.FromSeconds(120));
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(await TableExistsAsync("veterinarians"), Is.False);
    }

    [Test]
    public async Task An_application_write_waits_for_the_whole_migrate_stage_unless_its_own_lock_timeout_bounds_it()
    {
        // Given a legacy database, and an up that stays in its Migrate stage for 6 s (the run's own lock_timeout is 500 ms)
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.SleepAfterEachInsert("veterinarians", 6));
        using var up = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "500ms");
        var runner = await Sessions.WaitForAsync(Database,
            "a.application_name = 'iamvet-schema migrate' AND a.wait_event = 'PgSleep'", TimeSpan.FromSeconds(60), "the up inside its data move", up);

        // When the application writes users with a lock_timeout of its own, then without one
        await using var bounded = await Sessions.OpenAsAsync(Database, "the application with lock_timeout");
        var clock = Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var attempt = new NpgsqlCommand("""SET lock_timeout = '300ms'; UPDATE users SET nickname = 'bounded' WHERE id = 'vet2'""", bounded);
            await attempt.ExecuteNonQueryAsync();
        });
        var boundedWait = clock.Elapsed;
        await using var unbounded = await Sessions.OpenAsAsync(Database, "the application without lock_timeout");
        clock.Restart();
        await using var write = new NpgsqlCommand("""UPDATE users SET nickname = 'unbounded' WHERE id = 'vet2'""", unbounded);
        var written = write.ExecuteNonQueryAsync();
        var waiting = await Sessions.WaitForAsync(Database,
            "a.application_name = 'the application without lock_timeout' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(10), "the write waiting");
        var blockers = await Database.ScalarAsync<int[]>($"SELECT pg_blocking_pids({waiting})");
        var result = await up.WaitAsync(TimeSpan.FromSeconds(120));
        var rows = await written;
        var unboundedWait = clock.Elapsed;

        // Then the bounded write fails at once with 55P03; the other waits for the run's COMMIT, far past --lock-timeout, then succeeds
        Assert.That(refused!.SqlState, Is.EqualTo(PostgresErrorCodes.LockNotAvailable), refused.ToString());
        Assert.That(boundedWait, Is.LessThan(TimeSpan.FromSeconds(2)), "the application's own lock_timeout bounds its wait");
        Assert.That(blockers, Does.Contain(runner), "the write waits for the migration's lock on users");
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(rows, Is.EqualTo(1));
        Assert.That(unboundedWait, Is.GreaterThan(TimeSpan.FromSeconds(2)), $"waited {unboundedWait.TotalSeconds:0.00} s, with --lock-timeout 500ms");
        TestContext.Out.WriteLine($"bounded write refused after {boundedWait.TotalSeconds:0.00} s; unbounded write waited {unboundedWait.TotalSeconds:0.00} s (--lock-timeout 500ms)");
    }

    private async Task<NpgsqlConnection> HoldUsersInShareModeAsync()
    {
        var blocker = await Sessions.OpenAsAsync(Database, "a session holding users");
        await using var hold = new NpgsqlCommand("BEGIN; LOCK TABLE users IN SHARE MODE", blocker);
        await hold.ExecuteNonQueryAsync();
        return blocker;
    }

    private Task<string> QueryOfAsync(int pid) =>
        Database.ScalarAsync<string>($"SELECT query FROM pg_stat_activity WHERE pid = {pid}");

    private Task<string> WaitingModeOnUsersAsync(int pid) =>
        Database.ScalarAsync<string>($"SELECT string_agg(mode, ', ') FROM pg_locks WHERE pid = {pid} AND NOT granted AND relation = 'public.users'::regclass");

    /// <summary>The locks the migration's backend holds on a legacy table that a plain SELECT would wait for.</summary>
    private async Task<List<string>> HeldLocksBlockingReadersAsync(int pid)
    {
        var tables = string.Join(", ", LegacyTables.Select(t => $"'public.{t}'::regclass"));
        return await Database.LinesAsync($"""
            SELECT relation::regclass || ' ' || mode FROM pg_locks
            WHERE pid = {pid} AND granted AND mode = 'AccessExclusiveLock' AND relation IN ({tables})
            """);
    }

    private async Task AssertReadableAsync()
    {
        await using var reader = await Sessions.OpenAsAsync(Database, "the application reading");
        await using var read = new NpgsqlCommand("""
            SET lock_timeout = '100ms';
            SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM hospital_animals) + (SELECT count(*) FROM hospital_facility_images);
            """, reader);
        // (a lock wait longer than 100 ms fails here with "canceling statement due to lock timeout")
        Assert.That(await read.ExecuteScalarAsync(), Is.GreaterThan(0L), "users and the side tables are readable");
    }
}
