using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Configuration;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Postgres;
using Npgsql;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>status</c>: applied and pending migrations, the phase, and the last migration_log rows. Read-only.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var command = new Command("status", "Show applied and pending migrations, the phase (legacy / normalized / cleaned up) and the last five migration_log rows");
        command.Options.Add(CommonOptions.Connection);
        command.Options.Add(CommonOptions.Json);
        command.SetAction(async (parse, cancel) =>
        {
            var connection = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));
            await using var db = await ReadOnlyConnection.OpenAsync(connection, "status", cancel);
            var applied = await VersionHistory.ReadAppliedAsync(db, cancel);
            var log = await MigrationLog.ExistsAsync(db, cancel) ? await MigrationLog.LastAsync(db, 5, cancel) : [];
            var phase = Phase(applied);

            if (parse.GetValue(CommonOptions.Json))
            {
                var json = new JsonObject
                {
                    ["database"] = connection.Database,
                    ["phase"] = phase,
                    ["currentVersion"] = applied.Count == 0 ? null : applied.Max(),
                    ["migrations"] = new JsonArray(MigrationCatalog.All.Select(step => (JsonNode?)new JsonObject
                    {
                        ["version"] = step.Version,
                        ["description"] = step.Description,
                        ["applied"] = applied.Contains(step.Version),
                        ["requires"] = step.RequiredFlag,
                    }).ToArray()),
                    ["recentLog"] = new JsonArray(log.Select(row => (JsonNode?)new JsonObject
                    {
                        ["id"] = row.Id, ["name"] = row.MigrationName, ["executedAt"] = row.ExecutedAt?.ToString("O"),
                        ["status"] = row.Status, ["durationMs"] = row.DurationMs, ["description"] = row.Description,
                    }).ToArray()),
                };
                Console.Out.WriteLine(json.ToJsonString(Pipeline.Reporting.RunReport.JsonOptions));
                return ExitCodes.Success;
            }

            var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(connection.Database!)}[/]: {Markup.Escape(phase)}");
            table.AddColumn("Version");
            table.AddColumn("Description");
            table.AddColumn("State");
            foreach (var step in MigrationCatalog.All)
            {
                var state = applied.Contains(step.Version)
                    ? "[green]applied[/]"
                    : step.RequiredFlag is { } flag ? $"[grey]pending (only with {Markup.Escape(flag)})[/]" : "[yellow]pending[/]";
                table.AddRow(step.Version.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(step.Description), state);
            }

            AnsiConsole.Write(table);
            if (log.Count > 0)
            {
                var history = new Table().Border(TableBorder.Simple).Title("last migration_log rows");
                history.AddColumn("Id");
                history.AddColumn("When");
                history.AddColumn("Status");
                history.AddColumn("Attempt");
                foreach (var row in log)
                {
                    history.AddRow(row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), row.ExecutedAt?.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture) ?? "",
                        Markup.Escape(row.Status ?? "(legacy row)"), Markup.Escape(row.MigrationName + (row.Description is null ? "" : " — " + row.Description)));
                }

                AnsiConsole.Write(history);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>legacy / normalized / cleaned up, as the team names the phases.</summary>
    public static string Phase(IReadOnlyCollection<long> applied)
    {
        var catalog = MigrationCatalog.All;
        if (applied.Count == 0)
        {
            return "no migration history (run `baseline` on an existing legacy database)";
        }

        var gated = catalog.Where(step => step.RequiredFlag is not null).Select(step => step.Version).ToHashSet();
        var expand = catalog.Where(step => !gated.Contains(step.Version)).Select(step => step.Version).ToList();
        if (gated.Count > 0 && gated.All(applied.Contains))
        {
            return "cleaned up (moved columns dropped from users)";
        }

        if (expand.All(applied.Contains))
        {
            return "normalized (expand phase: legacy columns still present)";
        }

        return applied.Any(v => v >= 202509290300) ? "partially normalized" : "legacy";
    }
}
