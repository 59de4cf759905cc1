using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;

namespace IamVet.Schema.Runner.Backup;

/// <summary>A proven backup: the dump, its manifest, and what was measured of it.</summary>
public sealed record BackupResult(string DumpPath, string ManifestPath, string Sha256, long SizeBytes, TimeSpan Duration, IReadOnlyDictionary<string, long> RowCounts);

/// <summary>
/// Takes a backup the runbook way, but proven: <c>pg_dump -Fc</c> into a temporary name inside a
/// REPEATABLE READ snapshot that is also used, at the same time, to count every table's rows (so
/// the manifest's counts match the dump exactly), renamed only when complete; <c>pg_restore --list</c> must read
/// it; sha256; a JSON manifest beside it. Dump and manifest are mode 0600 in a 0700 directory.
/// No password is written anywhere: pg_dump gets it through PGPASSWORD in its environment.
/// With <paramref name="lockTimeout"/>, neither pg_dump (which locks every table it dumps, in every
/// schema) nor the row counts wait longer than that behind another session's exclusive lock.
/// </summary>
public sealed class BackupWriter(PgTool pgDump, PgTool pgRestore, TimeSpan? lockTimeout = null)
{
    public static readonly UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public async Task<BackupResult> WriteAsync(
        MigrationDatabase target,
        string directory,
        string label,
        JsonObject extraManifestFields,
        CancellationToken cancellationToken,
        Action<long, long>? progress = null)
    {
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(directory))
        {
            Directory.CreateDirectory(directory, DirectoryMode);
        }

        var stamp = DateTime.UtcNow.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var baseName = $"{Sanitize(target.Name)}_{stamp}_{label}";
        var dumpPath = Path.GetFullPath(Path.Combine(directory, baseName + ".dump"));
        var manifestPath = Path.GetFullPath(Path.Combine(directory, baseName + ".manifest.json"));

        var rowCounts = await DumpAsync(target, dumpPath, progress, cancellationToken);
        ProveReadable(dumpPath);
        var sha256 = await Sha256Async(dumpPath, cancellationToken);
        var size = new FileInfo(dumpPath).Length;
        var manifest = new JsonObject
        {
            ["format"] = "iamvet-schema-backup/1",
            ["file"] = Path.GetFileName(dumpPath),
            ["sizeBytes"] = size,
            ["sha256"] = sha256,
            ["createdAt"] = DateTimeOffset.UtcNow.ToString("O"),
            ["durationMs"] = (long)clock.Elapsed.TotalMilliseconds,
            ["database"] = target.Target.Database,
            ["host"] = target.Target.Host,
            ["port"] = target.Target.Port,
            ["pgDumpVersion"] = pgDump.Version,
            ["rowCounts"] = new JsonObject(rowCounts.Select(pair => KeyValuePair.Create(pair.Key, (JsonNode?)pair.Value))),
        };
        foreach (var (key, value) in extraManifestFields)
        {
            manifest[key] = value?.DeepClone();
        }

