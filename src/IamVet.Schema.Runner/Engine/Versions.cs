using IamVet.Schema.Migrations;

namespace IamVet.Schema.Runner.Engine;

/// <summary>
/// The migrations the runner treats specially, named by their type: each version is read from the
/// type's <c>[Migration]</c> attribute, so the runner holds no version number of its own and a
/// renumbered migration (allowed until the first release, see docs/adr) cannot leave a stale copy here.
/// </summary>
public static class Versions
{
    /// <summary>The legacy baseline: the floor <c>migrate down</c> never goes below.</summary>
    public static readonly long Baseline = MigrationCatalog.VersionOf<LegacyBaseline>();

    /// <summary>migration_log gains its audit columns (status, timing, details): before it, rows are written in the legacy shape.</summary>
    public static readonly long AuditColumns = MigrationCatalog.VersionOf<AuditColumnsForMigrationLog>();

    /// <summary>
    /// The expand step (one migration, docs/adr/0006) that moves the profile columns of users and the
    /// hospital rows of the side tables into the new tables: below it the database is still "legacy".
    /// </summary>
    public static readonly long SplitUsers = MigrationCatalog.VersionOf<SplitUsersIntoProfileTables>();

    /// <summary>The cleanup (contract step) that drops the moved columns from users.</summary>
    public static readonly long Cleanup = MigrationCatalog.VersionOf<DropMovedUserColumns>();
}
