namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// What a run leaves for the operator besides its exit code: the Markdown report next to the
/// backup (for the change ticket), and progress that never gets in the way of the output
/// (plain lines on stderr when redirected, nothing at all under --json).
/// </summary>
[TestFixture]
public sealed class RunOutputTests : OperationsTest
{
    [Test]
    public async Task Migrate_up_writes_a_markdown_report_next_to_its_dump_naming_the_backup_with_a_verification_table()
    {
        // Given
        await CreateLegacyDatabaseWithRowsAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes");

        // Then the report lies beside the dump and stderr says where
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var dump = Directory.GetFiles(BackupDirectory, "*.dump").Single();
        var report = Directory.GetFiles(BackupDirectory, "*.report.md").Single();
        Assert.That(result.StandardError, Does.Contain($"report: {report}"), result.ToString());

        // And it names the backup and holds the verification table
        var text = await File.ReadAllTextAsync(report);
        Assert.That(text, Does.Contain($"# migrate up on `{Database.Name}`"), text);
        Assert.That(text, Does.Contain($"- Backup: `{dump}`"), text);
        Assert.That(text, Does.Contain("## Verification").And.Contain("| Table | Source rows (all) | Source rows (active) | Rows after | Fingerprints equal |"), text);
        Assert.That(text, Does.Contain("| veterinarians | 2 | 1 | 2 | true |"), text);
        Assert.That(text, Does.Contain("| Verify | Pass |"), text);
    }

    [Test]
    public async Task Redirected_progress_is_plain_lines_on_stderr_and_json_runs_print_no_progress_at_all()
    {
        // Given two empty databases (seed, then the data move of migrate up)
        await using var other = await TestDatabase.CreateAsync();
        var onOther = new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = other.ConnectionString };

        // When one is seeded and migrated with plain (redirected) output, the other with --json
        var seed = await RunAsync("seed", "--create-legacy-schema", "--users", "200", "--yes");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");
        var seedJson = await RunAsync(onOther, "seed", "--create-legacy-schema", "--users", "200", "--yes", "--json");
        var upJson = await RunAsync(onOther, "migrate", "up", "--yes", "--no-backup", "--json");

        // Then redirected: plain progress lines on stderr, none on stdout, no terminal control codes anywhere
        foreach (var (run, line) in new[] { (seed, "seeding 200 users: 200/200 (100%)"), (up, "up: 2 migration(s): 2/2 (100%)") })
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(run.StandardError.Split('\n').Select(l => l.TrimEnd('\r')), Does.Contain(line), run.ToString());
            Assert.That(run.StandardOutput, Does.Not.Contain("(100%)"), "progress on stdout\n" + run);
            Assert.That(run.Output.Contains('\u001b', StringComparison.Ordinal), Is.False, "terminal control codes in redirected output\n" + run);
        }

        // And --json: stdout is exactly one JSON document, and no progress is printed anywhere
        foreach (var run in new[] { seedJson, upJson })
        {
            Assert.That(run.ExitCode, Is.Zero, run.ToString());
            Assert.That(() => JsonDocument.Parse(run.StandardOutput).Dispose(), Throws.Nothing, "stdout is not one JSON document\n" + run);
            Assert.That(run.Output, Does.Not.Contain("(100%)"), "progress under --json\n" + run);
            Assert.That(run.Output.Contains('\u001b', StringComparison.Ordinal), Is.False, "terminal control codes under --json\n" + run);
        }

        using var seeded = JsonDocument.Parse(seedJson.StandardOutput);
        Assert.That(seeded.RootElement.GetProperty("rowCounts").GetProperty("users").GetInt64(), Is.EqualTo(200));
        using var migrated = JsonDocument.Parse(upJson.StandardOutput);
        Assert.That(migrated.RootElement.GetProperty("status").GetString(), Is.EqualTo("SUCCESS"));
    }
}
