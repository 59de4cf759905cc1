namespace IamVet.Schema.Runner.Operations;

/// <summary>One phase of a rehearsal, as its table shows it.</summary>
public sealed record RehearsalPhase(string Phase, TimeSpan Duration, string Result);

/// <summary>
/// What <c>rehearse</c> did: its phases, the up and down runs in the scratch copy (their own
/// reports), and the forecast (null: a rehearsed run failed, or the backup did and
/// <see cref="Backup"/> says why).
/// </summary>
public sealed record RehearsalOutcome(
    string Scratch, IReadOnlyList<RehearsalPhase> Phases, RunSummary? Backup, RunSummary? Up, RunSummary? Down, JsonObject? Forecast)
{
    /// <summary>Scratch databases of earlier rehearsals still on the server (a killed rehearse leaves its copy): named, not dropped.</summary>
    public IReadOnlyList<string> LeftOver { get; init; } = [];

    /// <summary>The source is already where the rehearsed up would take it: nothing was rehearsed, there is no forecast.</summary>
    public bool NothingToRehearse => Up?.Status == LogStatuses.NothingToDo;

    /// <summary>The existing copy the runs went to (<c>--on-copy</c>, shown as user@host:port/database), or null: a scratch database.</summary>
    public string? Copy { get; init; }

    /// <summary>The rehearsed run that failed, if one did.</summary>
    public RunSummary? Failed => Up is null ? Backup : Up.ExitCode != ExitCodes.Success ? Up : Down?.ExitCode is not ExitCodes.Success ? Down : null;

    public int ExitCode => Failed?.ExitCode ?? ExitCodes.Success;
}

/// <summary>
/// <c>rehearse [--from FILE]</c>: the runbook's "test the restore" and "run it on staging first",
/// as one composition of the pipeline's stages: the backup (<see cref="MigrationPipeline.BackupAsync"/>),
/// or FILE; a restore into a scratch database (<see cref="Restoring"/>); the full <c>migrate up</c>
/// and <c>migrate down</c> pipelines there; the scratch database dropped (also on failure). Then a
/// forecast of the real run: the data-move time and how long users is locked. Or, with
/// <c>--on-copy</c>, the same runs on a copy that already exists (docs/adr/0015).
/// </summary>
public static class Rehearsal
{
    /// <summary>
    /// With <paramref name="copy"/> (<c>--on-copy</c>): no backup, no restore, no scratch database;
    /// the same runs go to that existing copy once <see cref="RehearsalCopy.CheckAsync"/> has shown it
    /// is not the source and is at the source's versions. The copy is left as the down leaves it.
    /// </summary>
    public static async Task<RehearsalOutcome> RunAsync(
        RunOptions options, string? from, ConnectionTarget? copy, bool cleanup, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var phases = new List<RehearsalPhase>();
        var pipeline = new MigrationPipeline(loggerFactory);
        var scratch = ScratchDatabases.For(options.Target.Database, DateTime.UtcNow);
        var (leftOver, route) = await LeftOverScratchDatabasesAsync(options, cancellationToken);
        if (copy is not null)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var versions = await RehearsalCopy.CheckAsync(options.Target, copy, cancellationToken);
            phases.Add(new("check the copy", clock.Elapsed, $"{copy.Database} is not the source; both at {RehearsalCopy.Describe(versions)}"));
            var (copyUp, copyDown) = await RunUpAndDownAsync(pipeline, options with { Target = copy, NoBackup = true, Yes = true }, cleanup, phases, cancellationToken);
            return Finished(new RehearsalOutcome(copy.Database, phases, null, copyUp, copyDown, null) { LeftOver = leftOver, Copy = copy.Display });
        }

        // 1. The backup: fresh, or the one given.
        string dump;
        if (from is not null)
        {
            dump = from;
        }
        else
        {
            // The same database by the same way: checked just now. (The scratch runs check their own
            // database: a pooler may route each database in a pool mode of its own.)
            var backup = await pipeline.BackupAsync(options with { CheckedRoute = route }, cancellationToken);
            if (backup.ExitCode != ExitCodes.Success)
            {
                return new RehearsalOutcome(scratch, phases, backup, null, null, null) { LeftOver = leftOver };
            }

            dump = backup.Results.Backup!.DumpPath;
            phases.Add(new("backup", backup.Results.Backup.Duration, Path.GetFileName(dump)));
        }

