using Npgsql;

namespace IamVet.Schema.Runner.Pipeline;

/// <summary>The outcome of one run: exit code, migration_log status, message, what it started from and what its stages returned.</summary>
public sealed record RunSummary(int ExitCode, string Status, string Message, RunContext Context, RunResults Results);

/// <summary>
/// The runbook as software: Lock → Pre-flight → (Log: begin) → Data audit → Backup → Migrate
/// (+ the audit's side-table checks alongside, then Verify, in one transaction) → (a rollback:
/// Finish, its last step after COMMIT, docs/adr/0008) → (Log: end) → report, stopping safely at the first problem. Each stage returns a typed result that the
/// pipeline hands to the stages after it. Every attempt leaves one migration_log row, begun and
/// completed on the lock connection (autocommit), so a rolled-back attempt still leaves its row; a
/// migration that commits marks it SUCCESS inside its own transaction (docs/adr/0005), so a
/// committed migration always has its row; a RUNNING row left by a killed run is marked ABORTED by
/// the next.
/// </summary>
public sealed class MigrationPipeline(ILoggerFactory loggerFactory)
{
    private readonly ILogger logger = loggerFactory.CreateLogger<MigrationPipeline>();

    /// <summary><c>migrate up</c>, <c>migrate down</c> and (<see cref="RunOptions.CheckOnly"/>) <c>check</c>.</summary>
    public async Task<RunSummary> RunAsync(RunOptions options, CancellationToken cancellationToken)
    {
        var context = new RunContext(options);
        var results = new RunResults();
        var summary = await OutcomeAsync(context, results, () => MigrateAsync(context, results, new StageRunner(context, results), cancellationToken), cancellationToken);
        if (!options.CheckOnly)
        {
            // Also after Ctrl-C / SIGTERM, whose token is cancelled by now: the attempt is still logged.
            using var logging = new CancellationTokenSource(TimeSpan.FromSeconds(8));
            summary = await CompleteLogAsync(summary, logging.Token);
        }

        await results.DisposeAsync();
        await context.DisposeAsync();
        return summary;
    }

    /// <summary>
    /// <c>backup</c> (and the first step of <c>rehearse</c>): Lock, the pre-flight a backup needs,
    /// Backup. It changes nothing, so it writes no migration_log row.
    /// </summary>
    public async Task<RunSummary> BackupAsync(RunOptions options, CancellationToken cancellationToken)
    {
        var context = new RunContext(options);
        var results = new RunResults();
        var stages = new StageRunner(context, results);
        var summary = await OutcomeAsync(context, results, async () =>
        {
            var session = await stages.RunAsync(LockStage.Name, () => LockStage.RunAsync(context, results.Keep, cancellationToken), cancellationToken);
            var preflight = await stages.RunAsync(PreflightStage.Name, () => PreflightStage.RunForBackupAsync(context, session, cancellationToken), cancellationToken);
            results.Keep(preflight);
            var backup = await stages.RunAsync(BackupStage.Name, () => BackupStage.RunAsync(context, preflight, cancellationToken), cancellationToken);
            results.Keep(backup);
            return new RunSummary(ExitCodes.Success, LogStatuses.Success, $"backup written: {backup!.DumpPath}", context, results);
        }, cancellationToken);
        await results.DisposeAsync();
        await context.DisposeAsync();
        return summary;
    }

