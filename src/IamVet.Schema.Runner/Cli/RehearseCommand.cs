using System.CommandLine;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary><c>rehearse [--from FILE | --on-copy CONNECTION]</c> (see <see cref="Rehearsal"/>): prints the rehearsed runs' reports, the phases and the forecast.</summary>
public static class RehearseCommand
{
    private static readonly Option<FileInfo?> From = new("--from") { Description = "Rehearse on this backup instead of taking a fresh one" };
    private static readonly Option<string?> OnCopy = new("--on-copy")
    {
        Description = "Rehearse on this existing copy of the database (a Neon branch, a restored snapshot; connection string or postgresql:// URI): " +
                      "no backup, no scratch database; refused if it is the source itself or at other versions. The copy is left as the down leaves it: delete it afterwards",
        HelpName = "connection",
    };

    private static readonly Option<bool> Cleanup = new("--cleanup") { Description = "Include the cleanup in the rehearsed upgrade" };

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = CommonOptions.Define("rehearse", "Backup → restore into a scratch database → migrate up → migrate down there → drop it (or, --on-copy, up → down on an existing copy); prints timings and a forecast",
            From, OnCopy, Cleanup, CommonOptions.Connection, CommonOptions.BackupDirectory, CommonOptions.Json, CommonOptions.LockTimeout, CommonOptions.StatementTimeout, CommonOptions.MinFreeSpace);

        command.SetAction(async (parse, cancel) =>
        {
            var options = CommonOptions.ToRunOptions(parse, "rehearse");
            var copy = parse.GetValue(OnCopy) is { } onCopy ? ConnectionSettings.Parse(onCopy, "--on-copy") : null;
            if (copy is not null && parse.GetValue(From) is not null)
            {
                throw new ConfigurationException("--on-copy and --from exclude each other: --on-copy rehearses on an existing copy, --from restores a backup into a scratch database");
            }

            var outcome = await Rehearsal.RunAsync(options, parse.GetValue(From)?.FullName, copy, parse.GetValue(Cleanup), loggerFactory, cancel);
            foreach (var name in outcome.LeftOver)
            {
                Console.Error.WriteLine(
                    $"warning: scratch database \"{name}\" of an earlier rehearse is still on the server (a full copy of the database; a rehearse killed before it could drop it?). " +
                    $"Not dropped (a rehearse still running may be using it): once none is, DROP DATABASE \"{name}\";");
            }
            if (outcome.Up is null)
            {
                // The backup failed: its report says why.
                RunReport.Write(outcome.Backup!, options.Json);
                return outcome.ExitCode;
            }

            if (options.Json)
            {
                Console.Out.WriteLine(new JsonObject
                {
                    ["exitCode"] = outcome.ExitCode,
                    ["scratchDatabase"] = outcome.Copy is null ? outcome.Scratch : null,
                    ["scratchDropped"] = outcome.Copy is null,
                    ["copy"] = outcome.Copy,
                    ["phases"] = new JsonArray(outcome.Phases.Select(p => (JsonNode?)new JsonObject
                    {
                        ["phase"] = p.Phase, ["durationMs"] = (long)p.Duration.TotalMilliseconds, ["result"] = p.Result,
                    }).ToArray()),
                    ["up"] = RunReport.ToJson(outcome.Up),
                    ["down"] = outcome.Down is null ? null : RunReport.ToJson(outcome.Down),
                    ["forecast"] = outcome.Forecast,
                    ["nothingToRehearse"] = outcome.NothingToRehearse,
                    ["leftOverScratchDatabases"] = new JsonArray(outcome.LeftOver.Select(name => (JsonNode?)name).ToArray()),
                }.ToJsonString(RunReport.JsonOptions));
            }
            else
            {
                Write(options.Target.Database, outcome);
            }

            MigrateCommand.WriteMarkdownReport(outcome.Up, besideABackup: true);
            if (outcome.Down is not null)
            {
                MigrateCommand.WriteMarkdownReport(outcome.Down, besideABackup: true);
            }

            return outcome.ExitCode;
        });
        return command;
    }

    private static void Write(string database, RehearsalOutcome outcome)
    {
        RunReport.Write(outcome.Up!, asJson: false);
        if (outcome.Down is not null)
        {
            RunReport.Write(outcome.Down, asJson: false);
        }

        var table = new Table().Border(TableBorder.Rounded).Title(outcome.Copy is null
            ? $"rehearsal of {Markup.Escape(database)} (scratch database {Markup.Escape(outcome.Scratch)} dropped)"
            : $"rehearsal of {Markup.Escape(database)} on the copy {Markup.Escape(outcome.Copy)}");
        table.AddColumn("Phase");
        table.AddColumn(new TableColumn("Time").RightAligned());
        table.AddColumn("Result");
        foreach (var (phase, duration, result) in outcome.Phases)
        {
            table.AddRow(Markup.Escape(phase), $"{duration.TotalSeconds:0.00} s", Markup.Escape(result));
        }

        AnsiConsole.Write(table);
        if (outcome.Copy is not null)
        {
            AnsiConsole.MarkupLine($"the copy {Markup.Escape(outcome.Copy)} is left as the rehearsal left it (after the down, if one ran); it is yours to delete (e.g. neonctl branches delete)");
        }

        var forecast = outcome.Forecast;
        AnsiConsole.MarkupLine(outcome.NothingToRehearse
            ? $"nothing to rehearse: {Markup.Escape(database)} is already where migrate up would take it ({Markup.Escape(outcome.Up!.Message)}); no migration ran in the copy, so there is no forecast"
            : forecast is null
            ? $"[red]no forecast[/]: the rehearsed {Markup.Escape(outcome.Failed!.Context.Options.CommandName)} ended {Markup.Escape(outcome.Failed.Status)} (exit {outcome.Failed.ExitCode}) " +
              "in the copy; fix what its report above says, then rehearse again"
            : $"forecast for the real run: data move {forecast["dataMoveSeconds"]} s. During migrate up, users cannot be read for about " +
              $"{forecast["upReadOutageSeconds"]} s (its last statements and COMMIT) and writes to users and the legacy side tables wait for about " +
              $"{forecast["upWriteOutageSeconds"]} s. Rollback {forecast["rollbackSeconds"]} s: users cannot be read for about {forecast["downReadOutageSeconds"]} s, " +
              $"writes to the new tables wait for about {forecast["downWriteOutageSeconds"]} s");
    }
}