        // 2. Restore into a scratch database: proves the backup restores.
        var manifest = await Restoring.CheckAsync(dump, cancellationToken);
        await using var server = new MigrationDatabase(options.Target);
        RunSummary? up = null;
        RunSummary? down = null;
        var scratchIsOurs = true;
        try
        {
            RestoreResult restored;
            try
            {
                restored = await Restoring.IntoNewDatabaseAsync(server, dump, manifest, scratch, !options.Json, "restore into the scratch database: tables loaded", cancellationToken);
            }
            catch (RestoreTargetExists)
            {
                scratchIsOurs = false; // it existed before this run: not ours to drop
                throw;
            }

            if (restored.Mismatches.Count > 0)
            {
                throw new BackupFailed("the restored copy does not match the manifest: " + string.Join("; ", restored.Mismatches));
            }

            phases.Add(new("restore", restored.Duration, $"{restored.Actual.GetValueOrDefault("users")} users in {scratch}"));

            // 3. The real pipelines on the copy (the copy needs no backup of its own).
            (up, down) = await RunUpAndDownAsync(pipeline, options with { Target = options.Target.WithDatabase(scratch), NoBackup = true, Yes = true }, cleanup, phases, cancellationToken);
        }
        finally
        {
            if (scratchIsOurs)
            {
                // Also after Ctrl-C, whose token is cancelled by now: the drop gets a few seconds of its own.
                using var dropping = new CancellationTokenSource(TimeSpan.FromSeconds(8));
                await BackupRestorer.DropAsync(server, scratch, dropping.Token);

                // The scratch runs' migration_log rows went with the scratch database: report no id of a row that no longer exists.
                up?.Results.KeepLogRow(null);
                down?.Results.KeepLogRow(null);
            }
        }

        return Finished(new RehearsalOutcome(scratch, phases, null, up, down, null) { LeftOver = leftOver });
    }

    /// <summary>The full <c>migrate up</c> pipeline on the copy, then, if it moved something, <c>migrate down</c>.</summary>
    private static async Task<(RunSummary Up, RunSummary? Down)> RunUpAndDownAsync(
        MigrationPipeline pipeline, RunOptions copyOptions, bool cleanup, List<RehearsalPhase> phases, CancellationToken cancellationToken)
    {
        var up = await pipeline.RunAsync(copyOptions with
        {
            CommandName = "migrate up", Direction = MigrationDirection.Up, Flags = cleanup ? ["--cleanup"] : [],
        }, cancellationToken);
        phases.Add(new("migrate up", up.Context.Clock.Elapsed, $"{up.Status} (exit {up.ExitCode})"));
        RunSummary? down = null;
        if (up.ExitCode == ExitCodes.Success && up.Status != LogStatuses.NothingToDo)
        {
            down = await pipeline.RunAsync(copyOptions with { CommandName = "migrate down", Direction = MigrationDirection.Down }, cancellationToken);
            phases.Add(new("migrate down", down.Context.Clock.Elapsed, $"{down.Status} (exit {down.ExitCode})"));
        }

        return (up, down);
    }

    private static RehearsalOutcome Finished(RehearsalOutcome outcome) =>
        // A forecast only from a rehearsal that passed and moved something: a refused or rolled-back
        // run says nothing about the window, nor does an up that had nothing to do (no down follows it).
        outcome.Failed is null && !outcome.NothingToRehearse ? outcome with { Forecast = Forecast(outcome.Up!, outcome.Down) } : outcome;

    /// <summary>
    /// Scratch databases of earlier rehearsals of this database (a rehearse killed with SIGKILL cannot
    /// drop its own). Named, never dropped here: one may belong to a rehearse still running. Also
    /// the way to the server, as the pooler check before this first connection found it.
    /// </summary>
    private static async Task<(IReadOnlyList<string> LeftOver, PoolerVerdict Route)> LeftOverScratchDatabasesAsync(RunOptions options, CancellationToken cancellationToken)
    {
        await using var database = new MigrationDatabase(options.Target);
        var route = await LockStage.RefuseATransactionPoolerAsync(database, cancellationToken);
        await using var connection = await LockStage.ConnectAsync(database, Roles.Restore, cancellationToken);
        return (await ScratchDatabases.LeftOverAsync(connection, options.Target.Database, cancellationToken), route);
    }

    /// <summary>
    /// The two windows the application will see in each direction, as the scratch runs measured them
    /// (docs/adr/0006): users unreadable only while the last statements and COMMIT run; writes to
    /// the tables the migrations read waiting from before the first migration to COMMIT. And the
    /// data move (the Migrate stage) and the whole rollback.
    /// </summary>
    private static JsonObject Forecast(RunSummary up, RunSummary? down)
    {
        static double Seconds(RunSummary? summary, params string[] stages) =>
            summary is null ? 0 : Math.Round(summary.Results.Stages.Where(s => stages.Contains(s.Stage)).Sum(s => s.Duration.TotalSeconds), 2);

        static JsonNode? Window(RunSummary? summary, Func<MigrationOutcome, TimeSpan> window) =>
            summary?.Results.Migration is { } migration ? Math.Round(window(migration).TotalSeconds, 2) : null;

        return new JsonObject
        {
            ["dataMoveSeconds"] = Seconds(up, MigrateStage.Name),
            ["upReadOutageSeconds"] = Window(up, m => m.ReadsBlocked),
            ["upWriteOutageSeconds"] = Window(up, m => m.WritesBlocked),
            ["rollbackSeconds"] = down is null ? null : Seconds(down, MigrateStage.Name, VerifyReport.Name),
            ["downReadOutageSeconds"] = Window(down, m => m.ReadsBlocked),
            ["downWriteOutageSeconds"] = Window(down, m => m.WritesBlocked),
        };
    }
}
