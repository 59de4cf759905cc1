using System.Reflection;
using FluentMigrator;
using IamVet.Schema.Migrations;
using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Runner.Engine;

/// <summary>One migration as the runner sees it, read from its attributes.</summary>
public sealed record MigrationStep(long Version, string Description, string Name, bool ForwardOnly, string? RequiredFlag);

/// <summary>
/// The migrations shipped in IamVet.Schema.Migrations, in version order, read by reflection so
/// that planning needs no database connection.
/// </summary>
public static class MigrationCatalog
{
    public static IReadOnlyList<MigrationStep> All { get; } = Load(typeof(LegacyBaseline).Assembly);

    /// <summary>The legacy baseline: the floor that <c>migrate down</c> never goes below.</summary>
    public static MigrationStep Baseline => All[0];

    public static MigrationStep? Find(long version) => All.FirstOrDefault(step => step.Version == version);

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
                pair.type.GetCustomAttribute<RequiresExplicitRequestAttribute>()?.Flag))
            .OrderBy(step => step.Version)
            .ToList();
}
