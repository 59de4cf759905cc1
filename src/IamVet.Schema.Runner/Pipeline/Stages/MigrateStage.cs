using System.Diagnostics;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// Writes the attempt's migration_log row as committed, on the migration's connection inside its
/// transaction, just before COMMIT (the pipeline builds the row; a failure rolls the migration back).
/// </summary>
public delegate Task RecordCommitted(NpgsqlConnection connection, NpgsqlTransaction transaction, VerifyReport verification, JsonObject? fingerprints);

/// <summary>
/// What the migrations did (a note per step) and what their verification found; for an up, the
/// fingerprints a later down compares with. The two windows the application sees (docs/adr/0006):
/// <paramref name="ReadsBlocked"/>, how long users was locked ACCESS EXCLUSIVE (unreadable), from
/// the first statement that took that lock to COMMIT (zero when no migration of the plan does);
/// <paramref name="WritesBlocked"/>, how long the tables the migrations read were held against
/// writers (an up: users and the legacy side tables; a down: the new tables), to COMMIT.
/// </summary>
public sealed record MigrationOutcome(IReadOnlyList<string> StepNotes, VerifyReport Verification, JsonObject? Fingerprints, TimeSpan ReadsBlocked, TimeSpan WritesBlocked);

/// <summary>
/// Runs every planned migration and the verification inside ONE transaction: a migration error
/// rolls back (exit 5), a verification mismatch rolls back (exit 6), and only a verified result is
/// committed. The migration connection carries lock_timeout and statement_timeout, so no session
/// queued behind one of its lock requests waits longer than --lock-timeout (once granted, a lock
/// is held until COMMIT: docs/adr/0001).
/// <para>
/// Around the migrations, as FluentMigrator's own runner names the stages of a migration, run the
/// named steps of <see cref="MigrationRun"/>: before the first (hold the tables the migrations read
/// against writers, capture the verification's baseline, start its reading of the legacy tables
/// and the audit's side-table checks alongside), after each (progress), at the exclusive-lock gate
/// (the audit's checks in, then <see cref="VerifyStep"/> on the data, all before users is locked
/// against readers: docs/adr/0006), and before COMMIT (what only the last statements make true,
/// then the migration_log row).
/// </para>
/// </summary>
public static class MigrateStage
{
    public const string Name = "Migrate";

