namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// Every exit code documented in Pipeline/ExitCodes.cs, produced by the built runner as a process
/// against a throwaway database, each with the promise that goes with it (nothing changed, rolled
/// back, the message names what to fix).
/// </summary>
[TestFixture]
public sealed class ExitCodeTests : RunnerTest
{
    private static readonly long[] ExpandPhase =
    [
        Versions.Baseline, Versions.AuditColumns, Versions.SplitUsers,
    ];

    [Test]
    public async Task Exit_0_up_on_an_empty_database_and_a_second_up_has_nothing_to_do()
    {
        // When
        var first = await RunAsync("migrate", "up", "--yes", "--create-legacy-schema");
        var second = await RunAsync("migrate", "up", "--yes");

        // Then the first applied the expand phase with a backup, the second did nothing and logged that
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(await AppliedAsync(), Is.EqualTo(ExpandPhase));
        Assert.That(await TableExistsAsync("hospital_treatment_specialties"), Is.True);
        Assert.That(second.ExitCode, Is.Zero, second.ToString());
        Assert.That(second.StandardOutput, Does.Contain("nothing to do"), second.ToString());
        var log = await Database.RowsAsync("SELECT status, version_from, version_to FROM migration_log ORDER BY id");
        Assert.That(log.Select(row => row["status"]), Is.EqualTo(new[] { "SUCCESS", "NOTHING_TO_DO" }));
        Assert.That(log[1]["version_to"], Is.EqualTo(Migrator.Expanded));
        Assert.That(BackupFiles().Count(f => f.EndsWith(".dump", StringComparison.Ordinal)), Is.EqualTo(1), "a run with nothing to do takes no backup");
    }

    [Test]
    public async Task Exit_1_on_an_unexpected_error_a_version_history_of_the_wrong_type()
    {
        // Given a VersionInfo table whose "Version" is text, not bigint
        await Database.ExecuteAsync("""
            CREATE TABLE "VersionInfo" ("Version" text NOT NULL, "AppliedOn" timestamp, "Description" varchar(1024));
            INSERT INTO "VersionInfo" VALUES ('202509290000', now(), 'typed by hand');
            """);

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
        Assert.That(result.Output, Does.Contain("unexpected error"), result.ToString());
        Assert.That(await TableExistsAsync("users"), Is.False, "nothing may have been migrated");
    }

    private static IEnumerable<TestCaseData> UsageErrors()
    {
        yield return new TestCaseData(new[] { "migrate", "up", "--yes", "--frobnicate" }, false, "--frobnicate")
            .SetName("Exit_2_on_an_unknown_option");
        yield return new TestCaseData(new[] { "migrate", "sideways", "--yes" }, false, "Unrecognized command or argument 'sideways'")
            .SetName("Exit_2_on_an_unknown_command");
        yield return new TestCaseData(new[] { "migrate", "up", "--yes", "--connection", "Host=127.0.0.1;Database=x;Password=NotEchoed-42;Frobnicate=yes" }, false, "malformed connection string")
            .SetName("Exit_2_on_a_malformed_connection_string");
        yield return new TestCaseData(new[] { "migrate", "up", "--yes" }, true, "no connection string")
            .SetName("Exit_2_without_a_connection_string");
    }

    [TestCaseSource(nameof(UsageErrors))]
    public async Task Exit_2_on_a_usage_error(string[] arguments, bool withoutConnection, string message)
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        var environment = new Dictionary<string, string?>();
        if (withoutConnection)
        {
            environment[ConnectionSettings.EnvironmentVariable] = null;
        }

