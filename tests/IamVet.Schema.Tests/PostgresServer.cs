using DotNet.Testcontainers.Configurations;
using Testcontainers.PostgreSql;

namespace IamVet.Schema.Tests;

/// <summary>
/// Owns the PostgreSQL server for the whole test run (root namespace: a SetUpFixture covers only its namespace and below). In order: the admin connection string in
/// <c>IAMVET_TEST_POSTGRES</c> (what scripts/test.sh exports for its throwaway cluster); else a
/// Testcontainers PostgreSQL (production's major, image overridable by
/// <c>IAMVET_TEST_POSTGRES_IMAGE</c>) when a Docker engine answers; else no server, and every
/// database test fails with a message saying how to provide one. Never a silent skip.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    public const string EnvironmentVariable = "IAMVET_TEST_POSTGRES";
    public const string ImageVariable = "IAMVET_TEST_POSTGRES_IMAGE";
    private const string DefaultImage = "postgres:17.6-bookworm";

    private static PostgreSqlContainer? container;
    private static string? adminConnectionString;
    private static string? unavailableReason;

    /// <summary>The admin connection string (database "postgres"); fails the calling test when there is no server.</summary>
    public static string AdminConnectionString
    {
        get
        {
            if (adminConnectionString is null)
            {
                Assert.Fail(unavailableReason ?? "PostgreSQL server not initialized");
            }

            return adminConnectionString!;
        }
    }

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            adminConnectionString = await CheckReachableAsync(fromEnvironment, $"{EnvironmentVariable}");
            return;
        }

        // Testcontainers' own endpoint discovery: null when no Docker engine is configured or found.
        if (TestcontainersSettings.OS.DockerEndpointAuthConfig is null)
        {
            unavailableReason =
                $"No PostgreSQL for the database tests: {EnvironmentVariable} is not set and no Docker engine was found. " +
                "Run ./scripts/test.sh (it starts a throwaway local cluster), or export " +
                $"{EnvironmentVariable}=\"Host=…;Port=…;Username=postgres;Password=…;Database=postgres\" (a superuser on a disposable server), " +
                "or start a Docker engine for Testcontainers.";
            return;
        }

        try
        {
            container = new PostgreSqlBuilder(Environment.GetEnvironmentVariable(ImageVariable) ?? DefaultImage).Build();
            await container.StartAsync();
            adminConnectionString = container.GetConnectionString();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            unavailableReason = $"Docker engine found but the PostgreSQL container did not start ({ex.Message}). " +
                                $"Set {EnvironmentVariable} or run ./scripts/test.sh instead.";
        }
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (container is not null)
        {
            await container.DisposeAsync();
        }
    }

    private static async Task<string?> CheckReachableAsync(string connectionString, string source)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            return connectionString;
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            unavailableReason = $"{source} is set but PostgreSQL is not reachable with it: {ex.Message}. " +
                                "Fix the connection string or run ./scripts/test.sh.";
            return null;
        }
    }
}
