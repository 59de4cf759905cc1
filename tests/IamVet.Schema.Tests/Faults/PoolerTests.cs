namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Issue #10: production's pooled endpoint (Neon's "-pooler" host) is PgBouncer in TRANSACTION
/// mode, where the runner's session state (the migration lock, lock_timeout, exported snapshots)
/// would land on other clients' server connections. A real PgBouncer stands in front of the test
/// server; every command that locks or writes must refuse it (exit 3) before anything changes,
/// naming the pooler, whether PgBouncer refuses the startup parameter <c>options</c> or silently drops it.
/// <para>
/// Issue #24: a session-preserving way to the server (PgBouncer in session mode, Neon's proxy, which
/// has dropped <c>options</c> on both of its endpoints) keeps all the runner needs: it passes, its
/// session settings set by SQL on each connection (docs/adr/0012).
/// </para>
/// </summary>
[TestFixture]
public sealed class PoolerTests : OperationsTest
{
    private PgBouncer? pooler;

    public enum Command
    {
        MigrateUp,
        MigrateDown,
        Check,
        Backup,
        Baseline,
        Rehearse,
        Restore,
        RestoreReplace,
    }

    [TearDown]
    public async Task StopPgBouncer()
    {
        if (pooler is not null)
        {
            await pooler.DisposeAsync();
            pooler = null;
        }
    }

    private static IEnumerable<TestCaseData> Commands()
    {
        foreach (var command in Enum.GetValues<Command>())
        {
            foreach (var ignoreOptions in new[] { false, true })
            {
                yield return new TestCaseData(command, ignoreOptions).SetName(
                    $"{command}_through_a_transaction_mode_PgBouncer_{(ignoreOptions ? "that_drops_the_startup_options" : "that_refuses_the_startup_options")}_exits_3_naming_the_pooler_and_changes_nothing");
            }
        }
    }

    [TestCaseSource(nameof(Commands))]
    public async Task A_transaction_mode_pooler_is_refused_before_anything_changes(Command command, bool ignoreOptions)
    {
        // Given a database in the state the command starts from, and PgBouncer in transaction mode in front of the server
        string[] arguments;
        string? dump = null;
        switch (command)
        {
            case Command.Baseline:
                await CreateLegacyDatabaseWithoutHistoryAsync();
                break;
            case Command.MigrateDown:
                await UpgradeLegacyDatabaseWithRowsAsync();
                break;
            default:
                await CreateLegacyDatabaseWithRowsAsync();
                break;
        }

        if (command is Command.Restore or Command.RestoreReplace)
        {
            var backup = await RunAsync("backup");
            Assert.That(backup.ExitCode, Is.Zero, backup.ToString());
            dump = BackupFiles().Select(name => Path.Combine(BackupDirectory, name)).Single(name => name.EndsWith(".dump", StringComparison.Ordinal));
        }

        arguments = command switch
        {
            Command.MigrateUp => ["migrate", "up", "--yes"],
            Command.MigrateDown => ["migrate", "down", "--yes"],
            Command.Check => ["check"],
            Command.Backup => ["backup"],
            Command.Baseline => ["baseline", "--yes"],
            Command.Rehearse => ["rehearse"],
            Command.Restore => ["restore", "--from", dump!],
            Command.RestoreReplace => ["restore", "--from", dump!, "--replace", "--yes"],
            _ => throw new ArgumentOutOfRangeException(nameof(command)),
        };
        pooler = await PgBouncer.StartAsync("transaction", ignoreOptions);
        var before = await UntouchedStateAsync();
        var backupsBefore = BackupFiles();

        // When the runner is pointed at the pooler
        var result = await RunAsync(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = pooler.To(Database.Name) }, arguments);

