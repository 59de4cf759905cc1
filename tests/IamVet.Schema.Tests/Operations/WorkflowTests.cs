namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// The runner's CI (.github/workflows/ci.yml) and the example for iamvet's application repository
/// (docs/examples/iamvet-app-migration-check.yml) are valid GitHub Actions workflows, checked by
/// scripts/validate-workflows.sh (action-validator from npm, installed once into a cache folder,
/// runs offline), and the validator does refuse a broken one.
/// </summary>
[TestFixture]
public sealed class WorkflowTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    [Test]
    public async Task The_ci_workflow_and_the_application_example_are_valid_workflows()
    {
        var result = await ScriptProcess.RunAsync("scripts/validate-workflows.sh", new Dictionary<string, string?>(), Timeout);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("valid: .github/workflows/ci.yml").And.Contain("valid: docs/examples/iamvet-app-migration-check.yml"), result.ToString());
    }

    [Test]
    public async Task The_example_runs_baseline_migrate_up_verify_and_migrate_down_in_that_order_on_PostgreSQL_17()
    {
        var text = await File.ReadAllTextAsync(Path.Combine(ScriptProcess.RepositoryRoot, "docs", "examples", "iamvet-app-migration-check.yml"));

        Assert.That(text, Does.Contain("image: postgres:17"));
        var steps = new[] { "run: psql ", "run: iamvet-schema baseline --yes", "run: iamvet-schema migrate up --yes", "run: iamvet-schema verify", "run: iamvet-schema migrate down --yes" }
            .Select(step => text.IndexOf(step, StringComparison.Ordinal)).ToList();
        Assert.That(steps, Is.All.GreaterThan(0), "the example must load the dump, baseline, migrate up, verify and migrate down");
        Assert.That(steps, Is.Ordered, "in that order");
    }

    [Test]
    public async Task The_validator_refuses_a_broken_workflow()
    {
        var directory = Directory.CreateTempSubdirectory("iamvet-workflow-").FullName;
        try
        {
            var broken = Path.Combine(directory, "broken.yml");
            await File.WriteAllTextAsync(broken, "name: broken\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n        frobnicate: yes\n");

            var result = await ScriptProcess.RunAsync("scripts/validate-workflows.sh", new Dictionary<string, string?>(), Timeout, broken);

            Assert.That(result.ExitCode, Is.EqualTo(1), result.ToString());
            Assert.That(result.Output, Does.Contain("frobnicate").And.Contain($"INVALID: {broken}"), result.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
