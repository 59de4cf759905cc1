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
    /// A role that may not end a session there (another role's, without pg_signal_backend; a
    /// superuser's) or may not rename the source (not its owner, or no CREATEDB) renames nothing:
    /// <see cref="RestoreRefused"/> says what it may not do, and that the copy is kept as <paramref name="incoming"/>.
    /// </summary>
    public static async Task ReplaceAsync(MigrationDatabase server, string source, string incoming, string replacedAs, CancellationToken cancellationToken)
    {
        await using var maintenance = Maintenance(server);
        await using var connection = await maintenance.OpenAsync(Roles.Restore, cancellationToken);
        var role = await Sql.ScalarAsync<string>(connection, "SELECT current_user::text", cancellationToken);
        var renameYourself =
            $"The restored copy is kept as \"{incoming}\" and \"{source}\" is unchanged. Once nobody is connected to \"{source}\", run restore --replace again, " +
            $"or swap them yourself: ALTER DATABASE {Identifiers.Quote(source)} RENAME TO {Identifiers.Quote(replacedAs)}; ALTER DATABASE {Identifiers.Quote(incoming)} RENAME TO {Identifiers.Quote(source)};";

        // No new session may arrive between ending the others and the rename (the caller's migration
        // lock connection is ended with them); the setting is put back on whichever database keeps it.
        var properties = await DatabaseProperties.ReadAsync(connection, source, cancellationToken);
        await properties.ApplyToAsync(connection, incoming, cancellationToken);
        var allowConnections = properties.AllowConnections ? "true" : "false";
        await Sql.ExecuteAsync(connection, $"ALTER DATABASE {Identifiers.Quote(source)} WITH ALLOW_CONNECTIONS false", cancellationToken);
        var mayNotEnd = new List<string>();
        foreach (var session in await SessionsOnAsync(connection, source, cancellationToken))
        {
            try
            {
                // Waits (up to 5 s) until the session has ended, so the rename does not find it still there.
                await using var terminate = new NpgsqlCommand("SELECT pg_terminate_backend(@pid, 5000)", connection);
                terminate.Parameters.AddWithValue("pid", session.Pid);
                await terminate.ExecuteScalarAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                mayNotEnd.Add(session.Description);
            }
        }

        if (mayNotEnd.Count > 0)
        {
            await Sql.ExecuteAsync(connection, $"ALTER DATABASE {Identifiers.Quote(source)} WITH ALLOW_CONNECTIONS {allowConnections}", cancellationToken);
            throw new RestoreRefused(
                $"restore --replace renamed nothing: role \"{role}\" may not end the sessions of other roles connected to \"{source}\" ({string.Join("; ", mayNotEnd)}); " +
                "ending another role's session needs membership in that role or in pg_signal_backend, a superuser's needs a superuser. " +
                "Have them disconnect (stop the application), or ask an administrator to end them. " + renameYourself);
        }

        await using var swap = new NpgsqlCommand($"""
            ALTER DATABASE {Identifiers.Quote(source)} RENAME TO {Identifiers.Quote(replacedAs)};
            ALTER DATABASE {Identifiers.Quote(replacedAs)} WITH ALLOW_CONNECTIONS {allowConnections};
            ALTER DATABASE {Identifiers.Quote(incoming)} RENAME TO {Identifiers.Quote(source)};
            """, connection);
        try
        {
            await swap.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.ObjectInUse)
        {
            // The batch is one transaction: nothing was renamed, and the source takes connections again.
            await Sql.ExecuteAsync(connection, $"ALTER DATABASE {Identifiers.Quote(source)} WITH ALLOW_CONNECTIONS {allowConnections}", CancellationToken.None);
            if (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new RestoreRefused(
                    $"restore --replace renamed nothing: role \"{role}\" may not rename \"{source}\" ({e.MessageText}); renaming a database needs its owner with CREATEDB, or a superuser. " + renameYourself);
            }

            var still = await SessionsOnAsync(connection, source, cancellationToken);
            throw new RestoreRefused(
                $"restore --replace renamed nothing: \"{source}\" is in use ({e.MessageText}{(still.Count > 0 ? ": " + string.Join("; ", still.Select(s => s.Description)) : "")}), " +
                "a session connected again after the others were ended. Stop the application first. " + renameYourself);
        }
    }

    /// <summary>The sessions connected to <paramref name="database"/> other than this one: user and application name are visible to every role.</summary>
    private static async Task<List<(int Pid, string Description)>> SessionsOnAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT pid, format('pid %s user %s (%s)', pid, coalesce(usename::text, '?'), coalesce(nullif(application_name, ''), 'no application name'))
            FROM pg_stat_activity WHERE datname = @database AND pid <> pg_backend_pid() ORDER BY pid
            """, connection);
        command.Parameters.AddWithValue("database", database);
        var sessions = new List<(int, string)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add((reader.GetInt32(0), reader.GetString(1)));
        }

        return sessions;
    }

    /// <summary>The server's maintenance database, where databases are created, renamed and dropped.</summary>
    public static MigrationDatabase Maintenance(MigrationDatabase server) => server.Sibling("postgres");
}
