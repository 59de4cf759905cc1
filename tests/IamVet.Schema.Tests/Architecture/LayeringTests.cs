using System.Text.RegularExpressions;

namespace IamVet.Schema.Tests.Architecture;

/// <summary>
/// The runner's layers, as docs/architecture.md draws them, checked on the source: the commands
/// parse, confirm and print (no database code), the database layer and the backup tools know
/// nothing of the pipeline above them, and the runner names migrations by their type, never by a
/// bare version number.
/// </summary>
[TestFixture]
public sealed partial class LayeringTests
{
    private static readonly string Runner = Path.Combine(ScriptProcess.RepositoryRoot, "src", "IamVet.Schema.Runner");

    [Test]
    public void No_command_under_Cli_references_Npgsql() =>
        Assert.That(FilesMentioning("Cli", "Npgsql"), Is.Empty, "Cli/ parses options, confirms and prints; database work goes through the pipeline and Postgres/");

    [TestCase("Postgres")]
    [TestCase("Backup")]
    public void The_lower_layers_do_not_depend_on_the_pipeline(string folder) =>
        Assert.That(FilesMentioning(folder, "Pipeline", "Cli", "Operations"), Is.Empty, $"{folder}/ is below the pipeline and must not use it");

    [Test]
    public void The_runner_holds_no_bare_migration_version_number() =>
        Assert.That(
            SourceFiles(".").Where(file => VersionNumber().IsMatch(File.ReadAllText(file))).Select(Relative),
            Is.Empty,
            "refer to a migration by its type (Engine/Versions.cs), so a renumbered migration leaves no stale copy");

    [Test]
    public void Only_the_database_layer_builds_a_connection_string() =>
        Assert.That(
            SourceFiles(".").Where(file => !Relative(file).StartsWith("Postgres/", StringComparison.Ordinal) && !Relative(file).StartsWith("Configuration/", StringComparison.Ordinal))
                .Where(file => File.ReadAllText(file).Contains("NpgsqlConnectionStringBuilder", StringComparison.Ordinal))
                .Select(Relative),
            Is.Empty);

    private static IEnumerable<string> SourceFiles(string folder) =>
        Directory.EnumerateFiles(Path.Combine(Runner, folder), "*.cs", SearchOption.AllDirectories)
            .Where(file => !file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                           && !file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    /// <summary>Files of <paramref name="folder"/> whose code (comments left out) names any of <paramref name="words"/>.</summary>
    private static List<string> FilesMentioning(string folder, params string[] words) =>
        SourceFiles(folder)
            .Where(file => File.ReadLines(file)
                .Select(line => line.TrimStart())
                .Where(line => !line.StartsWith("//", StringComparison.Ordinal))
                .Any(line => words.Any(word => Regex.IsMatch(line, $@"\b{word}\b"))))
            .Select(Relative)
            .ToList();

    private static string Relative(string file) => Path.GetRelativePath(Runner, file).Replace(Path.DirectorySeparatorChar, '/');

    [GeneratedRegex(@"\b2025\d{8}\b")]
    private static partial Regex VersionNumber();
}
