namespace IamVet.Schema.Runner.Engine;

/// <summary>A <see cref="MigrationPlan"/> in words: what the confirmation prompt and the run's header show.</summary>
public static class PlanText
{
    /// <summary>e.g. <c>up 2025…0000 → 2025…0900 (2 migrations)</c>.</summary>
    public static string Summary(MigrationPlan plan) =>
        $"{plan.Direction.ToString().ToLowerInvariant()} {Version(plan.FromVersion)} → {Version(plan.ResultVersion)} ({plan.Steps.Count} migration{(plan.Steps.Count == 1 ? "" : "s")})";

    /// <summary>
    /// One line for the direction and versions, one per migration in the order it runs (version,
    /// description, what it destroys), and a last line naming everything destructive, or saying
    /// there is nothing.
    /// </summary>
    public static IReadOnlyList<string> Lines(MigrationPlan plan)
    {
        if (plan.IsEmpty)
        {
            return [$"nothing to do: the database is at {Version(plan.FromVersion)}"];
        }

        var lines = new List<string> { Summary(plan) + ":" };
        var destructive = new List<string>();
        foreach (var step in plan.Steps)
        {
            var actions = MigrationCatalog.DestructiveActions(step, plan.Direction);
            destructive.AddRange(actions);
            lines.Add($"  {step.Version}  {(plan.Direction == MigrationDirection.Up ? "apply" : "revert")} {step.Description}" +
                      (actions.Count == 0 ? "" : $"  [DESTRUCTIVE: {string.Join("; ", actions)}]"));
        }

        lines.Add(destructive.Count == 0
            ? "destructive: nothing is dropped"
            : $"destructive: {string.Join("; ", destructive)}");
        return lines;
    }

    private static string Version(long? version) => version?.ToString(CultureInfo.InvariantCulture) ?? "empty";
}
