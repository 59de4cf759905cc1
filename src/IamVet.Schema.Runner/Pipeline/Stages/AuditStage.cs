using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Verification;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>
/// The dirty-data audit for the migrations about to run. Blocking findings refuse the run
/// (exit 3) with the offending ids; the others are warnings. Nothing has changed yet.
/// </summary>
public sealed class AuditStage : IStage
{
    public string Name => "Data audit";

    public async Task<StageResult> RunAsync(RunContext context, CancellationToken cancellationToken)
    {
        var findings = await DataAudit.RunAsync(context.LockConnection!, context.Plan!, context.ConnectionStringFor("audit"), cancellationToken);
        context.Details["audit"] = new JsonArray(findings.Select(f => (JsonNode?)new JsonObject
        {
            ["code"] = f.Code,
            ["severity"] = f.Severity.ToString().ToLowerInvariant(),
            ["count"] = f.Count,
            ["firstIds"] = new JsonArray(f.FirstIds.Select(id => (JsonNode?)id).ToArray()),
            ["message"] = f.Message,
        }).ToArray());

        var notes = findings.Select(Describe).ToList();
        var blocking = findings.Where(f => f.Severity == FindingSeverity.Blocking).ToList();
        if (blocking.Count > 0)
        {
            throw new PreflightFailed("the data audit found rows the migration cannot take: " + string.Join(" ", blocking.Select(Describe)));
        }

        return findings.Count == 0
            ? new StageResult(Name, StageStatus.Pass, TimeSpan.Zero, "no dirty data found for the planned migrations", [])
            : new StageResult(Name, StageStatus.Warn, TimeSpan.Zero, $"{findings.Count} kind(s) of dirty data, handled by the rules and reported", notes);
    }

    private static string Describe(AuditFinding finding) =>
        $"[{finding.Code}] {finding.Count} × {finding.Message} Ids: {string.Join(", ", finding.FirstIds)}{(finding.Count > finding.FirstIds.Count ? ", …" : "")}.";
}
