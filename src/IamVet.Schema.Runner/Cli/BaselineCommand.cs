using System.CommandLine;
using IamVet.Schema.Migrations.Infrastructure;
using IamVet.Schema.Runner.Configuration;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IamVet.Schema.Runner.Cli;

/// <summary>
/// <c>baseline</c>: adopts an existing production database. Compares the live shape of the tables
/// the legacy baseline would create (columns, types, nullability) with the expected legacy shape;
/// on a match records the baseline version as applied (and a migration_log row); on drift refuses
/// (exit 3) with a readable difference. Other tables in the database are ignored.
/// </summary>
public static class BaselineCommand
{
    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = new Command("baseline", "Adopt an existing legacy database: check its shape, then record the legacy baseline as applied");
        command.Options.Add(CommonOptions.Connection);
        command.Options.Add(CommonOptions.Yes);
        command.Options.Add(CommonOptions.LockTimeout);
        command.SetAction(async (parse, cancel) =>
        {
            var target = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));
            var baseline = MigrationCatalog.Baseline;
            var options = new RunOptions { CommandName = "baseline", ConnectionString = target.ConnectionString, Yes = parse.GetValue(CommonOptions.Yes) };
            if (!CommonOptions.Confirm(options, $"record {baseline.Version} (legacy baseline) as applied"))
            {
                await Console.Error.WriteLineAsync("not confirmed: nothing was done");
                return ExitCodes.Usage;
            }

            await using var db = await ReadOnlyConnection.OpenAsync(target, "baseline", cancel);
            if (!await AdvisoryLock.TryAcquireAsync(db, parse.GetValue(CommonOptions.LockTimeout), cancel))
            {
                var holder = await AdvisoryLock.FindHolderAsync(db, cancel);
                throw new LockHeld($"another run holds the migration lock ({holder?.ToString() ?? "holder not visible"})");
            }

            var applied = await VersionHistory.ReadAppliedAsync(db, cancel);
            if (applied.Contains(baseline.Version))
            {
                Console.Out.WriteLine($"Nothing to do: {target.Database} already has {baseline.Version} in its migration history.");
                return ExitCodes.Success;
            }

            var (expected, tables) = await ColumnShape.ExpectedAsync(db, SqlScripts.Load("LegacyBaseline.up.sql"), cancel);
            var live = await ColumnShape.ReadAsync(db, null, "public", tables, cancel);
            var missingTables = tables.Where(t => !live.Any(line => line.StartsWith(t + ".", StringComparison.Ordinal))).ToList();
            var drift = expected.Except(live).Select(line => "  expected, not found: " + line)
                .Concat(live.Except(expected).Select(line => "  found, not expected: " + line))
                .ToList();
            if (drift.Count > 0)
            {
                throw new PreflightFailed(
                    $"database \"{target.Database}\" does not have the legacy shape, so it cannot be baselined" +
                    (missingTables.Count > 0 ? $" (missing tables: {string.Join(", ", missingTables)})" : "") +
                    ":\n" + string.Join("\n", drift));
            }

            new MigrationExecutor(loggerFactory).RecordAsApplied(
                new NpgsqlConnectionStringBuilder(target.ConnectionString) { ApplicationName = "iamvet-schema baseline" }.ConnectionString, baseline);
            await MigrationLog.InsertAsync(db, new MigrationLogEntry
            {
                MigrationName = $"baseline {baseline.Version}",
                Status = LogStatuses.Success,
                Description = $"adopted the existing legacy database: {tables.Count} tables matched the legacy shape; recorded {baseline.Version} as applied",
                StartedAt = DateTimeOffset.UtcNow,
                FinishedAt = DateTimeOffset.UtcNow,
                VersionTo = baseline.Version,
            }, cancel);
            Console.Out.WriteLine($"Baselined {target.Database}: {tables.Count} legacy tables match; {baseline.Version} recorded as applied. Next: `check`, then `migrate up`.");
            return ExitCodes.Success;
        });
        return command;
    }
}
