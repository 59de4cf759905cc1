using IamVet.Schema.Runner.Pipeline;
using IamVet.Schema.Runner.Postgres;
using Npgsql;

namespace IamVet.Schema.Runner.Cli;

/// <summary>Opens a connection for a read-only command, turning a failed connection into a refusal (exit 3) with one clear sentence.</summary>
public static class ReadOnlyConnection
{
    public static async Task<NpgsqlConnection> OpenAsync(NpgsqlConnectionStringBuilder target, string role, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(ConnectionString(target, role));
        try
        {
            await connection.OpenAsync(cancellationToken);
            return connection;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new PreflightFailed(ConnectionErrors.Describe(ex, target), ex);
        }
    }

    /// <summary>The connection string of a read-only command's connection for <paramref name="role"/>.</summary>
    public static string ConnectionString(NpgsqlConnectionStringBuilder target, string role) =>
        new NpgsqlConnectionStringBuilder(target.ConnectionString) { ApplicationName = $"iamvet-schema {role}", Pooling = false, CommandTimeout = 0 }.ConnectionString;
}
