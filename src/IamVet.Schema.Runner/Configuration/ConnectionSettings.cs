using System.Data.Common;
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
                $"no connection string: pass --connection \"Host=…;Database=…;Username=…\" or \"postgresql://user@host/database\", set {EnvironmentVariable} (or ConnectionStrings__IamVet), " +
                "or set ConnectionStrings:IamVet in appsettings.json (in the working directory or next to the tool)");
        }

        return Parse(value, source);
    }

    internal static ConnectionTarget Parse(string value, string source)
    {
        NpgsqlConnectionStringBuilder builder;
        if (PostgresUri.IsUri(value))
        {
            try
            {
                builder = PostgresUri.Parse(value);
            }
            catch (ConfigurationException ex)
            {
                throw new ConfigurationException($"malformed connection URI from {source}: {ex.Message}");
            }
        }
        else
        {
            builder = ParseKeywords(value, source);
        }

        if (string.IsNullOrEmpty(builder.Database))
        {
            throw new ConfigurationException(
                $"the connection string from {source} names no database (Database=… or postgresql://…/database): the runner does not guess it");
        }

        return new ConnectionTarget(builder, source);
    }

    /// <summary>
    /// Npgsql's <c>Keyword=Value;…</c>, one pair at a time, so that an error names the keyword and
    /// never a value. Npgsql's own messages echo what it could not read ("Couldn't set …"), which for
    /// a mistyped or unquoted string may be the password.
    /// </summary>
    private static NpgsqlConnectionStringBuilder ParseKeywords(string value, string source)
    {
        var pairs = new DbConnectionStringBuilder();
        try
        {
            pairs.ConnectionString = value;
        }
        catch (ArgumentException)
        {
            throw new ConfigurationException(
                $"malformed connection string from {source}: it is neither Keyword=Value pairs separated by ';' " +
                "(quote a value that contains ';' or '=' in double quotes) nor a postgresql:// URI");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var position = 0;
        foreach (string keyword in pairs.Keys)
        {
            position++;
            if (!builder.ContainsKey(keyword))
            {
                throw new ConfigurationException(
                    $"malformed connection string from {source}: unknown keyword {KeywordName(keyword, position)}: Npgsql's keywords are listed at https://www.npgsql.org/doc/connection-string-parameters.html");
            }

            try
            {
                builder[keyword] = pairs[keyword];
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
            {
                throw new ConfigurationException($"malformed connection string from {source}: the value of {keyword} is not valid");
            }
        }

        return builder;
    }

    /// <summary>The keyword when it looks like one; else its position (a string that is not what it seems may have its password there).</summary>
    private static string KeywordName(string keyword, int position) =>
        keyword.Length is > 0 and <= 40 && keyword.All(c => char.IsAsciiLetterOrDigit(c) || c is ' ' or '_')
            ? $"'{keyword}'"
            : $"(pair {position.ToString(CultureInfo.InvariantCulture)}, which does not look like a keyword)";
}
