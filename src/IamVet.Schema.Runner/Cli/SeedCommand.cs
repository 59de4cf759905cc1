using System.CommandLine;
using IamVet.Schema.Runner.Seeding;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>seed --users N [--dirty]</c>: realistic legacy data for rehearsals, demos and benchmarks.</summary>
public static class SeedCommand
{
    private static readonly Option<long> Users = CommonOptions.Count("--users", "How many users to create (1 or more)", "a number of users, 1 or more", 10_000);
    private static readonly Option<bool> Dirty = new("--dirty")
    {
        Description = "Also add dirty rows (ids start with dirty_) of the kinds docs/domain.md lists, including a HOSPITAL without hospitalName, which blocks `migrate up`",
    };

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = CommonOptions.Define("seed", "Fill an empty database with realistic legacy data (Korean names and addresses, the three user types, side rows); never for production",
            Users, Dirty, CommonOptions.CreateLegacySchema, CommonOptions.Connection, CommonOptions.Json, CommonOptions.Yes);
        command.SetAction(async (parse, cancel) =>
        {
            var target = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));
            var users = parse.GetValue(Users);
            var json = parse.GetValue(CommonOptions.Json);
            if (users < 1)
            {
                throw new ConfigurationException($"--users {users}: seed creates at least 1 user");
            }

            var options = new RunOptions { CommandName = "seed", Target = target, Yes = parse.GetValue(CommonOptions.Yes), Json = json };
            if (!CommonOptions.Confirm(options, $"seed {users} users"))
            {
                return CommonOptions.NotConfirmed();
            }

            var seeder = new LegacySeeder(loggerFactory);
            SeedResult result;
            if (json)
            {
                result = await seeder.SeedAsync(target, users, parse.GetValue(Dirty), parse.GetValue(CommonOptions.CreateLegacySchema), null, cancel);
            }
            else
            {
                result = await ProgressDisplay.RunAsync($"seeding {users:N0} users", users,
                    report => seeder.SeedAsync(target, users, parse.GetValue(Dirty), parse.GetValue(CommonOptions.CreateLegacySchema), report, cancel));
            }

            if (json)
            {
                var summary = new JsonObject
                {
                    ["users"] = result.Users,
                    ["durationMs"] = (long)result.Duration.TotalMilliseconds,
                    ["rowCounts"] = new JsonObject(result.RowCounts.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                };
                Console.Out.WriteLine(summary.ToJsonString(RunReport.JsonOptions));
            }
            else
            {
                AnsiConsole.MarkupLine($"[green]seeded[/] {target.Database} in {result.Duration.TotalSeconds:0.0} s: " +
                                       Markup.Escape(string.Join(", ", result.RowCounts.Where(p => p.Value > 0).Select(p => $"{p.Key} {p.Value:N0}"))));
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
