using FluentMigrator;

namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// Sonarr's <c>MigrationTest&lt;TMigration&gt;</c> shape: migrate to the version before
/// <typeparamref name="TMigration"/>, seed legacy rows, apply the migration, assert on frozen records.
/// Each test gets a fresh database at <see cref="StartVersion"/> (the version before, read from the
/// runner's <see cref="MigrationCatalog"/>), dropped after the test.
/// </summary>
/// <typeparam name="TMigration">The migration under test; its version comes from its <see cref="MigrationAttribute"/>.</typeparam>
public abstract class MigrationTest<TMigration>
    where TMigration : IMigration
{
    private static readonly long MigrationVersion = MigrationCatalog.VersionOf<TMigration>();

    private static readonly long VersionBeforeMigration = VersionBefore(MigrationVersion);

    protected TestDatabase Database { get; private set; } = null!;

    /// <summary>The version of <typeparamref name="TMigration"/>: where <see cref="ApplyAsync"/> goes.</summary>
    protected long Version => MigrationVersion;

    /// <summary>The version before <typeparamref name="TMigration"/> in the catalog: where <see cref="RevertAsync"/> goes.</summary>
    protected long PreviousVersion => VersionBeforeMigration;

    /// <summary>
    /// Where each test's database starts: the version before, unless a fixture seeds rows before an
    /// earlier migration (its rows come from tables that an earlier migration moves).
    /// </summary>
    protected virtual long StartVersion => PreviousVersion;

    [SetUp]
    public async Task MigrateToTheStartVersion()
    {
        Database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(Database, StartVersion);
    }

    [TearDown]
    public async Task DropDatabase() => await Database.DisposeAsync();

    /// <summary>Migrates up to <typeparamref name="TMigration"/> (with every migration before it not yet applied).</summary>
    protected Task ApplyAsync() => Migrator.UpToAsync(Database, Version);

    /// <summary>Migrates down to the version before <typeparamref name="TMigration"/>.</summary>
    protected Task RevertAsync() => Migrator.DownToAsync(Database, PreviousVersion);

    private static long VersionBefore(long version)
    {
        var earlier = MigrationCatalog.All.Where(step => step.Version < version).ToList();
        return earlier.Count > 0
            ? earlier[^1].Version
            : throw new InvalidOperationException($"{typeof(TMigration).Name} ({version}) has no version before it in the catalog");
    }
}
