namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// The password never leaves the connection: not in pg_dump's arguments (it gets PGPASSWORD in its
/// environment), not in the runner's output, not in migration_log, not in the backup manifest.
/// </summary>
[TestFixture]
public sealed class SecretsTests : RunnerTest
{
    [Test]
    public async Task The_password_appears_in_no_pg_dump_argument_output_log_row_or_manifest()
    {
        // Given a login role with a password found nowhere else, and a pg_dump first on PATH that records its arguments
        var role = $"iamvet_pw_{Guid.NewGuid():N}";
        var password = $"Pw-{Guid.NewGuid():N}";
        await ExecuteAsAdminAsync($"CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD '{password}'");
        try
        {
            await Migrator.UpToAsync(Database, Versions.AuditColumns);
            await LegacyRows.InsertAsync(Database, SeedRows);
            var fakes = Directory.CreateDirectory(Path.Combine(WorkDirectory, "fake-bin")).FullName;
            var argv = Path.Combine(WorkDirectory, "pg_dump.argv");
            PgClient.WriteScript(fakes, "pg_dump", $"""
                printf '%s\n' "$*" >> '{argv}'
                exec '{PgClient.Which("pg_dump")}' "$@"
                """);
            var connection = new NpgsqlConnectionStringBuilder(Database.ConnectionString) { Username = role, Password = password }.ConnectionString;
            var wrong = new NpgsqlConnectionStringBuilder(connection) { Password = "Wrong-" + password }.ConnectionString;
            var environment = new Dictionary<string, string?> { ["PATH"] = PgClient.PathWithFirst(fakes) };

            // When the password is given on the command line, right and (next) wrong
            var result = await RunAsync(environment, "migrate", "up", "--yes", "--connection", connection);
            var refused = await RunAsync(environment, "migrate", "up", "--yes", "--connection", wrong);

            // Then
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            Assert.That(refused.ExitCode, Is.EqualTo(3), refused.ToString());
            Assert.That(refused.Output, Does.Contain("authentication failed"), refused.ToString());
            var calls = await File.ReadAllLinesAsync(argv);
            Assert.That(calls, Has.Some.Contains("--snapshot="), "the wrapper did not see the dump:\n" + string.Join("\n", calls));
            Assert.That(calls, Has.None.Contains(password), "pg_dump arguments");
            Assert.That(result.Output, Does.Not.Contain(password), "runner output");
            Assert.That(refused.Output, Does.Not.Contain(password), "runner output on a failed login");
            var log = await Database.ScalarAsync<string>("SELECT string_agg(m::text, E'\\n') FROM migration_log m");
            Assert.That(log, Does.Contain("SUCCESS"));
            Assert.That(log, Does.Not.Contain(password), "migration_log");
            var manifest = await File.ReadAllTextAsync(Directory.GetFiles(BackupDirectory, "*.manifest.json").Single());
            Assert.That(manifest, Does.Contain(Database.Name), "the manifest should name the database it came from");
            Assert.That(manifest, Does.Not.Contain(password), "backup manifest");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await using (var owner = await Database.OpenAsync())
            await using (var reassign = new NpgsqlCommand($"REASSIGN OWNED BY \"{role}\" TO CURRENT_USER", owner))
            {
                await reassign.ExecuteNonQueryAsync();
            }

            await ExecuteAsAdminAsync($"DROP ROLE \"{role}\"");
        }
    }

    private static async Task ExecuteAsAdminAsync(string sql)
    {
        await using var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await admin.OpenAsync();
        await using var command = new NpgsqlCommand(sql, admin);
        await command.ExecuteNonQueryAsync();
    }
}
