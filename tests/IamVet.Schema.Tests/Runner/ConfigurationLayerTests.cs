namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// The configuration layers as an operator meets them, through the built runner: appsettings.json
/// in the working directory, the standard <c>ConnectionStrings__IamVet</c>, <c>IAMVET_SCHEMA_*</c>
/// for a setting, a flag over all of them; <c>status</c> says where each setting came from and never
/// prints the password; a malformed file and a bad size are exit 2 in the operator's words.
/// (The file next to the tool: Operations/ToolPackageTests; each layer in process: Configuration/RunnerConfigurationTests.)
/// </summary>
[TestFixture]
public sealed class ConfigurationLayerTests : RunnerTest
{
    private string Password => new NpgsqlConnectionStringBuilder(Database.ConnectionString).Password ?? "";

    [Test]
    public async Task Status_reads_the_connection_from_appsettings_in_the_working_directory_and_says_so_without_the_password()
    {
        Assume.That(Password, Is.Not.Empty, "the test server's connection string has a password to hide");
        await WriteAppSettingsAsync(new JsonObject
        {
            ["ConnectionStrings"] = new JsonObject { ["IamVet"] = Database.ConnectionString },
            ["IamVetSchema"] = new JsonObject { ["LockTimeout"] = "3s", ["MinFreeSpace"] = "10GB" },
        });

        var status = await RunAsync(WithoutConnection(), "status", "--json");

        Assert.That(status.ExitCode, Is.Zero, status.ToString());
        var settings = JsonNode.Parse(status.StandardOutput)!["settings"]!;
        var file = Path.Combine(WorkDirectory, "appsettings.json");
        Assert.That((string?)settings["connection"]!["source"], Is.EqualTo($"{file} (ConnectionStrings:IamVet)"));
        Assert.That((string?)settings["connection"]!["value"], Does.EndWith($"/{Database.Name}"));
        Assert.That((string?)settings["lock-timeout"]!["value"], Is.EqualTo("3s"));
        Assert.That((string?)settings["min-free-space"]!["value"], Is.EqualTo("10000000000 bytes"));
        Assert.That((string?)settings["min-free-space"]!["source"], Is.EqualTo($"{file} (IamVetSchema:MinFreeSpace)"));
        Assert.That((string?)settings["backup-dir"]!["source"], Is.EqualTo("default"));
        Assert.That(status.Output, Does.Not.Contain(Password), "status printed the password");

        var human = await RunAsync(WithoutConnection(), "status");
        Assert.That(human.ExitCode, Is.Zero, human.ToString());
        Assert.That(human.StandardOutput, Does.Contain("settings").And.Contain("IamVetSchema:LockTimeout").And.Not.Contain(Password), human.ToString());
    }

    [Test]
    public async Task The_standard_ConnectionStrings__IamVet_variable_works_and_IAMVET_SCHEMA_settings_beat_the_file()
    {
        await WriteAppSettingsAsync(new JsonObject
        {
            ["ConnectionStrings"] = new JsonObject { ["IamVet"] = "Host=127.0.0.1;Port=1;Database=not_this_one" },
            ["IamVetSchema"] = new JsonObject { ["LockTimeout"] = "3s", ["RequireIdle"] = true },
        });
        var environment = WithoutConnection();
        environment["ConnectionStrings__IamVet"] = Database.ConnectionString;
        environment["IAMVET_SCHEMA_LOCK_TIMEOUT"] = "4s";

        var status = await RunAsync(environment, "status", "--json");

        Assert.That(status.ExitCode, Is.Zero, status.ToString());
        var settings = JsonNode.Parse(status.StandardOutput)!["settings"]!;
        Assert.That((string?)settings["connection"]!["source"], Is.EqualTo("environment ConnectionStrings__IamVet"));
        Assert.That((string?)settings["lock-timeout"]!["value"], Is.EqualTo("4s"));
        Assert.That((string?)settings["lock-timeout"]!["source"], Is.EqualTo("environment IAMVET_SCHEMA_LOCK_TIMEOUT"));
        Assert.That((string?)settings["require-idle"]!["value"], Is.EqualTo("true"));
    }

    [Test]
    public async Task A_setting_from_the_environment_takes_effect_and_its_flag_overrides_it()
    {
        // Given a legacy database and a free-space requirement no disk meets, set in the environment
        await CreateLegacyDatabaseWithRowsAsync();
        var environment = new Dictionary<string, string?> { ["IAMVET_SCHEMA_MIN_FREE_SPACE"] = "1000000TB" };

        // When check runs with it, it refuses and names the variable
        var refused = await RunAsync(environment, "check");
        Assert.That(refused.ExitCode, Is.EqualTo(3), refused.ToString());
        Assert.That(refused.Output, Does.Contain("not enough free space").And.Contain("set by environment IAMVET_SCHEMA_MIN_FREE_SPACE"), refused.ToString());

        // And the flag wins over it
        var passed = await RunAsync(environment, "check", "--min-free-space", "1KiB");
        Assert.That(passed.ExitCode, Is.Zero, passed.ToString());
    }

    [Test]
    public async Task A_malformed_appsettings_json_is_exit_2_naming_the_file_and_line()
    {
        await File.WriteAllTextAsync(Path.Combine(WorkDirectory, "appsettings.json"), "{\n  \"IamVetSchema\": {\n    \"LockTimeout\": \"3s\"\n    \"BackupDir\": \"b\"\n  }\n}\n");

        foreach (var arguments in new[] { new[] { "status" }, ["migrate", "up", "--yes"] })
        {
            var result = await RunAsync(arguments);

            Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
            Assert.That(result.StandardError, Does.Contain($"malformed configuration file {Path.Combine(WorkDirectory, "appsettings.json")}: line 4"), result.ToString());
        }
    }

    [TestCase("--min-free-space", "lots", "is not a size for --min-free-space")]
    [TestCase("--min-free-space", "10XB", "is not a size for --min-free-space")]
    [TestCase("--lock-timeout", "soon", "is not a duration")]
    public async Task A_bad_size_or_duration_is_exit_2_in_words_without_a_dotnet_type_name(string option, string value, string message)
    {
        var result = await RunAsync("check", option, value);

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain(message), result.ToString());
        Assert.That(result.Output, Does.Not.Contain("System.").And.Not.Contain("Nullable"), result.ToString());
    }

    [Test]
    public async Task A_bad_value_in_the_environment_is_exit_2_naming_the_variable()
    {
        var result = await RunAsync(new Dictionary<string, string?> { ["IAMVET_SCHEMA_STATEMENT_TIMEOUT"] = "forever" }, "check");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("environment IAMVET_SCHEMA_STATEMENT_TIMEOUT: 'forever' is not valid for --statement-timeout"), result.ToString());
    }

    private static Dictionary<string, string?> WithoutConnection() => new() { [ConnectionSettings.EnvironmentVariable] = null };

    private Task WriteAppSettingsAsync(JsonObject settings) =>
        File.WriteAllTextAsync(Path.Combine(WorkDirectory, "appsettings.json"), settings.ToJsonString());
}
