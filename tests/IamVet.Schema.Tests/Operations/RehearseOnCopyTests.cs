namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// <c>rehearse --on-copy</c>: the real up and down pipelines on a copy that already exists (here a
/// database made from the source as its template, as a Neon branch is a copy at the same state):
/// no backup, no scratch database, the source untouched; the source itself, however it is named,
/// and a copy at other versions are refused before anything runs (docs/adr/0015).
/// </summary>
[TestFixture]
public sealed class RehearseOnCopyTests : OperationsTest
{
    private string CopyName => DerivedPrefix + "copy";

    [Test]
    public async Task Rehearse_on_an_existing_copy_runs_up_and_down_there_forecasts_and_leaves_the_source_unchanged()
    {
        // Given a baselined legacy database with data, and a copy of it
        await CreateLegacyDatabaseWithRowsAsync();
        await CreateCopyAsync();
        var before = await UntouchedStateAsync();
        var copyBefore = await LegacyFingerprintsAsync(CopyName);
        const string successes = "SELECT count(*) FROM migration_log WHERE description LIKE 'SUCCESS:%'";
        var successesBefore = await CopyScalarAsync<long>(successes);

        // When
        var result = await RunAsync("rehearse", "--on-copy", ConnectionTo(CopyName));

        // Then both runs went to the copy, with their forecast, and nothing else was made or changed
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("migrate up on " + CopyName).And.Contain("migrate down on " + CopyName), result.ToString());
        Assert.That(Unwrapped(result.StandardOutput), Does.Contain("forecast for the real run: data move")
            .And.Contain("During migrate up, users cannot be read for about").And.Contain("Rollback")
            .And.Contain("check the copy").And.Contain("is left as the rehearsal left it"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse --on-copy changed the source database");
        Assert.That((await DerivedDatabasesAsync()).Select(d => d.Name), Is.EqualTo(new[] { CopyName }), "rehearse --on-copy made a scratch database\n" + result);
        Assert.That(BackupFiles().Where(f => f.EndsWith(".dump", StringComparison.Ordinal)), Is.Empty, "rehearse --on-copy took a backup");
        Assert.That(await LegacyFingerprintsAsync(CopyName), Is.EqualTo(copyBefore), "the copy is not back at the baseline after the down");
        Assert.That(await CopyScalarAsync<long>(successes), Is.EqualTo(successesBefore + 2), "the copy's migration_log does not show the up and the down\n" + result);
    }

    [TestCase(false, "names the source database itself", TestName = "Rehearse_on_copy_naming_the_source_itself_is_refused_and_runs_nothing")]
    [TestCase(true, "reaches the source database itself", TestName = "Rehearse_on_copy_reaching_the_source_by_another_host_name_is_refused_and_runs_nothing")]
    public async Task Rehearse_on_copy_that_is_the_source_is_refused(bool anotherHostName, string message)
    {
        // Given a baselined legacy database with data
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await UntouchedStateAsync();
        var source = new NpgsqlConnectionStringBuilder(Database.ConnectionString);
        if (anotherHostName)
        {
            // localhost and 127.0.0.1: the same server by another name, which no comparison of the strings can see
            source.Host = source.Host == "localhost" ? "127.0.0.1" : "localhost";
        }

        // When
        var result = await RunAsync("rehearse", "--on-copy", source.ConnectionString);

        // Then refused before anything ran: the source as it was, no run logged, no scratch database
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.StandardError), Does.Contain(message).And.Not.Contain(source.Password!), result.ToString());
        Assert.That(result.StandardOutput, Does.Not.Contain("migrate up on"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse --on-copy changed the source database");
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, result.ToString());
    }

    [Test]
    public async Task Rehearse_on_a_copy_at_other_versions_is_refused_naming_both()
    {
        // Given a copy made before the source was upgraded
        await CreateLegacyDatabaseWithRowsAsync();
        await CreateCopyAsync();
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        var before = await UntouchedStateAsync();
        var copyBefore = await LegacyFingerprintsAsync(CopyName);

        // When
        var result = await RunAsync("rehearse", "--on-copy", ConnectionTo(CopyName));

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(Unwrapped(result.StandardError), Does.Contain("the copy is not where the source is")
            .And.Contain($"the source {Database.Name} has applied {string.Join(", ", await AppliedAsync())}")
            .And.Contain($"the copy {CopyName} has applied {Versions.Baseline}"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse --on-copy changed the source database");
        Assert.That(await LegacyFingerprintsAsync(CopyName), Is.EqualTo(copyBefore), "rehearse --on-copy changed the copy it refused");
    }

    /// <summary>The copy: a new database with the source as its template (every session to the source closed first).</summary>
    private async Task CreateCopyAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE {Identifiers.Quote(CopyName)} TEMPLATE {Identifiers.Quote(Database.Name)}", connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<T> CopyScalarAsync<T>(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionTo(CopyName));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }
}
