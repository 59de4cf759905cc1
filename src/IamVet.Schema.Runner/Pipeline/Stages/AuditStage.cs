using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Verification;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// The dirty-data audit for the migrations about to run. Blocking findings refuse the run
/// (exit 3) with the offending ids; the others are warnings. Nothing has changed yet.
/// <para>
/// In a migrating run the warnings that read only side tables are left to the migrate stage,
/// which computes them on its snapshot readers while the migrations run and adds them here
/// (<see cref="AddFindings"/>): nothing they find can refuse a run, and reading them before would
/// only delay it. <c>check</c> runs every check here.
/// </para>
/// </summary>
public sealed class AuditStage : IStage
{
    public const string StageName = "Data audit";

    public string Name => StageName;

    public async Task<StageResult> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        context.AuditChecksLeftToMigration = !context.Options.CheckOnly && DataAudit.HasAlongsideChecks(context.Plan!);
        var findings = await DataAudit.RunAsync(context.LockConnection!, context.Plan!, context.ConnectionStringFor("audit"), cancellationToken,
            leaveAlongsideChecks: context.AuditChecksLeftToMigration);
        var blocking = findings.Where(f => f.Severity == FindingSeverity.Blocking).ToList();
        if (blocking.Count > 0 && context.AuditChecksLeftToMigration)
        {
            // Refused: there will be no migration to compute the rest alongside. Every finding is
            // listed now, so the operator fixes them all before the next attempt.
            context.AuditChecksLeftToMigration = false;
            findings = await DataAudit.RunAsync(context.LockConnection!, context.Plan!, context.ConnectionStringFor("audit"), cancellationToken);
        }

        context.AuditFindings.AddRange(findings);
        context.Details["audit"] = ToJson(findings);
        if (blocking.Count > 0)
        {
            // Every finding is listed under the stage (the warnings too: they are the next thing to fix).
            throw new PreflightFailed("the data audit found rows the migration cannot take: " + string.Join(" ", blocking.Select(Describe)))
            {
                Notes = findings.Select(Describe).ToList(),
            };
        }

        return Result(context, TimeSpan.Zero);
    }

    /// <summary>
    /// Adds the findings of the checks computed alongside the migrations to this stage's result, or,
    /// with <paramref name="notCompleted"/>, why they are missing (they are warnings: a check that
    /// could not be computed does not stop the run, and the report says so).
    /// </summary>
    public static void AddFindings(RunContext context, IReadOnlyList<AuditFinding> findings, string? notCompleted = null)
    {
        context.AuditFindings.AddRange(findings);
        context.AuditAlongsideNotCompleted = notCompleted;
        var audit = context.Details["audit"] as JsonArray ?? [];
        foreach (var node in ToJson(findings))
        {
            audit.Add(node!.DeepClone());
        }

        context.Details["audit"] = audit;
        var index = context.Stages.FindIndex(s => s.Stage == StageName);
        if (index >= 0)
        {
            context.Stages[index] = Result(context, context.Stages[index].Duration);
        }
    }

    private static StageResult Result(RunContext context, TimeSpan duration)
    {
        var findings = context.AuditFindings;
        var notes = findings.Select(Describe).ToList();
        if (context.AuditAlongsideNotCompleted is { } why)
        {
            notes.Add($"The side-table checks (warnings only) were not completed: {why}");
        }

        var alongside = context.AuditChecksLeftToMigration ? " (side-table checks alongside the migrations)" : "";
        return findings.Count == 0 && context.AuditAlongsideNotCompleted is null
            ? new StageResult(StageName, StageStatus.Pass, duration, $"no dirty data found for the planned migrations{alongside}", notes)
            : new StageResult(StageName, StageStatus.Warn, duration,
                findings.Count == 0
                    ? $"side-table checks not completed{alongside}"
                    : $"{findings.Count} kind(s) of dirty data, handled by the rules and reported{alongside}",
                notes);
    }

    private static JsonArray ToJson(IEnumerable<AuditFinding> findings) => new(findings.Select(f => (JsonNode?)new JsonObject
    {
        ["code"] = f.Code,
        ["severity"] = f.Severity.ToString().ToLowerInvariant(),
        ["count"] = f.Count,
        ["firstIds"] = new JsonArray(f.FirstIds.Select(id => (JsonNode?)id).ToArray()),
        ["message"] = f.Message,
    }).ToArray());

    private static string Describe(AuditFinding finding) =>
        $"[{finding.Code}] {finding.Count} × {finding.Message} Ids: {string.Join(", ", finding.FirstIds)}{(finding.Count > finding.FirstIds.Count ? ", …" : "")}.";
}
