using System.CommandLine;
using IamVet.Schema.Runner.Cli;
using IamVet.Schema.Runner.Configuration;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Pipeline;
using Microsoft.Extensions.Logging;
using Npgsql;

// Human output goes to stdout; logs (FluentMigrator's included) go to stderr.
using var loggerFactory = LoggerFactory.Create(logging => logging
    .SetMinimumLevel(Environment.GetEnvironmentVariable("IAMVET_SCHEMA_VERBOSE") is "1" ? LogLevel.Information : LogLevel.Warning)
    .AddSimpleConsole(console => console.SingleLine = true)
    .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));

var root = new RootCommand("IamVet.Schema: migrate the iamvet users table between its legacy and normalized shapes");
root.Subcommands.Add(MigrateCommand.Create(loggerFactory));

try
{
    return await root.Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (ConfigurationException ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}");
    return ExitCodes.Usage;
}
catch (MigrationPlanningException ex)
{
    await Console.Error.WriteLineAsync($"error: {ex.Message}");
    return ExitCodes.Usage;
}
catch (PostgresException ex)
{
    await Console.Error.WriteLineAsync($"error: migration failed and was rolled back: {ex.MessageText}{(ex.Hint is null ? "" : $" (hint: {ex.Hint})")}");
    return ExitCodes.MigrationFailed;
}
