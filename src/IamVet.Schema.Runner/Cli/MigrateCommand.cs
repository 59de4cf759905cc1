using System.CommandLine;
using IamVet.Schema.Runner.Configuration;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>migrate up</c> and <c>migrate down</c>.</summary>
public static class MigrateCommand
{
    private static readonly Option<long?> To = new("--to") { Description = "Target migration version (12 digits)" };
    private static readonly Option<bool> Cleanup = new("--cleanup")
    {
        Description = "Also apply the cleanup that drops the moved columns from users (never applied without it)",
    };
    private static readonly Option<int?> Steps = new("--steps") { Description = "Roll back this many applied migrations" };

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var up = new Command("up", "Apply pending migrations (stops before the cleanup unless --cleanup)");
        up.Options.Add(To);
        up.Options.Add(Cleanup);
        CommonOptions.AddTo(up);
        up.SetAction((parse, cancel) => RunAsync(parse, MigrationDirection.Up, loggerFactory, cancel));

        var down = new Command("down", "Roll back applied migrations (default: back to the legacy baseline), putting every value back");
        down.Options.Add(To);
        down.Options.Add(Steps);
        CommonOptions.AddTo(down);
        down.SetAction((parse, cancel) => RunAsync(parse, MigrationDirection.Down, loggerFactory, cancel));

        var migrate = new Command("migrate", "Move the database between the legacy and normalized shapes");
        migrate.Subcommands.Add(up);
        migrate.Subcommands.Add(down);
        return migrate;
    }

    private static async Task<int> RunAsync(ParseResult parse, MigrationDirection direction, ILoggerFactory loggerFactory, CancellationToken cancel)
    {
        var connection = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));

        IReadOnlyList<long> applied;
        await using (var db = new NpgsqlConnection(connection.ConnectionString))
        {
            await db.OpenAsync(cancel);
            applied = await VersionHistory.ReadAppliedAsync(db, cancel);
        }

        var plan = direction == MigrationDirection.Up
            ? MigrationPlanner.PlanUp(applied, parse.GetValue(To), parse.GetValue(Cleanup) ? ["--cleanup"] : [])
            : MigrationPlanner.PlanDown(applied, parse.GetValue(To), parse.GetValue(Steps));

        if (plan.IsEmpty)
        {
            Console.Out.WriteLine($"Nothing to do: the database is at {plan.FromVersion?.ToString() ?? "no version"}.");
            return ExitCodes.Success;
        }

        new MigrationExecutor(loggerFactory).Apply(connection.ConnectionString, plan);
        Console.Out.WriteLine($"migrate {direction.ToString().ToLowerInvariant()}: applied {plan.Steps.Count} migration(s), now at {plan.ResultVersion}.");
        foreach (var step in plan.Steps)
        {
            Console.Out.WriteLine($"  {step.Version}  {step.Description}");
        }

        return ExitCodes.Success;
    }
}