        var result = await RunAsync(environment, arguments);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain(message), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("NotEchoed-42"), "a password in a malformed connection string is echoed");
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    [Test]
    public async Task Exit_2_for_migrate_up_without_yes_and_no_terminal_touches_nothing()
    {
        await CreateLegacyDatabaseWithoutHistoryAsync();
        var before = await StateAsync();

        var result = await RunAsync("migrate", "up");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("without --yes"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM migration_log"), Is.Zero, "not even a log row");
    }

    [TestCase("migrate", "up", "--no-backup")]
    [TestCase("baseline")]
    [TestCase("seed", "--users", "3", "--create-legacy-schema")]
    public async Task A_declined_prompt_is_the_exit_code_the_table_gives_it_and_touches_nothing(params string[] arguments)
    {
        // Given a legacy database without history for baseline, one with it otherwise, and a terminal (script's pty) answering "n"
        if (arguments[0] == "baseline")
        {
            await CreateLegacyDatabaseWithoutHistoryAsync();
        }
        else if (arguments[0] == "migrate")
        {
            await CreateLegacyDatabaseWithRowsAsync();
        }

        var before = await StateAsync();
        var runner = string.Join(' ', new[] { Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet", RunnerProcess.DllPath }.Concat(arguments).Select(a => $"'{a}'"));
        using var process = RunnerProcess.StartCommand("sh", ["-c", $"printf 'n\\n' | script -qec \"{runner}\" /dev/null"], WorkDirectory,
            RunnerProcess.WithoutConnection(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = Database.ConnectionString }), "iamvet-schema in a pty");

        // When the question is answered "n"
        var result = await process.WaitAsync(RunnerProcess.Timeout);

        // Then exit 2, which the exit-code table lists for a declined prompt, and nothing changed
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.Output, Does.Contain("[y/N]").And.Contain("not confirmed: nothing was done"), result.ToString());
        var row = File.ReadLines(Path.Combine(ScriptProcess.RepositoryRoot, "docs", "cli.md")).First(line => line.StartsWith("| 2 |", StringComparison.Ordinal));
        Assert.That(row, Does.Contain("a question answered with anything but `y`"), "docs/cli.md's exit-code table does not list a declined prompt under 2");
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }

    [Test]
    public async Task Exit_3_when_a_hospital_has_no_name_naming_its_id_and_changing_nothing()
    {
        // Given a baselined database with a HOSPITAL whose hospitalName is NULL
        await Migrator.UpToAsync(Database, Versions.Baseline);
        await LegacyRows.InsertAsync(Database, [.. SeedRows, new LegacyUser("hos-nameless", "HOSPITAL") { HospitalName = null }]);
        var before = await StateAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes");

        // Then refused before the backup and before any DDL, naming the row
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Output, Does.Contain("hos-nameless").And.Contain("hospitalName"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "the audit refuses before the backup is taken");
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"), Does.StartWith("REFUSED:"));
    }

    [Test]
    public async Task Exit_3_for_a_legacy_database_without_migration_history_which_is_sent_to_baseline()
    {
        await CreateLegacyDatabaseWithoutHistoryAsync();
        await LegacyRows.InsertAsync(Database, SeedRows);
        var before = await StateAsync();

        var result = await RunAsync("migrate", "up", "--yes");

        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Output, Does.Contain("no migration history").And.Contain("`baseline`"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await TableExistsAsync("VersionInfo"), Is.False);
    }

    [Test]
    public async Task Exit_4_when_pg_dump_fails_and_nothing_changed()
    {
        // Given a pg_dump first on PATH that answers --version like the real one and fails to dump
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        var fakes = Directory.CreateDirectory(Path.Combine(WorkDirectory, "fake-bin")).FullName;
        PgClient.WriteScript(fakes, "pg_dump", $"""
            if [ "$1" = "--version" ]; then exec '{PgClient.Which("pg_dump")}' --version; fi
            echo "pg_dump: error: simulated failure: No space left on device" >&2
            exit 1
            """);

        // When
        var result = await RunAsync(new Dictionary<string, string?> { ["PATH"] = PgClient.PathWithFirst(fakes) }, "migrate", "up", "--yes");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(4), result.ToString());
        Assert.That(result.Output, Does.Contain("pg_dump failed").And.Contain("simulated failure"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "no partial dump may be left behind");
    }

    [Test]
    public async Task Exit_5_when_another_session_holds_a_lock_on_users_beyond_the_lock_timeout()
    {
        // Given the application in a long transaction that has read users
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        await using var application = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { ApplicationName = "iamvet-tests app", Pooling = false }.ConnectionString);
        await application.OpenAsync();
        await using var transaction = await application.BeginTransactionAsync();
        await using (var read = new NpgsqlCommand("SELECT count(*) FROM users", application, transaction))
        {
            await read.ExecuteScalarAsync();
        }

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "1s");
        await transaction.RollbackAsync();

        // Then the migration gave up after 1 s, named the blocker, and rolled everything back
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("--lock-timeout 1s").And.Contain($"pid {application.ProcessID} (iamvet-tests app)"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"), Does.StartWith("ROLLED_BACK:"));
    }

    [Test]
    public async Task Exit_5_when_a_table_named_veterinarians_already_exists_and_an_empty_database_stays_empty()
    {
        // Given an empty database except for a conflicting table
        await Database.ExecuteAsync("CREATE TABLE veterinarians (note text)");
        var before = await StateAsync();

        // When the whole plan (baseline included) runs
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup", "--create-legacy-schema");

        // Then the baseline's tables and even FluentMigrator's VersionInfo were rolled back with it
        Assert.That(result.ExitCode, Is.EqualTo(5), result.ToString());
        Assert.That(result.Output, Does.Contain("relation \"veterinarians\" already exists").And.Contain("rolled back"), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("An error occurred executing the following sql"), "FluentMigrator's SQL dump is for IAMVET_SCHEMA_VERBOSE=1 only");
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await TableExistsAsync("users"), Is.False);
        Assert.That(await TableExistsAsync("VersionInfo"), Is.False);
    }

    [Test]
    public async Task Exit_6_when_verification_finds_a_moved_row_missing_and_everything_is_rolled_back()
    {
        // Given a trigger, attached as soon as veterinarians is created, that deletes every row inserted into it
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.DeleteEveryInsertedRow("veterinarians"));
        var before = await StateAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(6), result.ToString());
        Assert.That(result.Output, Does.Contain("veterinarians: the legacy side has 2 row(s) to move, the new table holds 0"), result.ToString());
        Assert.That(result.Output, Does.Contain("rolled back"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await TableExistsAsync("veterinarians"), Is.False);
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }));
    }

    [TestCase("migrate", "up", "--yes", "--lock-timeout", "1s", TestName = "Exit_7_for_migrate_up_while_another_session_holds_the_migration_lock")]
    [TestCase("baseline", "--yes", "--lock-timeout", "1s", TestName = "Exit_7_for_baseline_while_another_session_holds_the_migration_lock")]
    public async Task Exit_7_while_another_session_holds_the_migration_lock(params string[] arguments)
    {
        // Given another run's session holding the advisory lock (the key is frozen: every runner version shares it)
        await CreateLegacyDatabaseWithoutHistoryAsync();
        var before = await StateAsync();
        await using var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { ApplicationName = "iamvet-tests other run", Pooling = false }.ConnectionString);
        await other.OpenAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", other))
        {
            take.Parameters.AddWithValue("key", 0x1A4E_7E75_C4E4_A001L);
            await take.ExecuteScalarAsync();
        }

        // When
        var result = await RunAsync(arguments);

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(7), result.ToString());
        Assert.That(result.Output, Does.Contain($"pid {other.ProcessID} (iamvet-tests other run)"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
    }
}
