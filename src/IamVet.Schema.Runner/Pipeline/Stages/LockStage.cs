using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>The migration lock, held by <see cref="Connection"/> until the run ends (and disposes it).</summary>
public sealed class LockedSession(NpgsqlConnection connection) : IAsyncDisposable
{
    /// <summary>The lock connection: pre-flight, the audit and migration_log use it too.</summary>
    public NpgsqlConnection Connection { get; } = connection;

    /// <summary>The lock connection's backend, once it holds the lock: the migration checks it still does before COMMIT (docs/adr/0013).</summary>
    public LockBackend? Backend { get; internal set; }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}

/// <summary>
/// Connects, then takes the migration lock (a session advisory lock on a dedicated connection)
/// before anything reads the migration history. Another run holding it: exit 7, naming the holder.
/// A connection an earlier run left working (<see cref="AdvisoryLock.FindLeftoverAsync"/>) counts as
/// holding it too: it still holds that run's table locks, and its migration_log row must stay
/// RUNNING until it has ended. The message says whether that run is alive (it lost only its lock
/// connection, and rolls back before COMMIT: docs/adr/0013) or its runner is gone.
/// </summary>
public static class LockStage
{
    public const string Name = "Lock";

    /// <summary>
    /// Connects and takes the lock. <paramref name="connected"/> receives the session as soon as it is
    /// connected, before the lock is asked for: a run refused the lock still writes its migration_log
    /// row on that connection (and the caller disposes it either way).
    /// </summary>
    public static async Task<StageOutput<LockedSession>> RunAsync(RunContext context, Action<LockedSession> connected, CancellationToken cancellationToken)
    {
        // Checked once per run: before the plan shown (migrate), else here.
        var route = context.Options.CheckedRoute ?? await RefuseATransactionPoolerAsync(context.Database, cancellationToken);
        var connection = await ConnectAsync(context.Database, Roles.Lock, cancellationToken);
        if (await context.Database.SettingsNotInForceAsync(connection, cancellationToken) is { } dropped)
        {
            await connection.DisposeAsync();
            throw new PreflightFailed(
                $"the connection to \"{context.Options.Target.Host}\" lost the runner's session settings, set on it as it connected ({dropped}): " +
                "its statements do not all run in one server session (a connection pooler in statement or transaction mode). " +
                "Without them no wait for a lock is bounded. Nothing was changed. Connect directly: on Neon use the direct endpoint, the host without \"-pooler\"");
        }

        var session = new LockedSession(connection);
        connected(session);
        await AcquireAsync(context, connection, cancellationToken);
        // ProcessID is what the server's first message said: through a proxy it is not the backend's pid.
        session.Backend = await AdvisoryLock.BackendOfAsync(connection, cancellationToken);
        var via = route.Kind == PoolerKind.SessionProxy ? ", through a session-preserving proxy" : "";
        return new(session, new StageResult(Name, StageStatus.Pass, TimeSpan.Zero, $"holding the migration lock (pid {session.Backend.Pid}{via})", []));
    }

    /// <summary>
    /// Before any connection with the run's settings: refuses (exit 3) a way to the server that does
    /// not keep one server session per connection (a pooler in transaction or statement mode, see
    /// <see cref="PoolerDetection"/>), or on which that cannot be checked. Every command that locks
    /// or writes goes through here (and restore, which creates and renames databases).
    /// </summary>
    public static async Task<PoolerVerdict> RefuseATransactionPoolerAsync(MigrationDatabase database, CancellationToken cancellationToken)
    {
        PoolerVerdict verdict;
        try
        {
            verdict = await PoolerDetection.CheckAsync(database, cancellationToken);
        }
        catch (Exception ex) when (MigrationDatabase.IsConnectFailure(ex))
        {
            throw new PreflightFailed(database.DescribeConnectFailure(ex), ex);
        }

        return verdict.Kind switch
        {
            PoolerKind.TransactionPooler => throw new PreflightFailed(PoolerDetection.Refusal(database.Target.Host, verdict.Evidence)),
            PoolerKind.CannotCheck => throw new PreflightFailed(PoolerDetection.CannotCheck(database.Target.Host, verdict.Evidence)),
            _ => verdict,
        };
    }

    /// <summary>Opens a connection in <paramref name="role"/>; a failure to connect is a refusal (exit 3) in one sentence.</summary>
    public static async Task<NpgsqlConnection> ConnectAsync(MigrationDatabase database, string role, CancellationToken cancellationToken)
    {
        try
        {
            return await database.OpenAsync(role, cancellationToken);
        }
        catch (Exception ex) when (MigrationDatabase.IsConnectFailure(ex))
        {
            throw new PreflightFailed(database.DescribeConnectFailure(ex), ex);
        }
    }

    private static async Task AcquireAsync(RunContext context, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var timeout = context.Options.LockTimeout;
        if (!await AdvisoryLock.TryAcquireAsync(connection, timeout, cancellationToken))
        {
            var holder = await AdvisoryLock.FindHolderAsync(connection, cancellationToken);
            throw new LockHeld(
                $"another run holds the migration lock on database \"{context.DatabaseName}\" " +
                $"({holder?.ToString() ?? "holder not visible to this role"}); waited {timeout.TotalSeconds:0.#} s. " +
                "Let it finish (or stop it), then run again.");
        }

        var leftover = await AdvisoryLock.FindLeftoverAsync(connection, cancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (leftover is not null && clock.Elapsed < timeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            leftover = await AdvisoryLock.FindLeftoverAsync(connection, cancellationToken);
        }

        if (leftover is { RunnerConnected: true })
        {
            throw new LockHeld(
                $"another run is still working on database \"{context.DatabaseName}\" ({leftover.Connection}) but no longer holds the migration lock: " +
                $"its lock connection was ended (by the server or an operator). Its runner is still connected, so the run is alive; waited {timeout.TotalSeconds:0.#} s. " +
                "It checks its lock before COMMIT and rolls back without it: let it end, then run again.");
        }

        if (leftover is not null)
        {
            var pid = leftover.Connection.Pid;
            throw new LockHeld(
                $"a connection of an earlier run is still working on database \"{context.DatabaseName}\" ({leftover.Connection}); waited {timeout.TotalSeconds:0.#} s. " +
                "Its runner is gone (killed?), but the connection keeps its table locks until its current work ends. " +
                $"Wait for that, or end it now with SELECT pg_terminate_backend({pid}) (PostgreSQL rolls its transaction back); then run again.");
        }
    }
}
