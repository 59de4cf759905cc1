using IamVet.Schema.Migrations.Infrastructure;

namespace IamVet.Schema.Runner.Operations;

/// <summary>What <c>baseline</c> did: nothing (already adopted), or how many legacy tables matched before the baseline was recorded.</summary>
public sealed record BaselineOutcome(string Database, long Version, bool AlreadyApplied, int TablesMatched);

/// <summary>
/// <c>baseline</c>: adopts an existing production database, under the migration lock like every
/// writer (<see cref="LockStage"/>). Compares the live shape of the tables the legacy baseline would
/// create (columns, types, nullability) with the expected legacy shape; on a match records the
/// baseline version as applied (and a migration_log row); on drift refuses (exit 3) with a
/// readable difference. Other tables in the database are ignored.
/// </summary>
public static class Baselining
{
    public static async Task<BaselineOutcome> RunAsync(RunOptions options, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        await using var context = new RunContext(options);
        var baseline = MigrationCatalog.Baseline;
        await using var results = new RunResults();
        var connection = (await LockStage.RunAsync(context, results.Keep, cancellationToken)).Value.Connection;
        var applied = await VersionHistory.ReadAppliedAsync(connection, cancellationToken);
        if (applied.Contains(baseline.Version))
        {
            return new BaselineOutcome(context.DatabaseName, baseline.Version, AlreadyApplied: true, 0);
        }

        var (expected, tables) = await ColumnShape.ExpectedAsync(connection, SqlScripts.Load("LegacyBaseline.up.sql"), cancellationToken);
        var live = await ColumnShape.ReadAsync(connection, null, "public", tables, cancellationToken);
        var missingTables = tables.Where(t => !live.Any(line => line.StartsWith(t + ".", StringComparison.Ordinal))).ToList();
        if (missingTables.Count == tables.Count)
        {
            // Not a drifted legacy database but none at all: one line for the operator, not one per missing column.
            throw new PreflightFailed(
                $"database \"{context.DatabaseName}\" has none of the {tables.Count} legacy tables ({string.Join(", ", tables)}): there is no legacy database to adopt. " +
                "`baseline` adopts an existing iamvet database; check the connection's database name. To create the legacy schema here instead, " +
                "`iamvet-schema migrate up --create-legacy-schema` creates it and migrates, `iamvet-schema seed --create-legacy-schema` creates it with sample users (never for production)");
        }

        var drift = expected.Except(live).Select(line => "  expected, not found: " + line)
            .Concat(live.Except(expected).Select(line => "  found, not expected: " + line))
            .ToList();
        if (drift.Count > 0)
        {
            throw new PreflightFailed(
                $"database \"{context.DatabaseName}\" does not have the legacy shape, so it cannot be baselined" +
                (missingTables.Count > 0 ? $" (missing tables: {string.Join(", ", missingTables)})" : "") +
                ":\n" + string.Join("\n", drift));
        }

        new MigrationExecutor(loggerFactory).RecordAsApplied(context.Database.FluentMigratorConnection(Roles.Baseline), baseline);
        await MigrationLog.InsertAsync(connection, new MigrationLogEntry
        {
            MigrationName = $"baseline {baseline.Version}",
            Status = LogStatuses.Success,
            Description = $"adopted the existing legacy database: {tables.Count} tables matched the legacy shape; recorded {baseline.Version} as applied",
            StartedAt = DateTimeOffset.UtcNow,
            FinishedAt = DateTimeOffset.UtcNow,
            VersionTo = baseline.Version,
        }, cancellationToken);
        return new BaselineOutcome(context.DatabaseName, baseline.Version, AlreadyApplied: false, tables.Count);
    }
}
