namespace IamVet.Schema.Runner.Engine;

public enum MigrationDirection
{
    Up,
    Down,
}

/// <summary>
/// What a run will do: the migrations to apply (in the order they run), from which version to
/// which. Computed from the catalog and the applied versions before anything executes.
/// </summary>
public sealed record MigrationPlan(
    MigrationDirection Direction,
    long? FromVersion,
    long TargetVersion,
    IReadOnlyList<MigrationStep> Steps)
{
    public bool IsEmpty => Steps.Count == 0;

    /// <summary>The highest applied version after the plan has run (null: nothing applied).</summary>
    public long? ResultVersion => Direction == MigrationDirection.Up
        ? (IsEmpty ? FromVersion : Math.Max(FromVersion ?? 0, Steps[^1].Version))
        : TargetVersion;
}

/// <summary>The request cannot be planned (unknown version, below the baseline, …): a usage error.</summary>
public sealed class MigrationPlanningException(string message) : Exception(message);

/// <summary>Turns a request (<c>up --to</c>, <c>--cleanup</c>, <c>down --steps</c>) into a <see cref="MigrationPlan"/>.</summary>
public static class MigrationPlanner
{
    public static MigrationPlan PlanUp(IReadOnlyCollection<long> applied, long? to = null, IReadOnlyCollection<string>? flags = null)
    {
        var catalog = MigrationCatalog.All;
        flags ??= [];
        long target;
        if (to is { } explicitTarget)
        {
            target = RequireKnown(explicitTarget).Version;
        }
        else
        {
            // A plain `migrate up` stops before the first migration that must be asked for by flag.
            var gated = catalog.FirstOrDefault(step => step.RequiredFlag is { } flag && !flags.Contains(flag));
            target = gated is null ? catalog[^1].Version : catalog.Last(step => step.Version < gated.Version).Version;
        }

        var steps = catalog.Where(step => step.Version <= target && !applied.Contains(step.Version)).ToList();
        return new MigrationPlan(MigrationDirection.Up, Current(applied), target, steps);
    }

    public static MigrationPlan PlanDown(IReadOnlyCollection<long> applied, long? to = null, int? steps = null)
    {
        if (to is not null && steps is not null)
        {
            throw new MigrationPlanningException("give either --to or --steps, not both");
        }

        var baseline = MigrationCatalog.Baseline.Version;
        var revertible = MigrationCatalog.All
            .Where(step => step.Version > baseline && applied.Contains(step.Version))
            .OrderByDescending(step => step.Version)
            .ToList();

        long target;
        if (to is { } explicitTarget)
        {
            target = RequireKnown(explicitTarget).Version;
            if (target < baseline)
            {
                throw new MigrationPlanningException(
                    $"cannot migrate below the legacy baseline {baseline}: it is forward-only (it would drop production's tables)");
            }
        }
        else if (steps is { } count)
        {
            if (count < 1)
            {
                throw new MigrationPlanningException("--steps must be at least 1");
            }

            target = count >= revertible.Count
                ? baseline
                : revertible[count].Version;
        }
        else
        {
            target = baseline;
        }

        var plan = revertible.Where(step => step.Version > target).ToList();
        return new MigrationPlan(MigrationDirection.Down, Current(applied), target, plan);
    }

    private static long? Current(IReadOnlyCollection<long> applied) => applied.Count == 0 ? null : applied.Max();

    private static MigrationStep RequireKnown(long version) =>
        MigrationCatalog.Find(version)
        ?? throw new MigrationPlanningException(
            $"unknown migration version {version}; known versions: {string.Join(", ", MigrationCatalog.All.Select(step => step.Version))}");
}
