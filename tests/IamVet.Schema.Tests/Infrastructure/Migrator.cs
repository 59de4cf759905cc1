using Microsoft.Extensions.Logging.Abstractions;

namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>Moves a test database between versions with the runner's own planner and executor (the real FluentMigrator runner).</summary>
public static class Migrator
{
    public const long Baseline = 202509290000;
    public const long AuditColumns = 202509290100;
    public const long RelaxRealName = 202509290200;
    public const long Veterinarians = 202509290300;
    public const long VeterinaryStudents = 202509290400;
    public const long Hospitals = 202509290500;
    public const long HospitalImages = 202509290600;
    public const long TreatmentAnimals = 202509290700;
    public const long TreatmentSpecialties = 202509290800;
    public const long Cleanup = 202509291000;

    /// <summary>The last migration a plain <c>migrate up</c> applies.</summary>
    public const long Expanded = TreatmentSpecialties;

    public static async Task UpToAsync(TestDatabase database, long version)
    {
        var plan = MigrationPlanner.PlanUp(await AppliedAsync(database), version);
        Apply(database, plan);
    }

    public static async Task DownToAsync(TestDatabase database, long version = Baseline)
    {
        var plan = MigrationPlanner.PlanDown(await AppliedAsync(database), version);
        Apply(database, plan);
    }

    public static async Task<IReadOnlyList<long>> AppliedAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return await VersionHistory.ReadAppliedAsync(connection);
    }

    private static void Apply(TestDatabase database, MigrationPlan plan) =>
        new MigrationExecutor(NullLoggerFactory.Instance).Apply(database.ConnectionString, plan);
}
