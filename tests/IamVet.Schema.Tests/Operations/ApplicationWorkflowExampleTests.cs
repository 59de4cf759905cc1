using IamVet.Schema.Migrations.Infrastructure;
using System.Text.RegularExpressions;

namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// docs/examples/iamvet-app-migration-check.yml does what docs/ci.md says it does: production's
/// schema-only dump (<c>pg_dump --schema-only --no-owner --no-privileges</c> of a legacy database)
/// loaded with psql into an empty database, then the example's own <c>iamvet-schema</c> steps, read
/// from the file, in its order and with its settings in the environment, each exiting 0.
/// </summary>
[TestFixture]
public sealed partial class ApplicationWorkflowExampleTests : RunnerTest
{
    [Test]
    public async Task The_examples_steps_pass_on_a_schema_only_dump_of_a_legacy_database()
    {
        // Given production: a legacy database made by plain SQL, no migration history, and its schema-only dump
        var production = await TestDatabase.CreateAsync();
        var dump = Path.Combine(WorkDirectory, "production-schema.sql");
        try
        {
            await production.ExecuteAsync(SqlScripts.Load("LegacyBaseline.up.sql"));
            PgClient.DumpSchemaOnly(production.ConnectionString, dump);
        }
        finally
        {
            await production.DisposeAsync();
        }

        // When the example loads it into an empty database and runs its steps
        PgClient.LoadSql(Database.ConnectionString, dump);
        var example = await File.ReadAllTextAsync(Path.Combine(ScriptProcess.RepositoryRoot, "docs", "examples", "iamvet-app-migration-check.yml"));
        var steps = RunStep().Matches(example).Select(m => m.Groups["arguments"].Value.Trim()).ToList();
        Assert.That(steps, Is.EqualTo(new[] { "baseline --yes", "migrate up --yes", "verify", "migrate down --yes", "status" }));
        var environment = new Dictionary<string, string?>
        {
            ["IAMVET_SCHEMA_BACKUP_DIR"] = BackupDirectory,
            ["IAMVET_SCHEMA_LOCK_TIMEOUT"] = ExampleSetting(example, "IAMVET_SCHEMA_LOCK_TIMEOUT"),
        };

        // Then every step exits 0, and the database ends where it started: the legacy baseline
        foreach (var step in steps)
        {
            var result = await RunAsync(environment, step.Split(' '));
            Assert.That(result.ExitCode, Is.Zero, $"iamvet-schema {step}\n{result}");
        }

        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }));
        Assert.That(ReportFiles(), Has.Length.EqualTo(2), "migrate up and migrate down each wrote their report into IAMVET_SCHEMA_BACKUP_DIR");
    }

    private static string ExampleSetting(string example, string name)
    {
        var match = Regex.Match(example, $@"^\s+{name}: (?<value>\S+)\s*$", RegexOptions.Multiline);
        Assert.That(match.Success, Is.True, $"the example sets no {name}");
        return match.Groups["value"].Value;
    }

    [GeneratedRegex(@"^\s+run: iamvet-schema (?<arguments>.+)$", RegexOptions.Multiline)]
    private static partial Regex RunStep();
}
