namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// The runner as a .NET tool, the way README and the runbook install it: <c>dotnet pack</c> of a
/// copy of the sources (its own obj/ and bin/, so no other build of the checkout is disturbed),
/// <c>dotnet tool install --tool-path</c> from that folder alone (a nuget.config with only it: no
/// registry is asked), then the installed command from an unrelated directory: <c>--version</c>
/// (the version counted from the copy's own git history, and its commit), <c>dotnet tool update</c>
/// to the build of a later commit,
/// the runtimeconfig option kept, <c>appsettings.json</c> next to the tool read, <c>check</c>,
/// <c>migrate up</c> and <c>migrate down</c> on a throwaway legacy database.
/// </summary>
[TestFixture]
public sealed class ToolPackageTests : RunnerTest
{
    private static readonly TimeSpan PackTimeout = TimeSpan.FromMinutes(10);

    private string root = null!;
    private string toolPath = null!;
    private string anyDirectory = null!;

    private string sources = null!;
    private string artifacts = null!;
    private string config = null!;
    private string firstCommit = null!;

    private string Tool => Path.Combine(toolPath, "iamvet-schema");

    [OneTimeSetUp]
    public async Task PackAndInstall()
    {
        root = Directory.CreateTempSubdirectory("iamvet-tool-").FullName;
        sources = Path.Combine(root, "checkout");
        CopySources(ScriptProcess.RepositoryRoot, sources);
        await CommitAsync("git", "init", "-q");
        await CommitAsync("git", "add", "-A");
        await CommitAsync("git", "commit", "-q", "-m", "the sources as they are");
        firstCommit = await HeadAsync();
        artifacts = Path.Combine(root, "artifacts");
        toolPath = Path.Combine(root, "tools");
        anyDirectory = Directory.CreateDirectory(Path.Combine(root, "elsewhere")).FullName;

        var clock = Stopwatch.StartNew();
        await PackAsync();
        Assert.That(Directory.GetFiles(artifacts, "*.nupkg").Select(Path.GetFileName), Is.EqualTo(new[] { $"iamvet-schema.{FirstVersion}.nupkg" }),
            "one package, the tool's, versioned by the one commit of its history: the migrations travel inside it, the tests are not packable");
        TestContext.Progress.WriteLine($"ToolPackageTests: dotnet pack took {clock.Elapsed.TotalSeconds:0.0} s");

        config = Path.Combine(root, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="artifacts" value="{artifacts}" />
              </packageSources>
            </configuration>
            """);
        clock.Restart();
        var install = await RunAsync("dotnet", anyDirectory, TimeSpan.FromMinutes(3),
            "tool", "install", "--tool-path", toolPath, "--configfile", config, "--add-source", artifacts, "iamvet-schema");
        Assert.That(install.ExitCode, Is.Zero, "dotnet tool install failed\n" + install);
        TestContext.Progress.WriteLine($"ToolPackageTests: dotnet tool install took {clock.Elapsed.TotalSeconds:0.0} s");
    }

    [OneTimeTearDown]
    public void RemoveTheToolAndItsPackage()
    {
        if (root is not null && Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Test]
    public async Task The_installed_tool_prints_its_version_anywhere_and_keeps_the_runtimeconfig_option()
    {
        var version = await RunToolAsync(anyDirectory, new Dictionary<string, string?>(), "--version");

        Assert.That(version.ExitCode, Is.Zero, version.ToString());
        Assert.That(version.StandardOutput.Trim(), Is.EqualTo($"{FirstVersion}+{firstCommit[..10]}"), "the version from git and the commit it was built from\n" + version);

        var runtimeConfig = Directory.GetFiles(Path.Combine(toolPath, ".store"), "iamvet-schema.runtimeconfig.json", SearchOption.AllDirectories);
        Assert.That(runtimeConfig, Has.Length.EqualTo(1));
        var options = JsonNode.Parse(await File.ReadAllTextAsync(runtimeConfig[0]))!["runtimeOptions"]!["configProperties"]!;
        Assert.That((int?)options["System.Runtime.TieredCompilation.CallCountThreshold"], Is.EqualTo(10000),
            "the csproj's RuntimeHostConfigurationOption must reach the installed tool");
    }

    [Test]
    public async Task The_installed_tool_reads_appsettings_next_to_it_and_checks_migrates_up_and_back_down()
    {
        // Given a legacy database, named only in an appsettings.json next to the installed command
        await CreateLegacyDatabaseWithRowsAsync();
        var settingsFile = Path.Combine(toolPath, "appsettings.json");
        await File.WriteAllTextAsync(settingsFile, new JsonObject { ["ConnectionStrings"] = new JsonObject { ["IamVet"] = Database.ConnectionString } }.ToJsonString());
        try
        {
            var noConnection = new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = null };

            // When status, check, migrate up and migrate down run from an unrelated directory
            var status = await RunToolAsync(anyDirectory, noConnection, "status", "--json");
            Assert.That(status.ExitCode, Is.Zero, status.ToString());
            Assert.That((string?)JsonNode.Parse(status.StandardOutput)!["settings"]!["connection"]!["source"], Is.EqualTo($"{settingsFile} (ConnectionStrings:IamVet)"), status.ToString());

            var check = await RunToolAsync(anyDirectory, noConnection, "check");
            Assert.That(check.ExitCode, Is.Zero, check.ToString());

            var up = await RunToolAsync(anyDirectory, noConnection, "migrate", "up", "--yes", "--backup-dir", BackupDirectory);
            Assert.That(up.ExitCode, Is.Zero, up.ToString());
            Assert.That(await AppliedAsync(), Does.Contain(Versions.SplitUsers), "migrate up did not reach the last expand migration");

            var down = await RunToolAsync(anyDirectory, noConnection, "migrate", "down", "--yes", "--no-backup");
            Assert.That(down.ExitCode, Is.Zero, down.ToString());

            // Then the database is back at the legacy baseline
            Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }));
            Assert.That(BackupFiles(), Is.Not.Empty, "migrate up's backup went to --backup-dir");
        }
        finally
        {
            File.Delete(settingsFile);
        }
    }

    [Test]
    public async Task Dotnet_tool_update_installs_the_build_of_a_later_commit()
    {
        // Given the first build installed in a tool path of its own, and a later commit packed beside it
        var updated = Path.Combine(root, "tools-updated");
        var install = await RunAsync("dotnet", anyDirectory, TimeSpan.FromMinutes(3),
            "tool", "install", "--tool-path", updated, "--configfile", config, "--add-source", artifacts, "--version", FirstVersion, "iamvet-schema");
        Assert.That(install.ExitCode, Is.Zero, "dotnet tool install failed\n" + install);
        await CommitAsync("git", "commit", "-q", "--allow-empty", "-m", "a later commit");
        await PackAsync();

        // When the tool is updated the way docs/cli.md says
        var update = await RunAsync("dotnet", anyDirectory, TimeSpan.FromMinutes(3),
            "tool", "update", "--tool-path", updated, "--configfile", config, "--add-source", artifacts, "iamvet-schema");
        var version = await RunAsync(Path.Combine(updated, "iamvet-schema"), anyDirectory, RunnerProcess.Timeout, "--version");

        // Then the later build is installed, and says which commit it is
        Assert.That(update.ExitCode, Is.Zero, "dotnet tool update failed\n" + update);
        Assert.That(version.StandardOutput.Trim(), Is.EqualTo($"0.1.2+{(await HeadAsync())[..10]}"), version.ToString());
    }

    /// <summary>
    /// The version of the copy's first build: version.json's 0.1, and 1 for the one commit since
    /// version.json's version was set (Nerdbank.GitVersioning's height).
    /// </summary>
    private const string FirstVersion = "0.1.1";

    private async Task PackAsync()
    {
        var pack = await RunAsync("dotnet", sources, PackTimeout, "pack", "src/IamVet.Schema.Runner", "-c", "Release", "-o", artifacts, "-nologo");
        Assert.That(pack.ExitCode, Is.Zero, "dotnet pack failed\n" + pack);
    }

    /// <summary>A git command in the copy of the sources, as a committer of its own.</summary>
    private async Task CommitAsync(params string[] arguments)
    {
        var git = await RunAsync(arguments[0], sources, TimeSpan.FromMinutes(1),
            ["-c", "user.name=iamvet-tests", "-c", "user.email=tests@iamvet.invalid", .. arguments[1..]]);
        Assert.That(git.ExitCode, Is.Zero, git.ToString());
    }

    private async Task<string> HeadAsync() =>
        (await RunAsync("git", sources, TimeSpan.FromMinutes(1), "rev-parse", "HEAD")).StandardOutput.Trim();

    private Task<RunnerResult> RunToolAsync(string workingDirectory, IReadOnlyDictionary<string, string?> environment, params string[] arguments) =>
        RunAsync(Tool, workingDirectory, RunnerProcess.Timeout, environment, arguments);

    private static Task<RunnerResult> RunAsync(string fileName, string workingDirectory, TimeSpan timeout, params string[] arguments) =>
        RunAsync(fileName, workingDirectory, timeout, new Dictionary<string, string?>(), arguments);

    private static async Task<RunnerResult> RunAsync(string fileName, string workingDirectory, TimeSpan timeout, IReadOnlyDictionary<string, string?> environment, params string[] arguments)
    {
        // A nested build must not leave MSBuild nodes or a compiler server holding our pipes open.
        var nested = new Dictionary<string, string?>
        {
            ["MSBUILDDISABLENODEREUSE"] = "1",
            ["UseSharedCompilation"] = "false",
            ["DOTNET_NOLOGO"] = "1",
        };
        foreach (var (key, value) in environment)
        {
            nested[key] = value;
        }

        using var process = RunnerProcess.StartCommand(fileName, arguments, workingDirectory, RunnerProcess.WithoutConnection(nested), $"{fileName} {string.Join(' ', arguments)}");
        return await process.WaitAsync(timeout);
    }

    /// <summary>What a clean checkout holds for building the runner: the root build files and src/, without bin/ and obj/.</summary>
    private static void CopySources(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json", ".editorconfig", "README.md", "version.json" })
        {
            File.Copy(Path.Combine(from, file), Path.Combine(to, file));
        }

        CopyTree(Path.Combine(from, "src"), Path.Combine(to, "src"));
    }

    private static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }

        foreach (var directory in Directory.GetDirectories(from).Where(d => Path.GetFileName(d) is not ("bin" or "obj")))
        {
            CopyTree(directory, Path.Combine(to, Path.GetFileName(directory)));
        }
    }
}
