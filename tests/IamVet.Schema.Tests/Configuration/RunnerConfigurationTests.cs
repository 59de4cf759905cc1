using System.Collections;

namespace IamVet.Schema.Tests.Configuration;

/// <summary>
/// The configuration layers in process, one temporary folder for "next to the tool" and one for the
/// working directory, and an environment of the test's own: later wins (tool folder, working
/// directory, .NET environment names, IAMVET_SCHEMA_*, flag), a malformed file names itself and its
/// line, and sizes and durations take units. The runner-as-a-process side is in
/// Runner/ConfigurationLayerTests and Operations/ToolPackageTests.
/// </summary>
[TestFixture]
public sealed class RunnerConfigurationTests
{
    private string toolDirectory = null!;
    private string workDirectory = null!;

    [SetUp]
    public void CreateDirectories()
    {
        toolDirectory = Directory.CreateTempSubdirectory("iamvet-config-tool-").FullName;
        workDirectory = Directory.CreateTempSubdirectory("iamvet-config-cwd-").FullName;
    }

    [TearDown]
    public void DeleteDirectories()
    {
        Directory.Delete(toolDirectory, recursive: true);
        Directory.Delete(workDirectory, recursive: true);
    }

    [Test]
    public void Nothing_configured_leaves_every_setting_to_its_default()
    {
        var configuration = Load();

        Assert.That(Setting.All.Select(configuration.Find), Is.All.Null);
        Assert.That(configuration.ResolveDuration(Setting.LockTimeout, TimeSpan.Zero, flagGiven: false, TimeSpan.FromSeconds(10)),
            Is.EqualTo(new Resolved<TimeSpan>(TimeSpan.FromSeconds(10), "default")));
    }

    [Test]
    public void A_file_next_to_the_tool_is_read()
    {
        Write(toolDirectory, """{ "IamVetSchema": { "LockTimeout": "45s" }, "ConnectionStrings": { "IamVet": "Host=tool;Database=d" } }""");

        var configuration = Load();

        var lockTimeout = configuration.ResolveDuration(Setting.LockTimeout, TimeSpan.Zero, false, TimeSpan.FromSeconds(10));
        Assert.That(lockTimeout.Value, Is.EqualTo(TimeSpan.FromSeconds(45)));
        Assert.That(lockTimeout.Source, Is.EqualTo($"{Path.Combine(toolDirectory, "appsettings.json")} (IamVetSchema:LockTimeout)"));
        Assert.That(ConnectionSettings.Resolve(null, configuration).Host, Is.EqualTo("tool"));
    }

    [Test]
    public void The_working_directory_beats_the_tool_folder_and_the_environment_file_beats_its_plain_file()
    {
        Write(toolDirectory, """{ "IamVetSchema": { "LockTimeout": "45s", "BackupDir": "/tool/backups", "StatementTimeout": "1m" } }""");
        Write(workDirectory, """{ "IamVetSchema": { "LockTimeout": "20s", "BackupDir": "/cwd/backups" } }""");
        Write(workDirectory, """{ "IamVetSchema": { "BackupDir": "/cwd/staging-backups" } }""", "appsettings.Staging.json");

        var configuration = Load(new() { ["DOTNET_ENVIRONMENT"] = "Staging" });

        Assert.That(configuration.Find(Setting.LockTimeout)!.Text, Is.EqualTo("20s"));
        Assert.That(configuration.Find(Setting.BackupDirectory)!.Text, Is.EqualTo("/cwd/staging-backups"));
        Assert.That(configuration.Find(Setting.StatementTimeout)!.Text, Is.EqualTo("1m"), "a key only the tool's file has still counts");
        Assert.That(configuration.Files, Is.EqualTo(new[]
        {
            Path.Combine(toolDirectory, "appsettings.json"), Path.Combine(workDirectory, "appsettings.json"), Path.Combine(workDirectory, "appsettings.Staging.json"),
        }));
    }

    [Test]
    public void The_environment_beats_the_files_and_IAMVET_SCHEMA_beats_the_standard_dotnet_names()
    {
        Write(workDirectory, """{ "ConnectionStrings": { "IamVet": "Host=file;Database=d" }, "IamVetSchema": { "MinFreeSpace": "1GB" } }""");

        var standard = Load(new() { ["ConnectionStrings__IamVet"] = "Host=standard;Database=d", ["IamVetSchema__MinFreeSpace"] = "2GB" });
        Assert.That(ConnectionSettings.Resolve(null, standard).Host, Is.EqualTo("standard"));
        Assert.That(ConnectionSettings.Resolve(null, standard).Source, Is.EqualTo("environment ConnectionStrings__IamVet"));
        Assert.That(standard.ResolveSize(Setting.MinFreeSpace, null, false), Is.EqualTo(new Resolved<long?>(2_000_000_000, "environment IamVetSchema__MinFreeSpace")));

        var ours = Load(new()
        {
            ["ConnectionStrings__IamVet"] = "Host=standard;Database=d", ["IAMVET_SCHEMA_CONNECTION"] = "Host=ours;Database=d",
            ["IamVetSchema__MinFreeSpace"] = "2GB", ["IAMVET_SCHEMA_MIN_FREE_SPACE"] = "3GiB",
        });
        Assert.That(ConnectionSettings.Resolve(null, ours).Host, Is.EqualTo("ours"));
        Assert.That(ours.ResolveSize(Setting.MinFreeSpace, null, false), Is.EqualTo(new Resolved<long?>(3L << 30, "environment IAMVET_SCHEMA_MIN_FREE_SPACE")));
    }

