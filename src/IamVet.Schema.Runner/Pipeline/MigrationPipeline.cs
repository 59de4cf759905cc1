using System.Diagnostics;
using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline.Stages;
using IamVet.Schema.Runner.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline;

/// <summary>The outcome of one run: exit code, migration_log status, message, and every stage.</summary>
public sealed record RunSummary(int ExitCode, string Status, string Message, RunContext Context);

/// <summary>
/// The runbook as software: Lock → Pre-flight → Data audit → Backup → Migrate + Verify (one
/// transaction) → Log → Report, stopping safely at the first problem. Every attempt leaves one
/// migration_log row, written on the lock connection (autocommit), so a rolled-back attempt
/// still leaves its row; a RUNNING row left by a killed run is marked ABORTED by the next.
/// </summary>
public sealed class MigrationPipeline(ILoggerFactory loggerFactory)
{
    /// <summary>The migration that gives migration_log its audit columns.</summary>
    private const long AuditColumnsVersion = 202509290100;

    private readonly ILogger logger = loggerFactory.CreateLogger<MigrationPipeline>();

    public async Task<RunSummary> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        var context = new RunContext(options);
        IStage[] stages = options.CheckOnly
            ? [new LockStage(), new PreflightStage(), new AuditStage()]
            : [new LockStage(), new PreflightStage(), new AuditStage(), new BackupStage(), new MigrateStage(loggerFactory)];

        RunSummary summary;
        try
        {
            foreach (var stage in stages)
            {
                if (context.NothingToDo && stage is not (LockStage or PreflightStage))
                {
                    context.Stages.Add(StageResult.Skipped(stage.Name, "nothing to do"));
                    continue;
                }

                await RunStageAsync(context, stage, cancellationToken);
                if (stage is PreflightStage && !options.CheckOnly)
                {
                    try
                    {
                        await BeginLogAsync(context, cancellationToken);
                    }
                    catch (PostgresException failure) when (failure.SqlState == PostgresErrorCodes.LockNotAvailable)
                    {
                        throw await LockWaitGaveUpAsync(context, failure, cancellationToken);
                    }
                }

                if (stage is MigrateStage && context.VerifyResult is not null)
                {
                    context.Stages.Add(context.VerifyResult);
                }
            }

            summary = context.NothingToDo
                ? new RunSummary(ExitCodes.Success, LogStatuses.NothingToDo,
                    $"nothing to do: the database is already at {context.Plan!.FromVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "no version"}", context)
                : options.CheckOnly
                    ? new RunSummary(ExitCodes.Success, LogStatuses.Success, "check passed: nothing was changed", context)
                    : new RunSummary(ExitCodes.Success, LogStatuses.Success,
                        $"{options.CommandName}: done, now at {context.Plan!.ResultVersion}", context);
        }
        catch (PipelineStopped stopped)
        {
            if (stopped is VerificationFailed && context.VerifyResult is not null && !context.Stages.Contains(context.VerifyResult))
            {
                context.Stages.Add(context.VerifyResult);
            }

            summary = new RunSummary(stopped.ExitCode, stopped.LogStatus, stopped.Message, context);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM between stages (inside one, the stage says so: see RunStageAsync).
            var interrupted = new Interrupted(context.Stages.LastOrDefault()?.Stage ?? "start", ExitCodes.Refused);
            summary = new RunSummary(interrupted.ExitCode, interrupted.LogStatus, interrupted.Message, context);
        }
        catch (Configuration.ConfigurationException usage)
        {
            summary = new RunSummary(ExitCodes.Usage, LogStatuses.Refused, usage.Message, context);
        }
        catch (Exception unexpected) when (unexpected is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(unexpected, "unexpected error in {Command}", options.CommandName);
            summary = new RunSummary(ExitCodes.Unexpected, LogStatuses.Failed, $"unexpected error: {unexpected.Message}", context);
        }

        if (!options.CheckOnly)
        {
            // Also after Ctrl-C / SIGTERM, whose token is cancelled by now: the attempt is still logged.
            using var logging = new CancellationTokenSource(TimeSpan.FromSeconds(8));
            await CompleteLogAsync(summary, logging.Token);
        }

