using System.CommandLine;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>status</c>: applied and pending migrations, the phase, and the last migration_log rows. Read-only.</summary>
public static class StatusCommand
{
    public static Command Create()
    {
        var command = CommonOptions.Define("status", "Show applied and pending migrations, the phase (legacy / normalized / cleaned up) and the last five migration_log rows", CommonOptions.Connection, CommonOptions.Json);
        command.SetAction(async (parse, cancel) =>
        {
            var settings = CommonOptions.ResolveSettings(parse);
            var status = await Inspection.StatusAsync(settings.Target, cancel);
            if (parse.GetValue(CommonOptions.Json))
            {
                var json = ToJson(status);
                json["settings"] = SettingsToJson(settings);
                Console.Out.WriteLine(json.ToJsonString(RunReport.JsonOptions));
            }
            else
            {
                Write(status);
                WriteSettings(settings);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static JsonObject ToJson(DatabaseStatus status) => new()
    {
        ["database"] = status.Database,
        ["phase"] = status.Phase,
        ["currentVersion"] = status.CurrentVersion,
        ["migrations"] = new JsonArray(MigrationCatalog.All.Select(step => (JsonNode?)new JsonObject
        {
            ["version"] = step.Version,
            ["description"] = step.Description,
            ["applied"] = status.Applied.Contains(step.Version),
            ["requires"] = step.RequiredFlag,
        }).ToArray()),
        ["recentLog"] = new JsonArray(status.RecentLog.Select(row => (JsonNode?)new JsonObject
        {
            ["id"] = row.Id, ["name"] = row.MigrationName, ["executedAt"] = row.ExecutedAt?.ToString("O"),
            ["status"] = row.Status, ["durationMs"] = row.DurationMs, ["description"] = row.Description,
        }).ToArray()),
    };

    /// <summary>Where each setting a migrating run would use came from (flag, environment, which appsettings.json, default); never a password.</summary>
    private static JsonObject SettingsToJson(ResolvedSettings settings)
    {
        var json = new JsonObject();
        foreach (var (flag, value, source) in settings.Rows())
        {
            json[flag.TrimStart('-')] = new JsonObject { ["value"] = value, ["source"] = source };
        }

        json["files"] = new JsonArray(settings.Files.Select(file => (JsonNode?)file).ToArray());
        return json;
    }

    private static void WriteSettings(ResolvedSettings settings)
    {
        var table = new Table().Border(TableBorder.Simple).Title("settings (flag > IAMVET_SCHEMA_* > .NET environment > appsettings.json here > next to the tool > default)");
        table.AddColumn("Setting");
        table.AddColumn("Value");
        table.AddColumn("From");
        foreach (var (flag, value, source) in settings.Rows())
        {
            table.AddRow(Markup.Escape(flag), Markup.Escape(value), Markup.Escape(source));
        }

        AnsiConsole.Write(table);
    }

    private static void Write(DatabaseStatus status)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(status.Database)}[/]: {Markup.Escape(status.Phase)}");
        table.AddColumn("Version");
        table.AddColumn("Description");
        table.AddColumn("State");
        foreach (var step in MigrationCatalog.All)
        {
            var state = status.Applied.Contains(step.Version)
                ? "[green]applied[/]"
                : step.RequiredFlag is { } flag ? $"[grey]pending (only with {Markup.Escape(flag)})[/]" : "[yellow]pending[/]";
            table.AddRow(step.Version.ToString(CultureInfo.InvariantCulture), Markup.Escape(step.Description), state);
        }

        AnsiConsole.Write(table);
        if (status.RecentLog.Count == 0)
        {
            return;
        }

        var history = new Table().Border(TableBorder.Simple).Title("last migration_log rows");
        history.AddColumn("Id");
        history.AddColumn("When");
        history.AddColumn("Status");
        history.AddColumn("Attempt");
        foreach (var row in status.RecentLog)
        {
            history.AddRow(row.Id.ToString(CultureInfo.InvariantCulture), row.ExecutedAt?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "",
                Markup.Escape(row.Status ?? "(legacy row)"), Markup.Escape(row.MigrationName + (row.Description is null ? "" : " — " + row.Description)));
        }

        AnsiConsole.Write(history);
    }
}
