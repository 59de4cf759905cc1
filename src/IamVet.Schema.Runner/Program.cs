using System.CommandLine;
using IamVet.Schema.Runner.Cli;
using Spectre.Console;

// Human output goes to stdout; logs (FluentMigrator's included) go to stderr.
// IAMVET_SCHEMA_VERBOSE=1 shows FluentMigrator's per-migration log lines and stack traces.
var verbose = Environment.GetEnvironmentVariable("IAMVET_SCHEMA_VERBOSE") is "1";
using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning)
    // A failed migration is reported by the runner in one sentence (and in migration_log); FluentMigrator's
    // own error line repeats the whole SQL script and a stack trace, so it is shown only when verbose.
    .AddFilter("FluentMigrator", verbose ? LogLevel.Information : LogLevel.None)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
if (Console.IsOutputRedirected)
{
    AnsiConsole.Profile.Width = 160;
}

var root = new RootCommand("IamVet.Schema: migrate the iamvet users table between its legacy and normalized shapes, safely");
root.Subcommands.Add(MigrateCommand.Create(loggerFactory));
root.Subcommands.Add(StatusCommand.Create());
root.Subcommands.Add(CheckCommand.Create(loggerFactory));
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(PreviewCommand.Create());
root.Subcommands.Add(BaselineCommand.Create(loggerFactory));
root.Subcommands.Add(SeedCommand.Create(loggerFactory));
root.Subcommands.Add(BackupCommand.Create(loggerFactory));
root.Subcommands.Add(RestoreCommand.Create());
root.Subcommands.Add(RehearseCommand.Create(loggerFactory));

// With --json, stdout carries one JSON document whatever happens, errors before the pipeline included.
var json = args.Contains("--json");
var parse = root.Parse(args);
if (parse.Errors.Count > 0 && parse.CommandResult.Command is { Action: null, Subcommands.Count: > 0 } group && parse.Errors.Count == 1)
{
    // Nothing but a command group (`iamvet-schema`, `iamvet-schema migrate`): its help, on stderr, and
    // exit 2 as for any usage error (`--help` itself is exit 0, on stdout).
    await root.Parse([.. args, "--help"]).InvokeAsync(new InvocationConfiguration { Output = Console.Error });
    return Fail(ExitCodes.Usage, $"no command given: choose one of {string.Join(", ", group.Subcommands.Select(c => c.Name))}");
}

if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors)
    {
        await Console.Error.WriteLineAsync($"error: {error.Message}");
    }

    await Console.Error.WriteLineAsync("See --help for the commands and options.");
    return Fail(ExitCodes.Usage, string.Join("; ", parse.Errors.Select(e => e.Message)));
}

try
{
    // Ctrl-C / SIGTERM cancel the command's token; it then has this long to roll back, log the
    // attempt and drop what it created (e.g. rehearse's scratch database) before the process ends.
    return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromSeconds(10) });
}
catch (ConfigurationException ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}");
    return Fail(ExitCodes.Usage, ex.Message);
}
catch (IamVet.Schema.Runner.Postgres.ConnectRefused ex)
{
    // A command outside the pipeline (status, verify, …) whose connection a database's or role's timeout ended as it connected.
    await Console.Error.WriteLineAsync($"error: {ex.Message}");
    return Fail(ExitCodes.Refused, ex.Message);
}
catch (PipelineStopped ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}");
    return Fail(ex.ExitCode, ex.Message, ex.LogStatus);
}
catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.InsufficientPrivilege)
{
    // A read-only command (status, verify, …) whose role may not read a table it needs: a refusal, not a bug.
    var message = $"the role may not read what this command needs ({ex.MessageText}); `check` lists every privilege a migration needs";
    await Console.Error.WriteLineAsync($"error: {message}");
    return Fail(ExitCodes.Refused, message);
}
catch (OperationCanceledException)
{
    // Ctrl-C / SIGTERM in a command that has no stage of its own to say so (status, verify, preview,
    // baseline, seed): what it ran in a transaction was rolled back. Documented in docs/cli.md.
    const string message = "interrupted (Ctrl-C or SIGTERM): stopped; an open transaction was rolled back";
    await Console.Error.WriteLineAsync($"error: {message}");
    return Fail(ExitCodes.Refused, message, LogStatuses.Aborted);
}
catch (Exception ex) when (ex is not OutOfMemoryException)
{
    await Console.Error.WriteLineAsync($"unexpected error: {ex.Message}");
    if (verbose)
    {
        await Console.Error.WriteLineAsync(ex.ToString());
    }

    return Fail(ExitCodes.Unexpected, ex.Message, LogStatuses.Failed);
}

int Fail(int exitCode, string message, string status = LogStatuses.Refused)
{
    if (json)
    {
        Console.Out.WriteLine(new System.Text.Json.Nodes.JsonObject
        {
            ["exitCode"] = exitCode,
            ["status"] = status,
            ["message"] = message,
            ["stages"] = new System.Text.Json.Nodes.JsonArray(),
        }.ToJsonString(IamVet.Schema.Runner.Pipeline.Reporting.RunReport.JsonOptions));
    }

    return exitCode;
}
