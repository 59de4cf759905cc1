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
/// A connection of an earlier run still working on the database (<see cref="AdvisoryLock.FindLeftoverAsync"/>),
/// and whether that run's runner is still connected: then the run is alive and only lost its lock
/// (its lock connection ended), otherwise its runner is gone (killed) and the connection works on alone.
/// </summary>
public sealed record Leftover(LockHolder Connection, bool RunnerConnected);

/// <summary>
/// The backend that holds a run's migration lock: its <c>pg_backend_pid()</c> (through a proxy the
/// pid the client was told is no server process's) and when it started, so a pid the server gave
/// again to a later backend is never taken for it.
/// </summary>
public sealed record LockBackend(int Pid, DateTime Started);

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

    /// <summary>
    /// The lock granted in pg_locks <c>l</c> (parameter <c>@key</c>): a bigint advisory key shows as
    /// classid = high 32 bits, objid = low 32 bits, objsubid = 1, in this database.
    /// </summary>
    private const string Granted = """
        l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.classid::bigint = (@key >> 32) & 4294967295 AND l.objid::bigint = @key & 4294967295
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        """;

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

    /// <summary>The backend of <paramref name="connection"/> (the lock connection, once it holds the lock).</summary>
    public static async Task<LockBackend> BackendOfAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pid, backend_start AT TIME ZONE 'UTC' FROM pg_stat_activity WHERE pid = pg_backend_pid()", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new LockBackend(reader.GetInt32(0), reader.GetDateTime(1));
    }

    /// <summary>
    /// Whether <paramref name="backend"/> (the run's lock connection) still holds the migration lock,
    /// asked on another connection (the migration's, inside its transaction just before COMMIT:
    /// docs/adr/0013). A backend that is gone holds nothing; a later backend given the same pid
    /// started later. The activity snapshot is cleared first: inside a transaction PostgreSQL keeps
    /// the first one it read.
    /// </summary>
    public static async Task<bool> IsHeldByAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, LockBackend backend, CancellationToken cancellationToken)
    {
        await Sql.ExecuteAsync(connection, "SELECT pg_stat_clear_snapshot()", cancellationToken, transaction);
        await using var command = new NpgsqlCommand($"""
            SELECT EXISTS (
                SELECT FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                WHERE {Granted} AND l.pid = @pid AND a.backend_start AT TIME ZONE 'UTC' = @started)
            """, connection, transaction);
        command.Parameters.AddWithValue("key", Key);
        command.Parameters.AddWithValue("pid", backend.Pid);
        command.Parameters.AddWithValue("started", NpgsqlTypes.NpgsqlDbType.Timestamp, backend.Started);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// A connection that an earlier run left working on this database: its migration connection or
    /// its pg_dump. A killed runner's idle lock connection ends at once (and its advisory lock with
    /// it), but a backend busy with a statement notices that its client is gone only when it next
    /// talks to it (unless <c>client_connection_check_interval</c> is set), so it goes on moving data
    /// and holding its table locks until that statement ends. Asked while holding the lock, so the
    /// run that owns such a connection holds it no longer: its runner is gone, or it lost its lock
    /// connection (see <see cref="Leftover.RunnerConnected"/>).
    /// </summary>
    public static async Task<Leftover?> FindLeftoverAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // The runner's connections that end with it: the migration's and its readers' check every
        // second that the runner is there (client_connection_check_interval), and the backup's
        // snapshot connection waits on the runner between its statements, so it sees the runner's
        // socket close at once. pg_dump is a process of its own and outlives a killed runner.
        const string sql = """
            SELECT a.pid, a.application_name, a.usename::text, a.client_addr::text, a.backend_start AT TIME ZONE 'UTC',
                   EXISTS (SELECT FROM pg_stat_activity r
                           WHERE r.datname = current_database() AND r.pid <> pg_backend_pid()
                             AND r.application_name IN ('iamvet-schema migrate', 'iamvet-schema verify', 'iamvet-schema backup'))
            FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
              AND a.application_name IN ('iamvet-schema migrate', 'iamvet-schema pg_dump')
            ORDER BY a.backend_start
            LIMIT 1
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Leftover(HolderOf(reader), reader.GetBoolean(5)) : null;
    }

    public static async Task<LockHolder?> FindHolderAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string sql = $"""
            SELECT a.pid, a.application_name, a.usename::text, a.client_addr::text, a.backend_start AT TIME ZONE 'UTC'
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE {Granted}
            LIMIT 1
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("key", Key);
        return await ReadHolderAsync(command, cancellationToken);
    }

    private static async Task<LockHolder?> ReadHolderAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? HolderOf(reader) : null;
    }

    private static LockHolder HolderOf(NpgsqlDataReader reader) =>
        new(
            reader.GetInt32(0),
            reader.IsDBNull(1) ? null : reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.IsDBNull(4) ? null : reader.GetDateTime(4));
}
