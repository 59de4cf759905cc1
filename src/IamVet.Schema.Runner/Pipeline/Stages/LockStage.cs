using IamVet.Schema.Runner.Postgres;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// Connects, then takes the migration lock (a session advisory lock on a dedicated connection)
/// before anything reads the migration history. Another run holding it: exit 7, naming the holder.
/// A connection a killed run left working (<see cref="AdvisoryLock.FindLeftoverAsync"/>) counts as
/// holding it too: it still holds that run's table locks, and its migration_log row must stay
/// RUNNING until it has ended.
/// </summary>
public sealed class LockStage : IStage
{
    public string Name => "Lock";

    public async Task<StageResult> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        NpgsqlConnection connection;
        try
        {
            connection = await context.OpenAsync("lock", cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            throw new PreflightFailed(ConnectionErrors.Describe(ex, context.Connection), ex);
        }

        context.LockConnection = connection;
        if (!await AdvisoryLock.TryAcquireAsync(connection, context.Options.LockTimeout, cancellationToken))
        {
            var holder = await AdvisoryLock.FindHolderAsync(connection, cancellationToken);
            throw new LockHeld(
                $"another run holds the migration lock on database \"{context.Database}\" " +
                $"({holder?.ToString() ?? "holder not visible to this role"}); waited {context.Options.LockTimeout.TotalSeconds:0.#} s. " +
                "Let it finish (or stop it), then run again.");
        }

        var leftover = await AdvisoryLock.FindLeftoverAsync(connection, cancellationToken);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (leftover is not null && clock.Elapsed < context.Options.LockTimeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken);
            leftover = await AdvisoryLock.FindLeftoverAsync(connection, cancellationToken);
        }

        if (leftover is not null)
        {
            throw new LockHeld(
                $"a connection of an earlier run is still working on database \"{context.Database}\" ({leftover}); waited {context.Options.LockTimeout.TotalSeconds:0.#} s. " +
                "Its runner is gone (killed?), but the connection keeps its table locks until its current work ends. " +
                $"Wait for that, or end it now with SELECT pg_terminate_backend({leftover.Pid}) (PostgreSQL rolls its transaction back); then run again.");
        }

        return new StageResult(Name, StageStatus.Pass, TimeSpan.Zero, $"holding the migration lock (pid {connection.ProcessID})", []);
    }
}
