using Microsoft.Extensions.Logging.Abstractions;

namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>Moves a test database between versions with the runner's own planner and executor (the real FluentMigrator runner).</summary>
public static class Migrator
{
    /// <summary>The last migration a plain <c>migrate up</c> applies.</summary>
    public static readonly long Expanded = Versions.SplitUsers;

    public static async Task UpToAsync(TestDatabase database, long version)
    {
        // A test names the version it wants: the cleanup too, which the runner applies only with --cleanup.
        var plan = MigrationPlanner.PlanUp(await AppliedAsync(database), version, ["--cleanup"]);
        Apply(database, plan);
    }

    public static async Task DownToAsync(TestDatabase database, long? version = null)
    {
        var plan = MigrationPlanner.PlanDown(await AppliedAsync(database), version ?? Versions.Baseline);
        Apply(database, plan);

        // What the runner's Finish stage does after a rollback's COMMIT (docs/adr/0008).
        await using var connection = await database.OpenAsync();
        foreach (var (_, finish) in await AfterCommit.PendingAsync(connection, CancellationToken.None))
        {
            await AfterCommit.RunAsync(connection, finish, CancellationToken.None);
        }
    }

    public static async Task<IReadOnlyList<long>> AppliedAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return await VersionHistory.ReadAppliedAsync(connection);
    }

    private static void Apply(TestDatabase database, MigrationPlan plan) =>
        new MigrationExecutor(NullLoggerFactory.Instance).Apply(database.ConnectionString, plan);
}