    private async Task<RunSummary> MigrateAsync(RunContext context, RunResults results, StageRunner stages, CancellationToken cancellationToken)
    {
        var options = context.Options;
        var session = await stages.RunAsync(LockStage.Name, () => LockStage.RunAsync(context, results.Keep, cancellationToken), cancellationToken);
        var preflight = await stages.RunAsync(PreflightStage.Name, () => PreflightStage.RunAsync(context, session, cancellationToken), cancellationToken);
        results.Keep(preflight);
        var plan = preflight.Plan!;
        // The plan shown before the lock: refuse to run a migration it did not show (fewer is fine:
        // another run applied some meanwhile, and nothing to do is the answer when it applied all).
        if (options.ShownPlan is { } shown && plan.Steps.Any(step => !shown.Steps.Any(s => s.Version == step.Version)))
        {
            throw new PreflightFailed($"the database changed since its plan was shown ({PlanText.Summary(shown)}; now {PlanText.Summary(plan)}): nothing was done, run the command again");
        }

        if (!options.CheckOnly)
        {
            await BeginLogAsync(context, results, stages, cancellationToken);
        }

        if (plan.IsEmpty)
        {
            foreach (var stage in options.CheckOnly ? [AuditStage.Name] : new[] { AuditStage.Name, BackupStage.Name, MigrateStage.Name })
            {
                stages.Skip(stage, "nothing to do");
            }

            if (!options.CheckOnly && plan.Direction == MigrationDirection.Down && (await AfterCommit.PendingAsync(session.Connection, cancellationToken)).Count > 0)
            {
                // An earlier rollback committed, but its last step never ran (docs/adr/0008).
                var finished = await stages.RunAsync(FinishStage.Name, () => FinishStage.RunAsync(context, plan, cancellationToken), cancellationToken);
                return new RunSummary(ExitCodes.Success, LogStatuses.Success,
                    $"nothing to roll back; finished the last step of an earlier rollback ({string.Join("; ", finished.Finished)})", context, results);
            }

            return new RunSummary(ExitCodes.Success, LogStatuses.NothingToDo,
                $"nothing to do: the database is already at {plan.FromVersion?.ToString(CultureInfo.InvariantCulture) ?? "no version"}", context, results);
        }

        var audit = await stages.RunAsync(AuditStage.Name, () => AuditStage.RunAsync(context, session, plan, cancellationToken), cancellationToken);
        results.Keep(audit);
        if (options.CheckOnly)
        {
            return new RunSummary(ExitCodes.Success, LogStatuses.Success, "check passed: nothing was changed", context, results);
        }

        results.Keep(await stages.RunAsync(BackupStage.Name, () => BackupStage.RunAsync(context, preflight, cancellationToken), cancellationToken));
        var migration = await stages.RunAsync(MigrateStage.Name,
            () => MigrateStage.RunAsync(context, session, plan, audit, AuditAlongsideDone, RecordCommittedAsync, loggerFactory, cancellationToken), cancellationToken);
        results.Keep(migration);
        results.Keep(migration.Verification);
        results.Add(migration.Verification.ToStageResult());
        if (plan.Direction == MigrationDirection.Down)
        {
            // The rollback committed: the step its migrations leave for after COMMIT (docs/adr/0008).
            await stages.RunAsync(FinishStage.Name, () => FinishStage.RunAsync(context, plan, cancellationToken), cancellationToken);
        }

        return new RunSummary(ExitCodes.Success, LogStatuses.Success, $"{options.CommandName}: done, now at {plan.ResultVersion}", context, results);

        // Just before COMMIT, in the migration's transaction: this attempt's row says it committed (its
        // RUNNING row updated; inserted when there is none, e.g. the down that removes the audit columns).
        async Task RecordCommittedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, VerifyReport verification, JsonObject? fingerprints)
        {
            var entry = Entry(context, results, LogStatuses.Success,
                $"{options.CommandName}: committed and verified, now at {plan.ResultVersion} (the run's end completes this row)",
                null, verification, fingerprints);
            var addsAuditColumns = plan.Direction == MigrationDirection.Up && plan.Steps.Any(step => step.Version == Versions.AuditColumns);
            results.KeepLogRow(await MigrationLog.WriteAsync(connection, results.LogRowId, entry, cancellationToken, transaction, addsAuditColumns));
        }

