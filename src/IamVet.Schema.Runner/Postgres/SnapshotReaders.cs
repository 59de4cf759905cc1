using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// A few extra read-only connections that see exactly what one transaction sees: the owner exports
/// its snapshot (<c>pg_export_snapshot</c>), each reader imports it in a REPEATABLE READ, READ ONLY
/// transaction, and independent aggregate queries then run side by side instead of one after the
/// other. Only for a transaction that has not written yet: a snapshot shows committed data, never
/// the owner's own uncommitted changes. The readers hold no lock beyond what their reads take
/// (ACCESS SHARE), and end before the owner goes on.
/// </summary>
public sealed class SnapshotReaders : IAsyncDisposable
{
    private readonly List<(NpgsqlConnection Connection, NpgsqlTransaction Transaction)> readers = [];

    private SnapshotReaders()
    {
    }

    /// <summary>
    /// How many readers a verification opens. Each runs its queries without PostgreSQL's parallel
    /// workers: two backends, each on one core, finished the five legacy passes of a million users
    /// soonest on the two-core benchmark machine (three readers, or parallel workers on top,
    /// only made them compete for the cores), and leave a production server's other cores to the
    /// application.
    /// </summary>
    public const int DefaultCount = 2;

    public static async Task<SnapshotReaders> OpenAsync(
        NpgsqlConnection owner, NpgsqlTransaction ownerTransaction, string connectionString, int count, CancellationToken cancellationToken)
    {
        string snapshot;
        await using (var export = new NpgsqlCommand("SELECT pg_export_snapshot()", owner, ownerTransaction))
        {
            snapshot = (string)(await export.ExecuteScalarAsync(cancellationToken))!;
        }

        var result = new SnapshotReaders();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(cancellationToken);
                var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
                result.readers.Add((connection, transaction));
                await using var import = new NpgsqlCommand(
                    $"SET TRANSACTION SNAPSHOT '{snapshot.Replace("'", "''", StringComparison.Ordinal)}'; SET TRANSACTION READ ONLY; SET LOCAL work_mem = '256MB'; SET LOCAL max_parallel_workers_per_gather = 0",
                    connection, transaction);
                await import.ExecuteNonQueryAsync(cancellationToken);
            }
        }
        catch
        {
            await result.DisposeAsync();
            throw;
        }

        return result;
    }

    /// <summary>Runs every job, each on the next free reader; the results come back in the jobs' order.</summary>
    public async Task<T[]> RunAsync<T>(IReadOnlyList<Func<NpgsqlConnection, NpgsqlTransaction, Task<T>>> jobs)
    {
        var results = new T[jobs.Count];
        var next = -1;
        await Task.WhenAll(readers.Select(async reader =>
        {
            for (var i = Interlocked.Increment(ref next); i < jobs.Count; i = Interlocked.Increment(ref next))
            {
                results[i] = await jobs[i](reader.Connection, reader.Transaction);
            }
        }));
        return results;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var (connection, transaction) in readers)
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }

        readers.Clear();
    }
}
