using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Configuration;
using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Pipeline.Reporting;
using IamVet.Schema.Runner.Postgres;
using Npgsql;
using Spectre.Console;

namespace IamVet.Schema.Runner.Cli;

/// <summary>
/// <c>restore --from FILE</c>: checks the dump against its manifest before touching any database,
/// restores into a NEW database (default <c>&lt;db&gt;_restore_&lt;time&gt;</c>), compares row counts.
/// <c>--replace --yes</c> puts the restored copy in place of the source database; the source is
/// kept, renamed, never dropped. Exit 3: refused (bad dump, or the target exists), 4: pg_restore failed, 6: counts differ.
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
        var command = new Command("restore", "Restore a backup into a new database and prove it against its manifest");
        command.Options.Add(From);
        command.Options.Add(TargetDb);
        command.Options.Add(Replace);
        command.Options.Add(CommonOptions.Connection);
        command.Options.Add(CommonOptions.Yes);
        command.Options.Add(CommonOptions.Json);
        command.SetAction(async (parse, cancel) =>
        {
            var server = ConnectionSettings.Resolve(parse.GetValue(CommonOptions.Connection));
            var dump = parse.GetValue(From)!.FullName;
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

            JsonObject manifest;
            try
            {
                manifest = await BackupRestorer.CheckAsync(dump, cancel);
            }
            catch (RestoreRefused refused)
            {
                throw new PreflightFailed(refused.Message);
            }

            var stamp = DateTime.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            var source = manifest["database"]?.GetValue<string>() ?? server.Database!;
            var target = replace ? Identifiers.Derived(source, $"_incoming_{stamp}") : parse.GetValue(TargetDb) ?? Identifiers.Derived(source, $"_restore_{stamp}");
            if (!Identifiers.Fits(target))
            {
                throw new ConfigurationException($"--target-db {target} is longer than the {Identifiers.MaxBytes} bytes PostgreSQL keeps of a name");
            }

            var pgRestore = PgTools.Find("pg_restore") ?? throw new PreflightFailed("pg_restore not found on PATH");

            RestoreResult result;
            try
            {
                var restorer = new BackupRestorer(pgRestore);
                result = parse.GetValue(CommonOptions.Json)
                    ? await restorer.RestoreAsync(server, dump, manifest, target, cancel)
                    : await ProgressDisplay.RunAsync("restore: tables loaded", 1, progress => restorer.RestoreAsync(server, dump, manifest, target, cancel, progress));
            }
            catch (RestoreRefused refused)
            {
                throw new PreflightFailed(refused.Message);
            }
            catch (RestoreFailed failed)
            {
                throw new BackupFailed(failed.Message);
            }

            var mismatches = result.Mismatches;
            string? replacedAs = null;
            if (replace && mismatches.Count == 0)
            {
                replacedAs = Identifiers.Derived(source, $"_replaced_{stamp}");
                await SwapAsync(server, source, target, replacedAs, cancel);
            }

            var exitCode = mismatches.Count == 0 ? ExitCodes.Success : ExitCodes.VerificationFailed;
            if (parse.GetValue(CommonOptions.Json))
            {
                Console.Out.WriteLine(new JsonObject
                {
                    ["exitCode"] = exitCode,
                    ["database"] = replacedAs is null ? result.Database : source,
                    ["replacedDatabaseKeptAs"] = replacedAs,
                    ["durationMs"] = (long)result.Duration.TotalMilliseconds,
                    ["rowCounts"] = new JsonObject(result.Actual.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))),
                    ["mismatches"] = new JsonArray(mismatches.Select(m => (JsonNode?)m).ToArray()),
                }.ToJsonString(RunReport.JsonOptions));
            }
            else
            {
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
                    ? $"[green]verified[/]: every table has the manifest's row count{(replacedAs is null ? "" : $"; now serving as {Markup.Escape(source)}, the previous database kept as {Markup.Escape(replacedAs)}")}"
                    : $"[red]row counts differ[/] in {mismatches.Count} table(s); the restored database {Markup.Escape(result.Database)} is kept for inspection");
            }

            return exitCode;
        });
        return command;
    }

    private static async Task SwapAsync(NpgsqlConnectionStringBuilder server, string source, string incoming, string replacedAs, CancellationToken cancellationToken)
    {
        NpgsqlConnection.ClearAllPools();
        var admin = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = "postgres", Pooling = false, ApplicationName = "iamvet-schema restore" };
        await using var connection = new NpgsqlConnection(admin.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var swap = new NpgsqlCommand($"""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = @source AND pid <> pg_backend_pid();
            ALTER DATABASE {Identifiers.Quote(source)} RENAME TO {Identifiers.Quote(replacedAs)};
            ALTER DATABASE {Identifiers.Quote(incoming)} RENAME TO {Identifiers.Quote(source)};
            """, connection);
        swap.Parameters.AddWithValue("source", source);
        await swap.ExecuteNonQueryAsync(cancellationToken);
    }
}