        await File.WriteAllTextAsync(manifestPath, manifest.ToJsonString(JsonOptions), cancellationToken);
        File.SetUnixFileMode(manifestPath, FileMode);
        return new BackupResult(dumpPath, manifestPath, sha256, size, clock.Elapsed, rowCounts);
    }

    /// <summary>
    /// pg_dump into <paramref name="dumpPath"/> (written as <c>.partial</c> and renamed only when
    /// complete) and the exact row count of every table, both in one exported snapshot: pg_dump on
    /// its own connection importing it, the counts on the connection that exported it, at the same
    /// time, so the counts cost no wall time beyond the dump's and still match it exactly.
    /// </summary>
    private async Task<SortedDictionary<string, long>> DumpAsync(MigrationDatabase target, string dumpPath, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        var partialPath = dumpPath + ".partial";
        await using var connection = await target.OpenAsync(Roles.Backup, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var snapshot = await Sql.ScalarAsync<string>(connection, "SELECT pg_export_snapshot()", cancellationToken, transaction);
        using (File.Create(partialPath, 1, FileOptions.None))
        {
            // Created empty with the default umask; the mode is fixed before pg_dump writes any data.
        }

        File.SetUnixFileMode(partialPath, FileMode);
        string[] arguments = ["--format=custom", "--no-password", $"--snapshot={snapshot}", "--file", partialPath];
        if (lockTimeout is { } wait)
        {
            arguments = [.. arguments, $"--lock-wait-timeout={(long)wait.TotalMilliseconds}"];
        }

        Func<string, bool>? progressLine = null;
        if (progress is not null)
        {
            // pg_dump --verbose names each table as it dumps its data: one step per table.
            var total = await Sql.ScalarAsync<long>(connection, """
                SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
                """, cancellationToken, transaction);
            arguments = [.. arguments, "--verbose"];
            progressLine = PgTools.TableProgress("dumping contents of table", total, progress);
        }

        // Nothing between the runner and the server when the backend's pid is the one the connection was told.
        var direct = await Sql.ScalarAsync<int>(connection, "SELECT pg_backend_pid()", cancellationToken, transaction) == connection.ProcessID;
        var environment = DumpEnvironment(target, connection.PostgreSqlVersion.Major, direct);
        var dumping = Task.Run(() => PgTools.Run(pgDump.Path, arguments, environment, TimeSpan.FromHours(6), progressLine, cancellationToken), CancellationToken.None);
        SortedDictionary<string, long> rowCounts;
        ToolRun dump;
        try
        {
            rowCounts = await CountRowsAsync(connection, transaction, cancellationToken);
            dump = await dumping;
        }
        catch
        {
            try
            {
                await dumping; // the snapshot must outlive pg_dump's use of it (cancelled: pg_dump is killed)
            }
            catch (OperationCanceledException)
            {
                // interrupted: pg_dump was stopped with the run
            }

            File.Delete(partialPath); // then the partial dump goes
            throw;
        }

        await transaction.CommitAsync(cancellationToken);
        if (dump.ExitCode != 0)
        {
            File.Delete(partialPath);
            // pg_dump enforces --lock-wait-timeout with statement_timeout: say which wait it was.
            var lockWait = lockTimeout is { } waited && dump.StandardError.Contains("Query was: LOCK TABLE", StringComparison.Ordinal)
                ? $" (another session held a table pg_dump must lock longer than --lock-timeout {SettingValues.FormatDuration(waited)})"
                : "";
            throw new BackupException($"pg_dump failed (exit {dump.ExitCode}){lockWait}: {FirstLines(dump.StandardError)}");
        }

        File.Move(partialPath, dumpPath);
        return rowCounts;
    }

    /// <summary>The proof that the dump is a whole custom-format archive: pg_restore --list must read it (else it is deleted).</summary>
    private void ProveReadable(string dumpPath)
    {
        var list = PgTools.Run(pgRestore.Path, ["--list", dumpPath], environment: null, TimeSpan.FromMinutes(10));
        if (list.ExitCode != 0 || !list.StandardOutput.Contains("Format: CUSTOM", StringComparison.Ordinal))
        {
            File.Delete(dumpPath);
            throw new BackupException($"pg_restore --list cannot read the dump {dumpPath}: {FirstLines(list.StandardError)}");
        }
    }

    /// <summary>
    /// pg_dump's libpq environment. pg_dump sets the settings it needs itself, by SQL (statement_timeout,
    /// lock_timeout, idle_in_transaction_session_timeout = 0, and transaction_timeout from 17), bounds
    /// its table locks by <c>--lock-wait-timeout</c>, and works inside one transaction (so an
    /// idle_session_timeout does not apply). Connected directly (<paramref name="direct"/>) to PostgreSQL
    /// 14 or later, its session also checks every second that pg_dump is still there (the startup
    /// parameter <c>options</c>, which a proxy may drop or refuse: so only directly): a pg_dump stopped
    /// with the run (Ctrl-C) while its session waits for a table lock would otherwise leave that
    /// session waiting, and holding the locks it has, until the lock comes or --lock-wait-timeout ends it.
    /// </summary>
    private static Dictionary<string, string?> DumpEnvironment(MigrationDatabase target, int serverMajor, bool direct) =>
        target.ClientEnvironment(Roles.PgDump, serverMajor >= 14 && direct ? "-c client_connection_check_interval=1000" : null);

    public static async Task<string> Sha256Async(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
    }

    /// <summary>Exact row counts of every table of the public schema, in the given snapshot.</summary>
    public static async Task<SortedDictionary<string, long>> CountRowsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        var tables = new List<string>();
        await using (var list = new NpgsqlCommand(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1",
            connection, transaction))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            await using var count = new NpgsqlCommand($"SELECT count(*) FROM public.{Identifiers.Quote(table)}", connection, transaction);
            counts[table] = (long)(await count.ExecuteScalarAsync(cancellationToken))!;
        }

        return counts;
    }

    private static string Sanitize(string name) => string.Concat(name.Select(c => char.IsLetterOrDigit(c) || c is '_' or '-' ? c : '_'));

    private static string FirstLines(string text) => string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(5));
}

/// <summary>The backup could not be written or proven.</summary>
public sealed class BackupException(string message) : Exception(message);
