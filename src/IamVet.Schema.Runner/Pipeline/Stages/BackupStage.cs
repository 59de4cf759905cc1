namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// Takes and proves the restore point (see <see cref="BackupWriter"/>). Failure: exit 4, nothing
/// changed. <c>--no-backup</c> skips it, and the run records that as a warning (no backup: null).
/// </summary>
public static class BackupStage
{
    public const string Name = "Backup";

    public static async Task<StageOutput<BackupResult?>> RunAsync(RunContext context, PreflightFacts preflight, CancellationToken cancellationToken)
    {
        if (context.Options.NoBackup)
        {
            return new(null, new StageResult(Name, StageStatus.Warn, TimeSpan.Zero, "skipped (--no-backup): this run has no restore point", []));
        }

        var pgDump = PgTools.Find("pg_dump") ?? throw new BackupFailed("pg_dump not found on PATH");
        var pgRestore = PgTools.Find("pg_restore") ?? throw new BackupFailed("pg_restore not found on PATH");
        var plan = preflight.Plan;
        var current = preflight.AppliedBefore.Count == 0 ? "empty" : preflight.AppliedBefore.Max().ToString(CultureInfo.InvariantCulture);
        var label = plan is null ? $"{current}_manual" : $"{current}_{plan.Direction.ToString().ToLowerInvariant()}";
        var extra = new JsonObject
        {
            ["serverVersion"] = preflight.ServerVersion,
            ["command"] = context.Options.CommandName,
            ["versionsBefore"] = new JsonArray(preflight.AppliedBefore.Select(v => (JsonNode?)v).ToArray()),
            ["versionAfter"] = plan?.ResultVersion,
        };
        BackupResult backup;
        try
        {
            var writer = new BackupWriter(pgDump, pgRestore, context.Options.LockTimeout);
            backup = context.Options.Json
                ? await writer.WriteAsync(context.Database, context.Options.BackupDirectory, label, extra, cancellationToken)
                : await ProgressDisplay.RunAsync("backup: tables dumped", 1, progress =>
                    writer.WriteAsync(context.Database, context.Options.BackupDirectory, label, extra, cancellationToken, progress));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new Interrupted(Name, ExitCodes.BackupFailed, " (pg_dump stopped, its partial file removed)");
        }
        catch (Exception ex) when (ex is BackupException or IOException or UnauthorizedAccessException)
        {
            throw new BackupFailed($"backup failed, nothing was changed: {ex.Message}", ex);
        }

        return new(backup, new StageResult(Name, StageStatus.Pass, TimeSpan.Zero,
            $"{Path.GetFileName(backup.DumpPath)} ({Sizes.Bytes(backup.SizeBytes)}), read back by pg_restore --list",
            [$"dump: {backup.DumpPath}", $"sha256: {backup.Sha256}", $"manifest: {backup.ManifestPath}"]));
    }
}
