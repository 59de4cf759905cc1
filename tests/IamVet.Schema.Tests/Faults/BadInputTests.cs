using System.Net;
using System.Net.Sockets;

namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Bad input of every kind is refused with a specific message and its documented exit code before
/// anything changes: the applied versions, the schema's shape and every legacy table's fingerprint
/// are what they were. Covered elsewhere and not repeated here: unknown option, malformed or
/// missing connection string (ExitCodeTests.Exit_2_on_a_usage_error), a HOSPITAL without
/// hospitalName (ExitCodeTests.Exit_3_when_a_hospital_has_no_name…), baseline on a drifted shape
/// (BaselineTests.Baseline_refuses_a_database_whose_legacy_shape_differs).
/// </summary>
[TestFixture]
public sealed class BadInputTests : RunnerTest
{
    public enum Input
    {
        WrongPassword,
        UnreachablePort,
        MissingDatabase,
        RoleWithoutPrivileges,
        PgDumpMissing,
        PgDumpOlderThanTheServer,
        BackupDirectoryUnderAFile,
        NotEnoughFreeSpace,
        CleanupWouldLoseValues,
        DownWithoutRealName,
    }

    private static IEnumerable<TestCaseData> Cases()
    {
        yield return Case(Input.WrongPassword, 3, "Exit_3_for_a_wrong_password_saying_authentication_failed_without_echoing_it");
        yield return Case(Input.UnreachablePort, 3, "Exit_3_for_an_unreachable_server_naming_host_and_port");
        yield return Case(Input.MissingDatabase, 3, "Exit_3_for_a_missing_database_naming_it");
        yield return Case(Input.RoleWithoutPrivileges, 3, "Exit_3_for_a_role_without_privileges_listing_what_it_lacks");
        yield return Case(Input.PgDumpMissing, 3, "Exit_3_when_pg_dump_is_not_on_PATH");
        yield return Case(Input.PgDumpOlderThanTheServer, 3, "Exit_3_when_pg_dump_is_older_than_the_server");
        yield return Case(Input.BackupDirectoryUnderAFile, 3, "Exit_3_when_the_backup_directory_cannot_be_created");
        yield return Case(Input.NotEnoughFreeSpace, 3, "Exit_3_when_the_backup_directory_has_less_free_space_than_required");
        yield return Case(Input.CleanupWouldLoseValues, 3, "Exit_3_when_the_cleanup_would_drop_values_held_nowhere_else_naming_the_users");
        yield return Case(Input.DownWithoutRealName, 3, "Exit_3_when_a_rollback_finds_users_without_realName_naming_them");

        static TestCaseData Case(Input input, int exitCode, string name) => new TestCaseData(input, exitCode).SetName(name);
    }

    [TestCaseSource(nameof(Cases))]
    public async Task Bad_input_is_refused_before_anything_changes(Input input, int exitCode)
    {
        // Given a baselined database with users (normalized, for the cases about the cleanup and the rollback)
        await CreateLegacyDatabaseWithRowsAsync();
        var role = $"iamvet_noprivs_{Guid.NewGuid():N}";
        var environment = new Dictionary<string, string?>();
        string[] arguments = ["migrate", "up", "--yes"];
        string[] expected;
        string? secret = null;
        switch (input)
        {
            case Input.WrongPassword:
                secret = $"Wrong-{Guid.NewGuid():N}";
                environment[ConnectionSettings.EnvironmentVariable] = With(b => b.Password = secret);
                expected = ["authentication failed for user"];
                break;
            case Input.UnreachablePort:
                var port = ClosedPort();
                environment[ConnectionSettings.EnvironmentVariable] = With(b => { b.Host = "127.0.0.1"; b.Port = port; });
                expected = [$"cannot reach PostgreSQL at 127.0.0.1:{port}"];
                break;
            case Input.MissingDatabase:
                environment[ConnectionSettings.EnvironmentVariable] = With(b => b.Database = Database.Name + "_missing");
                expected = [$"database \"{Database.Name}_missing\" does not exist"];
                break;
            case Input.RoleWithoutPrivileges:
                secret = $"Pw-{Guid.NewGuid():N}";
                await ExecuteAsAdminAsync($"CREATE ROLE \"{role}\" NOLOGIN; ALTER ROLE \"{role}\" LOGIN PASSWORD '{secret}'");
                await ExecuteAsAdminAsync($"REVOKE TEMPORARY ON DATABASE \"{Database.Name}\" FROM PUBLIC");
                environment[ConnectionSettings.EnvironmentVariable] = With(b => { b.Username = role; b.Password = secret; });
                expected = [$"role \"{role}\" lacks privileges", "CREATE on schema public", "owner of users (needed to ALTER it", $"TEMPORARY on database {Database.Name}"];
                break;
            case Input.PgDumpMissing:
                environment["PATH"] = Directory.CreateDirectory(Path.Combine(WorkDirectory, "empty-bin")).FullName;
                expected = ["pg_dump not found on PATH"];
                break;
            case Input.PgDumpOlderThanTheServer:
                // A real client older than the server when this machine has one (Debian's 15 against the
                // 17 leg's server), else one that says it is 14.11 (the 15 leg: no older client here).
                var older = PgClient.OlderThan(await Database.ScalarAsync<int>("SELECT current_setting('server_version_num')::int / 10000"));
                string olderBin;
                if (older is null)
                {
                    olderBin = Directory.CreateDirectory(Path.Combine(WorkDirectory, "fake-bin")).FullName;
                    PgClient.WriteScript(olderBin, "pg_dump", """
                        echo "pg_dump (PostgreSQL) 14.11"
                        """);
                    expected = [$"pg_dump 14.11 ({olderBin}/pg_dump) is older than the server"];
                }
                else
                {
                    olderBin = Path.GetDirectoryName(older.Path)!;
                    expected = [$"pg_dump {older.Version} ({older.Path}) is older than the server"];
                }

                environment["PATH"] = PgClient.PathWithFirst(olderBin);
                expected = [.. expected, "postgresql-client-", "the runbook's section \"Managed PostgreSQL\", docs/runbook.md"];
                break;
            case Input.BackupDirectoryUnderAFile:
                // The tests run as root, for whom mode bits stop no write: a directory below a regular
                // file cannot be created by anyone, so it stands in for "not writable".
                var file = Path.Combine(WorkDirectory, "not-a-directory");
                await File.WriteAllTextAsync(file, "");
                arguments = [.. arguments, "--backup-dir", Path.Combine(file, "backups")];
                expected = [$"backup directory {Path.Combine(file, "backups")} is not writable"];
                break;
            case Input.NotEnoughFreeSpace:
                arguments = [.. arguments, "--min-free-space", (1L << 60).ToString(System.Globalization.CultureInfo.InvariantCulture)];
                expected = ["not enough free space for the backup", "set by --min-free-space"];
                break;
            case Input.CleanupWouldLoseValues:
                await Migrator.UpToAsync(Database, Migrator.Expanded);
                await Database.ExecuteAsync("""UPDATE users SET "hospitalWebsite" = 'https://vet1.example' WHERE id = 'vet1'""");
                arguments = [.. arguments, "--cleanup", "--no-backup"];
                expected = ["cleanup-unrepresented-values", "Ids: vet1."];
                break;
            case Input.DownWithoutRealName:
                await Migrator.UpToAsync(Database, Migrator.Expanded);
                await NewApplication.SignUpAsync(Database, "new-vet-without-profile", "VETERINARIAN");
                arguments = ["migrate", "down", "--yes", "--no-backup"];
                expected = ["user-without-real-name", "Ids: new-vet-without-profile."];
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(input), input, null);
        }