        // The audit's side-table checks ran alongside the migrations: its report (and row) is completed with them.
        void AuditAlongsideDone(IReadOnlyList<AuditFinding> findings, string? notCompleted)
        {
            var completed = results.Audit!.WithAlongside(findings, notCompleted);
            results.Keep(completed);
            results.Replace(completed.ToStageResult(TimeSpan.Zero));
        }
    }

    /// <summary>Runs <paramref name="run"/> and turns how it ended into the run's summary (exit code, status, message).</summary>
    private async Task<RunSummary> OutcomeAsync(RunContext context, RunResults results, Func<Task<RunSummary>> run, CancellationToken cancellationToken)
    {
        try
        {
            return await run();
        }
        catch (PipelineStopped stopped)
        {
            switch (stopped)
            {
                case AuditRefused refused:
                    results.Keep(refused.Report);
                    break;
                case VerificationFailed failed:
                    results.Keep(failed.Report);
                    results.Add(failed.Report.ToStageResult());
                    break;
            }

            return new RunSummary(stopped.ExitCode, stopped.LogStatus, stopped.Message, context, results);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl-C / SIGTERM between stages (inside one, the stage says so: see StageRunner).
            var interrupted = new Interrupted((results.Stages.Count == 0 ? "start" : results.Stages[^1].Stage), ExitCodes.Refused);
            return new RunSummary(interrupted.ExitCode, interrupted.LogStatus, interrupted.Message, context, results);
        }
        catch (ConfigurationException usage)
        {
            return new RunSummary(ExitCodes.Usage, LogStatuses.Refused, usage.Message, context, results);
        }
        catch (ConnectRefused refused)
        {
            return new RunSummary(ExitCodes.Refused, LogStatuses.Refused, refused.Message, context, results);
        }
        catch (Exception unexpected) when (unexpected is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
        {
            logger.LogError(unexpected, "unexpected error in {Command}", context.Options.CommandName);
            return new RunSummary(ExitCodes.Unexpected, LogStatuses.Failed, $"unexpected error: {unexpected.Message}", context, results);
        }
    }

    /// <summary>
    /// The Log (begin) step, right after pre-flight: RUNNING rows of dead runs become ABORTED, and
    /// this attempt's RUNNING row is written (autocommit, on the lock connection).
    /// </summary>
    private async Task BeginLogAsync(RunContext context, RunResults results, StageRunner stages, CancellationToken cancellationToken)
    {
        try
        {
            var connection = results.Session!.Connection;
            if (!await MigrationLog.ExistsAsync(connection, cancellationToken))
            {
                return; // an empty database: the row is written in the migration's transaction, which creates the table
            }

            // Before the audit columns exist the rows are in the legacy shape (the status leads the description).
            var aborted = await MigrationLog.MarkAbandonedAsync(connection, cancellationToken);
            if (aborted > 0)
            {
                logger.LogWarning("{Count} migration_log row(s) left RUNNING by a run that never finished were marked ABORTED", aborted);
                results.KeepAborted(aborted);
            }

            // A down that removes the audit columns would stash this row as RUNNING: it is written at the end instead.
            var plan = results.Plan!;
            var removesAuditColumns = plan.Direction == MigrationDirection.Down && plan.Steps.Any(s => s.Version == Versions.AuditColumns);
            if (!plan.IsEmpty && !removesAuditColumns)
            {
                results.KeepLogRow(await MigrationLog.InsertAsync(connection, Entry(context, results, LogStatuses.Running, "started", null), cancellationToken));
            }
        }
        catch (PostgresException failure) when (failure.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            throw await stages.LockWaitGaveUpAsync(failure, cancellationToken);
        }
    }

    /// <summary>
    /// The Log (end) step: completes this attempt's row with the outcome. A row that cannot be
    /// completed is a failure of the run's bookkeeping, said in its outcome: an otherwise
    /// successful run ends with exit 8 (<see cref="ExitCodes.LogNotCompleted"/>; a committed
    /// migration's row already says it committed, written in its transaction), a failed one keeps
    /// its exit code and says so in its message.
    /// </summary>
    private async Task<RunSummary> CompleteLogAsync(RunSummary summary, CancellationToken cancellationToken)
    {
        var (context, results) = (summary.Context, summary.Results);
        try
        {
            var connection = results.Session?.Connection;
            if (connection is null)
            {
                return summary; // could not connect at all: there is nowhere to log (the message says why)
            }

            try
            {
                return await WriteLogRowAsync(summary, connection, cancellationToken);
            }
            catch (NpgsqlException) when (connection.State != System.Data.ConnectionState.Open)
            {
                // The lock connection was lost (ended by the server or an operator; a migration then
                // rolled back: docs/adr/0013): the row is this attempt's own, completed on a new connection.
                await using var fresh = await context.Database.OpenAsync(Roles.Lock, cancellationToken);
                return await WriteLogRowAsync(summary, fresh, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            var row = results.LogRowId is { } id ? $"migration_log row {id}" : "this attempt's migration_log row";
            var committed = results.Migration is not null && results.LogRowId is not null
                ? $" ({row} says the migration committed, without the run's final details)"
                : "";
            var failure = $"could not complete {row}: {ex.Message}{committed}";
            logger.LogError("{Failure}", failure);
            return summary.ExitCode == ExitCodes.Success
                ? summary with { ExitCode = ExitCodes.LogNotCompleted, Message = $"{summary.Message}; but the run's bookkeeping failed: {failure}" }
                : summary with { Message = $"{summary.Message}; and {failure}" };
        }
    }

    /// <summary>Completes this attempt's row on <paramref name="connection"/> (the lock connection, or a new one when that was lost).</summary>
    private async Task<RunSummary> WriteLogRowAsync(RunSummary summary, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var (context, results) = (summary.Context, summary.Results);
        // Never hang on migration_log behind another run's open migration transaction.
        await Sql.ExecuteAsync(connection, "SET lock_timeout = '5s'", cancellationToken);
        if (!await MigrationLog.ExistsAsync(connection, cancellationToken))
        {
            logger.LogWarning("migration_log does not exist in {Database}: this attempt is not logged", context.DatabaseName);
            return summary;
        }

        // A run refused the migration lock writes this row while the lock holder may be adding the
        // audit columns: lock the table first, so the shape read next is the shape the row goes into.
        // READ WRITE: a role whose sessions are read-only by default is refused by pre-flight, and that refusal is logged too.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Sql.ExecuteAsync(connection, "SET TRANSACTION READ WRITE; LOCK TABLE migration_log IN ROW EXCLUSIVE MODE", cancellationToken, transaction);
        results.KeepLogRow(await MigrationLog.CompleteAsync(connection, results.LogRowId, Entry(context, results, summary.Status, summary.Message, summary), cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return summary;
    }

    /// <summary>The migration_log row of this attempt: the plan, the backup, and the stages' results in details.</summary>
    private static MigrationLogEntry Entry(
        RunContext context, RunResults results, string status, string message, RunSummary? finished, VerifyReport? committedVerification = null, JsonObject? committedFingerprints = null)
    {
        var plan = results.Plan;
        var name = plan is null || plan.IsEmpty
            ? context.Options.CommandName
            : $"{context.Options.CommandName} {plan.FromVersion?.ToString(CultureInfo.InvariantCulture) ?? "empty"} -> {plan.ResultVersion}";
        var details = new JsonObject();
        if (results.AbortedEarlierRuns > 0)
        {
            details["abortedEarlierRuns"] = results.AbortedEarlierRuns;
        }

        if (results.Audit is { } audit)
        {
            details["audit"] = audit.ToJson();
        }

        if ((results.Migration?.Fingerprints ?? committedFingerprints) is { } fingerprints)
        {
            details["fingerprints"] = fingerprints.DeepClone();
        }

        if ((results.Verification ?? committedVerification) is { } verification)
        {
            details["verification"] = verification.Result.Summary.DeepClone();
        }

        if (finished is not null)
        {
            details["stages"] = new JsonArray(results.Stages.Select(s => (JsonNode?)new JsonObject
            {
                ["stage"] = s.Stage, ["status"] = s.Status.ToString().ToUpperInvariant(), ["ms"] = (long)s.Duration.TotalMilliseconds, ["summary"] = s.Summary,
            }).ToArray());
            details["exitCode"] = finished.ExitCode;
        }

        if (plan is { IsEmpty: false })
        {
            details["migrations"] = new JsonArray(plan.Steps.Select(s => (JsonNode?)new JsonObject { ["version"] = s.Version, ["description"] = s.Description }).ToArray());
        }

        return new MigrationLogEntry
        {
            MigrationName = name,
            Status = status,
            Description = message,
            StartedAt = context.StartedAt,
            FinishedAt = finished is null && committedVerification is null ? null : DateTimeOffset.UtcNow,
            VersionFrom = plan?.FromVersion,
            VersionTo = plan?.ResultVersion,
            BackupFile = results.Backup?.DumpPath,
            BackupSha256 = results.Backup?.Sha256,
            Details = details,
        };
    }
}
