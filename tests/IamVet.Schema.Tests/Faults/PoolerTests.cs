namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Issue #10: production's pooled endpoint (Neon's "-pooler" host) is PgBouncer in TRANSACTION
/// mode, where the runner's session state (the migration lock, lock_timeout, exported snapshots)
/// would land on other clients' server connections. A real PgBouncer stands in front of the test
/// server; every command that locks or writes must refuse it (exit 3) before anything changes,
/// naming the pooler, whether PgBouncer refuses the runner's startup options or silently drops them.
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

    [Test]
    public async Task Through_a_session_mode_PgBouncer_the_pooler_check_passes_and_the_refused_startup_options_name_the_pooler()
    {
        // Given a session-mode PgBouncer (one server connection per client, as the runner needs), which refuses `options` as PgBouncer does by default
        await CreateLegacyDatabaseWithRowsAsync();
        pooler = await PgBouncer.StartAsync("session", ignoreOptions: false);
        var before = await UntouchedStateAsync();

        // When
        var result = await RunAsync(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = pooler.To(Database.Name) }, "check");

        // Then the pooler check lets it through (not "transaction mode"), and the connection with the runner's settings
        // is refused with a sentence that names the pooler instead of "PostgreSQL refused the connection"
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain("goes through a connection pooler (PgBouncer or similar)")
            .And.Contain("unsupported startup parameter: options").And.Contain("the host without \"-pooler\"")
            .And.Not.Contain("transaction mode").And.Not.Contain("PostgreSQL refused the connection"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    [Test]
    public async Task Through_a_session_mode_PgBouncer_that_drops_the_startup_options_the_lost_lock_timeout_is_refused()
    {
        // Given a session-mode PgBouncer with ignore_startup_parameters = options: it accepts the runner's settings and drops them
        await CreateLegacyDatabaseWithRowsAsync();
        pooler = await PgBouncer.StartAsync("session", ignoreOptions: true);
        var before = await UntouchedStateAsync();

        // When
        var result = await RunAsync(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = pooler.To(Database.Name) },
            "migrate", "up", "--yes", "--lock-timeout", "7s");

        // Then the pooler check passes, but the lock connection's lock_timeout is not what the runner asked for: refused, nothing changed
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain("dropped the runner's session settings")
            .And.Contain("lock_timeout is 0 ms on the server, the runner asked for 7000 ms").And.Not.Contain("transaction mode"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "a backup was written\n" + result);
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
