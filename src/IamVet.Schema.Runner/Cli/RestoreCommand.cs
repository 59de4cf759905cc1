using System.CommandLine;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary>
/// <c>restore --from FILE</c> (see <see cref="Restoring"/>). Exit 3: refused (bad dump, or the target
/// exists), 4: pg_restore failed, 6: row counts differ from the manifest.
/// </summary>
public static class RestoreCommand
{
    private static readonly Option<FileInfo> From = new("--from") { Description = "The .dump file written by backup / migrate", Required = true };
    private static readonly Option<string?> TargetDb = new("--target-db") { Description = "Name of the new database (default <db>_restore_<time>); not with --replace" };
    private static readonly Option<bool> Replace = new("--replace")
    {
        Description = "After a verified restore, swap it in as the source database (the old one is renamed <db>_replaced_<time>, not dropped); needs --yes",
    };

    public static Command Create()
    {
        var command = CommonOptions.Define("restore", "Restore a backup into a new database and prove it against its manifest",
            From, TargetDb, Replace, CommonOptions.Connection, CommonOptions.Yes, CommonOptions.Json, CommonOptions.LockTimeout);
        command.SetAction(async (parse, cancel) =>
        {
            var settings = CommonOptions.ResolveSettings(parse);
            var server = settings.Target;
            var replace = parse.GetValue(Replace);
            if (replace && !parse.GetValue(CommonOptions.Yes))
            {
                throw new ConfigurationException("--replace swaps databases and needs --yes as well");
            }

            if (replace && parse.GetValue(TargetDb) is { } named)
            {
                // Never guess which of the two was meant: one names a new database, the other replaces the dump's own.
                throw new ConfigurationException(
                    $"--target-db {named} and --replace contradict each other: --target-db restores into a new database of that name, " +
                    "--replace puts the dump back in place of the database it was taken from (named in its manifest). Use one of them");
            }

            var json = parse.GetValue(CommonOptions.Json);
            var outcome = await Restoring.RunAsync(server, parse.GetValue(From)!.FullName, parse.GetValue(TargetDb), replace, showProgress: !json, settings.LockTimeout.Value,
                plan => (json ? Console.Error : Console.Out).WriteLine(plan), cancel);
            var result = outcome.Result;
            var mismatches = result.Mismatches;
            var exitCode = mismatches.Count == 0 ? ExitCodes.Success : ExitCodes.VerificationFailed;
            if (json)
            {
                Console.Out.WriteLine(new JsonObject
                {
                    ["exitCode"] = exitCode,
                    ["database"] = outcome.Database,
                    ["replacedDatabaseKeptAs"] = outcome.ReplacedAs,
                    ["durationMs"] = (long)result.Duration.TotalMilliseconds,
                    ["rowCounts"] = new JsonObject(result.Actual.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                    ["mismatches"] = new JsonArray(mismatches.Select(m => (JsonNode?)m).ToArray()),
                }.ToJsonString(RunReport.JsonOptions));
                return exitCode;
            }

            // The database name goes on a line of its own: a table title is cut to the table's width.
            AnsiConsole.MarkupLine($"restored into [bold]{Markup.Escape(result.Database)}[/] in {result.Duration.TotalSeconds:0.0} s");
            var table = new Table().Border(TableBorder.Rounded);
            table.AddColumn("Table");
            table.AddColumn(new TableColumn("Manifest").RightAligned());
            table.AddColumn(new TableColumn("Restored").RightAligned());
            foreach (var name in result.Expected.Keys.Union(result.Actual.Keys).Order(StringComparer.Ordinal))
            {
                var expected = result.Expected.GetValueOrDefault(name, -1);
                var actual = result.Actual.GetValueOrDefault(name, -1);
                table.AddRow(Markup.Escape(name), expected.ToString("N0", CultureInfo.InvariantCulture),
                    (expected == actual ? "[green]" : "[red]") + actual.ToString("N0", CultureInfo.InvariantCulture) + "[/]");
            }

            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine(mismatches.Count == 0
                ? $"[green]verified[/]: every table has the manifest's row count{(outcome.ReplacedAs is null ? "" : $"; now serving as {Markup.Escape(outcome.Source)}, the previous database kept as {Markup.Escape(outcome.ReplacedAs)}")}"
                : $"[red]row counts differ[/] in {mismatches.Count} table(s); the restored database {Markup.Escape(result.Database)} is kept for inspection");
            return exitCode;
        });
        return command;
    }
}
