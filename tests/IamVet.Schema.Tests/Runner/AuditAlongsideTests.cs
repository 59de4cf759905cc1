namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// A migrating run leaves the side-table warnings of the data audit to the migrate stage, which
/// computes them while the migrations run. They must still all be reported, with the same counts
/// and ids as <c>check</c> finds before anything runs, in --json, the Data audit stage and
/// migration_log.
/// </summary>
[TestFixture]
public sealed class AuditAlongsideTests : RunnerTest
{
    private static readonly string[] SideTableWarnings =
    [
        "images-all-display-order-zero", "images-of-non-hospital-users", "duplicate-animals",
        "animals-of-non-hospital-users", "duplicate-specialties", "specialties-of-non-hospital-users",
    ];

    [Test]
    public async Task Migrate_up_reports_every_finding_check_reports_with_the_same_counts_and_ids()
    {
        // Given a dirty database whose only blocking row is fixed
        var seed = await RunAsync("seed", "--create-legacy-schema", "--users", "400", "--dirty", "--yes");
        Assert.That(seed.ExitCode, Is.Zero, seed.ToString());
        await Database.ExecuteAsync("""UPDATE users SET "hospitalName" = '이름채움' WHERE id = 'dirty_hospital_no_name'""");

        // When checking, then migrating
        var check = await RunAsync("check", "--no-backup", "--json");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup", "--json");

        // Then both pass and report the same findings, the side-table warnings among them
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        var checkFindings = Findings(check.StandardOutput);
        var upFindings = Findings(up.StandardOutput);
        Assert.That(checkFindings.Keys, Is.SupersetOf(SideTableWarnings), check.ToString());
        Assert.That(upFindings, Is.EquivalentTo(checkFindings), up.ToString());

        // And the Data audit stage lists them
        using var report = JsonDocument.Parse(up.StandardOutput);
        var audit = report.RootElement.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "Data audit");
        Assert.That(audit.GetProperty("status").GetString(), Is.EqualTo("warn"), up.ToString());
        var notes = string.Join("\n", audit.GetProperty("notes").EnumerateArray().Select(n => n.GetString()));
        foreach (var code in SideTableWarnings)
        {
            Assert.That(notes, Does.Contain($"[{code}]"), up.ToString());
        }

        // And so does migration_log
        var logged = await Database.ScalarAsync<string>("SELECT (details->'audit')::text FROM migration_log WHERE status = 'SUCCESS' ORDER BY id DESC LIMIT 1");
        Assert.That(Findings($$"""{"audit": {{logged}}}"""), Is.EquivalentTo(checkFindings));
    }

    [Test]
    public async Task A_refused_migrate_up_lists_every_finding_the_warnings_too()
    {
        // Given a dirty database with a HOSPITAL without hospitalName (blocking) and side-table warnings
        var seed = await RunAsync("seed", "--create-legacy-schema", "--users", "400", "--dirty", "--yes");
        Assert.That(seed.ExitCode, Is.Zero, seed.ToString());

        // When
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then refused (exit 3), and the Data audit stage lists the blocking finding and every warning
        Assert.That(up.ExitCode, Is.EqualTo(3), up.ToString());
        var output = string.Join(" ", up.StandardOutput.Split('\n').Select(line => line.Trim().Trim('│').Trim()));
        foreach (var code in SideTableWarnings.Append("hospital-without-name").Append("student-with-license-image"))
        {
            Assert.That(output, Does.Contain($"[{code}]"), up.ToString());
        }
    }

    /// <summary>code → "count: first ids" of every finding in a --json document.</summary>
    private static Dictionary<string, string> Findings(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.GetProperty("audit").EnumerateArray().ToDictionary(
            f => f.GetProperty("code").GetString()!,
            f => $"{f.GetProperty("count").GetInt64()}: {string.Join(",", f.GetProperty("firstIds").EnumerateArray().Select(i => i.GetString()))}");
    }
}
