using System.Threading.Channels;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// A few extra read-only connections that see exactly what one transaction saw when it exported
/// its snapshot (<c>pg_export_snapshot</c>): every job runs in its own REPEATABLE READ, READ ONLY
/// transaction that imports that snapshot, so independent aggregate queries run side by side
/// instead of one after the other, and each job's table locks (ACCESS SHARE, what its reads take)
/// are released as soon as that job ends (or, opened with a preparation, all of a reader's jobs
/// in one such transaction: see <see cref="OpenAsync"/>).
/// <para>
/// The snapshot stays importable until the owner's transaction ends, and shows committed data as
/// of the export, never the owner's own later changes: jobs started after the owner has begun to
/// write still see the tables as they were before — which is what lets the legacy side of an up
/// be read while the migrations run (docs/performance.md). A job must not read a table the
/// owner has locked ACCESS EXCLUSIVE since (it would wait for the owner's COMMIT); the owner in
/// turn waits for every job that reads a table it is about to lock that way.
/// </para>
/// </summary>
public sealed class SnapshotReaders : IAsyncDisposable
{
    private readonly List<NpgsqlConnection> readers = [];
    private readonly Channel<NpgsqlConnection> idle = Channel.CreateUnbounded<NpgsqlConnection>();
    private readonly Dictionary<NpgsqlConnection, NpgsqlTransaction> sessionTransactions = [];
    private readonly string snapshot;

    private SnapshotReaders(string snapshot) => this.snapshot = snapshot;

    /// <summary>
    /// How many readers a verification opens. Each runs its queries without PostgreSQL's parallel
    /// workers: two backends, each on one core, finished the reads soonest on the two-core benchmark
    /// machine (three readers, or parallel workers on top, only made them compete for the cores),
    /// and leave a production server's other cores to the application. What runs alongside the
    /// migrations opens one, beside the migration's own backend.
    /// </summary>
    public const int DefaultCount = 2;

    /// <summary>How many readers are open: jobs beyond this many wait for a free one.</summary>
    public int Count => readers.Count;

    /// <summary>
    /// Opens <paramref name="count"/> readers and exports the snapshot of <paramref name="ownerTransaction"/>.
    /// <paramref name="prepare"/>, when given, first runs once on every reader: it writes
    /// session-local temporary tables (e.g. the ids of HOSPITAL users), which the jobs then read
    /// instead of a larger table. Two ways:
    /// <list type="bullet">
    /// <item><paramref name="prepareAlongside"/>: each reader runs ALL its jobs in one transaction
    /// that imports the snapshot and first runs <paramref name="prepare"/> (so it is what the
    /// snapshot shows); the owner does not wait for it. Such a reader holds what its jobs read until
    /// it is disposed: the owner must not lock those tables ACCESS EXCLUSIVE before then (the migrate
    /// stage's exclusive-lock gate disposes it first).</item>
    /// <item>otherwise: in a transaction of its own that commits BEFORE the export, so what it writes is
    /// in the snapshot; what it reads must therefore be held by the owner against other writers. The
    /// owner waits for it, and every job then runs in a transaction of its own.</item>
    /// </list>
    /// </summary>
    public static async Task<SnapshotReaders> OpenAsync(
        NpgsqlConnection owner, NpgsqlTransaction ownerTransaction, MigrationDatabase database, int count, CancellationToken cancellationToken, string? prepare = null,
        bool prepareAlongside = false)
    {
        var connections = new List<NpgsqlConnection>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                connections.Add(await database.OpenAsync(Roles.Verify, cancellationToken));
            }

            if (prepare is not null && !prepareAlongside)
            {
                await Task.WhenAll(connections.Select(async connection =>
                {
                    await using var command = new NpgsqlCommand($"BEGIN; SET LOCAL work_mem = '256MB'; SET LOCAL max_parallel_workers_per_gather = 0; {prepare}; COMMIT", connection)
                    {
                        CommandTimeout = 0,
                    };
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }));
            }

