using System.Diagnostics;
using Npgsql;

namespace IamVet.Schema.Runner.Backup;

/// <summary>What a restore did and found.</summary>
public sealed record RestoreResult(string Database, TimeSpan Duration, IReadOnlyDictionary<string, long> Expected, IReadOnlyDictionary<string, long> Actual)
{
    public IReadOnlyList<string> Mismatches =>
        Expected.Keys.Union(Actual.Keys)
            .Where(table => Expected.GetValueOrDefault(table, -1) != Actual.GetValueOrDefault(table, -1))
            .Select(table => $"{table}: manifest {Expected.GetValueOrDefault(table, -1)} row(s), restored {Actual.GetValueOrDefault(table, -1)}")
            .ToList();
}

/// <summary>The restore was refused before any database was created: a dump that cannot be trusted, or a target that exists (exit 3).</summary>
public sealed class RestoreRefused(string message) : Exception(message);

/// <summary>pg_restore failed; the database it was restoring into was dropped again (exit 4).</summary>
public sealed class RestoreFailed(string message) : Exception(message);

/// <summary>
/// Restores a backup taken by <see cref="BackupWriter"/>: the file's sha256 must match its manifest
/// before any database is touched; the restore goes into a NEW database with
/// <c>pg_restore --exit-on-error --single-transaction</c>; then every table's row count is
/// compared with the manifest's.
/// </summary>
public sealed class BackupRestorer(PgTool pgRestore)
{
    public static string ManifestPathFor(string dumpPath) =>
        dumpPath.EndsWith(".dump", StringComparison.Ordinal) ? dumpPath[..^".dump".Length] + ".manifest.json" : dumpPath + ".manifest.json";

    /// <summary>Reads the manifest and checks the dump against it. Throws <see cref="RestoreRefused"/> on any doubt.</summary>
    public static async Task<JsonObject> CheckAsync(string dumpPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(dumpPath))
        {
            throw new RestoreRefused($"no dump at {dumpPath}");
        }

        var manifestPath = ManifestPathFor(dumpPath);
        if (!File.Exists(manifestPath))
        {
            throw new RestoreRefused($"no manifest beside the dump (expected {manifestPath}): without it the dump cannot be checked");
        }

