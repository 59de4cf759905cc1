using System.Reflection;
using System.Text.RegularExpressions;
using FluentMigrator;
using IamVet.Schema.Migrations;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Runner.Engine;

/// <summary>
/// One migration as the runner sees it, read from its attributes and interfaces
/// (<paramref name="LocksUsersThroughout"/>: it is <see cref="ILocksUsersThroughout"/>).
/// </summary>
public sealed record MigrationStep(long Version, string Description, string Name, bool ForwardOnly, string? RequiredFlag, bool LocksUsersThroughout);

/// <summary>
/// The migrations shipped in IamVet.Schema.Migrations, in version order, read by reflection so
/// that planning needs no database connection.
/// </summary>
public static partial class MigrationCatalog
{
    public static IReadOnlyList<MigrationStep> All { get; } = Load(typeof(LegacyBaseline).Assembly);

    /// <summary>The legacy baseline: the floor that <c>migrate down</c> never goes below.</summary>
    public static MigrationStep Baseline => All[0];

    public static MigrationStep? Find(long version) => All.FirstOrDefault(step => step.Version == version);

    /// <summary>
    /// The migrations whose Down leaves a last step for after its COMMIT (docs/adr/0008), with that
    /// step, in version order.
    /// </summary>
    public static IReadOnlyList<(MigrationStep Step, IFinishesDownAfterCommit Finish)> DownFinishers { get; } =
        typeof(LegacyBaseline).Assembly.GetTypes()
            .Where(type => typeof(IFinishesDownAfterCommit).IsAssignableFrom(type) && !type.IsAbstract && type.GetCustomAttribute<MigrationAttribute>() is not null)
            .Select(type => (Find(type.GetCustomAttribute<MigrationAttribute>()!.Version)!, (IFinishesDownAfterCommit)Activator.CreateInstance(type)!))
            .OrderBy(pair => pair.Item1.Version)
            .ToList();

    /// <summary>The version of migration <typeparamref name="T"/>, from its <c>[Migration]</c> attribute.</summary>
    public static long VersionOf<T>()
        where T : IMigration =>
        typeof(T).GetCustomAttribute<MigrationAttribute>()?.Version
        ?? throw new InvalidOperationException($"{typeof(T).Name} has no [Migration] attribute");

    internal static IReadOnlyList<MigrationStep> Load(Assembly assembly) =>
        assembly.GetTypes()
            .Where(type => typeof(IMigration).IsAssignableFrom(type) && !type.IsAbstract)
            .Select(type => (type, attribute: type.GetCustomAttribute<MigrationAttribute>()))
            .Where(pair => pair.attribute is not null)
            .Select(pair => new MigrationStep(
                pair.attribute!.Version,
                pair.attribute.Description ?? pair.type.Name,
                pair.type.Name,
                typeof(ForwardOnlyMigration).IsAssignableFrom(pair.type),
                pair.type.GetCustomAttribute<RequiresExplicitRequestAttribute>()?.Flag,
                typeof(ILocksUsersThroughout).IsAssignableFrom(pair.type)))
            .OrderBy(step => step.Version)
            .ToList();

    /// <summary>
    /// What running <paramref name="step"/> in <paramref name="direction"/> destroys, read from its
    /// embedded SQL: the tables it drops (not the temporary ones it made itself, nor the runner's own
    /// iamvet_* bookkeeping: the rollback stash, the record of legacy writes) and the columns it drops, e.g. <c>drops table veterinarians</c>. Empty: nothing.
    /// </summary>
    public static IReadOnlyList<string> DestructiveActions(MigrationStep step, MigrationDirection direction)
    {
        var sql = string.Join("\n", SqlScripts.AllOf(step.Name, direction == MigrationDirection.Up ? "up" : "down"));
        var temporary = TemporaryTable().Matches(sql).Select(m => m.Groups["name"].Value).ToHashSet(StringComparer.Ordinal);
        var actions = new List<string>();
        // A table renamed out of the way for the Finish stage to drop after COMMIT (docs/adr/0009) is dropped too.
        var tables = DropTable().Matches(sql).Concat(RenamedToBeDropped().Matches(sql)).Select(m => m.Groups["name"].Value.Trim('"'))
            .Where(name => !temporary.Contains(name) && !name.StartsWith("iamvet_", StringComparison.Ordinal)).Distinct().ToList();
        if (tables.Count > 0)
        {
            actions.Add($"drops table{(tables.Count > 1 ? "s" : "")} {string.Join(", ", tables)}");
        }

        foreach (Match alter in AlterDropColumns().Matches(sql))
        {
            var columns = DropColumn().Matches(alter.Groups["drops"].Value).Select(m => m.Groups["name"].Value.Trim('"')).ToList();
            actions.Add($"drops column{(columns.Count > 1 ? "s" : "")} {string.Join(", ", columns.Select(c => $"{alter.Groups["table"].Value.Trim('"')}.{c}"))}");
        }

        return actions;
    }

    [GeneratedRegex(@"CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(?<name>""?\w+""?)", RegexOptions.IgnoreCase)]
    private static partial Regex TemporaryTable();

    [GeneratedRegex(@"^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?(?<name>""?\w+""?)", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex DropTable();

    [GeneratedRegex(@"^\s*ALTER\s+TABLE\s+(?<name>""?\w+""?)\s+RENAME\s+TO\s+iamvet_rolled_back_", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex RenamedToBeDropped();

    [GeneratedRegex(@"ALTER\s+TABLE\s+(?:ONLY\s+)?(?<table>""?\w+""?)(?<drops>(?:\s*,?\s*DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?""?\w+""?)+)", RegexOptions.IgnoreCase)]
    private static partial Regex AlterDropColumns();

    [GeneratedRegex(@"DROP\s+COLUMN\s+(?:IF\s+EXISTS\s+)?(?<name>""?\w+""?)", RegexOptions.IgnoreCase)]
    private static partial Regex DropColumn();
}