        // Then it refuses with exit 3, naming the pooler and saying what to do, and nothing changed
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain("goes through a connection pooler in transaction mode")
            .And.Contain("Nothing was changed").And.Contain("the host without \"-pooler\""), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("unexpected error"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.EqualTo(backupsBefore), "a backup was written\n" + result);
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "a database was created\n" + result);
    }

    [TestCase(false, TestName = "Through_a_session_mode_PgBouncer_that_refuses_the_startup_options_check_migrate_up_with_a_backup_and_down_pass")]
    [TestCase(true, TestName = "Through_a_session_mode_PgBouncer_that_drops_the_startup_options_check_migrate_up_with_a_backup_and_down_pass")]
    public async Task A_session_mode_PgBouncer_is_accepted(bool ignoreOptions)
    {
        // Given a session-mode PgBouncer (one server connection per client for its whole life, as the runner needs),
        // which refuses the startup parameter `options` (PgBouncer's default) or drops it (ignore_startup_parameters)
        await CreateLegacyDatabaseWithRowsAsync();
        var legacy = await StateAsync();
        pooler = await PgBouncer.StartAsync("session", ignoreOptions);
        var through = new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = pooler.To(Database.Name) };

        // When the operator checks, migrates up with a backup (pg_dump through the pooler too) and back down
        foreach (var arguments in new[] { new[] { "check" }, ["migrate", "up", "--yes", "--lock-timeout", "7s"], ["migrate", "down", "--yes", "--no-backup"] })
        {
            var step = await RunAsync(through, arguments);

            // Then each step succeeds (the runner sets its session settings by SQL, so nothing depends on `options`)
            Assert.That(step.ExitCode, Is.Zero, $"{string.Join(' ', arguments)}\n{step}");
            Assert.That(Unwrapped(step.Output), Does.Not.Contain("transaction mode"), step.ToString());
        }

        // And the backup was written, and the round trip gave the legacy tables back
        Assert.That(BackupFiles().Count(name => name.EndsWith(".dump", StringComparison.Ordinal)), Is.EqualTo(1));
        Assert.That(await StateAsync(), Is.EqualTo(legacy));
    }

    [Test]
    public async Task Through_a_proxy_that_drops_the_startup_options_the_flow_without_backups_runs_each_connection_with_the_runners_settings()
    {
        // Given a legacy database with rows, no history and settings of its own, behind a proxy that drops `options`
        var fingerprints = await LegacyDatabaseWithTimeoutsOfItsOwnAsync();
        await using var proxy = CancelKeyProxy.Start(Database.ConnectionString, dropStartupOptions: true, showSettingsAtEnd: true);

        // When the operator runs the flow that needs no pg_dump through it
        await FlowThroughAsync(proxy, [
            ["baseline", "--yes"],
            ["check", "--no-backup"],
            ["migrate", "up", "--yes", "--no-backup"],
            ["status"],
            ["verify"],
            ["migrate", "down", "--yes", "--no-backup"],
        ]);

        // Then the rollback gave every legacy row back
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprints), "the legacy tables after up and down");
    }

    [Test]
    public async Task Through_a_proxy_that_drops_the_startup_options_the_whole_flow_with_backups_rehearsal_and_restore_passes()
    {
        // Given a legacy database with rows, no history and settings of its own, behind a proxy that drops `options`
        var fingerprints = await LegacyDatabaseWithTimeoutsOfItsOwnAsync();
        await using var proxy = CancelKeyProxy.Start(Database.ConnectionString, dropStartupOptions: true, showSettingsAtEnd: true);

        // When the operator runs the whole runbook through it: baseline, check, rehearse, migrate up with its backup,
        // status, verify, migrate down (with its backup), and a restore of the last backup into a new database
        await FlowThroughAsync(proxy, [
            ["baseline", "--yes"],
            ["check"],
            ["rehearse"],
            ["migrate", "up", "--yes"],
            ["status"],
            ["verify"],
            ["migrate", "down", "--yes"],
        ]);
        var dump = Directory.GetFiles(BackupDirectory, "*.dump").OrderBy(File.GetLastWriteTimeUtc).Last();
        await FlowThroughAsync(proxy, [["restore", "--from", dump]]);

        // Then the rollback gave every legacy row back, rehearse left no copy, and the restored copy holds the legacy tables
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprints), "the legacy tables after up and down");
        var copy = (await DerivedDatabasesAsync()).Single(d => d.Name.Contains("_restore_", StringComparison.Ordinal));
        Assert.That(await LegacyFingerprintsAsync(copy.Name), Is.EqualTo(fingerprints), "the restored copy");
    }

    /// <summary>
    /// A legacy database with rows and no migration history (its legacy tables' fingerprints returned), whose own
    /// settings differ from every one the runner needs (lock_timeout 3 s, the others 1 h): they would show wherever
    /// the runner left a setting to the server. The proxy in front (as Neon's, on both endpoints) drops `options`.
    /// </summary>
    private async Task<IReadOnlyList<TableFingerprint>> LegacyDatabaseWithTimeoutsOfItsOwnAsync()
    {
        await CreateLegacyDatabaseWithoutHistoryAsync();
        await LegacyRows.InsertAsync(Database, SeedRows);
        var fingerprints = await LegacyFingerprintsAsync(Database.Name);
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"ALTER DATABASE \"{Database.Name}\" SET lock_timeout = '3s'; ALTER DATABASE \"{Database.Name}\" SET statement_timeout = '1h'; " +
            $"ALTER DATABASE \"{Database.Name}\" SET idle_in_transaction_session_timeout = '1h'; ALTER DATABASE \"{Database.Name}\" SET idle_session_timeout = '1h'", admin);
        await command.ExecuteNonQueryAsync();
        return fingerprints;
    }

    /// <summary>
    /// Runs each step through <paramref name="proxy"/> with a lock timeout of 7 s from the environment, each must exit 0;
    /// then every connection the runner opened itself (not pg_dump's or pg_restore's, which set their own, nor the
    /// pooler check's, which sets nothing) ran with what the runner asked for, as the proxy saw it at its end:
    /// lock_timeout 7 s (0 for status and verify, which take no run lock timeout), no statement or idle timeouts.
    /// </summary>
    private async Task FlowThroughAsync(CancelKeyProxy proxy, string[][] steps)
    {
        var through = new Dictionary<string, string?>
        {
            [ConnectionSettings.EnvironmentVariable] = proxy.ConnectionString,
            ["IAMVET_SCHEMA_LOCK_TIMEOUT"] = "7s",
        };
        foreach (var arguments in steps)
        {
            var seen = proxy.Sessions.Count;
            var step = await RunAsync(through, arguments);
            Assert.That(step.ExitCode, Is.Zero, $"{string.Join(' ', arguments)} through the proxy\n{step}");

            // status, verify and restore take no run lock timeout, nor do the plan's preview (a read of VersionInfo) and
            // the maintenance database's connection (creating and dropping a scratch database); the lock connection's
            // last statements (the migration_log row) bound their own wait at 5 s (MigrationPipeline)
            string LockTimeoutOf(ProxiedSession session) =>
                arguments[0] is "status" or "verify" or "restore" || session.ApplicationName is "iamvet-schema preview" or "iamvet-schema restore" ? "0"
                : session.ApplicationName == "iamvet-schema lock" && session.LockTimeout == "5s" ? "5s" : "7s";
            var runners = proxy.Sessions.Skip(seen)
                .Where(s => s.ApplicationName.StartsWith("iamvet-schema ", StringComparison.Ordinal))
                .Where(s => s.ApplicationName is not ("iamvet-schema pg_dump" or "iamvet-schema pg_restore" or "iamvet-schema pooler-check"))
                .ToList();
            Assert.That(runners, Is.Not.Empty, $"{string.Join(' ', arguments)}: no connection of the runner was seen");
            Assert.That(runners, Is.All.Matches<ProxiedSession>(s =>
                    s is not null && s.LockTimeout == LockTimeoutOf(s) && s.StatementTimeout == "0" && s.IdleInTransactionSessionTimeout == "0" && s.IdleSessionTimeout == "0"),
                $"{string.Join(' ', arguments)}: sessions not running with the runner's settings:\n" + string.Join("\n", runners));
        }
    }

    [Test]
    public async Task Through_a_session_preserving_proxy_with_cancel_keys_of_its_own_migrate_up_with_a_backup_and_down_succeed()
    {
        // Given a session-preserving proxy in front of the server whose cancel keys are its own, as Neon's direct endpoint
        await CreateLegacyDatabaseWithRowsAsync();
        var legacy = await StateAsync();
        await using var proxy = CancelKeyProxy.Start(Database.ConnectionString);
        var through = new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = proxy.ConnectionString };

        // When migrating up with a backup (pg_dump through the proxy too), then down
        var up = await RunAsync(through, "migrate", "up", "--yes");
        var down = await RunAsync(through, "migrate", "down", "--yes", "--no-backup");

        // Then both succeed and say which way they went, the backup was written, and the round trip gives the legacy tables back
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(Unwrapped(up.Output), Does.Contain("through a session-preserving proxy"), up.ToString());
        Assert.That(BackupFiles().Count(name => name.EndsWith(".dump", StringComparison.Ordinal)), Is.EqualTo(1), up.ToString());
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(legacy), down.ToString());
    }
}
