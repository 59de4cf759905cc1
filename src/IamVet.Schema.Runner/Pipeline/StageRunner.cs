using System.Diagnostics;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline;

/// <summary>What a stage returns: its typed result for the stages after it, and its row of the report.</summary>
public sealed record StageOutput<T>(T Value, StageResult Report);

/// <summary>
/// Runs one named stage of a run: times it, records its row in <see cref="RunResults"/>, and turns
/// what it throws into the run's outcome (a lock wait that gave up names the holders; Ctrl-C is
/// <see cref="Interrupted"/>; an outcome of the stage's own is recorded as its failed row). The same
/// for every command built of stages (migrate, check, backup, rehearse), so they fail alike.
/// </summary>
public sealed class StageRunner(RunContext context, RunResults results)
{
    public async Task<T> RunAsync<T>(string stage, Func<Task<StageOutput<T>>> run, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var output = await run();
            results.Add(output.Report with { Duration = output.Report.Duration > TimeSpan.Zero ? output.Report.Duration : clock.Elapsed });
            return output.Value;
        }
        catch (PostgresException failure) when (failure.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            var outcome = await LockWaitGaveUpAsync(failure, cancellationToken);
            results.Add(new StageResult(stage, StageStatus.Fail, clock.Elapsed, outcome.Message, []));
            throw outcome;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM in a stage that does not report it itself (the backup and the migration do).
            var interrupted = new Interrupted(stage, ExitCodes.Refused);
            results.Add(new StageResult(stage, StageStatus.Fail, clock.Elapsed, interrupted.Message, []));
            throw interrupted;
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            results.Add(new StageResult(stage, StageStatus.Fail, clock.Elapsed, failure.Message, (failure as PipelineStopped)?.Notes ?? []));
            throw;
        }
    }

    /// <summary>Records a stage that did not run (and why).</summary>
    public void Skip(string stage, string why) => results.Add(StageResult.Skipped(stage, why));

    /// <summary>
    /// A read of pre-flight or the audit (or the log row) waited --lock-timeout for a table lock, e.g.
    /// behind a session holding users ACCESS EXCLUSIVE: the run stops (exit 5) before changing anything,
    /// naming who holds the locks, instead of hanging with other sessions queued behind it.
    /// </summary>
    public async Task<MigrationFailed> LockWaitGaveUpAsync(PostgresException failure, CancellationToken cancellationToken) =>
        new($"gave up waiting for a table lock after --lock-timeout {SettingValues.FormatDuration(context.Options.LockTimeout)}, before migrating " +
            $"(blocked by {await TableLockHolders.DescribeAsync(results.Session!.Connection, cancellationToken)}); nothing changed", failure);
}
