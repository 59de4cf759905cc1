using DotNet.Testcontainers.Configurations;

namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// How the suite finds its PostgreSQL (PostgresServer): with no server given and no Docker engine
/// it says at once how to provide one, and a Docker engine that does not start the container in
/// time is given up on after the limit, with the same advice. Never a long silent wait.
/// </summary>
[TestFixture]
public sealed class TestServerDiscoveryTests
{
    [Test]
    public async Task Without_a_server_or_a_Docker_engine_the_explanation_comes_at_once_and_says_how_to_provide_one()
    {
        var clock = Stopwatch.StartNew();
        var (connection, reason) = await PostgresServer.DiscoverAsync(null, () => false,
            _ => throw new AssertionException("no container may be started without a Docker engine"), TimeSpan.FromMinutes(3));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
        Assert.That(connection, Is.Null);
        Assert.That(reason, Does.Contain("IAMVET_TEST_POSTGRES is not set and no Docker engine was found")
            .And.Contain("./scripts/test.sh").And.Contain("export IAMVET_TEST_POSTGRES=").And.Contain("Docker engine for Testcontainers"));
    }

    [Test]
    public async Task A_container_that_does_not_start_in_time_is_given_up_on_with_the_same_advice()
    {
        var clock = Stopwatch.StartNew();
        var (connection, reason) = await PostgresServer.DiscoverAsync(null, () => true,
            async cancel => { await Task.Delay(Timeout.Infinite, cancel); return "never"; }, TimeSpan.FromSeconds(1));

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
        Assert.That(connection, Is.Null);
        Assert.That(reason, Does.Contain("did not start within 1 s").And.Contain(PostgresServer.StartTimeoutVariable).And.Contain("./scripts/test.sh"));
    }

    [Test]
    public void Looking_for_a_Docker_engine_takes_no_time_whether_or_not_one_is_there()
    {
        var clock = Stopwatch.StartNew();
        _ = TestcontainersSettings.OS.DockerEndpointAuthConfig;

        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "Testcontainers' endpoint discovery is what the suite waits on before it can explain");
    }
}