    /// <summary>
    /// Runs <paramref name="plan"/>. <paramref name="alongsideDone"/> receives the findings of the
    /// audit's side-table checks run alongside the migrations (or why they are missing) once they
    /// are in, before COMMIT or when the run stops.
    /// </summary>
    public static async Task<StageOutput<MigrationOutcome>> RunAsync(
        RunContext context, LockedSession session, MigrationPlan plan, AuditReport audit, Action<IReadOnlyList<AuditFinding>, string?> alongsideDone,
        RecordCommitted recordCommitted, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var expectedAfterDown = plan.Direction == MigrationDirection.Down
            ? RecordedUp.From(await MigrationLog.FingerprintsOfUpAsync(session.Connection, plan.FromVersion ?? 0, plan.TargetVersion, TableFingerprints.Format, cancellationToken))
            : null;
        var run = new MigrationRun(context, session, plan, audit, expectedAfterDown, alongsideDone, recordCommitted, cancellationToken);
        try
        {
            try
            {
                await MigrateAsync();
            }
            catch (Exception ex) when (run.ChecksOnSnapshot)
            {
                // The audit's users checks on the migration's snapshot refused the run: whatever stopped
                // the migration first (their cancel, or a migration's own guard meeting the same rows),
                // the refusal is the outcome, as if the audit had refused before (docs/adr/0010).
                if ((Find<AuditRefused>(ex) ?? await run.RefusalAsync()) is { } refused)
                {
                    throw await run.RefusedAfterRollbackAsync(refused);
                }

                throw;
            }

            void Migrate(Action<long, long>? progress) => new MigrationExecutor(loggerFactory).Apply(
                context.Database.FluentMigratorConnection(Roles.Migrate),
                plan,
                beforeMigrate: (connection, transaction) => run.BeforeMigrateAsync(connection, transaction, progress),
                beforeCommit: run.BeforeCommitAsync,
                afterEach: (step, elapsed, connection, transaction) => run.AfterEachAsync(step, elapsed, connection, transaction, progress),
                atGate: run.AtGateAsync,
                beforeExclusive: run.BeforeExclusive);

            async Task MigrateAsync()
            {
                if (context.Options.Json)
                {
                    Migrate(null);
                }
                else
                {
                    await ProgressDisplay.RunAsync($"{plan.Direction.ToString().ToLowerInvariant()}: {plan.Steps.Count} migration(s)", plan.Steps.Count,
                        progress => Task.Run(() => { Migrate(progress); return true; }, cancellationToken));
                }
            }
        }
        catch (Exception ex) when (ex is not PipelineStopped && Find<SnapshotReaderException>(ex) is { } reader)
        {
            throw new MigrationFailed(
                $"the reading of the {(plan.Direction == MigrationDirection.Up ? "legacy" : "new")} tables beside the migration (the verification's{(run.ChecksOnSnapshot ? " or the audit's" : "")}) failed ({reader.InnerException?.Message}); the migration was rolled back, nothing changed", ex);
        }
        catch (Exception ex) when (Find<LockLost>(ex) is { } lost)
        {
            throw new MigrationFailed(lost.Message, ex);
        }
        catch (Exception ex) when (Find<VerificationMismatch>(ex) is { } mismatch)
        {
            throw new VerificationFailed("verification failed, the transaction was rolled back and nothing changed: " + string.Join("; ", mismatch.Report.Result.Mismatches), mismatch.Report);
        }
        catch (Exception ex) when (ex is not PipelineStopped && Find<PostgresException>(ex) is { } error)
        {
            throw new MigrationFailed(await DescribeAsync(context, session, error, cancellationToken), ex);
        }
        catch (Exception ex) when (ex is not PipelineStopped && Find<NpgsqlException>(ex) is { } npgsql)
        {
            throw new MigrationFailed(
                $"the migration's connection failed ({npgsql.Message}); PostgreSQL rolled the transaction back, nothing changed", ex);
        }
        finally
        {
            await run.DisposeAsync();
        }

        var outcome = new MigrationOutcome(run.StepNotes, run.Verification!, run.Fingerprints, run.ReadsBlocked, run.WritesBlocked);
        return new(outcome, new StageResult(Name, StageStatus.Pass, run.MigrateDuration,
            $"{plan.Direction.ToString().ToLowerInvariant()}: {plan.Steps.Count} migration(s) applied and committed, now at {plan.ResultVersion}",
            [.. run.StepNotes, Windows(plan, outcome)]));
    }

    /// <summary>What the application saw, e.g. "users unreadable for 0.04 s (…); writes to users and the legacy side tables waited 9.81 s".</summary>
    private static string Windows(MigrationPlan plan, MigrationOutcome outcome) =>
        $"users unreadable for {outcome.ReadsBlocked.TotalSeconds:0.00} s (ACCESS EXCLUSIVE, from the last statements to COMMIT); " +
        $"writes to {(plan.Direction == MigrationDirection.Up ? "users and the legacy side tables" : "the new tables")} waited up to {outcome.WritesBlocked.TotalSeconds:0.00} s (held from before the first migration to COMMIT)";

    private static async Task<string> DescribeAsync(RunContext context, LockedSession session, PostgresException error, CancellationToken cancellationToken)
    {
        var message = $"migration failed and was rolled back, nothing changed: {error.MessageText}" +
                      (error.Hint is null ? "" : $" (hint: {error.Hint})");
        if (error.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            message = $"gave up waiting for a table lock after --lock-timeout {SettingValues.FormatDuration(context.Options.LockTimeout)} " +
                      $"(blocked by {await TableLockHolders.DescribeAsync(session.Connection, cancellationToken)}); rolled back, nothing changed";
        }
        else if (error.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown)
        {
            message = $"the migration's connection was terminated by the server ({error.MessageText}); PostgreSQL rolled the transaction back, nothing changed";
        }
        else if (error.SqlState == PostgresErrorCodes.QueryCanceled && cancellationToken.IsCancellationRequested)
        {
            message = "interrupted (Ctrl-C or SIGTERM): the running statement was cancelled; rolled back, nothing changed";
        }
        else if (error.SqlState == PostgresErrorCodes.QueryCanceled)
        {
            message = $"a statement was cancelled ({error.MessageText}; --statement-timeout is {SettingValues.FormatDuration(context.Options.StatementTimeout)}, 0 = none); rolled back, nothing changed";
        }

        return message;
    }

    private static T? Find<T>(Exception? exception)
        where T : Exception
    {
        for (var current = exception; current is not null; current = current.InnerException)
        {
            if (current is T match)
            {
                return match;
            }
        }

        return null;
    }

    /// <summary>
    /// The state of one migration transaction and the named steps FluentMigrator's executor calls
    /// around its migrations: <see cref="BeforeMigrateAsync"/>, <see cref="AfterEachAsync"/> and
    /// <see cref="BeforeCommitAsync"/>. Disposing reports the audit's side-table checks if no step
    /// did (the run stopped first), stops what is still being read, and ends the Ctrl-C hook.
    /// </summary>
    private sealed class MigrationRun(
        RunContext context, LockedSession session, MigrationPlan plan, AuditReport audit, RecordedUp? expectedAfterDown,
        Action<IReadOnlyList<AuditFinding>, string?> alongsideDone, RecordCommitted recordCommitted, CancellationToken cancellationToken) : IAsyncDisposable
    {
        private readonly Stopwatch migrateClock = Stopwatch.StartNew();
        private readonly Stopwatch verifyClock = new();
        private readonly Stopwatch exclusiveClock = new();
        private readonly Stopwatch writesClock = new();
        private readonly List<string> stepNotes = [];
        private VerificationResult? dataVerified;
        private RecordedUp? exactRestoreExpected = expectedAfterDown;
        private VerificationBaseline? baseline;
        private Task<List<AuditFinding>[]>? auditAlongside;
        private SnapshotReaders? snapshotCheckReaders;
        private Task<List<AuditFinding>[]>? snapshotChecks;
        private AuditRefused? refusal;
        private CancellationTokenRegistration onCancel;

        /// <summary>Whether the audit's users checks run on this migration's snapshot (a run without a backup: docs/adr/0010).</summary>
        public bool ChecksOnSnapshot => audit.ChecksOnMigrationSnapshot;

        public IReadOnlyList<string> StepNotes => stepNotes;

        public VerifyReport? Verification { get; private set; }

        public JsonObject? Fingerprints { get; private set; }

        /// <summary>The migrations' own time: the stage's time less the verification's.</summary>
        public TimeSpan MigrateDuration => migrateClock.Elapsed - verifyClock.Elapsed;

        /// <summary>From the first statement that locks users ACCESS EXCLUSIVE to COMMIT (read once the run has committed).</summary>
        public TimeSpan ReadsBlocked => exclusiveClock.Elapsed;

        /// <summary>From the lock on the tables the migrations read to COMMIT (read once the run has committed).</summary>
        public TimeSpan WritesBlocked => writesClock.Elapsed;

        /// <summary>Before the first migration: the Ctrl-C hook, the legacy tables held (up), the verification's baseline, the audit's checks alongside.</summary>
        public async Task BeforeMigrateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Action<long, long>? progress)
        {
            // FluentMigrator runs its statements synchronously and cannot be handed the token:
            // on Ctrl-C / SIGTERM the running statement is cancelled from another connection,
            // so the transaction rolls back and the run ends (and logs) within the grace period.
            // The backend's own pid: through a proxy, ProcessID is the proxy's cancel key, no server process's.
            var pid = await Sql.ScalarAsync<int>(connection, "SELECT pg_backend_pid()", cancellationToken, transaction);
            onCancel = cancellationToken.Register(() => _ = CancelBackendAsync(pid));
            // Users stays readable to the readers until the data-moving migration's gate, unless a
            // migration that locks it from its first statement (the cleanup) runs before that one; the
            // executor starts the read clock (BeforeExclusive) when users is first locked, either way.
            var usersLockedFromTheStart = plan.Steps.FirstOrDefault(step => step.LocksUsersThroughout || Projections.Of(step.Version).Count > 0)
                ?.LocksUsersThroughout == true;
            verifyClock.Start();
            writesClock.Start();
            if (plan.Direction == MigrationDirection.Up)
            {
                await LockLegacyTablesAsync(connection, transaction);
                if (audit.ChecksOnMigrationSnapshot)
                {
                    // The audit's users checks, on a reader of this snapshot (users is held against
                    // writers from here, so they see exactly the rows the migrations move): they run
                    // beside the migrations from the first statement, and a blocking finding cancels
                    // the running statement, which rolls the migration back (docs/adr/0010).
                    snapshotCheckReaders = await SnapshotReaders.OpenAsync(connection, transaction, context.Database, 1, cancellationToken);
                    snapshotChecks = snapshotCheckReaders.RunAsync(DataAudit.SnapshotJobs(plan, cancellationToken), cancellationToken);
                    _ = CancelOnRefusalAsync(snapshotChecks, pid);
                }
            }
            else
            {
                await LockNewTablesAsync(connection, transaction);
            }

            // The readers wait for locks and statements no longer than the migration's own connection.
            // A down's exact-restore expectation is decided at the gate, from every moved table's new side.
            baseline = await Verifier.CaptureAsync(connection, transaction, plan, context.Database, cancellationToken,
                readTablesHeld: true, usersReadableUntilGate: !usersLockedFromTheStart, everyExistingTable: exactRestoreExpected is not null);
            if (audit.ChecksLeftToMigration)
            {
                auditAlongside = baseline.RunAlongside(DataAudit.AlongsideJobs(plan, LegacyPass.HospitalUsersCopy, baseline.Stopping));
            }

            verifyClock.Stop();
            progress?.Invoke(0, plan.Steps.Count);
        }

        /// <summary>After each migration: stop early if the verification's reading failed; a note with its time (and rows moved).</summary>
        public async Task AfterEachAsync(MigrationStep step, TimeSpan elapsed, NpgsqlConnection connection, NpgsqlTransaction transaction, Action<long, long>? progress)
        {
            baseline?.ThrowIfFailed();
            if (snapshotChecks is { IsCompleted: true } && await RefusalAsync() is { } refused)
            {
                throw refused; // the cancel came between two statements
            }

            var rows = new List<string>();
            if (plan.Direction == MigrationDirection.Up)
            {
                foreach (var moved in Projections.Of(step.Version))
                {
                    rows.Add($"{moved.Table} {await EstimatedRowsAsync(connection, transaction, moved.Table):N0}");
                }
            }

            stepNotes.Add($"{step.Version}  {step.Description}: {elapsed.TotalSeconds:0.00} s" + (rows.Count == 0 ? "" : $" (rows: {string.Join(", ", rows)})"));
            progress?.Invoke(stepNotes.Count, plan.Steps.Count);
        }

        /// <summary>
        /// At the exclusive-lock gate, after the data phase and before the statements that lock users
        /// against readers: the audit's side-table findings and the verification's reading of the
        /// legacy tables are awaited, the data is verified (a mismatch rolls everything back), and
        /// the readers close, so that nothing of this run but the migration holds users (docs/adr/0006).
        /// </summary>
        public async Task AtGateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            await ReportAuditAsync();

            verifyClock.Start();
            await DecideExactRestoreAsync();
            var verification = await VerifyStep.RunAsync(connection, transaction, plan, baseline!, exactRestoreExpected?.LegacyTablesBefore, VerifyScope.Data, cancellationToken);
            if (verification.Passed && plan.Direction == MigrationDirection.Up)
            {
                Fingerprints = await VerifyStep.FingerprintsForDownAsync(connection, transaction, baseline!, verification, cancellationToken);
            }

            await baseline!.DisposeAsync();
            verifyClock.Stop();
            dataVerified = verification;
            if (!verification.Passed)
            {
                Verification = new VerifyReport(verification, verifyClock.Elapsed);
                throw new VerificationMismatch(Verification);
            }
        }

