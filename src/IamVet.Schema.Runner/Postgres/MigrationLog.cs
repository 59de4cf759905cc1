using Npgsql;
using NpgsqlTypes;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>One attempt as migration_log records it.</summary>
public sealed record MigrationLogEntry
{
    public required string MigrationName { get; init; }
    public required string Status { get; init; }
    public required string Description { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long? VersionFrom { get; init; }
    public long? VersionTo { get; init; }
    public string? BackupFile { get; init; }
    public string? BackupSha256 { get; init; }
    public JsonObject? Details { get; init; }
}

/// <summary>A migration_log row read back for <c>status</c>.</summary>
public sealed record MigrationLogRow(int Id, string MigrationName, DateTime? ExecutedAt, string? Status, string? Description, long? DurationMs);

/// <summary>
/// Writes migration_log on the caller's autocommit connection (never the migration's transaction),
/// so a rolled-back attempt still leaves its row. Before the audit columns exist (a database still
/// at the legacy baseline, or below it) the row is written in the legacy shape, with the status in
/// its description.
/// </summary>
public static class MigrationLog
{
    public static readonly string RunnerVersion =
        typeof(MigrationLog).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static Task<bool> ExistsAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default) =>
        Sql.TableExistsAsync(connection, "migration_log", cancellationToken);

