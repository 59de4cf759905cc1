using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline.Reporting;
using IamVet.Schema.Runner.Postgres;
using IamVet.Schema.Runner.Verification;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// Runs every planned migration and then the verification inside ONE transaction: a migration
/// error rolls back (exit 5), a verification mismatch rolls back (exit 6), and only a verified
/// result is committed. The migration connection carries lock_timeout and statement_timeout, so
/// no session queued behind one of its lock requests waits longer than --lock-timeout (once
/// granted, users stays locked until COMMIT: docs/adr/0001).
/// </summary>
public sealed class MigrateStage(ILoggerFactory loggerFactory) : IStage
{
    public string Name => "Migrate";

    public async Task<StageResult> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var plan = context.Plan!;
        var expectedAfterDown = plan.Direction == MigrationDirection.Down
            ? await RecordedUpAsync(context.LockConnection!, plan, cancellationToken)
            : null;
        VerificationBaseline? baseline = null;
        Task<List<AuditFinding>[]>? auditAlongside = null;
        VerificationResult? verification = null;
        var verifyClock = new Stopwatch();
        var stepNotes = new List<string>();
        var migrateClock = Stopwatch.StartNew();
        CancellationTokenRegistration onCancel = default;

        try
        {
            void Migrate(Action<long, long>? progress) => new MigrationExecutor(loggerFactory).Apply(
                context.ConnectionStringFor("migrate", migrationTimeouts: true),
                plan,
                beforeMigrate: async (connection, transaction) =>
                {
                    // FluentMigrator runs its statements synchronously and cannot be handed the token:
                    // on Ctrl-C / SIGTERM the running statement is cancelled from another connection,
                    // so the transaction rolls back and the run ends (and logs) within the grace period.
                    var pid = connection.ProcessID;
                    onCancel = cancellationToken.Register(() => _ = CancelBackendAsync(context, pid));
                    verifyClock.Start();
                    if (plan.Direction == MigrationDirection.Up)
                    {
                        await LockLegacyTablesAsync(connection, transaction, cancellationToken);
                    }

                    // The readers wait for locks and statements no longer than the migration's own connection.
                    baseline = await Verifier.CaptureAsync(connection, transaction, plan, context.ConnectionStringFor("verify", migrationTimeouts: true), cancellationToken,
                        legacyTablesHeld: plan.Direction == MigrationDirection.Up);
                    if (context.AuditChecksLeftToMigration)
                    {
                        auditAlongside = baseline.RunAlongside(DataAudit.AlongsideJobs(plan, LegacyPass.HospitalUsersCopy, baseline.Stopping));
                    }

                    if (expectedAfterDown is not null && !await NewSideUnchangedAsync(connection, transaction, baseline.NewSideBefore, expectedAfterDown.NewSideAfter, cancellationToken))
                    {
                        expectedAfterDown = null; // the application wrote since the up: an exact restore is not expected
                    }

                    verifyClock.Stop();
                    progress?.Invoke(0, plan.Steps.Count);
                },
                afterEach: async (step, elapsed, connection, transaction) =>
                {
                    baseline?.ThrowIfFailed();
                    var rows = plan.Direction == MigrationDirection.Up && Projections.For(step.Version) is { } moved
                        ? await EstimatedRowsAsync(connection, transaction, moved.Table, cancellationToken)
                        : null;
                    stepNotes.Add($"{step.Version}  {step.Description}: {elapsed.TotalSeconds:0.00} s" + (rows is null ? "" : $", {rows:N0} rows"));
                    progress?.Invoke(stepNotes.Count, plan.Steps.Count);
                },
                beforeCommit: async (connection, transaction) =>
                {
                    if (auditAlongside is not null)
                    {
                        await AddAuditAlongsideAsync(context, auditAlongside);
                        auditAlongside = null;
                    }

                    verifyClock.Start();
                    verification = await Verifier.VerifyAsync(connection, transaction, plan, baseline!, expectedAfterDown?.LegacyTablesBefore, cancellationToken,
                        rightAfterUp: plan.Direction == MigrationDirection.Up);
                    if (verification.Passed && plan.Direction == MigrationDirection.Up)
                    {
                        context.Details["fingerprints"] = new JsonObject
                        {
                            ["format"] = TableFingerprints.Format,
                            ["legacyTablesBefore"] = ToJson((await baseline!.LegacyBeforeAsync())!.FullTables),
                            ["newSideAfter"] = ToJson((await NewSideOfEveryMovedTableAsync(connection, transaction, verification.NewSide, cancellationToken)).Values),
                        };
                    }

                    verifyClock.Stop();
                    if (!verification.Passed)
                    {
                        throw new VerificationMismatch();
                    }
                });

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
        catch (Exception ex) when (ex is not PipelineStopped && Find<SnapshotReaderException>(ex) is { } reader)
        {
            throw new MigrationFailed(
                $"the verification's reading of the legacy tables failed ({reader.InnerException?.Message}); the migration was rolled back, nothing changed", ex);
        }
        catch (VerificationMismatch)
        {
            RecordVerification(context, verification!, verifyClock.Elapsed, StageStatus.Fail);
            throw new VerificationFailed("verification failed, the transaction was rolled back and nothing changed: " + string.Join("; ", verification!.Mismatches));
        }
        catch (Exception ex) when (ex is not PipelineStopped && FindPostgresError(ex) is { } error)
        {
            throw new MigrationFailed(await DescribeAsync(context, error, cancellationToken), ex);
        }
        catch (Exception ex) when (ex is not PipelineStopped && Find<NpgsqlException>(ex) is { } npgsql)
        {
            throw new MigrationFailed(
                $"the migration's connection failed ({npgsql.Message}); PostgreSQL rolled the transaction back, nothing changed", ex);
        }
        finally
        {
            await onCancel.DisposeAsync();
            if (auditAlongside is not null)
            {
                // The run stopped before COMMIT: report what the side-table checks found if they finished.
                await AddAuditAlongsideAsync(context, auditAlongside.IsCompleted ? auditAlongside : null);
            }

            if (baseline is not null)
            {
                await baseline.DisposeAsync();
            }
        }

        RecordVerification(context, verification!, verifyClock.Elapsed, StageStatus.Pass);
        return new StageResult(Name, StageStatus.Pass, migrateClock.Elapsed - verifyClock.Elapsed,
            $"{plan.Direction.ToString().ToLowerInvariant()}: {plan.Steps.Count} migration(s) applied and committed, now at {plan.ResultVersion}",
            stepNotes);
    }

