namespace IamVet.Schema.Tests.Runner;

/// <summary><c>--json</c>: one JSON document on stdout and nothing else, whatever the outcome, so scripts can parse it.</summary>
[TestFixture]
public sealed class JsonOutputTests : RunnerTest
{
    [TestCase(false, 0, "SUCCESS", "migrate", "up", "--yes", "--json", "--create-legacy-schema", TestName = "Json_of_a_successful_migrate_up_is_the_only_thing_on_stdout")]
    [TestCase(true, 3, "REFUSED", "migrate", "up", "--yes", "--json", TestName = "Json_of_a_refused_migrate_up_is_the_only_thing_on_stdout")]
    [TestCase(false, 0, "SUCCESS", "check", "--json", "--create-legacy-schema", TestName = "Json_of_check_is_the_only_thing_on_stdout")]
    public async Task Json_output_parses_and_carries_exit_code_status_and_stages(bool legacyWithoutHistory, int exitCode, string status, params string[] arguments)
    {
        if (legacyWithoutHistory)
        {
            await CreateLegacyDatabaseWithoutHistoryAsync();
        }

        var result = await RunAsync(arguments);

        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(result.StandardOutput);
        }
        catch (JsonException ex)
        {
            Assert.Fail($"stdout is not one JSON document ({ex.Message}):\n{result}");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            Assert.That(root.GetProperty("exitCode").GetInt32(), Is.EqualTo(exitCode), result.ToString());
            Assert.That(root.GetProperty("status").GetString(), Is.EqualTo(status), result.ToString());
            var stages = root.GetProperty("stages").EnumerateArray().ToList();
            Assert.That(stages, Is.Not.Empty, result.ToString());
            Assert.That(stages.Select(s => s.GetProperty("stage").GetString()), Does.Contain("Lock").And.Contain("Pre-flight"), result.ToString());
            Assert.That(stages.All(s => s.TryGetProperty("status", out _) && s.TryGetProperty("durationMs", out _)), Is.True, result.ToString());
        }
    }
}
