using System.Text.Json;
using Spectre.Console;

namespace IamVet.Schema.Runner.Pipeline.Reporting;

/// <summary>
/// The run's report: a readable table of stages on stdout, or with --json a single JSON document
/// (stages, counts, timings, exit code) and nothing else on stdout.
/// </summary>
public static class RunReport
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static JsonObject ToJson(RunSummary summary)
    {
        var (context, results) = (summary.Context, summary.Results);
        var plan = results.Plan;
        var json = new JsonObject
        {
            ["command"] = context.Options.CommandName,
            ["database"] = context.DatabaseName,
            ["host"] = context.Options.Target.Host,
            ["serverVersion"] = results.Preflight?.ServerVersion,
            ["exitCode"] = summary.ExitCode,
            ["status"] = summary.Status,
            ["message"] = summary.Message,
            ["startedAt"] = context.StartedAt.ToString("O"),
            ["durationMs"] = (long)context.Clock.Elapsed.TotalMilliseconds,
            ["migrationLogId"] = results.LogRowId,
            ["plan"] = plan is null ? null : new JsonObject
            {
                ["direction"] = plan.Direction.ToString().ToLowerInvariant(),
                ["fromVersion"] = plan.FromVersion,
                ["toVersion"] = plan.ResultVersion,
                ["migrations"] = new JsonArray(plan.Steps.Select(s => (JsonNode?)new JsonObject { ["version"] = s.Version, ["description"] = s.Description }).ToArray()),
            },
            ["stages"] = new JsonArray(results.Stages.Select(s => (JsonNode?)new JsonObject
            {
                ["stage"] = s.Stage,
                ["status"] = s.Status.ToString().ToLowerInvariant(),
                ["durationMs"] = (long)s.Duration.TotalMilliseconds,
                ["summary"] = s.Summary,
                ["notes"] = new JsonArray(s.Notes.Select(n => (JsonNode?)n).ToArray()),
            }).ToArray()),
            ["backup"] = results.Backup is not { } backup ? null : new JsonObject
            {
                ["file"] = backup.DumpPath,
                ["manifest"] = backup.ManifestPath,
                ["sha256"] = backup.Sha256,
                ["sizeBytes"] = backup.SizeBytes,
                ["durationMs"] = (long)backup.Duration.TotalMilliseconds,
            },
            ["verification"] = results.Verification?.Result.Summary.DeepClone(),
            ["availability"] = results.Migration is not { } migration ? null : new JsonObject
            {
                ["usersReadsBlockedMs"] = (long)migration.ReadsBlocked.TotalMilliseconds,
                ["writesBlockedMs"] = (long)migration.WritesBlocked.TotalMilliseconds,
            },
            ["audit"] = results.Audit?.ToJson(),
        };
        return json;
    }

    public static void Write(RunSummary summary, bool asJson)
    {
        if (asJson)
        {
            Console.Out.WriteLine(ToJson(summary).ToJsonString(JsonOptions));
            return;
        }

        var (context, results) = (summary.Context, summary.Results);
        var console = AnsiConsole.Console;
        var table = new Table().Border(TableBorder.Rounded).Title($"[bold]{Markup.Escape(context.Options.CommandName)}[/] on {Markup.Escape(context.DatabaseName)}");
        table.AddColumn("Stage");
        table.AddColumn("Result");
        table.AddColumn(new TableColumn("Time").RightAligned());
        table.AddColumn("Details");
        foreach (var stage in results.Stages)
        {
            var details = stage.Notes.Count == 0
                ? Markup.Escape(stage.Summary)
                : Markup.Escape(stage.Summary) + "\n" + string.Join("\n", stage.Notes.Select(n => "[grey]• " + Markup.Escape(n) + "[/]"));
            table.AddRow(Markup.Escape(stage.Stage), Badge(stage.Status), $"{stage.Duration.TotalSeconds:0.00} s", details);
        }

        console.Write(table);
        var colour = summary.ExitCode == ExitCodes.Success ? "green" : "red";
        console.MarkupLine($"[{colour}]{Markup.Escape(summary.Status)}[/] (exit {summary.ExitCode}): {Markup.Escape(summary.Message)}");
        if (results.LogRowId is { } id)
        {
            console.MarkupLine($"[grey]migration_log id {id}[/]");
        }
    }

    private static string Badge(StageStatus status) => status switch
    {
        StageStatus.Pass => "[green]pass[/]",
        StageStatus.Warn => "[yellow]warn[/]",
        StageStatus.Fail => "[red]FAIL[/]",
        _ => "[grey]skipped[/]",
    };
}