        await context.DisposeAsync();
        return summary;
    }

    private static async Task RunStageAsync(RunContext context, IStage stage, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var result = await stage.RunAsync(context, cancellationToken);
            context.Stages.Add(result with { Duration = result.Duration > TimeSpan.Zero ? result.Duration : clock.Elapsed });
        }
        catch (PostgresException failure) when (failure.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            var outcome = await LockWaitGaveUpAsync(context, failure, cancellationToken);
            context.Stages.Add(new StageResult(stage.Name, StageStatus.Fail, clock.Elapsed, outcome.Message, []));
            throw outcome;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM in a stage that does not report it itself (the backup and the migration do).
            var interrupted = new Interrupted(stage.Name, ExitCodes.Refused);
            context.Stages.Add(new StageResult(stage.Name, StageStatus.Fail, clock.Elapsed, interrupted.Message, []));
            throw interrupted;
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            context.Stages.Add(new StageResult(stage.Name, StageStatus.Fail, clock.Elapsed, failure.Message, (failure as PipelineStopped)?.Notes ?? []));
            throw;
        }
    }

    /// <summary>
    /// A read of pre-flight or the audit (or the log row) waited --lock-timeout for a table lock, e.g.
    /// behind a session holding users ACCESS EXCLUSIVE: the run stops (exit 5) before changing anything,
    /// naming who holds the locks, instead of hanging with other sessions queued behind it.
    /// </summary>
    private static async Task<MigrationFailed> LockWaitGaveUpAsync(RunContext context, PostgresException failure, CancellationToken cancellationToken) =>
        new($"gave up waiting for a table lock after --lock-timeout {context.Options.LockTimeout.TotalSeconds:0.#} s, before migrating " +
            $"(blocked by {await TableLockHolders.DescribeAsync(context.LockConnection!, cancellationToken)}); nothing changed", failure);

    private async Task BeginLogAsync(RunContext context, CancellationToken cancellationToken)
    {
        var connection = context.LockConnection!;
        if (!await MigrationLog.HasAuditColumnsAsync(connection, cancellationToken))
        {
            return; // written once, at the end, in whatever shape migration_log has then
        }

        var aborted = await MigrationLog.MarkAbandonedAsync(connection, cancellationToken);
        if (aborted > 0)
        {
            logger.LogWarning("{Count} migration_log row(s) left RUNNING by a run that never finished were marked ABORTED", aborted);
            context.Details["abortedEarlierRuns"] = aborted;
        }

        // A down that removes the audit columns would stash this row as RUNNING: it is written at the end instead.
        var removesAuditColumns = context.Plan is { Direction: MigrationDirection.Down } plan && plan.Steps.Any(s => s.Version == AuditColumnsVersion);
        if (!context.NothingToDo && !removesAuditColumns)
        {
            context.LogRowId = await MigrationLog.InsertAsync(connection, Entry(context, LogStatuses.Running, "started", finished: false), cancellationToken);
        }
    }

    private async Task CompleteLogAsync(RunSummary summary, CancellationToken cancellationToken)
    {
        var context = summary.Context;
        try
        {
            var connection = context.LockConnection is { State: System.Data.ConnectionState.Open } open
                ? open
                : null;
            if (connection is null)
            {
                return; // could not connect at all: there is nowhere to log (the message says why)
            }

            // Never hang on migration_log behind another run's open migration transaction.
            await using (var timeout = new NpgsqlCommand("SET lock_timeout = '5s'", connection))
            {
                await timeout.ExecuteNonQueryAsync(cancellationToken);
            }

            if (!await MigrationLog.ExistsAsync(connection, cancellationToken))
            {
                logger.LogWarning("migration_log does not exist in {Database}: this attempt is not logged", context.Database);
                return;
            }

            // A run refused the migration lock writes this row while the lock holder may be adding the
            // audit columns: lock the table first, so the shape read next is the shape the row goes into.
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE migration_log IN ROW EXCLUSIVE MODE", connection, transaction))
            {
                await lockTable.ExecuteNonQueryAsync(cancellationToken);
            }

            context.Details["stages"] = new JsonArray(context.Stages.Select(s => (JsonNode?)new JsonObject
            {
                ["stage"] = s.Stage, ["status"] = s.Status.ToString().ToUpperInvariant(), ["ms"] = (long)s.Duration.TotalMilliseconds, ["summary"] = s.Summary,
            }).ToArray());
            context.Details["exitCode"] = summary.ExitCode;
            context.LogRowId = await MigrationLog.CompleteAsync(connection, context.LogRowId, Entry(context, summary.Status, summary.Message, finished: true), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The outcome stands whatever happens here: a committed migration must not be reported as failed.
            logger.LogError("could not write this attempt to migration_log: {Message}", ex.Message);
        }
    }

    private static MigrationLogEntry Entry(RunContext context, string status, string message, bool finished)
    {
        var plan = context.Plan;
        var name = plan is null || plan.IsEmpty
            ? context.Options.CommandName
            : $"{context.Options.CommandName} {plan.FromVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "empty"} -> {plan.ResultVersion}";
        if (plan is { IsEmpty: false })
        {
            context.Details["migrations"] = new JsonArray(plan.Steps.Select(s => (JsonNode?)new JsonObject { ["version"] = s.Version, ["description"] = s.Description }).ToArray());
        }

        return new MigrationLogEntry
        {
            MigrationName = name,
            Status = status,
            Description = message,
            StartedAt = context.StartedAt,
            FinishedAt = finished ? DateTimeOffset.UtcNow : null,
            VersionFrom = plan?.FromVersion,
            VersionTo = plan?.ResultVersion,
            BackupFile = context.Backup?.DumpPath,
            BackupSha256 = context.Backup?.Sha256,
            Details = (JsonObject)context.Details.DeepClone(),
        };
    }
}