    public static async Task<bool> HasAuditColumnsAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default) =>
        await Sql.ScalarAsync<bool>(connection, """
            SELECT EXISTS (SELECT FROM information_schema.columns
                           WHERE table_schema = 'public' AND table_name = 'migration_log' AND column_name = 'status')
            """, cancellationToken);

    /// <summary>
    /// Rows left RUNNING by a runner that died (SIGKILL, lost connection) become ABORTED. Only
    /// called while holding the migration lock, so no RUNNING row can belong to a live run.
    /// </summary>
    public static async Task<int> MarkAbandonedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            UPDATE migration_log
            SET status = 'ABORTED', finished_at = coalesce(finished_at, now()),
                description = coalesce(description, '') || ' [ABORTED: the run never finished; marked by a later run]'
            WHERE status = 'RUNNING'
            """, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Inserts the attempt's row and returns its id.</summary>
    public static async Task<int> InsertAsync(NpgsqlConnection connection, MigrationLogEntry entry, CancellationToken cancellationToken)
    {
        if (!await HasAuditColumnsAsync(connection, cancellationToken))
        {
            await using var legacy = new NpgsqlCommand(
                "INSERT INTO migration_log (migration_name, description) VALUES (@name, @description) RETURNING id", connection);
            legacy.Parameters.AddWithValue("name", Truncate(entry.MigrationName, 255));
            legacy.Parameters.AddWithValue("description", DescriptionOf(entry));
            return (int)(await legacy.ExecuteScalarAsync(cancellationToken))!;
        }

        await using var command = new NpgsqlCommand("""
            INSERT INTO migration_log (migration_name, executed_at, description, status, started_at, finished_at, duration_ms,
                                       version_from, version_to, backup_file, backup_sha256, runner_version, host, os_user, details)
            VALUES (@name, @started::timestamp, @description, @status, @started, @finished, @duration,
                    @from, @to, @backupFile, @backupSha, @runnerVersion, @host, @osUser, @details)
            RETURNING id
            """, connection);
        AddParameters(command, entry);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Completes the attempt's row; inserts one if the row could not be written at the start.</summary>
    public static async Task<int> CompleteAsync(NpgsqlConnection connection, int? id, MigrationLogEntry entry, CancellationToken cancellationToken)
    {
        if (id is null || !await HasAuditColumnsAsync(connection, cancellationToken))
        {
            return await InsertAsync(connection, entry, cancellationToken);
        }

        await using var command = new NpgsqlCommand("""
            UPDATE migration_log
            SET migration_name = @name, description = @description, status = @status, finished_at = @finished,
                duration_ms = @duration, version_from = @from, version_to = @to, backup_file = @backupFile,
                backup_sha256 = @backupSha, details = @details
            WHERE id = @id
            """, connection);
        AddParameters(command, entry);
        command.Parameters.AddWithValue("id", id.Value);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1 ? id.Value : await InsertAsync(connection, entry, cancellationToken);
    }

    /// <summary>
    /// The fingerprints (of <paramref name="format"/>) that the last successful up from
    /// <paramref name="toVersion"/> (or from nothing, when that is the baseline) to
    /// <paramref name="fromVersion"/> recorded: what a down returning there compares with.
    /// Null when there is none (an older runner's fingerprints do not compare, nor does a database
    /// whose migration_log has no audit columns).
    /// </summary>
    public static async Task<JsonObject?> FingerprintsOfUpAsync(NpgsqlConnection connection, long fromVersion, long toVersion, string format, CancellationToken cancellationToken)
    {
        if (!await HasAuditColumnsAsync(connection, cancellationToken))
        {
            return null;
        }

        await using var command = new NpgsqlCommand("""
            SELECT (details->'fingerprints')::text FROM migration_log
            WHERE status = 'SUCCESS' AND version_to = @from AND details->'fingerprints'->>'format' = @format
              AND (version_from = @to OR (version_from IS NULL AND @to = @baseline))
            ORDER BY id DESC LIMIT 1
            """, connection);
        command.Parameters.AddWithValue("from", fromVersion);
        command.Parameters.AddWithValue("to", toVersion);
        command.Parameters.AddWithValue("baseline", Engine.Versions.Baseline);
        command.Parameters.AddWithValue("format", format);
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? JsonNode.Parse(json) as JsonObject : null;
    }

    public static async Task<IReadOnlyList<MigrationLogRow>> LastAsync(NpgsqlConnection connection, int count, CancellationToken cancellationToken)
    {
        var hasAudit = await HasAuditColumnsAsync(connection, cancellationToken);
        var sql = hasAudit
            ? "SELECT id, migration_name, executed_at, status, description, duration_ms FROM migration_log ORDER BY id DESC LIMIT @n"
            : "SELECT id, migration_name, executed_at, NULL::text, description, NULL::bigint FROM migration_log ORDER BY id DESC LIMIT @n";
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("n", count);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<MigrationLogRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new MigrationLogRow(
                reader.GetInt32(0), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetDateTime(2),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetInt64(5)));
        }

        return rows;
    }

    private static void AddParameters(NpgsqlCommand command, MigrationLogEntry entry)
    {
        var finished = entry.FinishedAt;
        command.Parameters.AddWithValue("name", Truncate(entry.MigrationName, 255));
        command.Parameters.AddWithValue("description", DescriptionOf(entry));
        command.Parameters.AddWithValue("status", entry.Status);
        command.Parameters.AddWithValue("started", entry.StartedAt);
        command.Parameters.AddWithValue("finished", NpgsqlDbType.TimestampTz, finished is null ? DBNull.Value : finished.Value);
        command.Parameters.AddWithValue("duration", NpgsqlDbType.Bigint,
            finished is null ? DBNull.Value : (long)(finished.Value - entry.StartedAt).TotalMilliseconds);
        command.Parameters.AddWithValue("from", NpgsqlDbType.Bigint, entry.VersionFrom is null ? DBNull.Value : entry.VersionFrom.Value);
        command.Parameters.AddWithValue("to", NpgsqlDbType.Bigint, entry.VersionTo is null ? DBNull.Value : entry.VersionTo.Value);
        command.Parameters.AddWithValue("backupFile", NpgsqlDbType.Text, (object?)entry.BackupFile ?? DBNull.Value);
        command.Parameters.AddWithValue("backupSha", NpgsqlDbType.Varchar, (object?)entry.BackupSha256 ?? DBNull.Value);
        command.Parameters.AddWithValue("runnerVersion", RunnerVersion);
        command.Parameters.AddWithValue("host", Environment.MachineName);
        command.Parameters.AddWithValue("osUser", Environment.UserName);
        command.Parameters.AddWithValue("details", NpgsqlDbType.Jsonb, (object?)entry.Details?.ToJsonString() ?? DBNull.Value);
    }

    /// <summary>The status leads the description too, so it survives in the legacy shape of the table.</summary>
    private static string DescriptionOf(MigrationLogEntry entry) => $"{entry.Status}: {entry.Description}";

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
