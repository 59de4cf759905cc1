using Npgsql;

namespace IamVet.Schema.Runner.Configuration;

/// <summary>
/// The database the operator named, resolved once from wherever it came from (see
/// <see cref="ConnectionSettings"/>): its connection string, which only the database layer
/// (<see cref="Postgres.MigrationDatabase"/>) reads, and what may be shown of it — never the password.
/// </summary>
public sealed class ConnectionTarget
{
    private readonly NpgsqlConnectionStringBuilder builder;

    internal ConnectionTarget(NpgsqlConnectionStringBuilder builder, string source)
    {
        this.builder = builder;
        Source = source;
    }

    /// <summary>Where the connection string came from (<c>--connection</c>, an environment variable, appsettings).</summary>
    public string Source { get; }

    public string Database => builder.Database!;

    public string? Host => builder.Host;

    public int Port => builder.Port;

    public string? Username => builder.Username;

    /// <summary><c>user@host:port/database</c>: what may be shown of the connection (never the password).</summary>
    public string Display => $"{Username}@{Server}/{Database}";

    /// <summary><c>host:port</c> (several, separated by <c>,</c>, when the connection names several hosts), for messages.</summary>
    public string Server => Endpoints.Count == 0
        ? $"{Host}:{Port}"
        : string.Join(',', Endpoints.Select(e => e.Host.Contains(':', StringComparison.Ordinal) ? $"[{e.Host}]:{e.Port}" : $"{e.Host}:{e.Port}"));

    /// <summary>
    /// The hosts in the order they are tried, each with its port: Npgsql's <c>Host</c> list
    /// (<c>host[:port],…</c>, IPv6 in brackets) with <see cref="Port"/> where a host has none.
    /// </summary>
    public IReadOnlyList<(string Host, int Port)> Endpoints =>
        string.IsNullOrEmpty(builder.Host)
            ? []
            : builder.Host.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(Endpoint).ToList();

    private (string Host, int Port) Endpoint(string item)
    {
        // As Npgsql splits them: a port after the last ':' unless that ':' is inside an unbracketed IPv6 address.
        var colon = item.LastIndexOf(':');
        var bracket = item.LastIndexOf(']');
        var bracketed = item.StartsWith('[') && bracket > 0;
        if (colon > bracket && (bracketed || item.IndexOf(':', StringComparison.Ordinal) == colon)
            && int.TryParse(item.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
        {
            return (bracketed ? item[1..bracket] : item[..colon], port);
        }

        return (bracketed ? item[1..bracket] : item, Port);
    }

    /// <summary>The same server and credentials, another database (a scratch copy, the maintenance database).</summary>
    public ConnectionTarget WithDatabase(string database) => new(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database }, Source);

    /// <summary>A fresh copy of the connection settings, for the database layer to specialise.</summary>
    internal NpgsqlConnectionStringBuilder Settings() => new(builder.ConnectionString);

    /// <summary>Parses a connection string given in code (tests, tools), with the same checks as one the operator gives.</summary>
    public static ConnectionTarget Parse(string connectionString, string source = "code") => ConnectionSettings.Parse(connectionString, source);
}
