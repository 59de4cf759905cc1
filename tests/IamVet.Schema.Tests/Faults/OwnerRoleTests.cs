using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Issue #10: production is reached as the database's OWNER role (Neon's <c>…_owner</c>), not a
/// superuser: LOGIN and CREATEDB, no pg_signal_backend, no pg_read_all_stats. The whole operator
/// flow runs as such a role through the built runner; what needs more (ending other roles'
/// sessions) stops with a sentence saying what the role may not do and what to do instead.
/// The flow is two tests: what needs no pg_dump (baseline, check/up/down with --no-backup, status,
/// verify), and what runs pg_dump or pg_restore (of the server's major, which scripts/test.sh puts
/// first on PATH); both run on every leg, production's PostgreSQL 17 included.
/// </summary>
[TestFixture]
public sealed class OwnerRoleTests : OperationsTest
{
    private readonly string role = $"iamvet_owner_{Guid.NewGuid():N}";
    private readonly string password = $"Owner-{Guid.NewGuid():N}";

    /// <summary>The test database's connection string as the owner role.</summary>
    private string AsOwner => new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = role, Password = password }.ConnectionString;

    private Dictionary<string, string?> OwnerEnvironment => new() { [ConnectionSettings.EnvironmentVariable] = AsOwner };

    [SetUp]
    public async Task CreateTheOwnerRoleAndALegacyDatabaseItOwns()
    {
        await AdminAsync($"CREATE ROLE \"{role}\" LOGIN CREATEDB NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '{password}'");
        await AdminAsync($"ALTER DATABASE \"{Database.Name}\" OWNER TO \"{role}\"");

        // The legacy schema created by the owner role itself, as production's was: it owns every table.
        await using (var owner = new NpgsqlConnection(AsOwner))
        {
            await owner.OpenAsync();
            await using var create = new NpgsqlCommand(SqlScripts.Load("LegacyBaseline.up.sql"), owner);
            await create.ExecuteNonQueryAsync();
        }

        await LegacyRows.InsertAsync(Database, SeedRows);
        NpgsqlConnection.ClearAllPools();
    }

    [TearDown]
    public async Task DropTheDatabasesTheRoleOwnsThenTheRole()
    {
        // (runs before the base fixtures' teardowns, which would drop these databases too late for DROP ROLE)
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        var owned = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = @role)", admin))
        {
            command.Parameters.AddWithValue("role", role);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                owned.Add(reader.GetString(0));
            }
        }

        foreach (var name in owned)
        {
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Identifiers.Quote(name)} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }

        await using var dropRole = new NpgsqlCommand($"DROP ROLE IF EXISTS \"{role}\"", admin);
        await dropRole.ExecuteNonQueryAsync();
    }

    [Test]
    public async Task The_owner_role_runs_baseline_check_up_status_verify_and_down_without_a_backup_and_never_runs_pg_dump()
    {
        // Given a legacy database without migration history, owned (with every table) by a role that is not a superuser,
        // and a pg_dump and pg_restore first on PATH that only leave a mark: this flow must not need them
        // (so it runs on a server newer than this machine's pg_dump too: the PostgreSQL 17 leg)
        await AssertTheRoleIsTheOwnerRoleAsync();
        var fingerprints = await LegacyFingerprintsAsync(Database.Name);
        var fakes = Directory.CreateDirectory(Path.Combine(WorkDirectory, "fake-bin")).FullName;
        var ran = Path.Combine(WorkDirectory, "pg-client.ran");
        foreach (var tool in new[] { "pg_dump", "pg_restore" })
        {
            PgClient.WriteScript(fakes, tool, $"echo {tool} \"$@\" >> '{ran}'\nexit 1");
        }

        var environment = new Dictionary<string, string?>(OwnerEnvironment) { ["PATH"] = PgClient.PathWithFirst(fakes) };
        async Task<RunnerResult> StepAsync(params string[] arguments)
        {
            var step = await RunAsync(environment, arguments);
            Assert.That(step.ExitCode, Is.Zero, $"{string.Join(' ', arguments)} as the owner role\n{step}");
            return step;
        }

        // When the operator runs the runbook as that role with --no-backup, each step succeeds and leaves what it should
        await StepAsync("baseline", "--yes");
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }), "baseline");

        var check = await StepAsync("check", "--no-backup");
        Assert.That(Unwrapped(check.Output), Does.Contain("--no-backup: pg_dump, pg_restore and free space not checked"), check.ToString());
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }), "check changed the history");

        await StepAsync("migrate", "up", "--yes", "--no-backup");
        Assert.That(await AppliedAsync(), Does.Contain(Migrator.Expanded), "migrate up");
        Assert.That(await NewTableRowsAsync(), Is.EqualTo(ExpectedNewTableRows), "the new tables after migrate up");
        Assert.That(await Database.ScalarAsync<long>($"SELECT count(*) FROM pg_class WHERE relname = ANY(ARRAY['{string.Join("','", ExpectedNewTableRows.Keys)}']) AND relkind = 'r' AND relowner = (SELECT oid FROM pg_roles WHERE rolname = '{role}')"),
            Is.EqualTo(ExpectedNewTableRows.Count), "the new tables are the owner role's");

        var status = await StepAsync("status");
        Assert.That(Unwrapped(status.StandardOutput), Does.Contain("normalized (expand phase").And.Contain(Database.Name), status.ToString());

        var verify = await StepAsync("verify");
        Assert.That(Unwrapped(verify.StandardOutput), Does.StartWith("verified:").And.Contain("veterinarians").And.Contain("hold exactly what the legacy side holds"), verify.ToString());

        await StepAsync("migrate", "down", "--yes", "--no-backup");
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }), "migrate down");
        Assert.That(await TableExistsAsync("veterinarians"), Is.False, "migrate down left the new tables");

        // Then the rollback put every legacy row back, and no step ran pg_dump or pg_restore or wrote a backup
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprints), "the legacy tables after up and down");
        Assert.That(File.Exists(ran) ? await File.ReadAllTextAsync(ran) : "", Is.Empty, "a step ran pg_dump or pg_restore");
        Assert.That(BackupFiles(), Is.Empty, "a step wrote a backup");
    }

    [Test]
    public async Task The_owner_role_checks_rehearses_migrates_with_backups_then_backs_up_and_restores_into_a_new_database_and_in_place()
    {
        // Given a legacy database without migration history, owned (with every table) by a role that is not a superuser
        await AssertTheRoleIsTheOwnerRoleAsync();
        var fingerprints = await LegacyFingerprintsAsync(Database.Name);

        // When the operator runs the runbook's steps that run pg_dump or pg_restore as that role
        // (status and verify, which do not, are in the test above), every step succeeds
        foreach (var arguments in new[]
                 {
                     new[] { "baseline", "--yes" },
                     ["check"],
                     ["rehearse"],
                     ["migrate", "up", "--yes"],
                 })
        {
            var step = await RunAsync(OwnerEnvironment, arguments);
            Assert.That(step.ExitCode, Is.Zero, $"{string.Join(' ', arguments)} as the owner role\n{step}");
        }

        Assert.That(await NewTableRowsAsync(), Is.EqualTo(ExpectedNewTableRows), "the new tables after migrate up");
        foreach (var arguments in new[] { new[] { "migrate", "down", "--yes" }, ["backup"] })
        {
            var step = await RunAsync(OwnerEnvironment, arguments);
            Assert.That(step.ExitCode, Is.Zero, $"{string.Join(' ', arguments)} as the owner role\n{step}");
        }

        // Then the rollback put every legacy row back, rehearse dropped its copy, and each migrate and the backup left a dump
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprints), "the legacy tables after up and down");
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "rehearse left its scratch database");
        Assert.That(Directory.GetFiles(BackupDirectory, "*.dump"), Has.Length.EqualTo(4), "rehearse, migrate up, migrate down and backup each take one");

        // And the last backup restores into a new database, and with --replace in place of the source
        var dump = Directory.GetFiles(BackupDirectory, "*.dump").OrderBy(File.GetLastWriteTimeUtc).Last();
        var restore = await RunAsync(OwnerEnvironment, "restore", "--from", dump);
        Assert.That(restore.ExitCode, Is.Zero, restore.ToString());
        var copy = (await DerivedDatabasesAsync()).Single(d => d.Name.Contains("_restore_", StringComparison.Ordinal));
        Assert.That(await LegacyFingerprintsAsync(copy.Name), Is.EqualTo(fingerprints), "the restored copy");

        NpgsqlConnection.ClearAllPools();
        var sourceOid = (await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid;
        var replace = await RunAsync(OwnerEnvironment, "restore", "--from", dump, "--replace", "--yes");
        Assert.That(replace.ExitCode, Is.Zero, replace.ToString());
        Assert.That((await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid, Is.Not.EqualTo(sourceOid), "the source was not replaced");
        Assert.That((await DerivedDatabasesAsync()).Select(d => d.Oid), Does.Contain(sourceOid), "the source was not kept under another name");
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprints), "the database that took the source's place");
    }

    [Test]
    public async Task Restore_replace_while_another_roles_session_is_connected_says_the_owner_may_not_end_it_and_keeps_both_databases()
    {
        // Given a baselined database, its backup, and a session of another role (the superuser here) connected to it
        var baseline = await RunAsync(OwnerEnvironment, "baseline", "--yes");
        Assert.That(baseline.ExitCode, Is.Zero, baseline.ToString());
        var backup = await RunAsync(OwnerEnvironment, "backup");
        Assert.That(backup.ExitCode, Is.Zero, backup.ToString());
        var dump = Directory.GetFiles(BackupDirectory, "*.dump").Single();
        NpgsqlConnection.ClearAllPools();
        var sourceOid = (await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid;
        await using var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Pooling = false, ApplicationName = "other-role-app" }.ConnectionString);
        await other.OpenAsync();
        var otherPid = other.ProcessID;

        // When the owner role restores with --replace
        var result = await RunAsync(OwnerEnvironment, "restore", "--from", dump, "--replace", "--yes");

        // Then it stops with exit 3, naming the session it may not end, what the role lacks and what to do; nothing was renamed
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        var message = Unwrapped(result.StandardError);
        Assert.That(message, Does.Contain($"pid {otherPid}").And.Contain("pg_signal_backend").And.Contain("_incoming_")
            .And.Not.Contain("unexpected error"), result.ToString());
        Assert.That(other.State, Is.EqualTo(System.Data.ConnectionState.Open));
        Assert.That((await DatabasesAsync()).Single(d => d.Name == Database.Name).Oid, Is.EqualTo(sourceOid), "the source was renamed");
        Assert.That((await DerivedDatabasesAsync()).Select(d => d.Name), Has.One.Contains("_incoming_"), "the restored copy is not kept for the operator");
    }

    [Test]
    public async Task Check_with_require_idle_as_the_owner_role_sees_another_roles_session_though_it_may_not_see_its_backend_type()
    {
        // Given a baselined database and a session of another role connected to it (the application's, say)
        var baseline = await RunAsync(OwnerEnvironment, "baseline", "--yes");
        Assert.That(baseline.ExitCode, Is.Zero, baseline.ToString());
        await using var other = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Pooling = false, ApplicationName = "other-role-app" }.ConnectionString);
        await other.OpenAsync();

        // When the owner role checks with --require-idle
        var result = await RunAsync(OwnerEnvironment, "check", "--require-idle");

        // Then it refuses (exit 3) naming that session: pg_stat_activity hides its backend_type from this role, not the session
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.Output), Does.Contain($"pid {other.ProcessID} other-role-app user postgres").And.Contain("--require-idle"), result.ToString());
    }

    /// <summary>
    /// The rows <see cref="RunnerTest.SeedRows"/> give each new table (docs/domain.md): every user of the type,
    /// active or not; one image per facility image; one row per (hospital, animal type) and (hospital, specialty).
    /// </summary>
    private static readonly SortedDictionary<string, long> ExpectedNewTableRows = new(StringComparer.Ordinal)
    {
        ["hospital_images"] = 2,
        ["hospital_treatment_animals"] = 2,
        ["hospital_treatment_specialties"] = 1,
        ["hospitals"] = 2,
        ["veterinarians"] = 2,
        ["veterinary_students"] = 2,
    };

    private async Task<SortedDictionary<string, long>> NewTableRowsAsync()
    {
        var rows = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in ExpectedNewTableRows.Keys)
        {
            rows[table] = await Database.ScalarAsync<long>($"SELECT count(*) FROM {table}");
        }

        return rows;
    }

    private async Task AssertTheRoleIsTheOwnerRoleAsync()
    {
        Assert.That(await AdminScalarAsync<bool>($"SELECT NOT rolsuper AND rolcreatedb FROM pg_roles WHERE rolname = '{role}'"), Is.True);
        Assert.That(await AdminScalarAsync<bool>($"SELECT pg_has_role('{role}', 'pg_signal_backend', 'MEMBER') OR pg_has_role('{role}', 'pg_read_all_stats', 'MEMBER')"), Is.False);
        Assert.That(await AdminScalarAsync<bool>($"SELECT datdba = (SELECT oid FROM pg_roles WHERE rolname = '{role}') FROM pg_database WHERE datname = '{Database.Name}'"), Is.True);
    }

    private static async Task AdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<T> AdminScalarAsync<T>(string sql)
    {
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
