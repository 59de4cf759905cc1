using DotNet.Testcontainers.Configurations;
using Testcontainers.PostgreSql;

namespace IamVet.Schema.Tests;

/// <summary>
/// Owns the PostgreSQL server for the whole test run (root namespace: a SetUpFixture covers only its namespace and below). In order: the admin connection string in
/// <c>IAMVET_TEST_POSTGRES</c> (what scripts/test.sh exports for its throwaway cluster); else a
/// Testcontainers PostgreSQL (production's major, image overridable by
/// <c>IAMVET_TEST_POSTGRES_IMAGE</c>) when a Docker engine answers, started within
/// <c>IAMVET_TEST_POSTGRES_START_TIMEOUT</c> seconds (default 180); else no server, and every
/// database test fails at once with a message saying how to provide one. Never a silent skip.
/// </summary>
[SetUpFixture]
public sealed class PostgresServer
{
    public const string EnvironmentVariable = "IAMVET_TEST_POSTGRES";
    public const string ImageVariable = "IAMVET_TEST_POSTGRES_IMAGE";
    public const string StartTimeoutVariable = "IAMVET_TEST_POSTGRES_START_TIMEOUT";
    private const string DefaultImage = "postgres:17.6-bookworm";

    private const string HowToProvide =
        "Run ./scripts/test.sh (it starts a throwaway local cluster), or export " +
        EnvironmentVariable + "=\"Host=…;Port=…;Username=postgres;Password=…;Database=postgres\" (a superuser on a disposable server), " +
        "or start a Docker engine for Testcontainers.";

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
        (adminConnectionString, unavailableReason) = await DiscoverAsync(
            Environment.GetEnvironmentVariable(EnvironmentVariable),
            () => TestcontainersSettings.OS.DockerEndpointAuthConfig is not null,
            StartContainerAsync,
            StartTimeout());
    }

    /// <summary>How long the Testcontainers path may take to start its server (image pull included): IAMVET_TEST_POSTGRES_START_TIMEOUT seconds, default 180.</summary>
    internal static TimeSpan StartTimeout() =>
        int.TryParse(Environment.GetEnvironmentVariable(StartTimeoutVariable), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0
            ? TimeSpan.FromSeconds(seconds)
            : TimeSpan.FromMinutes(3);

    /// <summary>
    /// The server, in order: <paramref name="fromEnvironment"/>; else a container when
    /// <paramref name="dockerFound"/> (Testcontainers' own endpoint discovery, which answers at once
    /// without an engine), started within <paramref name="startTimeout"/>; else no server, and the
    /// reason says how to provide one. Never waits longer than the timeout.
    /// </summary>
    internal static async Task<(string? ConnectionString, string? Reason)> DiscoverAsync(
        string? fromEnvironment, Func<bool> dockerFound, Func<CancellationToken, Task<string>> startContainer, TimeSpan startTimeout)
    {
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return await CheckReachableAsync(fromEnvironment, EnvironmentVariable);
        }

        if (!dockerFound())
        {
            return (null, $"No PostgreSQL for the database tests: {EnvironmentVariable} is not set and no Docker engine was found. " + HowToProvide);
        }

        using var cancel = new CancellationTokenSource(startTimeout);
        try
        {
            return (await startContainer(cancel.Token).WaitAsync(cancel.Token), null);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            return (null, $"A Docker engine was found but the PostgreSQL container did not start within {startTimeout.TotalSeconds:0} s " +
                          $"({StartTimeoutVariable} sets the limit). " + HowToProvide);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return (null, $"A Docker engine was found but the PostgreSQL container did not start ({ex.Message}). " + HowToProvide);
        }
    }

    private static async Task<string> StartContainerAsync(CancellationToken cancellationToken)
    {
        container = new PostgreSqlBuilder(Environment.GetEnvironmentVariable(ImageVariable) ?? DefaultImage).Build();
        await container.StartAsync(cancellationToken);
        return container.GetConnectionString();
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

    private static async Task<(string? ConnectionString, string? Reason)> CheckReachableAsync(string connectionString, string source)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            return (connectionString, null);
        }
        catch (Exception ex) when (ex is NpgsqlException or ArgumentException or InvalidOperationException)
        {
            return (null, $"{source} is set but PostgreSQL is not reachable with it: {ex.Message}. " +
                          "Fix the connection string or run ./scripts/test.sh.");
        }
    }
}
