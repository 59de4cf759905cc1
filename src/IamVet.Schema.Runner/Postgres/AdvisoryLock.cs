using System.Diagnostics;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>Who holds the migration lock, as pg_stat_activity shows it.</summary>
public sealed record LockHolder(int Pid, string? ApplicationName, string? User, string? ClientAddress, DateTime? Since)
{
    public override string ToString() =>
        $"pid {Pid}{(ApplicationName is { Length: > 0 } ? $" ({ApplicationName})" : "")}" +
        $"{(User is null ? "" : $" user {User}")}{(ClientAddress is null ? "" : $" from {ClientAddress}")}" +
        $"{(Since is null ? "" : $", connected since {Since:yyyy-MM-dd HH:mm:ss} UTC")}";
}

/// <summary>
/// The migration lock: a session-level advisory lock on a dedicated connection, taken before
/// anything reads the migration history. A killed runner's connection closes and PostgreSQL
/// releases the lock with it, so no lock can be left behind. Its other connections may outlive it
/// for a while, though (see <see cref="FindLeftoverAsync"/>).
/// </summary>
public static class AdvisoryLock
{
    /// <summary>The lock key: "iamvet.schema" as a fixed 64-bit number (shared by every runner version).</summary>
    public const long Key = 0x1A4E_7E75_C4E4_A001;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);

    /// <summary>Polls <c>pg_try_advisory_lock</c> until it succeeds or <paramref name="timeout"/> passes.</summary>
    public static async Task<bool> TryAcquireAsync(NpgsqlConnection connection, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await using (var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
            {
                command.Parameters.AddWithValue("key", Key);
                if ((bool)(await command.ExecuteScalarAsync(cancellationToken))!)
                {
                    return true;
                }
            }

            if (clock.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// A connection that an earlier run left working on this database: its migration connection or
    /// its pg_dump. A killed runner's idle lock connection ends at once (and its advisory lock with
    /// it), but a backend busy with a statement notices that its client is gone only when it next
    /// talks to it (unless <c>client_connection_check_interval</c> is set), so it goes on moving data
    /// and holding its table locks until that statement ends. Only asked while holding the lock, so
    /// no live run can own such a connection.
    /// </summary>
    public static async Task<LockHolder?> FindLeftoverAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string sql = """
            SELECT a.pid, a.application_name, a.usename::text, a.client_addr::text, a.backend_start AT TIME ZONE 'UTC'
            FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
              AND a.application_name IN ('iamvet-schema migrate', 'iamvet-schema pg_dump')
            ORDER BY a.backend_start
            LIMIT 1
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        return await ReadHolderAsync(command, cancellationToken);
    }

    public static async Task<LockHolder?> FindHolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // A bigint advisory key shows in pg_locks as classid = high 32 bits, objid = low 32 bits, objsubid = 1.
        const string sql = """
            SELECT a.pid, a.application_name, a.usename::text, a.client_addr::text, a.backend_start AT TIME ZONE 'UTC'
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
              AND l.classid::bigint = (@key >> 32) & 4294967295 AND l.objid::bigint = @key & 4294967295
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            LIMIT 1
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", Key);
        return await ReadHolderAsync(command, cancellationToken);
    }

    private static async Task<LockHolder?> ReadHolderAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new LockHolder(
            reader.GetInt32(0),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetDateTime(4));
    }
}
