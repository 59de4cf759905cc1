using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Pipeline.Reporting;
using IamVet.Schema.Runner.Postgres;
using Microsoft.Extensions.Logging;
using Npgsql;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary>
/// <c>rehearse [--from FILE]</c>: the runbook's "test the restore" and "run it on staging first",
/// as one command. Takes a fresh backup (or uses FILE), restores it into a scratch database, runs
/// the full <c>migrate up</c> and <c>migrate down</c> pipelines there, drops the scratch database
/// (also on failure), and forecasts the real run: the data-move time and how long users is locked.
/// </summary>
public static class RehearseCommand
{
    private static readonly Option<FileInfo?> From = new("--from") { Description = "Rehearse on this backup instead of taking a fresh one" };
    private static readonly Option<bool> Cleanup = new("--cleanup") { Description = "Include the cleanup in the rehearsed upgrade" };

    public static Command Create(ILoggerFactory loggerFactory)
    {
        var command = new Command("rehearse", "Backup → restore into a scratch database → migrate up → migrate down there → drop it; prints timings and a forecast");
        command.Options.Add(From);
        command.Options.Add(Cleanup);
        foreach (var option in new System.CommandLine.Option[]
                 { CommonOptions.Connection, CommonOptions.BackupDirectory, CommonOptions.Json, CommonOptions.LockTimeout, CommonOptions.StatementTimeout, CommonOptions.MinFreeSpace })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancel) =>
        {
            var options = CommonOptions.ToRunOptions(parse, "rehearse");
            var server = new NpgsqlConnectionStringBuilder(options.ConnectionString);
            var phases = new List<(string Phase, TimeSpan Duration, string Result)>();

            // 1. The backup: fresh, or the one given.
            string dump;
            if (parse.GetValue(From) is { } file)
            {
                dump = file.FullName;
            }
            else
            {
                var backup = await BackupCommand.RunAsync(options, cancel);
                await backup.Context.DisposeAsync();
                if (backup.ExitCode != ExitCodes.Success)
                {
                    RunReport.Write(backup, options.Json);
                    return backup.ExitCode;
                }

                dump = backup.Context.Backup!.DumpPath;
                phases.Add(("backup", backup.Context.Backup.Duration, Path.GetFileName(dump)));
            }

            // 2. Restore into a scratch database: proves the backup restores.
            JsonObject manifest;
            try
            {
                manifest = await BackupRestorer.CheckAsync(dump, cancel);
            }
            catch (RestoreRefused refused)
            {
                throw new PreflightFailed(refused.Message);
            }

            var scratch = Identifiers.Derived(server.Database!, $"_rehearse_{DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture)}");
            var pgRestore = PgTools.Find("pg_restore") ?? throw new PreflightFailed("pg_restore not found on PATH");
            RunSummary? up = null;
            RunSummary? down = null;
            var scratchIsOurs = true;
            try
            {
                RestoreResult restored;
                try
                {
                    var restorer = new BackupRestorer(pgRestore);
                    restored = options.Json
                        ? await restorer.RestoreAsync(server, dump, manifest, scratch, cancel)
                        : await ProgressDisplay.RunAsync("restore into the scratch database: tables loaded", 1, progress => restorer.RestoreAsync(server, dump, manifest, scratch, cancel, progress));
                }
                catch (RestoreRefused refused)
                {
                    scratchIsOurs = false; // it existed before this run: not ours to drop
                    throw new PreflightFailed(refused.Message);
                }
                catch (RestoreFailed restoreFailed)
                {
                    throw new BackupFailed(restoreFailed.Message);
                }

                if (restored.Mismatches.Count > 0)
                {
                    throw new BackupFailed("the restored copy does not match the manifest: " + string.Join("; ", restored.Mismatches));
                }

                phases.Add(("restore", restored.Duration, $"{restored.Actual.GetValueOrDefault("users")} users in {scratch}"));

                // 3. The real pipelines on the copy (the copy needs no backup of its own).
                var scratchOptions = options with
                {
                    ConnectionString = new NpgsqlConnectionStringBuilder(options.ConnectionString) { Database = scratch }.ConnectionString,
                    NoBackup = true,
                    Yes = true,
                };
                var pipeline = new MigrationPipeline(loggerFactory);
                up = await pipeline.RunAsync(scratchOptions with
                {
                    CommandName = "migrate up", Direction = MigrationDirection.Up, Flags = parse.GetValue(Cleanup) ? ["--cleanup"] : [],
                }, cancel);
                phases.Add(("migrate up", up.Context.Clock.Elapsed, $"{up.Status} (exit {up.ExitCode})"));
                if (up.ExitCode == ExitCodes.Success)
                {
                    down = await pipeline.RunAsync(scratchOptions with { CommandName = "migrate down", Direction = MigrationDirection.Down }, cancel);
                    phases.Add(("migrate down", down.Context.Clock.Elapsed, $"{down.Status} (exit {down.ExitCode})"));
                }
            }
            finally
            {
                if (scratchIsOurs)
                {
                    // Also after Ctrl-C, whose token is cancelled by now: the drop gets a few seconds of its own.
                    using var dropping = new CancellationTokenSource(TimeSpan.FromSeconds(8));
                    await BackupRestorer.DropAsync(server, scratch, dropping.Token);
                }
            }

            // A forecast only from a rehearsal that passed: a refused or rolled-back run says nothing about the window.
            var failed = up!.ExitCode != ExitCodes.Success ? up : down!.ExitCode != ExitCodes.Success ? down : null;
            var exitCode = failed?.ExitCode ?? ExitCodes.Success;
            var forecast = failed is null ? Forecast(up, down) : null;
            if (options.Json)
            {
                Console.Out.WriteLine(new JsonObject
                {
                    ["exitCode"] = exitCode,
                    ["scratchDatabase"] = scratch,
                    ["scratchDropped"] = true,
                    ["phases"] = new JsonArray(phases.Select(p => (JsonNode?)new JsonObject
                    {
                        ["phase"] = p.Phase, ["durationMs"] = (long)p.Duration.TotalMilliseconds, ["result"] = p.Result,
                    }).ToArray()),
                    ["up"] = RunReport.ToJson(up),
                    ["down"] = down is null ? null : RunReport.ToJson(down),
                    ["forecast"] = forecast,
                }.ToJsonString(RunReport.JsonOptions));
            }
            else
            {
                RunReport.Write(up, asJson: false);
                if (down is not null)
                {
                    RunReport.Write(down, asJson: false);
                }

                var table = new Table().Border(TableBorder.Rounded).Title($"rehearsal of {Markup.Escape(server.Database!)} (scratch database {Markup.Escape(scratch)} dropped)");
                table.AddColumn("Phase");
                table.AddColumn(new TableColumn("Time").RightAligned());
                table.AddColumn("Result");
                foreach (var (phase, duration, result) in phases)
                {
                    table.AddRow(Markup.Escape(phase), $"{duration.TotalSeconds:0.00} s", Markup.Escape(result));
                }

                AnsiConsole.Write(table);
                AnsiConsole.MarkupLine(forecast is null
                    ? $"[red]no forecast[/]: the rehearsed {Markup.Escape(failed!.Context.Options.CommandName)} ended {Markup.Escape(failed.Status)} (exit {failed.ExitCode}) " +
                      "in the scratch copy; fix what its report above says, then rehearse again"
                    : $"forecast for the real run: data move {forecast["dataMoveSeconds"]} s; users locked for about {forecast["usersLockedSeconds"]} s " +
                      $"(from the first ALTER of users to COMMIT); rollback {forecast["rollbackSeconds"]} s");
            }

            MigrateCommand.WriteMarkdownReport(up);
            if (down is not null)
            {
                MigrateCommand.WriteMarkdownReport(down);
            }

            return exitCode;
        });
        return command;
    }

    /// <summary>
    /// The migration transaction takes ACCESS EXCLUSIVE on users at its first ALTER and keeps it to
    /// COMMIT, so users is locked for about the Migrate + Verify stages; the data move is Migrate.
    /// </summary>
    private static JsonObject Forecast(RunSummary up, RunSummary? down)
    {
        static double Seconds(RunSummary? summary, params string[] stages) =>
            summary is null ? 0 : Math.Round(summary.Context.Stages.Where(s => stages.Contains(s.Stage)).Sum(s => s.Duration.TotalSeconds), 2);

        return new JsonObject
        {
            ["dataMoveSeconds"] = Seconds(up, "Migrate"),
            ["usersLockedSeconds"] = Seconds(up, "Migrate", "Verify"),
            ["rollbackSeconds"] = down is null ? null : Seconds(down, "Migrate", "Verify"),
        };
    }
}