        /// <summary>As users is first locked ACCESS EXCLUSIVE: the held-back statements after the gate (at the end of the plan, or before the cleanup), or the cleanup's start.</summary>
        public void BeforeExclusive() => exclusiveClock.Start();

        /// <summary>
        /// Before COMMIT: the verification (what only the last statements make true, or all of it when
        /// no migration had a gate; a mismatch rolls everything back), then the attempt's migration_log
        /// row, and last that the run's lock connection still holds the migration lock (docs/adr/0013):
        /// a lost lock rolls everything back.
        /// </summary>
        public async Task BeforeCommitAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            await ReportAuditAsync();

            verifyClock.Start();
            VerificationResult verification;
            if (dataVerified is null)
            {
                await DecideExactRestoreAsync();
                verification = await VerifyStep.RunAsync(connection, transaction, plan, baseline!, exactRestoreExpected?.LegacyTablesBefore, VerifyScope.All, cancellationToken);
                if (verification.Passed && plan.Direction == MigrationDirection.Up)
                {
                    Fingerprints = await VerifyStep.FingerprintsForDownAsync(connection, transaction, baseline!, verification, cancellationToken);
                }
            }
            else
            {
                verification = dataVerified.With(
                    await VerifyStep.RunAsync(connection, transaction, plan, baseline!, null, VerifyScope.FinalShape, cancellationToken));
            }

