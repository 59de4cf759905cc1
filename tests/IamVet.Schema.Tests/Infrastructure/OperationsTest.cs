namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>A database of the server as <c>pg_database</c> shows it: the oid tells a renamed database from a new one.</summary>
public sealed record ServerDatabase(string Name, uint Oid);

/// <summary>
/// Base of the operations tests (<c>backup</c>, <c>restore</c>, <c>rehearse</c>, <c>seed</c>): a
/// <see cref="RunnerTest"/> that also sees the databases the runner creates on the server. Every
/// such database is named after the source database (<c>&lt;db&gt;_restore_…</c>,
/// <c>&lt;db&gt;_rehearse_…</c>, …) and the test database's name is unique, so the names starting
/// with <c>&lt;db&gt;_</c> are exactly this test's; they are dropped WITH (FORCE) after each test.
/// </summary>
public abstract class OperationsTest : RunnerTest
{
    /// <summary>The prefix of every database the runner derives from this test's database.</summary>
    protected string DerivedPrefix => Database.Name + "_";

    [TearDown]
    public async Task DropDerivedDatabases()
    {
        foreach (var database in await DerivedDatabasesAsync())
        {
            await DropDatabaseAsync(database.Name);
        }
    }

    /// <summary>The databases whose name starts with <c>&lt;db&gt;_</c>, by name.</summary>
    protected async Task<List<ServerDatabase>> DerivedDatabasesAsync() =>
        (await DatabasesAsync()).Where(d => d.Name.StartsWith(DerivedPrefix, StringComparison.Ordinal)).ToList();

    /// <summary>Every database of the server (other fixtures' come and go: compare only names you own).</summary>
    protected static async Task<List<ServerDatabase>> DatabasesAsync()
    {
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT datname, oid FROM pg_database ORDER BY datname", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var databases = new List<ServerDatabase>();
        while (await reader.ReadAsync())
        {
            databases.Add(new ServerDatabase(reader.GetString(0), reader.GetFieldValue<uint>(1)));
        }

        return databases;
    }

    protected static async Task DropDatabaseAsync(string name)
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionTo(name)));
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Identifiers.Quote(name)} WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The admin connection string for another database of the server.</summary>
    protected static string ConnectionTo(string database) =>
        new NpgsqlConnectionStringBuilder(PostgresServer.AdminConnectionString) { Database = database }.ConnectionString;

    /// <summary>Exact row counts of every table of a database (what a manifest records).</summary>
    protected static async Task<SortedDictionary<string, long>> RowCountsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionTo(database));
        await connection.OpenAsync();
        return await BackupWriter.CountRowsAsync(connection, null, CancellationToken.None);
    }

    /// <summary>Row count and content hash of every legacy table of a database.</summary>
    protected static async Task<IReadOnlyList<TableFingerprint>> LegacyFingerprintsAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionTo(database));
        await connection.OpenAsync();
        return await TableFingerprints.OfLegacyTablesAsync(connection);
    }

    /// <summary>
    /// What "the source was not touched" compares: <see cref="RunnerTest.StateAsync"/> (applied
    /// versions, schema shape, legacy tables' fingerprints), VersionInfo as is, and migration_log's rows.
    /// </summary>
    protected async Task<List<string>> UntouchedStateAsync()
    {
        var state = await StateAsync();
        await using var connection = await Database.OpenAsync();
        if (await TableExistsAsync("VersionInfo"))
        {
            state.Add("VersionInfo " + (await TableFingerprints.OfTableAsync(connection, "VersionInfo")).Hash);
        }

        if (await TableExistsAsync("migration_log"))
        {
            state.Add("migration_log " + (await TableFingerprints.OfTableAsync(connection, "migration_log")).Hash);
        }

        return state;
    }

    /// <summary>Runs <c>backup</c> (it must succeed) and returns the dump's path and its manifest.</summary>
    protected async Task<(string Dump, JsonObject Manifest)> BackupAsync()
    {
        var backup = await RunAsync("backup");
        Assert.That(backup.ExitCode, Is.Zero, backup.ToString());
        var dump = Directory.GetFiles(BackupDirectory, "*.dump").Single();
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(BackupRestorer.ManifestPathFor(dump)))!.AsObject();
        return (dump, manifest);
    }

    protected static Dictionary<string, long> RowCountsOf(JsonObject manifest) =>
        manifest["rowCounts"]!.AsObject().ToDictionary(pair => pair.Key, pair => pair.Value!.GetValue<long>(), StringComparer.Ordinal);
}