            await using var export = new NpgsqlCommand("SELECT pg_export_snapshot()", owner, ownerTransaction);
            var result = new SnapshotReaders((string)(await export.ExecuteScalarAsync(cancellationToken))!);
            result.readers.AddRange(connections);
            foreach (var connection in connections)
            {
                if (prepare is null || !prepareAlongside)
                {
                    result.idle.Writer.TryWrite(connection);
                }
                else
                {
                    _ = result.PrepareAsync(connection, prepare, cancellationToken);
                }
            }

            return result;
        }
        catch
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>
    /// Begins <paramref name="connection"/>'s one transaction (the snapshot imported, not read-only:
    /// it writes its temporary tables), runs <paramref name="prepare"/> in it, then lets jobs have
    /// the reader; a failure fails every job.
    /// </summary>
    private async Task PrepareAsync(NpgsqlConnection connection, string prepare, CancellationToken cancellationToken)
    {
        try
        {
            var transaction = await BeginAsync(connection, readOnly: false, cancellationToken);
            lock (sessionTransactions)
            {
                sessionTransactions[connection] = transaction;
            }

            await Sql.ExecuteAsync(connection, prepare, cancellationToken, transaction);
            idle.Writer.TryWrite(connection);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or InvalidOperationException)
        {
            idle.Writer.TryComplete(new SnapshotReaderException(ex));
        }
    }

    /// <summary>
    /// Runs every job, each on the next free reader in a transaction of its own; the results come
    /// back in the jobs' order. Jobs of calls made while earlier ones still run wait their turn
    /// (first come, first served), so work can be queued from more than one place.
    /// </summary>
    public async Task<T[]> RunAsync<T>(IReadOnlyList<Func<NpgsqlConnection, NpgsqlTransaction, Task<T>>> jobs, CancellationToken cancellationToken) =>
        await Task.WhenAll(jobs.Select(job => RunOneAsync(job, cancellationToken)));

    private async Task<T> RunOneAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> job, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await idle.Reader.ReadAsync(cancellationToken);
        }
        catch (ChannelClosedException closed) when (closed.InnerException is SnapshotReaderException failed)
        {
            throw new SnapshotReaderException(failed.InnerException!); // a reader's preparation failed
        }

        try
        {
            NpgsqlTransaction? session;
            lock (sessionTransactions)
            {
                sessionTransactions.TryGetValue(connection, out session);
            }

            if (session is not null)
            {
                return await job(connection, session);
            }

            await using var transaction = await BeginAsync(connection, readOnly: true, cancellationToken);
            var result = await job(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }
        catch (NpgsqlException failure) when (!cancellationToken.IsCancellationRequested)
        {
            throw new SnapshotReaderException(failure);
        }
        finally
        {
            idle.Writer.TryWrite(connection);
        }
    }

    private async Task<NpgsqlTransaction> BeginAsync(NpgsqlConnection connection, bool readOnly, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        try
        {
            await using var import = new NpgsqlCommand(
                $"SET TRANSACTION SNAPSHOT '{snapshot.Replace("'", "''", StringComparison.Ordinal)}'; {(readOnly ? "SET TRANSACTION READ ONLY; " : "")}" +
                "SET LOCAL work_mem = '256MB'; SET LOCAL max_parallel_workers_per_gather = 0",
                connection, transaction);
            await import.ExecuteNonQueryAsync(cancellationToken);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        idle.Writer.TryComplete();
        sessionTransactions.Clear();
        foreach (var connection in readers)
        {
            await connection.DisposeAsync();
        }

        readers.Clear();
    }
}

/// <summary>A statement on a snapshot reader failed (not on the owner's own connection).</summary>
public sealed class SnapshotReaderException : Exception
{
    public SnapshotReaderException(Exception inner)
        : base($"a snapshot reader failed: {inner.Message}", inner)
    {
    }

    public SnapshotReaderException()
    {
    }

    public SnapshotReaderException(string message)
        : base(message)
    {
    }

    public SnapshotReaderException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