    [Test]
    public void A_flag_beats_everything()
    {
        Write(workDirectory, """{ "IamVetSchema": { "RequireIdle": true, "LockTimeout": "20s" }, "ConnectionStrings": { "IamVet": "Host=file;Database=d" } }""");
        var configuration = Load(new() { ["IAMVET_SCHEMA_LOCK_TIMEOUT"] = "30s", ["IAMVET_SCHEMA_CONNECTION"] = "Host=env;Database=d" });

        Assert.That(configuration.ResolveDuration(Setting.LockTimeout, TimeSpan.FromSeconds(2), flagGiven: true, TimeSpan.FromSeconds(10)),
            Is.EqualTo(new Resolved<TimeSpan>(TimeSpan.FromSeconds(2), "--lock-timeout")));
        Assert.That(configuration.ResolveBoolean(Setting.RequireIdle, false, flagGiven: true), Is.EqualTo(new Resolved<bool>(false, "--require-idle")));
        Assert.That(configuration.ResolveBoolean(Setting.RequireIdle, false, flagGiven: false).Value, Is.True);
        Assert.That(ConnectionSettings.Resolve("Host=flag;Database=d", configuration).Source, Is.EqualTo("--connection"));
    }

    [Test]
    public void Every_setting_has_a_variable_named_after_its_flag()
    {
        foreach (var setting in Setting.All.Where(s => s != Setting.Connection))
        {
            var variable = "IAMVET_SCHEMA_" + setting.Flag.TrimStart('-').Replace('-', '_').ToUpperInvariant();
            Assert.That(setting.EnvironmentVariable, Is.EqualTo(variable));
            Assert.That(Load(new() { [variable] = "1" }).Find(setting), Is.EqualTo(new SettingValue("1", $"environment {variable}")));
        }
    }

    [Test]
    public void A_malformed_file_names_itself_and_its_line_without_echoing_values()
    {
        Write(workDirectory, "{\n  \"ConnectionStrings\": { \"IamVet\": \"Host=x;Password=NotEchoed-7;Database=d\" }\n  \"IamVetSchema\": {}\n}\n");

        var error = Assert.Throws<ConfigurationException>(() => Load());

        Assert.That(error!.Message, Does.Contain(Path.Combine(workDirectory, "appsettings.json")).And.Contain("line 3"));
        Assert.That(error.Message, Does.Not.Contain("NotEchoed-7"));
    }

    [Test]
    public void A_value_that_does_not_parse_names_where_it_came_from()
    {
        var configuration = Load(new() { ["IAMVET_SCHEMA_MIN_FREE_SPACE"] = "lots" });

        var error = Assert.Throws<ConfigurationException>(() => configuration.ResolveSize(Setting.MinFreeSpace, null, false));

        Assert.That(error!.Message, Does.StartWith("environment IAMVET_SCHEMA_MIN_FREE_SPACE: 'lots' is not valid for --min-free-space").And.Contain("10GB"));
    }

    [TestCase("0", 0L)]
    [TestCase("1234", 1234L)]
    [TestCase("500B", 500L)]
    [TestCase("10GB", 10_000_000_000L)]
    [TestCase("10 gb", 10_000_000_000L)]
    [TestCase("1.5KB", 1500L)]
    [TestCase("500MiB", 500L * 1024 * 1024)]
    [TestCase("2TiB", 2L << 40)]
    [TestCase("3kib", 3072L)]
    public void Sizes_take_decimal_and_binary_units(string text, long bytes)
    {
        Assert.That(SettingValues.TryParseSize(text, out var parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(bytes));
    }

    [TestCase("")]
    [TestCase("-1")]
    [TestCase("10XB")]
    [TestCase("GB")]
    [TestCase("99999999999TB")]
    public void Sizes_refuse_what_is_not_one(string text) =>
        Assert.That(SettingValues.TryParseSize(text, out _), Is.False);

    [TestCase("10s", 10_000)]
    [TestCase("500ms", 500)]
    [TestCase("2m", 120_000)]
    [TestCase("1h", 3_600_000)]
    [TestCase("7", 7_000)]
    public void Durations_parse_the_same_from_a_file_as_from_a_flag(string text, int milliseconds)
    {
        Assert.That(SettingValues.TryParseDuration(text, out var parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.That(SettingValues.TryParseDuration(SettingValues.FormatDuration(parsed), out var again) && again == parsed, Is.True, "formatted durations parse back");
    }

    private RunnerConfiguration Load(Dictionary<string, string>? environment = null) =>
        RunnerConfiguration.Load([toolDirectory], workDirectory, new Hashtable(environment ?? []));

    private static void Write(string directory, string json, string name = "appsettings.json") =>
        File.WriteAllText(Path.Combine(directory, name), json);
}
