using System.Net.Sockets;
using System.Security.Authentication;
using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// A connection a timeout set on the database or the role ended as it connected, before the runner
/// could set its own (<see cref="ConnectionErrors.IsEndedByATimeoutAtConnect"/>): a refusal (exit 3)
/// naming the setting, whichever connection of the run it was, never an unexpected error.
/// </summary>
public sealed class ConnectRefused(string message, Exception inner) : Exception(message, inner);

/// <summary>Turns a failed connection attempt into one specific sentence (never including the password).</summary>
public static class ConnectionErrors
{
    /// <summary>Whether <paramref name="exception"/>, thrown while connecting, is a database's or role's timeout ending the connection before the runner's settings.</summary>
    public static bool IsEndedByATimeoutAtConnect(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.IdleSessionTimeout or "25P03" };

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
                $"the connection to \"{target.Host}\" goes through a connection pooler (PgBouncer or similar): it refused a startup parameter of the connection string " +
                $"({pg.MessageText}), which PostgreSQL itself accepts: remove it (Options) from the connection string, the runner sets its own settings once connected. " +
                "Behind a pooler, connect directly or through one in session mode: on Neon use the direct endpoint, the host without \"-pooler\"",
            PostgresException { SqlState: PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.IdleSessionTimeout or "25P03" } pg =>
                $"a timeout set on the database or the role ended the connection to {where} as it connected, before the runner could set its own ({pg.MessageText}): " +
                "Npgsql's first query (the server's types) ran into statement_timeout or the session idled past idle_session_timeout. " +
                "Raise or RESET it for the runner's role (ALTER ROLE … IN DATABASE … SET statement_timeout = 0); the runner sets its own timeouts once connected",
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
