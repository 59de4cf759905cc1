namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// Issue #15: every command says exactly what it will do, refuses misuse before it connects, and
/// the SQL it prints runs. One --cleanup rule from any starting point; usage errors are exit 2
/// and write nothing anywhere; an empty database is not taken for a legacy one.
/// </summary>
[TestFixture]
public sealed class UsageTests : OperationsTest
{
    private static string V(long version) => version.ToString(CultureInfo.InvariantCulture);

    [Test]
    public async Task Migrate_up_cleanup_on_a_legacy_database_plans_the_whole_way_and_applies_the_cleanup()
    {
        // Given a baselined legacy database with rows
        await CreateLegacyDatabaseWithRowsAsync();

        // When
        var check = await RunAsync("check", "--cleanup", "--no-backup");
        var up = await RunAsync("migrate", "up", "--cleanup", "--yes", "--no-backup");

        // Then the audit's cleanup check was computed for tables the plan creates, and the whole way ran
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(await AppliedAsync(), Does.Contain(Versions.Cleanup).And.Contain(Versions.SplitUsers));
        Assert.That(await Database.ScalarAsync<bool>("""SELECT EXISTS (SELECT FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'hospitalName')"""), Is.False);
    }

    [Test]
    public async Task Check_cleanup_on_a_legacy_database_refuses_a_value_the_planned_profiles_would_not_carry()
    {
        // Given a legacy VETERINARIAN with a hospital column filled: no new table will carry it
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""UPDATE users SET "hospitalWebsite" = 'https://vet1.example' WHERE id = 'vet1'""");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--cleanup", "--no-backup");
        var up = await RunAsync("migrate", "up", "--cleanup", "--yes", "--no-backup");

        // Then both refuse before anything changes, naming the user (not a 42P01 on a table that does not exist yet)
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("cleanup-unrepresented-values").And.Contain("vet1").And.Not.Contain("42P01"), check.ToString());
        Assert.That(up.ExitCode, Is.EqualTo(3), up.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + up);
    }

    [Test]
    public async Task Migrate_up_to_the_cleanup_without_cleanup_is_exit_2_naming_cleanup_and_drops_nothing()
    {
        // Given a normalized database
        await UpgradeLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        var logRows = await LogRowsAsync();

        // When
        var result = await RunAsync("migrate", "up", "--to", V(Versions.Cleanup), "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("--cleanup"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the cleanup ran without --cleanup\n" + result);
        Assert.That(await LogRowsAsync(), Is.EqualTo(logRows), "a usage error writes no migration_log row");
    }

    [Test]
    public async Task Migrate_down_steps_beyond_what_is_applied_is_exit_2_saying_how_many_are_applied()
    {
        // Given a normalized database: 2 migrations above the baseline
        await UpgradeLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();
        var logRows = await LogRowsAsync();
        var reports = ReportFiles();

        // When
        var result = await RunAsync("migrate", "down", "--steps", "100", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("only 2 migration(s) are applied"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await LogRowsAsync(), Is.EqualTo(logRows), "a usage error writes no migration_log row");
        Assert.That(ReportFiles(), Is.EqualTo(reports), "a usage error writes no report");
    }

    [Test]
    public async Task The_header_of_a_run_with_yes_shows_the_plan_what_it_drops_the_database_and_the_host()
    {
        // Given a normalized database
        await UpgradeLegacyDatabaseWithRowsAsync();
        var host = new NpgsqlConnectionStringBuilder(Database.ConnectionString).Host!;

        // When two migrations are rolled back with --yes
        var result = await RunAsync("migrate", "down", "--steps", "2", "--yes", "--no-backup");

        // Then the header names direction, from → to, each migration, what it drops, database and host
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var header = result.StandardOutput[..result.StandardOutput.IndexOf("Stage", StringComparison.Ordinal)];
        Assert.That(header, Does.Contain($"migrate down on database \"{Database.Name}\" at {host}"), result.ToString());
        Assert.That(header, Does.Contain($"down {V(Versions.SplitUsers)} → {V(Versions.Baseline)} (2 migrations)"), result.ToString());
        foreach (var step in MigrationCatalog.All.Where(s => s.Version is var v && (v == Versions.SplitUsers || v == Versions.AuditColumns)))
        {
            Assert.That(header, Does.Contain($"{V(step.Version)}  revert {step.Description}"), result.ToString());
        }

        Assert.That(header, Does.Contain("destructive: drops tables hospital_treatment_specialties, hospital_treatment_animals, hospital_images, hospitals, veterinary_students, veterinarians"), result.ToString());
    }

    private static IEnumerable<TestCaseData> UsageErrors()
    {
        yield return new TestCaseData((object)new[] { "migrate", "down", "--steps", "0", "--yes" }, "--steps must be at least 1")
            .SetName("Steps_0_is_refused_before_connecting");
        yield return new TestCaseData((object)new[] { "migrate", "up", "--to", "209901010000", "--yes" }, "is no migration version")
            .SetName("A_to_that_is_no_migration_is_refused_before_connecting");
        yield return new TestCaseData((object)new[] { "migrate", "down", "--to", V(Versions.SplitUsers), "--steps", "1", "--yes" }, "either --to or --steps")
            .SetName("To_with_steps_is_refused_before_connecting");
        yield return new TestCaseData((object)new[] { "migrate", "up", "--to", V(Versions.Cleanup), "--yes" }, "--cleanup")
            .SetName("To_past_the_expand_phase_without_cleanup_is_refused_before_connecting");
        yield return new TestCaseData((object)new[] { "check", "--down", "--cleanup" }, "--cleanup is for an up only")
            .SetName("Check_down_with_cleanup_is_refused_before_connecting");
        yield return new TestCaseData((object)new[] { "preview", "up", "--to", V(Versions.Cleanup) }, "--cleanup")
            .SetName("Preview_to_past_the_expand_phase_without_cleanup_is_refused_before_connecting");
    }

    [TestCaseSource(nameof(UsageErrors))]
    public async Task A_usage_error_is_exit_2_before_any_connection_and_writes_nothing(string[] arguments, string message)
    {
        // Given a database the run could reach, and a connection string that reaches nothing
        await CreateLegacyDatabaseWithRowsAsync();
        await Migrator.UpToAsync(Database, Migrator.Expanded);
        var before = await StateAsync();
        var logRows = await LogRowsAsync();
        var nowhere = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Host = "127.0.0.1", Port = 1, Timeout = 2 }.ConnectionString;

        // When
        var reachable = await RunAsync(arguments);
        var unreachable = await RunAsync(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = nowhere }, arguments);

        // Then the same refusal either way: it was decided before connecting
        foreach (var result in new[] { reachable, unreachable })
        {
            Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
            Assert.That(result.StandardError, Does.Contain(message).And.Not.Contain("cannot reach"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before));
        Assert.That(await LogRowsAsync(), Is.EqualTo(logRows), "a usage error writes no migration_log row");
        Assert.That(ReportFiles(), Is.Empty, "a usage error writes no report");
    }

    [Test]
    public async Task Preview_up_and_down_print_sql_that_psql_runs_as_is_each_statement_once()
    {
        // Given a legacy database with rows
        await CreateLegacyDatabaseWithRowsAsync();
        var up = Path.Combine(WorkDirectory, "up.sql");
        var down = Path.Combine(WorkDirectory, "down.sql");

        // When the up is previewed and piped into psql, then (once upgraded) the down
        var previewUp = await RunAsync("preview", "up", "-o", up);
        var psqlUp = PgClient.PsqlRolledBack(Database.ConnectionString, up);
        await Migrator.UpToAsync(Database, Migrator.Expanded);
        var previewDown = await RunAsync("preview", "down", "-o", down);
        var psqlDown = PgClient.PsqlRolledBack(Database.ConnectionString, down);

        // Then psql ran both without an error, and each statement is there once
        Assert.That(previewUp.ExitCode, Is.Zero, previewUp.ToString());
        Assert.That(previewDown.ExitCode, Is.Zero, previewDown.ToString());
        Assert.That(psqlUp.ExitCode, Is.Zero, psqlUp.StandardError);
        Assert.That(psqlDown.ExitCode, Is.Zero, psqlDown.StandardError);
        Assert.That(Occurrences(await File.ReadAllTextAsync(up), "CREATE TABLE veterinarians"), Is.EqualTo(1));
        Assert.That(Occurrences(await File.ReadAllTextAsync(down), "ALTER TABLE veterinarians RENAME TO iamvet_rolled_back_veterinarians"), Is.EqualTo(1));
        Assert.That(Occurrences(await File.ReadAllTextAsync(down), "iamvet_rolled_back_veterinarians;"), Is.EqualTo(2), "renamed by the Down, dropped by the Finish stage");
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded), "psql's run was rolled back");
    }

    [TestCase("migrate", "up", "--yes", "--no-backup")]
    [TestCase("check", "--no-backup")]
    // (named: check without --no-backup also checks pg_dump and pg_restore)
    [TestCase("check", TestName = "An_empty_database_is_refused_by_check_with_exit_3_unless_create_legacy_schema_is_given")]
    [TestCase("seed", "--users", "10", "--yes")]
    public async Task An_empty_database_is_refused_with_exit_3_unless_create_legacy_schema_is_given(params string[] arguments)
    {
        // When run on an empty database (a mistyped name), then again asking for the legacy schema
        var refused = await RunAsync(arguments);
        var tablesAfterRefusal = await TableExistsAsync("users");
        var asked = await RunAsync([.. arguments, "--create-legacy-schema"]);

        // Then
        Assert.That(refused.ExitCode, Is.EqualTo(3), refused.ToString());
        Assert.That(refused.Output, Does.Contain("is empty").And.Contain("--create-legacy-schema"), refused.ToString());
        Assert.That(tablesAfterRefusal, Is.False, "the refused run created tables");
        Assert.That(asked.ExitCode, Is.Zero, asked.ToString());
    }

    [TestCase("12-digit migration version", "migrate", "up", "--to", "abc")]
    [TestCase("a number of migrations", "migrate", "down", "--steps", "two")]
    [TestCase("a number of users", "seed", "--users", "many")]
    public async Task A_malformed_value_is_named_in_the_options_language_never_as_a_dotnet_type(string message, params string[] arguments)
    {
        var result = await RunAsync(arguments);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain(message).And.Not.Contain("System."), result.ToString());
    }

    [Test]
    public async Task Rehearse_reports_no_migration_log_id_of_the_scratch_database_it_dropped()
    {
        await CreateLegacyDatabaseWithRowsAsync();

        var result = await RunAsync("rehearse", "--json");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var json = JsonNode.Parse(result.StandardOutput)!;
        Assert.That(json["up"]!["migrationLogId"], Is.Null, result.ToString());
        Assert.That(json["down"]!["migrationLogId"], Is.Null, result.ToString());
        foreach (var report in ReportFiles())
        {
            Assert.That(await File.ReadAllTextAsync(Path.Combine(BackupDirectory, report)), Does.Not.Contain("migration_log id"), report);
        }
    }

    [Test]
    public async Task Check_offers_only_the_options_a_read_only_check_uses()
    {
        var help = await RunAsync("check", "--help");
        var withYes = await RunAsync("check", "--yes");

        Assert.That(help.ExitCode, Is.Zero, help.ToString());
        Assert.That(help.StandardOutput, Does.Not.Contain("--yes").And.Not.Contain("--statement-timeout"), help.ToString());
        // --no-backup is the one run option it takes: it leaves pg_dump out of the pre-flight, like the run it checks
        Assert.That(Unwrapped(help.StandardOutput), Does.Contain("--no-backup Check the plan of `migrate up/down --no-backup`"), help.ToString());
        Assert.That(withYes.ExitCode, Is.EqualTo(2), withYes.ToString());
    }

    [Test]
    public async Task Seed_of_zero_users_is_exit_2_and_creates_nothing()
    {
        var result = await RunAsync("seed", "--users", "0", "--yes", "--create-legacy-schema");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("--users 0"), result.ToString());
        Assert.That(await TableExistsAsync("users"), Is.False);
    }

    [TestCase("rehearse")]
    [TestCase("restore")]
    public async Task Ctrl_C_during_a_restore_exits_4_saying_so_and_leaves_no_restored_database(string command)
    {
        // Given a backup, and a pg_restore that restores nothing and waits (it reads --list and --version for real)
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        var fakes = Directory.CreateDirectory(Path.Combine(WorkDirectory, "fake-bin")).FullName;
        var started = Path.Combine(WorkDirectory, "pg_restore.started");
        PgClient.WriteScript(fakes, "pg_restore", $"""
            case " $* " in *" --version "*|*" --list "*|*" -l "*) exec '{PgClient.Which("pg_restore")}' "$@";; esac
            touch '{started}'
            exec sleep 120
            """);

        // When the operator presses Ctrl-C while it restores
        using var runner = Start(new Dictionary<string, string?> { ["PATH"] = PgClient.PathWithFirst(fakes) }, command, "--from", dump);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(started) && clock.Elapsed < TimeSpan.FromSeconds(60) && !runner.HasExited)
        {
            await Task.Delay(100);
        }

        Assert.That(File.Exists(started), Is.True, "pg_restore never started");
        runner.Interrupt();
        var result = await runner.WaitAsync(TimeSpan.FromSeconds(60));

        // Then a documented exit code, not "unexpected error", and no database left behind
        Assert.That(result.ExitCode, Is.EqualTo(4), result.ToString());
        Assert.That(result.Output, Does.Contain("interrupted (Ctrl-C or SIGTERM)").And.Not.Contain("unexpected error"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "the restored database is still there\n" + result);
    }

    [Test]
    public async Task No_command_shows_the_help_with_exit_2_and_help_itself_is_exit_0()
    {
        // When the tool, or a command group, is run with nothing else; and with --help
        var nothing = await RunAsync();
        var group = await RunAsync("migrate");
        var help = await RunAsync("--help");

        // Then the help is shown each time: a usage error (2) without a command, success with --help
        Assert.That(nothing.ExitCode, Is.EqualTo(2), nothing.ToString());
        Assert.That(nothing.Output, Does.Contain("Commands:").And.Contain("migrate").And.Contain("rehearse"), nothing.ToString());
        Assert.That(group.ExitCode, Is.EqualTo(2), group.ToString());
        Assert.That(group.Output, Does.Contain("Commands:").And.Contain("up").And.Contain("down"), group.ToString());
        Assert.That(help.ExitCode, Is.Zero, help.ToString());
        Assert.That(help.StandardOutput, Does.Contain("Commands:"), help.ToString());
    }

    [TestCase("migrate", "down")]
    [TestCase("preview", "down")]
    public async Task The_help_of_a_down_describes_its_to_and_steps_as_a_rollback(params string[] command)
    {
        var help = Unwrapped((await RunAsync([.. command, "--help"])).StandardOutput);

        Assert.That(help, Does.Contain("--to <to> Roll back to this migration version").And.Contain("it stays applied"), help);
        Assert.That(help, Does.Contain("--steps <steps> Roll back this many applied migrations, the newest first"), help);
        Assert.That(help, Does.Not.Contain("Up:").And.Not.Contain("up:").And.Not.Contain("--cleanup"), help);
    }

    [TestCase("migrate", "up")]
    [TestCase("rehearse")]
    [TestCase("restore")]
    public async Task Durations_in_the_help_read_as_they_are_typed(params string[] command)
    {
        var help = Unwrapped((await RunAsync([.. command, "--help"])).StandardOutput);

        Assert.That(help, Does.Contain("[default: 10s]").And.Not.Contain("00:00"), help);
    }

    [Test]
    public async Task Baseline_on_an_empty_database_says_how_to_create_the_legacy_schema_in_one_message()
    {
        // When an empty database is baselined
        var result = await RunAsync("baseline", "--yes");

        // Then one refusal naming the ways to create the legacy schema, not a line per missing column
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardError, Does.Contain("has none of the").And.Contain("seed --create-legacy-schema").And.Contain("migrate up --create-legacy-schema"), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("not found"), result.ToString());
        Assert.That(await AppliedAsync(), Is.Empty);
    }

    [TestCase("veterinarians", """UPDATE veterinarians SET nickname = 'changed' WHERE "userId" = 'vet1'""", "vet1")]
    [TestCase("hospital_images", """UPDATE hospital_images SET "imageUrl" = 'https://cdn/changed.png' WHERE "userId" = 'hos1' AND "imageOrder" = 2""", "hos1")]
    [TestCase("hospital_treatment_animals", """DELETE FROM hospital_treatment_animals WHERE "userId" = 'hos1' AND "animalType" = 'CAT'""", "hos1")]
    public async Task Verify_names_the_users_whose_moved_values_differ(string table, string change, string user)
    {
        // Given a normalized database whose new table the application changed for one user
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(change);

        // When
        var result = await RunAsync("verify");

        // Then the difference names that user, as the audit names offenders
        Assert.That(result.ExitCode, Is.EqualTo(6), result.ToString());
        Assert.That(result.StandardOutput, Does.Contain($"{table}: ").And.Contain($"1 user(s) differ. Ids: {user}."), result.ToString());
    }

    private static int Occurrences(string text, string what) =>
        (text.Length - text.Replace(what, "", StringComparison.Ordinal).Length) / what.Length;

    private async Task<long> LogRowsAsync() =>
        await TableExistsAsync("migration_log") ? await Database.ScalarAsync<long>("SELECT count(*) FROM migration_log") : -1;
}
