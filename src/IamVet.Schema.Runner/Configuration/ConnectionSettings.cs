using Microsoft.Extensions.Configuration;
using Npgsql;

namespace IamVet.Schema.Runner.Configuration;

/// <summary>A usage or configuration problem: exit code 2, nothing touched.</summary>
public sealed class ConfigurationException(string message) : Exception(message);

/// <summary>
/// Where the connection string comes from, first match wins: <c>--connection</c>, the environment
/// variable <c>IAMVET_SCHEMA_CONNECTION</c>, then <c>ConnectionStrings:IamVet</c> in
/// appsettings.json / appsettings.{Environment}.json beside the working directory.
/// </summary>
public static class ConnectionSettings
{
    public const string EnvironmentVariable = "IAMVET_SCHEMA_CONNECTION";

    public static ConnectionTarget Resolve(string? fromCommandLine)
    {
        var (value, source) = Find(fromCommandLine);
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ConfigurationException(
                $"no connection string: pass --connection \"Host=…;Database=…;Username=…\", set {EnvironmentVariable}, " +
                "or set ConnectionStrings:IamVet in appsettings.json");
        }

        return Parse(value, source);
    }

    internal static ConnectionTarget Parse(string value, string source)
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(value);
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword; the value itself (maybe a password) is never echoed.
            throw new ConfigurationException($"malformed connection string from {source}: {ex.Message}");
        }

        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new ConfigurationException($"the connection string from {source} names no Database");
        }

        return new ConnectionTarget(builder, source);
    }

    private static (string? Value, string Source) Find(string? fromCommandLine)
    {
        if (!string.IsNullOrWhiteSpace(fromCommandLine))
        {
            return (fromCommandLine, "--connection");
        }

        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return (fromEnvironment, EnvironmentVariable);
        }

        var environment = Environment.GetEnvironmentVariable("DOTNET_ENVIRONMENT") ?? "Production";
        var configuration = new ConfigurationBuilder()
            .SetBasePath(Directory.GetCurrentDirectory())
            .AddJsonFile("appsettings.json", optional: true)
            .AddJsonFile($"appsettings.{environment}.json", optional: true)
            .Build();
        return (configuration.GetConnectionString("IamVet"), "appsettings (ConnectionStrings:IamVet)");
    }
}