            verifyClock.Stop();
            Verification = new VerifyReport(verification, verifyClock.Elapsed);
            if (!verification.Passed)
            {
                throw new VerificationMismatch(Verification);
            }

            // The attempt's migration_log row says "committed" in the transaction that commits: a
            // committed migration always has its row, whatever becomes of the run afterwards.
            await recordCommitted(connection, transaction, Verification, Fingerprints);

            // Never commit without the lock: another run may hold it by now. Checked last, on this
            // connection: what this transaction holds keeps any other run from migrating until it ends.
            var backend = session.Backend ?? throw new InvalidOperationException("the lock connection's backend is not known");
            if (!await AdvisoryLock.IsHeldByAsync(connection, transaction, backend, cancellationToken))
            {
                throw new LockLost(
                    $"the migration lock was lost before COMMIT: its connection (pid {backend.Pid}) no longer holds it, ended by the server " +
                    "(idle_session_timeout, a restart or failover) or by an operator (pg_terminate_backend). Without it another run may start, " +
                    "so the migration was rolled back, nothing changed; run again");
            }
        }

        public async ValueTask DisposeAsync()
        {
            exclusiveClock.Stop();
            writesClock.Stop();
            await onCancel.DisposeAsync();
            if (auditAlongside is not null || snapshotChecks is not null)
            {
                // The run stopped before COMMIT: report what the checks found if they finished.
                var found = snapshotChecks is not { IsCompleted: false } ? await SnapshotFindingsAsync() : null;
                await ReportAuditAlongsideAsync(auditAlongside, found ?? [], stopped: true);
            }

            if (snapshotCheckReaders is not null)
            {
                await snapshotCheckReaders.DisposeAsync();
            }

            if (baseline is not null)
            {
                await baseline.DisposeAsync();
            }
        }

        /// <summary>
        /// The refusal of the audit's users checks on this migration's snapshot, once they are in:
        /// null when they found nothing blocking (or do not run here).
        /// </summary>
        public async Task<AuditRefused?> RefusalAsync()
        {
            if (refusal is not null || snapshotChecks is null)
            {
                return refusal;
            }

            var found = await SnapshotFindingsAsync();
            if (found is null || !found.Any(f => f.Severity == FindingSeverity.Blocking))
            {
                return null;
            }

            refusal = audit.WithAlongside(found, null).Refusal();
            return refusal;
        }

        /// <summary>
        /// The run's refusal once the migration has rolled back, listing every finding as the audit's
        /// own refusal does (the warnings too: they are the next thing to fix): the side-table checks
        /// that had not finished run now, on a connection of their own (a point-in-time look, as the
        /// audit before a migration takes). The audit's row reports it.
        /// </summary>
        public async Task<AuditRefused> RefusedAfterRollbackAsync(AuditRefused refused)
        {
            var found = refused.Report.Findings.Where(f => !audit.Findings.Contains(f)).ToList();
            if (auditAlongside is { IsCompletedSuccessfully: true })
            {
                found.AddRange((await auditAlongside).SelectMany(f => f));
            }
            else if (audit.ChecksLeftToMigration)
            {
                await using var connection = await context.Database.OpenAsync(Roles.Audit, cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
                foreach (var job in DataAudit.AlongsideJobs(plan, hospitalUsersTable: null, cancellationToken))
                {
                    found.AddRange(await job(connection, transaction));
                }
            }

            (auditAlongside, snapshotChecks) = (null, null);
            alongsideDone(found, null); // the audit's row: refused, every finding
            var report = audit.WithAlongside(found, null);
            return new AuditRefused($"rolled back, nothing changed: {report.Refusal().Message}", report);
        }

        /// <summary>What the users checks on the snapshot found (null: they failed; the gate then reports why).</summary>
        private async Task<List<AuditFinding>?> SnapshotFindingsAsync()
        {
            if (snapshotChecks is null)
            {
                return [];
            }

            try
            {
                return (await snapshotChecks).SelectMany(found => found).ToList();
            }
            catch (Exception ex) when (ex is NpgsqlException or SnapshotReaderException or OperationCanceledException or InvalidOperationException)
            {
                return null;
            }
        }

        /// <summary>Cancels the migration's running statement (<paramref name="pid"/>) as soon as the checks on its snapshot find a blocking row.</summary>
        private async Task CancelOnRefusalAsync(Task<List<AuditFinding>[]> checks, int pid)
        {
            try
            {
                if ((await checks).Any(found => found.Any(f => f.Severity == FindingSeverity.Blocking)))
                {
                    await CancelBackendAsync(pid);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or SnapshotReaderException or OperationCanceledException or InvalidOperationException)
            {
                // The gate awaits the checks and reports how they failed.
            }
        }

        /// <summary>
        /// At the gate and before COMMIT: the audit's checks in. A refusal of the users checks on the
        /// snapshot stops the run here (nothing committed); their failure too, since the run can no
        /// longer show its rows are ones the migration takes. The findings go to the pipeline.
        /// </summary>
        private async Task ReportAuditAsync()
        {
            if (snapshotChecks is not null)
            {
                if (await RefusalAsync() is { } refused)
                {
                    throw refused;
                }

                var found = await snapshotChecks; // throws what the checks failed with
                await ReportAuditAlongsideAsync(auditAlongside, found.SelectMany(f => f).ToList(), stopped: false);
                (auditAlongside, snapshotChecks) = (null, null);
            }
            else if (auditAlongside is not null)
            {
                await ReportAuditAlongsideAsync(auditAlongside, [], stopped: false);
                auditAlongside = null;
            }
        }

        /// <summary>
        /// Hands the audit's findings to the pipeline: <paramref name="found"/> (those of the users checks
        /// on the snapshot) and those of the side-table checks <paramref name="side"/> (null: none run
        /// here; unfinished when the run <paramref name="stopped"/>: reported as not completed). The
        /// side-table checks are warnings only: one that failed is reported as not completed, and the run goes on.
        /// </summary>
        private async Task ReportAuditAlongsideAsync(Task<List<AuditFinding>[]>? side, List<AuditFinding> found, bool stopped)
        {
            try
            {
                if (side is null || (stopped && !side.IsCompleted))
                {
                    alongsideDone(found, side is null ? null : "the run stopped before they finished");
                    return;
                }

                alongsideDone([.. found, .. (await side).SelectMany(f => f)], null);
            }
            catch (Exception ex) when (ex is NpgsqlException or SnapshotReaderException or OperationCanceledException or InvalidOperationException)
            {
                alongsideDone(found, ex.Message);
            }
        }

        /// <summary>
        /// A down expects the legacy tables exactly as before the up only if the new tables still hold
        /// what that up left in them (their new side before the Downs, read alongside them, against
        /// what the up recorded); otherwise the application wrote since the up, and every moved
        /// table is compared on its own.
        /// </summary>
        private async Task DecideExactRestoreAsync()
        {
            if (exactRestoreExpected is not null && !Verifier.NewSideUnchanged(await baseline!.NewSideBeforeAsync(), exactRestoreExpected.NewSideAfter))
            {
                exactRestoreExpected = null;
            }
        }

        /// <summary>Cancels the statement backend <paramref name="pid"/> is running (pg_cancel_backend), best effort.</summary>
        private async Task CancelBackendAsync(int pid)
        {
            try
            {
                await using var connection = await context.Database.OpenAsync(Roles.Cancel, CancellationToken.None);
                await using var cancel = new NpgsqlCommand("SELECT pg_cancel_backend(@pid)", connection);
                cancel.Parameters.AddWithValue("pid", pid);
                await cancel.ExecuteNonQueryAsync(CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                // The process is ending anyway; PostgreSQL rolls the transaction back when the connection goes.
            }
        }

        /// <summary>
        /// Holds the legacy tables against other writers from here to COMMIT (SHARE: reads go on), so
        /// the legacy side captured before the first migration is the one every migration reads. The
        /// up's foreign keys to users take SHARE ROW EXCLUSIVE anyway (writers wait, readers do not);
        /// this starts earlier and covers the side tables. Waits at most lock_timeout, like every lock
        /// of the migration.
        /// </summary>
        private async Task LockLegacyTablesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction) =>
            await Sql.ExecuteAsync(connection, """
                DO $$
                BEGIN
                    IF to_regclass('public.users') IS NOT NULL THEN
                        LOCK TABLE users, hospital_animals, hospital_specialties, hospital_facility_images, hospital_business_licenses IN SHARE MODE;
                    END IF;
                END $$
                """, cancellationToken, transaction);

        /// <summary>
        /// The down's counterpart of <see cref="LockLegacyTablesAsync"/>: holds the new tables the
        /// Downs read (those present whose migration is in the plan; all of them when the cleanup's
        /// Down, which reads every one, is) in SHARE mode from here to COMMIT, before anything reads
        /// them. A write the application has in flight either commits before the down reads (and is
        /// carried back) or waits until after COMMIT and then fails: the table is no longer there under
        /// its name (renamed out of the way, then dropped: docs/adr/0009). It can no longer commit
        /// between the down's copy and the table's end and vanish. Readers go on; waits at most lock_timeout.
        /// </summary>
        private async Task LockNewTablesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            var tables = plan.Steps.Any(step => step.Version == Versions.Cleanup)
                ? Projections.All.Select(projection => projection.Table)
                : plan.Steps.SelectMany(step => Projections.Of(step.Version)).Select(p => p.Table);
            var present = new List<string>();
            foreach (var table in tables.Distinct())
            {
                if (await Sql.TableExistsAsync(connection, table, cancellationToken, transaction))
                {
                    present.Add(table);
                }
            }

            if (present.Count > 0)
            {
                await Sql.ExecuteAsync(connection, $"LOCK TABLE {string.Join(", ", present.Select(Identifiers.Quote))} IN SHARE MODE", cancellationToken, transaction);
            }
        }

        /// <summary>The row count of a table just ANALYZEd inside this transaction (no scan).</summary>
        private async Task<long?> EstimatedRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table)
        {
            await using var command = new NpgsqlCommand("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(@t)", connection, transaction);
            command.Parameters.AddWithValue("t", "public." + table);
            return await command.ExecuteScalarAsync(cancellationToken) as long?;
        }
    }

    /// <summary>Thrown inside the transaction when the run's lock connection no longer holds the migration lock: the executor rolls back.</summary>
    private sealed class LockLost(string message) : Exception(message);

    /// <summary>Thrown inside the transaction to make the executor roll back.</summary>
    private sealed class VerificationMismatch(VerifyReport report) : Exception("verification mismatch")
    {
        public VerifyReport Report { get; } = report;
    }
}