        JsonObject manifest;
        try
        {
            manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath, cancellationToken)) as JsonObject
                ?? throw new RestoreRefused($"manifest {manifestPath} is not a JSON object");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw new RestoreRefused($"manifest {manifestPath} is not valid JSON: {ex.Message}");
        }

        var expectedSha = manifest["sha256"]?.GetValue<string>();
        var actualSha = await BackupWriter.Sha256Async(dumpPath, cancellationToken);
        if (!string.Equals(expectedSha, actualSha, StringComparison.OrdinalIgnoreCase))
        {
            var size = new FileInfo(dumpPath).Length;
            throw new RestoreRefused(
                $"the dump does not match its manifest: sha256 {actualSha} ({size} bytes), the manifest recorded {expectedSha} " +
                $"({manifest["sizeBytes"]} bytes). It was changed or truncated after the backup; refusing to restore it (no database was created)");
        }

        return manifest;
    }

    /// <summary>
    /// Creates <paramref name="targetDatabase"/> and restores the dump into it. Throws
    /// <see cref="RestoreRefused"/> when it already exists, <see cref="RestoreFailed"/> when pg_restore fails.
    /// </summary>
    public async Task<RestoreResult> RestoreAsync(MigrationDatabase server, string dumpPath, JsonObject manifest, string targetDatabase, CancellationToken cancellationToken,
        Action<long, long>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        await using (var connection = await Maintenance(server).OpenAsync(Roles.Restore, cancellationToken))
        {
            await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT FROM pg_database WHERE datname = @name)", connection);
            exists.Parameters.AddWithValue("name", targetDatabase);
            if ((bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                throw new RestoreRefused($"database \"{targetDatabase}\" already exists: restore never writes over a database (choose another --target-db)");
            }

            await using var create = new NpgsqlCommand($"CREATE DATABASE {Identifiers.Quote(targetDatabase)}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var target = server.Sibling(targetDatabase);
        string[] arguments = ["--exit-on-error", "--single-transaction", "--no-password", "--dbname", targetDatabase, dumpPath];
        Func<string, bool>? progressLine = null;
        if (progress is not null)
        {
            // pg_restore --verbose names each table as it loads its data: one step per table of the manifest.
            arguments = [.. arguments, "--verbose"];
            progressLine = PgTools.TableProgress("processing data for table", Math.Max(1, (manifest["rowCounts"] as JsonObject)?.Count ?? 1), progress);
        }

        var run = PgTools.Run(pgRestore.Path, arguments, target.ClientEnvironment(Roles.PgRestore), TimeSpan.FromHours(6), progressLine, cancellationToken);
        if (run.ExitCode != 0)
        {
            await DropAsync(server, targetDatabase, cancellationToken);
            throw new RestoreFailed($"pg_restore failed (exit {run.ExitCode}), the new database was dropped again: {string.Join(" | ", run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(5))}");
        }

        var expected = (manifest["rowCounts"] as JsonObject ?? [])
            .ToDictionary(pair => pair.Key, pair => pair.Value!.GetValue<long>(), StringComparer.Ordinal);
        await using var restored = await target.OpenAsync(Roles.Restore, cancellationToken);
        var actual = await BackupWriter.CountRowsAsync(restored, null, cancellationToken);
        return new RestoreResult(targetDatabase, clock.Elapsed, expected, actual);
    }

    public static async Task DropAsync(MigrationDatabase server, string database, CancellationToken cancellationToken)
    {
        await using var maintenance = Maintenance(server);
        await using var connection = await maintenance.OpenAsync(Roles.Restore, cancellationToken);
        await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Identifiers.Quote(database)} WITH (FORCE)", cancellationToken);
    }

    /// <summary>
    /// Puts <paramref name="incoming"/> in place of <paramref name="source"/>. First the incoming copy
    /// takes every database-level property of the source that a restore does not carry (owner, ACL,
    /// per-role and per-database settings, comment, connection limit): a replaced database must be
    /// the same database to its users and roles. Then, in one statement batch, the source stops
    /// taking connections, its sessions are ended (the caller's migration lock connection with them),
    /// it is renamed <paramref name="replacedAs"/> (kept, never dropped, its connection setting put
    /// back) and the copy takes its name.
    /// </summary>
    public static async Task ReplaceAsync(MigrationDatabase server, string source, string incoming, string replacedAs, CancellationToken cancellationToken)
    {
        await using var maintenance = Maintenance(server);
        await using var connection = await maintenance.OpenAsync(Roles.Restore, cancellationToken);
        var properties = await DatabaseProperties.ReadAsync(connection, source, cancellationToken);
        await properties.ApplyToAsync(connection, incoming, cancellationToken);
        await using var swap = new NpgsqlCommand($"""
            ALTER DATABASE {Identifiers.Quote(source)} WITH ALLOW_CONNECTIONS false;
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @source AND pid <> pg_backend_pid();
            ALTER DATABASE {Identifiers.Quote(source)} RENAME TO {Identifiers.Quote(replacedAs)};
            ALTER DATABASE {Identifiers.Quote(replacedAs)} WITH ALLOW_CONNECTIONS {(properties.AllowConnections ? "true" : "false")};
            ALTER DATABASE {Identifiers.Quote(incoming)} RENAME TO {Identifiers.Quote(source)};
            """, connection);
        swap.Parameters.AddWithValue("source", source);
        await swap.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The server's maintenance database, where databases are created, renamed and dropped.</summary>
    private static MigrationDatabase Maintenance(MigrationDatabase server) => server.Sibling("postgres");
}
