using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>Turns a failed connection attempt into one specific sentence (never including the password).</summary>
public static class ConnectionErrors
{
    public static string Describe(Exception exception, NpgsqlConnectionStringBuilder target)
    {
        var where = $"{target.Host}:{target.Port}/{target.Database} as {target.Username ?? "(default user)"}";
        return exception switch
        {
            PostgresException { SqlState: PostgresErrorCodes.InvalidPassword } =>
                $"authentication failed for user \"{target.Username}\" at {target.Host}:{target.Port} (wrong password?)",
            PostgresException { SqlState: PostgresErrorCodes.InvalidAuthorizationSpecification } pg =>
                $"the server refused the login at {where}: {pg.MessageText}",
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } =>
                $"database \"{target.Database}\" does not exist on {target.Host}:{target.Port}",
            PostgresException { SqlState: PostgresErrorCodes.TooManyConnections } pg =>
                $"the server has no free connection slots: {pg.MessageText}",
            PostgresException { SqlState: PostgresErrorCodes.ProtocolViolation } pg when pg.MessageText.Contains("unsupported startup parameter", StringComparison.OrdinalIgnoreCase) =>
                $"the connection to \"{target.Host}\" goes through a connection pooler (PgBouncer or similar): it refused the runner's session settings " +
                $"({pg.MessageText}), which PostgreSQL itself accepts; the runner needs a server session of its own (the migration lock, lock_timeout/statement_timeout). " +
                "Connect directly: on Neon use the direct endpoint, the host without \"-pooler\"",
            PostgresException pg => $"PostgreSQL refused the connection to {where}: {pg.MessageText}",
            NpgsqlException { InnerException: AuthenticationException tls } =>
                $"the TLS handshake with {target.Host}:{target.Port} failed: the server's certificate was not accepted under SSL mode {target.SslMode} " +
                $"({tls.Message.TrimEnd('.')}). Check that sslrootcert (Root Certificate) names the CA that signed it and that the certificate names the host you connect to",
            NpgsqlException { InnerException: SocketException socket } =>
                $"cannot reach PostgreSQL at {target.Host}:{target.Port}: {socket.SocketErrorCode}",
            NpgsqlException { InnerException: TimeoutException } or TimeoutException =>
                $"timed out connecting to PostgreSQL at {target.Host}:{target.Port}",
            NpgsqlException npgsql => $"cannot connect to {where}: {npgsql.Message}",
            _ => $"cannot connect to {where}: {exception.Message}",
        };
    }
}
