using System.Text.RegularExpressions;

namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// The repository's promises about itself: the one-command demo runs end to end, and docs/cli.md
/// is what the runner's --help says now.
/// </summary>
[TestFixture]
public sealed partial class ScriptTests
{
    [Test]
    public async Task The_demo_runs_end_to_end_shows_both_verification_reports_and_drops_its_database()
    {
        // When the demo runs on the test server with a small user count (it builds the runner in Release first)
        var result = await ScriptProcess.RunAsync("scripts/demo.sh", new Dictionary<string, string?>
        {
            ["DEMO_USERS"] = "2000",
            ["IAMVET_DEMO_POSTGRES"] = PostgresServer.AdminConnectionString,
            ["IAMVET_SCHEMA_CONNECTION"] = null,
            // The nested build must not leave MSBuild nodes or a compiler server holding our output pipes open.
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
        }, TimeSpan.FromMinutes(12));

        // Then every step passed, with both verification reports
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var stdout = result.StandardOutput;
        Assert.That(stdout, Does.Contain("demo: every step passed"), result.ToString());
        var database = DemoDatabase().Match(stdout);
        Assert.That(database.Success, Is.True, "the demo's database name is not in its output\n" + result);
        Assert.That(stdout, Does.Contain($"migrate up on {database.Value}").And.Contain($"migrate down on {database.Value}"), result.ToString());
        var up = stdout.IndexOf($"migrate up on {database.Value}", StringComparison.Ordinal);
        var down = stdout.IndexOf($"migrate down on {database.Value}", StringComparison.Ordinal);
        foreach (var (direction, report) in new[] { ("up", stdout[up..down]), ("down", stdout[down..]) })
        {
            Assert.That(VerifyPassed().IsMatch(report), Is.True, $"no passed Verify stage in the migrate {direction} report\n{result}");
            Assert.That(report, Does.Contain($"SUCCESS (exit 0): migrate {direction}: done"), result.ToString());
        }

        // And its database is gone
        await using var connection = new NpgsqlConnection(PostgresServer.AdminConnectionString);
        await connection.OpenAsync();
        await using var exists = new NpgsqlCommand("SELECT EXISTS (SELECT FROM pg_database WHERE datname = @name)", connection);
        exists.Parameters.AddWithValue("name", database.Value);
        Assert.That((bool)(await exists.ExecuteScalarAsync())!, Is.False, $"the demo left its database {database.Value} behind");
    }

    [Test]
    public async Task Cli_reference_in_docs_is_what_the_runner_prints_now()
    {
        var result = await ScriptProcess.RunAsync("scripts/gen-cli-docs.sh", new Dictionary<string, string?>
        {
            ["IAMVET_RUNNER_DLL"] = RunnerProcess.DllPath,
        }, TimeSpan.FromMinutes(3), "--check");

        Assert.That(result.ExitCode, Is.Zero,
            "docs/cli.md is out of date with the runner's --help: run scripts/gen-cli-docs.sh and commit docs/cli.md\n" + result);
    }

    [GeneratedRegex("iamvet_demo_[0-9]+")]
    private static partial Regex DemoDatabase();

    [GeneratedRegex(@"│ Verify\s+│ pass\s+│")]
    private static partial Regex VerifyPassed();
}
