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

/// <summary>
/// The database's history records versions this runner does not know: not a usage error but a
/// database the run refuses (exit 3), like pre-flight's other refusals.
/// </summary>
public sealed class UnknownAppliedVersionsException(string message) : MigrationPlanningException(message);

/// <summary>The request cannot be planned (unknown version, below the baseline, …): a usage error.</summary>
public class MigrationPlanningException(string message) : Exception(message);

/// <summary>
/// Turns a request (<c>up --to</c>, <c>--cleanup</c>, <c>down --to</c>/<c>--steps</c>) into a
/// <see cref="MigrationPlan"/>. One rule for the gated migrations (the cleanup): a plan reaches a
/// migration that carries <c>[RequiresExplicitRequest(flag)]</c> only when that flag is given, from
/// any starting point; a <c>--to</c> at or past it without the flag is refused, never applied.
/// <see cref="Validate"/> checks everything that needs no applied versions, before any connection.
/// </summary>
public static class MigrationPlanner
{
    /// <summary>
    /// The request's usage errors that need no database: an unknown version, <c>--to</c> with
    /// <c>--steps</c>, <c>--steps</c> below 1, a down below the baseline, a flag on a down, an up
    /// <c>--to</c> past a gated migration without its flag. Throws <see cref="MigrationPlanningException"/>.
    /// </summary>
    public static void Validate(MigrationDirection direction, long? to, int? steps, IReadOnlyCollection<string>? flags)
    {
        flags ??= [];
        if (to is not null && steps is not null)
        {
            throw new MigrationPlanningException("give either --to or --steps, not both");
        }

        if (steps is { } count && count < 1)
        {
            throw new MigrationPlanningException($"--steps must be at least 1 (got {count})");
        }

        if (direction == MigrationDirection.Up && steps is not null)
        {
            throw new MigrationPlanningException("--steps rolls back: it is for a down only");
        }

        if (direction == MigrationDirection.Down && flags.Count > 0)
        {
            throw new MigrationPlanningException($"{string.Join(", ", flags)} is for an up only: a down never applies a migration");
        }

        if (to is { } version)
        {
            RequireKnown(version);
            if (direction == MigrationDirection.Down && version < MigrationCatalog.Baseline.Version)
            {
                throw new MigrationPlanningException(
                    $"cannot migrate below the legacy baseline {MigrationCatalog.Baseline.Version}: it is forward-only (it would drop production's tables)");
            }

            if (direction == MigrationDirection.Up
                && MigrationCatalog.All.FirstOrDefault(step => step.Version <= version && step.RequiredFlag is { } flag && !flags.Contains(flag)) is { } gated)
            {
                throw new MigrationPlanningException(
                    $"--to {version} includes {gated.Version} ({gated.Description}), which runs only with {gated.RequiredFlag}: " +
                    $"add {gated.RequiredFlag} to apply it, or give --to {LastBefore(gated).Version} to stop before it");
            }
        }
    }

    public static MigrationPlan PlanUp(IReadOnlyCollection<long> applied, long? to = null, IReadOnlyCollection<string>? flags = null)
    {
        flags ??= [];
        Validate(MigrationDirection.Up, to, null, flags);
        RefuseUnknownApplied(applied);
        var catalog = MigrationCatalog.All;
        long target;
        if (to is { } explicitTarget)
        {
            target = explicitTarget;
        }
        else
        {
            // A plain `migrate up` stops before the first migration that must be asked for by flag.
            var gated = catalog.FirstOrDefault(step => step.RequiredFlag is { } flag && !flags.Contains(flag));
            target = gated is null ? catalog[^1].Version : LastBefore(gated).Version;
        }

        var steps = catalog.Where(step => step.Version <= target && !applied.Contains(step.Version)).ToList();
        return new MigrationPlan(MigrationDirection.Up, Current(applied), target, steps);
    }

    public static MigrationPlan PlanDown(IReadOnlyCollection<long> applied, long? to = null, int? steps = null)
    {
        Validate(MigrationDirection.Down, to, steps, null);
        RefuseUnknownApplied(applied);
        var baseline = MigrationCatalog.Baseline.Version;
        var revertible = MigrationCatalog.All
            .Where(step => step.Version > baseline && applied.Contains(step.Version))
            .OrderByDescending(step => step.Version)
            .ToList();

        long target;
        if (to is { } explicitTarget)
        {
            target = explicitTarget;
        }
        else if (steps is { } count)
        {
            if (count > revertible.Count)
            {
                throw new MigrationPlanningException(revertible.Count == 0
                    ? $"--steps {count}: no migration is applied above the legacy baseline, there is nothing to roll back"
                    : $"--steps {count}: only {revertible.Count} migration(s) are applied above the legacy baseline " +
                      $"({string.Join(", ", revertible.Select(step => step.Version))}); give --steps {revertible.Count} or less, or no --steps to roll back to the baseline");
            }

            target = count == revertible.Count ? baseline : revertible[count].Version;
        }
        else
        {
            target = baseline;
        }

        var plan = revertible.Where(step => step.Version > target).ToList();
        return new MigrationPlan(MigrationDirection.Down, Current(applied), target, plan);
    }

    /// <summary>
    /// Refuses to plan from a history that records a version this runner does not know (Flyway's
    /// "applied migration not resolved locally"): a newer runner's, or one removed before the first
    /// release (docs/adr/0006). What it changed cannot be undone or built on by these migrations.
    /// </summary>
    private static void RefuseUnknownApplied(IReadOnlyCollection<long> applied)
    {
        var unknown = applied.Where(version => MigrationCatalog.Find(version) is null).Order().ToList();
        if (unknown.Count > 0)
        {
            throw new UnknownAppliedVersionsException(
                $"the database's history (VersionInfo) records version(s) {string.Join(", ", unknown)} that this runner does not know " +
                $"(known: {string.Join(", ", MigrationCatalog.All.Select(step => step.Version))}): a newer runner applied them, or they were " +
                "merged away before the first release (docs/adr/0006); use the runner that applied them, or restore the backup taken before them");
        }
    }

    private static MigrationStep LastBefore(MigrationStep step) => MigrationCatalog.All.Last(other => other.Version < step.Version);

    private static long? Current(IReadOnlyCollection<long> applied) => applied.Count == 0 ? null : applied.Max();

    private static MigrationStep RequireKnown(long version) =>
        MigrationCatalog.Find(version)
        ?? throw new MigrationPlanningException(
            $"--to {version} is no migration version; known versions (see `status`): {string.Join(", ", MigrationCatalog.All.Select(step => step.Version))}");
}
