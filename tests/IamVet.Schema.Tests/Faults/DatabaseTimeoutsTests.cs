namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Issue #26: a timeout set on the database or on the role (<c>ALTER DATABASE/ROLE … SET</c>) applies
/// to every session that does not set its own. The runner's connections idle (the lock connection
/// while the migration runs), idle inside transactions (the audit's and the readers' snapshots) and
/// read whole tables, all by design: each sets what it needs as it connects, so the whole flow passes
/// under such a setting and nothing ends in "unexpected error" (exit 1). Only the driver's first query
/// on a connection runs before the runner can set anything: should the setting end that, the refusal
/// (exit 3, nothing changed) names it.
/// </summary>
[TestFixture]
public sealed class DatabaseTimeoutsTests : OperationsTest
{
    private readonly string role = $"iamvet_timeouts_{Guid.NewGuid():N}";
    private readonly string password = $"Timeouts-{Guid.NewGuid():N}";

    [TearDown]
    public async Task ResetTheSettingsAndDropTheRole()
    {
        await AdminAsync($"ALTER DATABASE \"{Database.Name}\" RESET ALL");
        // What the role created in the test database goes with it (DROP ROLE refuses a role that owns objects)
        await AdminAsync($"DROP OWNED BY \"{role}\" CASCADE", ConnectionTo(Database.Name), ignoreMissingRole: true);
        await AdminAsync($"DROP ROLE IF EXISTS \"{role}\"");
    }

    [TestCase("database", "statement_timeout")]
    [TestCase("database", "lock_timeout")]
    [TestCase("database", "idle_in_transaction_session_timeout")]
    [TestCase("database", "idle_session_timeout")]
    [TestCase("role", "statement_timeout")]
    [TestCase("role", "lock_timeout")]
    [TestCase("role", "idle_in_transaction_session_timeout")]
    [TestCase("role", "idle_session_timeout")]
    public async Task The_flow_without_backups_passes_with_a_20ms_timeout_set_on_the(string scope, string setting)
    {
        // Given a legacy database with rows, and the setting at 20 ms on the database or on the role the runner connects as
        await CreateLegacyDatabaseWithRowsAsync();
        var fingerprints = await LegacyFingerprintsAsync(Database.Name);
        await AdminAsync($"CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD '{password}'");
        await AdminAsync(scope == "database"
            ? $"ALTER DATABASE \"{Database.Name}\" SET {setting} = '20ms'"
            : $"ALTER ROLE \"{role}\" SET {setting} = '20ms'");
        var asRole = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = role, Password = password }.ConnectionString;
        var environment = new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = asRole };
        await AssertTheSettingIsRecordedAsync(setting);

        // When the operator runs the flow
        foreach (var arguments in new[]
                 {
                     new[] { "check", "--no-backup" },
                     ["migrate", "up", "--yes", "--no-backup"],
                     ["status"],
                     ["verify"],
                     ["check", "--down", "--no-backup"],
                     ["migrate", "down", "--yes", "--no-backup"],
                 })
        {
            var step = await RunAsync(environment, arguments);
            if (step.ExitCode == 3 && Unwrapped(step.Output).Contains("a timeout set on the database or the role ended the connection", StringComparison.Ordinal))
            {
                // Npgsql's first query on a connection (loading the server's types) runs before the runner can set
                // anything, and on a loaded machine it can take longer than 20 ms: then the refusal names the setting
                // and what to do (exit 3, nothing changed), and the flow stops there
                Assert.That(Unwrapped(step.Output), Does.Contain("ALTER ROLE"), step.ToString());
                break;
            }

            // Then each step succeeds
            Assert.That(step.ExitCode, Is.Zero, $"{string.Join(' ', arguments)} with {setting} = 20ms on the {scope}\n{step}");
            Assert.That(step.Output, Does.Not.Contain("unexpected error"), step.ToString());
        }

        // And the rollback put every legacy row back
        await AdminAsync($"ALTER DATABASE \"{Database.Name}\" RESET ALL");
        NpgsqlConnection.ClearAllPools();
        Assert.That(await LegacyFingerprintsAsync(Database.Name), Is.EqualTo(fingerprints), "the legacy tables after up and down");
    }

    /// <summary>The setting is recorded for the database or the role (the test's premise; a session of its own could not check it at 20 ms).</summary>
    private static async Task AssertTheSettingIsRecordedAsync(string setting)
    {
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var settings = new NpgsqlCommand("SELECT count(*) FROM pg_db_role_setting, unnest(setconfig) AS c WHERE c = @c", connection);
        settings.Parameters.AddWithValue("c", $"{setting}=20ms");
        Assert.That(await settings.ExecuteScalarAsync(), Is.EqualTo(1L), $"{setting} = 20ms recorded once");
    }

    private static async Task AdminAsync(string sql, string? connectionString = null, bool ignoreMissingRole = false)
    {
        await using var connection = new NpgsqlConnection(connectionString ?? PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        try
        {
            await command.ExecuteNonQueryAsync();
        }
        catch (PostgresException e) when (ignoreMissingRole && e.SqlState == PostgresErrorCodes.UndefinedObject)
        {
            // the test ended before it created the role
        }
    }
}