    /// <summary>Cancels the statement backend <paramref name="pid"/> is running (pg_cancel_backend), best effort.</summary>
    private static async Task CancelBackendAsync(RunContext context, int pid)
    {
        try
        {
            await using var connection = new NpgsqlConnection(context.ConnectionStringFor("cancel"));
            await connection.OpenAsync(CancellationToken.None);
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
    /// Adds the findings of the audit's side-table checks (null: they did not finish) to the Data
    /// audit stage. Warnings only: one that failed is reported as not completed, and the run goes on.
    /// </summary>
    private static async Task AddAuditAlongsideAsync(RunContext context, Task<List<AuditFinding>[]>? checks)
    {
        try
        {
            if (checks is null)
            {
                AuditStage.AddFindings(context, [], "the run stopped before they finished");
                return;
            }

            AuditStage.AddFindings(context, (await checks).SelectMany(found => found).ToList());
        }
        catch (Exception ex) when (ex is NpgsqlException or SnapshotReaderException or OperationCanceledException or InvalidOperationException)
        {
            AuditStage.AddFindings(context, [], ex.Message);
        }
    }

    private static void RecordVerification(RunContext context, VerificationResult verification, TimeSpan duration, StageStatus status)
    {
        context.Details["verification"] = verification.Summary;
        context.VerifyResult = new StageResult("Verify", status, duration,
            verification.Passed ? "every moved value, row count, key and index checked" : $"{verification.Mismatches.Count} mismatch(es)",
            verification.Passed ? DescribeTables(verification.Summary) : verification.Mismatches);
    }

    private static List<string> DescribeTables(JsonObject summary)
    {
        var lines = new List<string>();
        if (summary["tables"] is JsonObject tables)
        {
            foreach (var (table, node) in tables)
            {
                var entry = node!.AsObject();
                lines.Add(entry.ContainsKey("sourceRowsAll")
                    ? $"{table}: {entry["newRows"]} row(s) = {entry["sourceRowsAll"]} source row(s) (active only: {entry["sourceRowsActive"]}), fingerprints equal"
                    : entry["byExactRestore"]?.GetValue<bool>() == true
                        ? $"{table}: {entry["legacyRows"]} row(s) back on the legacy side (the legacy tables are exactly as before the up)"
                        : $"{table}: {entry["legacyRows"]} row(s) back on the legacy side, fingerprints equal");
            }
        }

        if (summary["exactRestore"] is JsonValue exact)
        {
            lines.Add(exact.GetValue<bool>()
                ? "legacy tables equal their fingerprints from before the up"
                : "legacy tables changed since the up in columns no new table carries (e.g. lastLoginAt); each moved table was compared on its own");
        }

        return lines;
    }

    /// <summary>The fingerprints the last successful up recorded, when this down returns to where it started.</summary>
    private static async Task<RecordedUp?> RecordedUpAsync(NpgsqlConnection connection, MigrationPlan plan, CancellationToken cancellationToken)
    {
        if (!await MigrationLog.HasAuditColumnsAsync(connection, cancellationToken))
        {
            return null;
        }

        // Only fingerprints of the format computed today compare (an older runner's are ignored:
        // the down is still verified table by table, just not against the state before the up).
        await using var command = new NpgsqlCommand("""
            SELECT (details->'fingerprints')::text FROM migration_log
            WHERE status = 'SUCCESS' AND version_to = @from AND details->'fingerprints'->>'format' = @format
              AND (version_from = @to OR (version_from IS NULL AND @to = 202509290000))
            ORDER BY id DESC LIMIT 1
            """, connection);
        command.Parameters.AddWithValue("from", plan.FromVersion ?? 0);
        command.Parameters.AddWithValue("to", plan.TargetVersion);
        command.Parameters.AddWithValue("format", TableFingerprints.Format);
        if (await command.ExecuteScalarAsync(cancellationToken) is not string json || JsonNode.Parse(json) is not JsonObject recorded)
        {
            return null;
        }

        return new RecordedUp(FromJson(recorded["legacyTablesBefore"]), FromJson(recorded["newSideAfter"]));
    }

    /// <summary>
    /// Holds the legacy tables against other writers from here to COMMIT (SHARE: reads go on), so
    /// the legacy side captured before the first migration is the one every migration reads. The
    /// up takes stronger locks on users anyway (ALTER, foreign keys); this only starts earlier and
    /// covers the side tables. Waits at most lock_timeout, like every lock of the migration.
    /// </summary>
    private static async Task LockLegacyTablesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            DO $$
            BEGIN
                IF to_regclass('public.users') IS NOT NULL THEN
                    LOCK TABLE users, hospital_animals, hospital_specialties, hospital_facility_images, hospital_business_licenses IN SHARE MODE;
                END IF;
            END $$
            """, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The row count of a table just ANALYZEd inside this transaction (no scan).</summary>
    private static async Task<long?> EstimatedRowsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(@t)", connection, transaction);
        command.Parameters.AddWithValue("t", "public." + table);
        return await command.ExecuteScalarAsync(cancellationToken) as long?;
    }

    /// <summary>
    /// Whether the new tables hold what they held right after the up, compared by their new-side
    /// projections: the columns and rows every Down reads back into the legacy tables. A write
    /// elsewhere (an updatedAt, a postalCode, a new id for an existing row) changes nothing a Down
    /// writes to the legacy tables, so the exact-restore expectation stands; any write a Down would
    /// carry back shows here and lifts it.
    /// </summary>
    private static async Task<bool> NewSideUnchangedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<string, TableFingerprint> planned,
        IReadOnlyList<TableFingerprint> recorded, CancellationToken cancellationToken)
    {
        var now = await NewSideOfEveryMovedTableAsync(connection, transaction, planned, cancellationToken);
        return recorded.Count > 0 && recorded.Count == now.Count && recorded.All(r => now.TryGetValue(r.Name, out var n) && n == r);
    }

    /// <summary>The new-side projection of every moved table that exists, reusing those already computed.</summary>
    private static async Task<Dictionary<string, TableFingerprint>> NewSideOfEveryMovedTableAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<string, TableFingerprint> known, CancellationToken cancellationToken)
    {
        var existing = await Verifier.ExistingAsync(connection, transaction, cancellationToken);
        var result = await Verifier.NewSideAsync(connection, transaction, existing.Where(p => !known.ContainsKey(p.Table)), readers: null, cancellationToken);
        foreach (var projection in existing.Where(p => known.ContainsKey(p.Table)))
        {
            result[projection.Table] = known[projection.Table];
        }

        return existing.ToDictionary(p => p.Table, p => result[p.Table], StringComparer.Ordinal);
    }

    private static async Task<string> DescribeAsync(RunContext context, PostgresException error, CancellationToken cancellationToken)
    {
        var message = $"migration failed and was rolled back, nothing changed: {error.MessageText}" +
                      (error.Hint is null ? "" : $" (hint: {error.Hint})");
        if (error.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            message = $"gave up waiting for a table lock after --lock-timeout {context.Options.LockTimeout.TotalSeconds:0.#} s " +
                      $"(blocked by {await TableLockHolders.DescribeAsync(context.LockConnection!, cancellationToken)}); rolled back, nothing changed";
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
            message = $"a statement was cancelled ({error.MessageText}; --statement-timeout is {context.Options.StatementTimeout.TotalSeconds:0.#} s, 0 = none); rolled back, nothing changed";
        }

        return message;
    }

    private static PostgresException? FindPostgresError(Exception exception) => Find<PostgresException>(exception);

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

    private static JsonArray ToJson(IEnumerable<TableFingerprint> fingerprints) =>
        new(fingerprints.Select(f => (JsonNode?)new JsonObject { ["table"] = f.Name, ["rows"] = f.Rows, ["hash"] = f.Hash }).ToArray());

    private static List<TableFingerprint> FromJson(JsonNode? node) =>
        node is JsonArray array
            ? array.Select(n => new TableFingerprint(n!["table"]!.GetValue<string>(), n["rows"]!.GetValue<long>(), n["hash"]!.GetValue<string>())).ToList()
            : [];

    private sealed record RecordedUp(IReadOnlyList<TableFingerprint> LegacyTablesBefore, IReadOnlyList<TableFingerprint> NewSideAfter);

    /// <summary>Thrown inside the transaction to make the executor roll back.</summary>
    private sealed class VerificationMismatch : Exception;
}
