namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// The password reaches the real pg_dump only through its environment, and identifiers are always
/// quoted: every test here runs on a database whose name has a capital letter and a dash. (The
/// password in a wrapper's arguments, the output of a failed login, migration_log and the manifest:
/// SecretsTests; the 0600 files of a migrate up: BackupTests.)
/// </summary>
[TestFixture]
public sealed class SecretsAndIdentifiersTests : RunnerTest
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    protected override string NewDatabaseName() => $"Iam-Vet_{Guid.NewGuid().ToString("N")[..8]}";

    [Test]
    public async Task The_real_pg_dump_has_no_password_in_its_command_line_and_writes_0600_files()
    {
        // Given a login role with a password found nowhere else, and a table outside public that
        // another session holds locked, so pg_dump (which locks every table it dumps) waits there
        var role = $"iamvet_pw_{Guid.NewGuid():N}";
        var password = $"Pw-{Guid.NewGuid():N}";
        await ExecuteAsAdminAsync($"CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD '{password}'");
        try
        {
            await CreateLegacyDatabaseWithRowsAsync();
            await Database.ExecuteAsync("CREATE SCHEMA app_other; CREATE TABLE app_other.audit_trail (id integer)");
            await using var holder = await Sessions.OpenAsAsync(Database, "iamvet-tests holder");
            var transaction = await holder.BeginTransactionAsync();
            await using (var hold = new NpgsqlCommand("LOCK TABLE app_other.audit_trail IN ACCESS EXCLUSIVE MODE", holder, transaction))
            {
                await hold.ExecuteNonQueryAsync();
            }

            var connection = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = role, Password = password }.ConnectionString;

            // When a backup runs and its pg_dump is waiting for that table
            using var runner = Start(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = connection }, "backup", "--lock-timeout", "2m");
            await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema pg_dump' AND a.wait_event_type = 'Lock'",
                TimeSpan.FromSeconds(60), "pg_dump waiting for app_other.audit_trail", runner);
            var pgDump = ChildNamed(runner.Pid, "pg_dump");
            var commandLine = ReadProc(pgDump, "cmdline");
            var environment = ReadProc(pgDump, "environ");
            var executable = new FileInfo($"/proc/{pgDump}/exe").LinkTarget;
            await transaction.RollbackAsync();
            await transaction.DisposeAsync();
            var result = await runner.WaitAsync(TimeSpan.FromSeconds(60));

            // Then the password is in pg_dump's environment (readable only by its own user), never in its arguments (readable by everyone)
            Assert.That(Path.GetFileName(executable), Is.EqualTo("pg_dump"), $"pid {pgDump} is not the real pg_dump but {executable}");
            Assert.That(commandLine, Does.Contain("--snapshot="), "not the runner's dump: " + commandLine);
            Assert.That(commandLine, Does.Not.Contain(password), "pg_dump's command line");
            Assert.That(environment.Split(' '), Does.Contain("PGPASSWORD=" + password), "pg_dump should get the password through PGPASSWORD");
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(result.Output, Does.Not.Contain(password), "runner output");
            var dump = Directory.GetFiles(BackupDirectory, "*.dump").Single();
            var manifest = Directory.GetFiles(BackupDirectory, "*.manifest.json").Single();
            Assert.That(Path.GetFileName(dump), Does.StartWith(Database.Name + "_"));
            Assert.That(File.GetUnixFileMode(dump), Is.EqualTo(OwnerReadWrite), "dump mode");
            Assert.That(File.GetUnixFileMode(manifest), Is.EqualTo(OwnerReadWrite), "manifest mode");
            Assert.That(await File.ReadAllTextAsync(manifest), Does.Not.Contain(password), "backup manifest");
        }
        finally
        {
            await ExecuteAsAdminAsync($"DROP ROLE IF EXISTS \"{role}\"");
        }
    }

    [Test]
    public async Task A_database_named_with_a_capital_and_a_dash_goes_up_down_and_restores()
    {
        // Given
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await LegacyFingerprintsAsync();
        var restoredName = Database.Name + "-Restored";

        try
        {
            // When it is normalized (with a backup), rolled back, and the backup restored beside it
            var up = await RunAsync("migrate", "up", "--yes");
            var down = await RunAsync("migrate", "down", "--yes", "--no-backup");
            var dump = Directory.GetFiles(BackupDirectory, "*.dump").Single();
            var restore = await RunAsync("restore", "--from", dump, "--target-db", restoredName);

            // Then
            Assert.That(up.ExitCode, Is.Zero, up.ToString());
            Assert.That(down.ExitCode, Is.Zero, down.ToString());
            Assert.That(restore.ExitCode, Is.Zero, restore.ToString());
            Assert.That(await LegacyFingerprintsAsync(), Is.EqualTo(before), "up then down did not give the legacy tables back");
            Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }));
            await using var restored = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Database = restoredName, Pooling = false }.ConnectionString);
            await restored.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM users", restored);
            Assert.That(await count.ExecuteScalarAsync(), Is.EqualTo(6L));
        }
        finally
        {
            await ExecuteAsAdminAsync($"DROP DATABASE IF EXISTS \"{restoredName}\" WITH (FORCE)");
        }
    }

    private async Task<IReadOnlyList<TableFingerprint>> LegacyFingerprintsAsync()
    {
        await using var connection = await Database.OpenAsync();
        return await TableFingerprints.OfLegacyTablesAsync(connection);
    }

    /// <summary>The pid of the child of <paramref name="parent"/> whose command name is <paramref name="name"/>.</summary>
    private static int ChildNamed(int parent, string name)
    {
        foreach (var directory in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces, so split after its closing parenthesis.
                var stat = File.ReadAllText(Path.Combine(directory, "stat"));
                var comm = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..stat.LastIndexOf(')')];
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
                if (ppid == parent && comm == name)
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // the process ended while we looked
            }
        }

        Assert.Fail($"no child process {name} of pid {parent}");
        return 0;
    }

    /// <summary>A NUL-separated /proc file (cmdline, environ) with spaces for the NULs.</summary>
    private static string ReadProc(int pid, string file) =>
        Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/{file}")).Replace('\0', ' ').Trim();

    private static async Task ExecuteAsAdminAsync(string sql)
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }
}
