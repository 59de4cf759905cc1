namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// What the data audit found for the planned migrations: the findings checked before anything
/// changed, and — in a migrating run — those of the side-table checks computed alongside the
/// migrations (<see cref="WithAlongside"/>), or why they are missing; in a run without a backup,
/// those of the users checks run on the migration's own snapshot
/// (<paramref name="ChecksOnMigrationSnapshot"/>, docs/adr/0010).
/// </summary>
public sealed record AuditReport(IReadOnlyList<AuditFinding> Findings, bool ChecksLeftToMigration, string? AlongsideNotCompleted = null, bool ChecksOnMigrationSnapshot = false)
{
    public bool Blocked => Findings.Any(f => f.Severity == FindingSeverity.Blocking);

    /// <summary>The run's refusal (exit 3) for a <see cref="Blocked"/> report: every finding is listed, the warnings too (they are the next thing to fix).</summary>
    public AuditRefused Refusal() =>
        new("the data audit found rows the migration cannot take: " +
            string.Join(" ", Findings.Where(f => f.Severity == FindingSeverity.Blocking).Select(Describe)), this)
        {
            Notes = Notes(),
        };

    /// <summary>This report with the findings of the checks computed alongside the migrations (null <paramref name="notCompleted"/>: they finished).</summary>
    public AuditReport WithAlongside(IReadOnlyList<AuditFinding> findings, string? notCompleted) =>
        this with { Findings = [.. Findings, .. findings], AlongsideNotCompleted = notCompleted };

    /// <summary>The findings as --json and migration_log.details show them.</summary>
    public JsonArray ToJson() => new(Findings.Select(f => (JsonNode?)new JsonObject
    {
        ["code"] = f.Code,
        ["severity"] = f.Severity.ToString().ToLowerInvariant(),
        ["count"] = f.Count,
        ["firstIds"] = new JsonArray(f.FirstIds.Select(id => (JsonNode?)id).ToArray()),
        ["message"] = f.Message,
    }).ToArray());

    /// <summary>The Data audit row of the report.</summary>
    public StageResult ToStageResult(TimeSpan duration)
    {
        var notes = Notes();
        if (Blocked)
        {
            return new StageResult(AuditStage.Name, StageStatus.Fail, duration, Refusal().Message, notes);
        }

        var alongside = (ChecksOnMigrationSnapshot, ChecksLeftToMigration) switch
        {
            (true, true) => " (users checks on the migration's snapshot, side-table checks alongside the migrations)",
            (true, false) => " (users checks on the migration's snapshot)",
            (false, true) => " (side-table checks alongside the migrations)",
            _ => "",
        };
        return Findings.Count == 0 && AlongsideNotCompleted is null
            ? new StageResult(AuditStage.Name, StageStatus.Pass, duration, $"no dirty data found for the planned migrations{alongside}", notes)
            : new StageResult(AuditStage.Name, StageStatus.Warn, duration,
                Findings.Count == 0
                    ? $"side-table checks not completed{alongside}"
                    : $"{Findings.Count} kind(s) of dirty data, handled by the rules and reported{alongside}",
                notes);
    }

    private List<string> Notes()
    {
        var notes = Findings.Select(Describe).ToList();
        if (AlongsideNotCompleted is { } why)
        {
            notes.Add($"The side-table checks (warnings only) were not completed: {why}");
        }

        return notes;
    }

    public static string Describe(AuditFinding finding) =>
        $"[{finding.Code}] {finding.Count} × {finding.Message} {DataAudit.IdsText(finding.Count, finding.FirstIds)}";
}

/// <summary>
/// The dirty-data audit for the migrations about to run. Blocking findings refuse the run
/// (exit 3) with the offending ids; the others are warnings. Nothing has changed yet.
/// <para>
/// In a migrating run the warnings that read only side tables are left to the migrate stage,
/// which computes them on its snapshot readers while the migrations run (the pipeline then adds
/// them to this stage's report): nothing they find can refuse a run, and reading them before would
/// only delay it. <c>check</c> runs every check here.
/// </para>
/// <para>
/// In a migrating run without a backup (<c>--no-backup</c>) the up's users checks, the refusing one
/// among them, are left to the migrate stage too: it reads them on the migration's own snapshot as
/// the migrations start, and a blocking finding cancels and rolls back the migration and refuses
/// the run as here, listing every finding (docs/adr/0010). With a backup they stay here, so that a
/// refusal costs no dump.
/// </para>
/// </summary>
public static class AuditStage
{
    public const string Name = "Data audit";

    public static async Task<StageOutput<AuditReport>> RunAsync(RunContext context, LockedSession session, MigrationPlan plan, CancellationToken cancellationToken)
    {
        var leftToMigration = !context.Options.CheckOnly && DataAudit.HasAlongsideChecks(plan);
        var onSnapshot = !context.Options.CheckOnly && context.Options.NoBackup && DataAudit.HasSnapshotChecks(plan);
        var findings = await DataAudit.RunAsync(session.Connection, plan, context.Database, cancellationToken, leaveAlongsideChecks: leftToMigration,
            overwriteLegacyWrites: context.Options.OverwriteLegacyWrites, leaveSnapshotChecks: onSnapshot);
        if (findings.Any(f => f.Severity == FindingSeverity.Blocking) && (leftToMigration || onSnapshot))
        {
            // Refused: there will be no migration to compute the rest alongside. Every finding is
            // listed now, so the operator fixes them all before the next attempt.
            (leftToMigration, onSnapshot) = (false, false);
            findings = await DataAudit.RunAsync(session.Connection, plan, context.Database, cancellationToken,
                overwriteLegacyWrites: context.Options.OverwriteLegacyWrites);
        }

        var report = new AuditReport(findings, leftToMigration, ChecksOnMigrationSnapshot: onSnapshot);
        if (report.Blocked)
        {
            // Every finding is listed under the stage (the warnings too: they are the next thing to fix).
            throw report.Refusal();
        }

        return new(report, report.ToStageResult(TimeSpan.Zero));
    }
}
