namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// A migrating run leaves the side-table warnings of the data audit to the migrate stage, which
/// computes them while the migrations run; without a backup, the up's users checks too (on the
/// migration's own snapshot: docs/adr/0010). They must still all be reported, with the same counts
/// and ids as <c>check</c> finds before anything runs, in --json, the Data audit stage and
/// migration_log, and a blocking one must refuse the run as the audit before a migration does.
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
        await SeedDirtyAsync();
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
        await SeedDirtyAsync();

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

    [Test]
    public async Task Without_a_backup_the_users_checks_refuse_on_the_migration_snapshot_and_roll_it_back()
    {
        // Given a dirty database with a HOSPITAL without hospitalName (blocking) and side-table warnings
        await SeedDirtyAsync();
        var before = await StateAsync();
        var check = await RunAsync("check", "--no-backup", "--json");

        // When migrating without a backup: the users checks run on the migration's own snapshot
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup", "--json");

        // Then refused (exit 3) as the audit before a migration refuses, with the same findings
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(up.ExitCode, Is.EqualTo(3), up.ToString());
        Assert.That(Findings(up.StandardOutput), Is.EquivalentTo(Findings(check.StandardOutput)), up.ToString());
        using var report = JsonDocument.Parse(up.StandardOutput);
        var stages = report.RootElement.GetProperty("stages").EnumerateArray().ToDictionary(s => s.GetProperty("stage").GetString()!, s => s);
        Assert.That(stages["Data audit"].GetProperty("status").GetString(), Is.EqualTo("fail"), up.ToString());
        Assert.That(stages["Data audit"].GetProperty("summary").GetString(), Does.Contain("[hospital-without-name]").And.Contain("dirty_hospital_no_name"), up.ToString());
        // the migration had begun: it was rolled back
        Assert.That(stages["Migrate"].GetProperty("status").GetString(), Is.EqualTo("fail"), up.ToString());
        Assert.That(stages["Migrate"].GetProperty("summary").GetString(), Does.StartWith("rolled back, nothing changed"), up.ToString());

        // And nothing changed but the attempt's REFUSED row
        Assert.That(await StateAsync(), Is.EqualTo(before), up.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"), Does.StartWith("REFUSED:"), up.ToString());
    }

    [Test]
    public async Task With_a_backup_the_audit_refuses_before_the_backup_and_the_migration()
    {
        // Given the same dirty database
        await SeedDirtyAsync();

        // When migrating with a backup
        var up = await RunAsync("migrate", "up", "--yes", "--json");

        // Then the audit refuses before the backup: no dump is taken for a run that cannot go ahead
        Assert.That(up.ExitCode, Is.EqualTo(3), up.ToString());
        using var report = JsonDocument.Parse(up.StandardOutput);
        var stages = report.RootElement.GetProperty("stages").EnumerateArray().Select(s => s.GetProperty("stage").GetString()).ToList();
        Assert.That(stages, Does.Contain("Data audit").And.Not.Contain("Backup").And.Not.Contain("Migrate"), up.ToString());
    }

    /// <summary>400 legacy users with the dirty rows of docs/domain.md, a HOSPITAL without hospitalName among them.</summary>
    private async Task SeedDirtyAsync()
    {
        var seed = await RunAsync("seed", "--create-legacy-schema", "--users", "400", "--dirty", "--yes");
        Assert.That(seed.ExitCode, Is.Zero, seed.ToString());
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
