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

    /// <summary><c>host:port</c>, for messages.</summary>
    public string Server => $"{Host}:{Port}";

    /// <summary>The same server and credentials, another database (a scratch copy, the maintenance database).</summary>
    public ConnectionTarget WithDatabase(string database) => new(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Database = database }, Source);

    /// <summary>A fresh copy of the connection settings, for the database layer to specialise.</summary>
    internal NpgsqlConnectionStringBuilder Settings() => new(builder.ConnectionString);

    /// <summary>Parses a connection string given in code (tests, tools), with the same checks as one the operator gives.</summary>
    public static ConnectionTarget Parse(string connectionString, string source = "code") => ConnectionSettings.Parse(connectionString, source);
}
