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
/// Writes migration_log. The begin and end rows go on the caller's autocommit connection, so a
/// rolled-back attempt still leaves its row; a migration about to commit also writes its row in
/// its own transaction (<see cref="WriteAsync"/>), so a committed migration always has a row
/// saying so, whatever happens to the run afterwards. Before the audit columns exist (a database still
/// at the legacy baseline, or below it) the row is written in the legacy shape, with the status in
/// its description.
/// </summary>
public static class MigrationLog
{
    public static readonly string RunnerVersion =
        typeof(MigrationLog).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    public static Task<bool> ExistsAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default) =>
        Sql.TableExistsAsync(connection, "migration_log", cancellationToken);

    public static Task<bool> HasAuditColumnsAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default) =>
        HasAuditColumnsAsync(connection, null, cancellationToken);

    /// <summary>Whether migration_log has its audit columns, as <paramref name="transaction"/> (when given) sees it.</summary>
    public static async Task<bool> HasAuditColumnsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken) =>
        await Sql.ScalarAsync<bool>(connection, """
            SELECT EXISTS (SELECT FROM information_schema.columns
                           WHERE table_schema = 'public' AND table_name = 'migration_log' AND column_name = 'status')
            """, cancellationToken, transaction);

    /// <summary>
    /// Rows left RUNNING by a runner that died (SIGKILL, lost connection) become ABORTED, in either
    /// shape of the table (before the audit columns the status leads the description). Only called
    /// while holding the migration lock, so no RUNNING row can belong to a live run.
    /// </summary>
    public static async Task<int> MarkAbandonedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string Note = " [ABORTED: the run never finished; marked by a later run]";
        await using var command = new NpgsqlCommand(await HasAuditColumnsAsync(connection, cancellationToken)
            ? $"""
              UPDATE migration_log
              SET status = 'ABORTED', finished_at = coalesce(finished_at, now()),
                  description = coalesce(description, '') || '{Note}'
              WHERE status = 'RUNNING' OR (status IS NULL AND description LIKE 'RUNNING: %')
              """
            : $"""
              UPDATE migration_log
              SET description = 'ABORTED: ' || substr(description, length('RUNNING: ') + 1) || '{Note}'
              WHERE description LIKE 'RUNNING: %'
              """, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Inserts the attempt's row (in the shape the table has, as <paramref name="transaction"/> sees it) and returns its id.</summary>
    public static async Task<int> InsertAsync(NpgsqlConnection connection, MigrationLogEntry entry, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        if (!await HasAuditColumnsAsync(connection, transaction, cancellationToken))
        {
            await using var legacy = new NpgsqlCommand(
                "INSERT INTO migration_log (migration_name, description) VALUES (@name, @description) RETURNING id", connection, transaction);
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
            """, connection, transaction);
        AddParameters(command, entry);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// Writes the attempt's row (<paramref name="id"/>, or a new one) with <paramref name="entry"/>, in
    /// whatever shape the table has as <paramref name="transaction"/> sees it, and returns its id. In
    /// the migration's own transaction (before COMMIT) this is what makes a committed migration
    /// always have a row saying so. A row first written before the audit columns existed gets every
    /// audit column here; <paramref name="auditColumnsJustAdded"/> (this transaction added them) also
    /// gives the runner's earlier legacy-shaped rows the status their description leads with.
    /// </summary>
    public static async Task<int> WriteAsync(
        NpgsqlConnection connection, int? id, MigrationLogEntry entry, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null, bool auditColumnsJustAdded = false)
    {
        var hasAudit = await HasAuditColumnsAsync(connection, transaction, cancellationToken);
        if (hasAudit && auditColumnsJustAdded)
        {
            await Sql.ExecuteAsync(connection, """
                UPDATE migration_log
                SET status = substring(description FROM '^(RUNNING|SUCCESS|FAILED|ROLLED_BACK|REFUSED|NOTHING_TO_DO|ABORTED): ')
                WHERE status IS NULL AND description ~ '^(RUNNING|SUCCESS|FAILED|ROLLED_BACK|REFUSED|NOTHING_TO_DO|ABORTED): '
                """, cancellationToken, transaction);
        }

        if (id is not null)
        {
            await using var command = new NpgsqlCommand(hasAudit
                ? """
                  UPDATE migration_log
                  SET migration_name = @name, description = @description, status = @status, started_at = coalesce(started_at, @started),
                      finished_at = @finished, duration_ms = @duration, version_from = @from, version_to = @to, backup_file = @backupFile,
                      backup_sha256 = @backupSha, runner_version = @runnerVersion, host = @host, os_user = @osUser, details = @details
                  WHERE id = @id
                  """
                : "UPDATE migration_log SET migration_name = @name, description = @description WHERE id = @id", connection, transaction);
            if (hasAudit)
            {
                AddParameters(command, entry);
            }
            else
            {
                command.Parameters.AddWithValue("name", Truncate(entry.MigrationName, 255));
                command.Parameters.AddWithValue("description", DescriptionOf(entry));
            }

            command.Parameters.AddWithValue("id", id.Value);
            if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return id.Value;
            }
        }

        return await InsertAsync(connection, entry, cancellationToken, transaction);
    }

    /// <summary>Completes the attempt's row; inserts one if the row could not be written at the start.</summary>
    public static Task<int> CompleteAsync(NpgsqlConnection connection, int? id, MigrationLogEntry entry, CancellationToken cancellationToken) =>
        WriteAsync(connection, id, entry, cancellationToken);

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
