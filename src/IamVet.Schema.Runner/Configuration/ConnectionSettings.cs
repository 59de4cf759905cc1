using Npgsql;

namespace IamVet.Schema.Runner.Configuration;

/// <summary>A usage or configuration problem: exit code 2, nothing touched.</summary>
public sealed class ConfigurationException(string message) : Exception(message);

/// <summary>
/// Where the connection string comes from, later wins (see <see cref="RunnerConfiguration"/>):
/// <c>ConnectionStrings:IamVet</c> in appsettings.json / appsettings.{Environment}.json next to the
/// tool, then in the working directory, then the environment variable <c>ConnectionStrings__IamVet</c>,
/// then <c>IAMVET_SCHEMA_CONNECTION</c>, then <c>--connection</c>.
/// </summary>
public static class ConnectionSettings
{
    public const string EnvironmentVariable = "IAMVET_SCHEMA_CONNECTION";

    public static ConnectionTarget Resolve(string? fromCommandLine) => Resolve(fromCommandLine, RunnerConfiguration.Load());

    public static ConnectionTarget Resolve(string? fromCommandLine, RunnerConfiguration configuration)
    {
        var (value, source) = !string.IsNullOrWhiteSpace(fromCommandLine)
            ? (fromCommandLine, Setting.Connection.Flag)
            : configuration.Find(Setting.Connection) is { } configured ? (configured.Text, configured.Source) : (null, "");
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ConfigurationException(
                $"no connection string: pass --connection \"Host=…;Database=…;Username=…\", set {EnvironmentVariable} (or ConnectionStrings__IamVet), " +
                "or set ConnectionStrings:IamVet in appsettings.json (in the working directory or next to the tool)");
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
}