        var before = await StateAsync();
        RunnerResult result;
        try
        {
            // When
            result = await RunAsync(environment, arguments);
        }
        finally
        {
            if (input == Input.RoleWithoutPrivileges)
            {
                await ExecuteAsAdminAsync($"DROP ROLE IF EXISTS \"{role}\"");
            }
        }

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
        foreach (var text in expected)
        {
            Assert.That(Flattened(result.Output), Does.Contain(text), result.ToString());
        }

        if (secret is not null)
        {
            Assert.That(result.Output, Does.Not.Contain(secret), "the password was echoed");
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "a refused run takes no backup");
    }

    [Test]
    public async Task A_history_with_a_version_this_runner_does_not_know_is_refused_naming_it()
    {
        // Given a legacy database whose history records one of the seven expand migrations merged away before the first release (ADR 0006)
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""INSERT INTO "VersionInfo" ("Version", "AppliedOn", "Description") VALUES (202509290300, now(), 'Create veterinarians')""");
        var before = await StateAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then refused before anything changed, naming the version
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Output, Does.Contain("records version(s) 202509290300 that this runner does not know"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before));
    }

    [TestCase("status", TestName = "Exit_3_for_status_with_a_role_that_may_not_read_the_migration_history")]
    [TestCase("verify", TestName = "Exit_3_for_verify_with_a_role_that_may_not_read_the_migration_history")]
    public async Task A_read_only_command_whose_role_may_not_read_is_refused_not_an_unexpected_error(string command)
    {
        // Given a normalized database and a role with no privileges on its tables
        await CreateLegacyDatabaseWithRowsAsync();
        var role = $"iamvet_noprivs_{Guid.NewGuid():N}";
        var secret = $"Pw-{Guid.NewGuid():N}";
        await ExecuteAsAdminAsync($"CREATE ROLE \"{role}\" LOGIN PASSWORD '{secret}'");
        try
        {
            // When
            var result = await RunAsync(
                new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = With(b => { b.Username = role; b.Password = secret; }) },
                command);

            // Then
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("the role may not read what this command needs").And.Contain("permission denied for table"), result.ToString());
        }
        finally
        {
            await ExecuteAsAdminAsync($"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    /// <summary>The console table wraps long lines: compare the text with its line breaks and table borders taken out.</summary>
    private static string Flattened(string output) =>
        string.Join(" ", output.Split('\n').Select(line => line.Trim().Trim('│').Trim())).Replace("  ", " ", StringComparison.Ordinal);

    private string With(Action<NpgsqlConnectionStringBuilder> change)
    {
        var builder = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        change(builder);
        return builder.ConnectionString;
    }

    /// <summary>A local port nothing listens on (taken from the OS, then released).</summary>
    private static int ClosedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static async Task ExecuteAsAdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }
}
