namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Runners started at once on one database: the migration lock lets exactly one apply the plan.
/// The others poll the lock for --lock-timeout: if the winner is done by then they take it, find
/// nothing to do and exit 0 (NOTHING_TO_DO); if not, they exit 7 naming the holder. On this small
/// database the winner needs a few seconds, so with the default --lock-timeout (10 s) most or all
/// wait and find nothing to do, and a slow machine may see some exit 7; with a long one all wait.
/// </summary>
[TestFixture]
public sealed class ConcurrentRunnersTests : RunnerTest
{
    private const int Runners = 8;

    private static readonly long[] ExpandPhase =
    [
        Versions.Baseline, Versions.AuditColumns, Versions.SplitUsers,
    ];

    [TestCase(null, TestName = "Eight_runners_at_once_with_the_default_lock_timeout_one_applies_the_others_find_nothing_to_do_or_exit_7")]
    [TestCase("2m", TestName = "Eight_runners_at_once_with_a_long_lock_timeout_one_applies_the_others_wait_and_find_nothing_to_do")]
    public async Task Eight_runners_at_once(string? lockTimeout)
    {
        // Given a baselined database with users
        await CreateLegacyDatabaseWithRowsAsync();
        string[] arguments = lockTimeout is null
            ? ["migrate", "up", "--yes", "--no-backup"]
            : ["migrate", "up", "--yes", "--no-backup", "--lock-timeout", lockTimeout];

        // When eight start at once
        var runners = Enumerable.Range(0, Runners).Select(_ => Start(arguments)).ToList();
        RunnerResult[] results;
        try
        {
            results = await Task.WhenAll(runners.Select(runner => runner.WaitAsync(RunnerProcess.Timeout)));
        }
        finally
        {
            runners.ForEach(runner => runner.Dispose());
        }

        // Then exactly one applied the plan; each other one waited and found nothing to do, or gave up naming the holder
        var everything = string.Join("\n", results.Select(r => r.ToString()));
        var applied = results.Where(r => r.ExitCode == 0 && !r.StandardOutput.Contains("nothing to do", StringComparison.Ordinal)).ToList();
        var nothingToDo = results.Where(r => r.ExitCode == 0 && r.StandardOutput.Contains("nothing to do", StringComparison.Ordinal)).ToList();
        var locked = results.Where(r => r.ExitCode == 7).ToList();
        TestContext.Out.WriteLine($"--lock-timeout {lockTimeout ?? "10s (default)"}: 1 applied, {nothingToDo.Count} waited and found nothing to do, {locked.Count} exited 7");
        Assert.That(applied, Has.Count.EqualTo(1), everything);
        Assert.That(applied.Count + nothingToDo.Count + locked.Count, Is.EqualTo(Runners), "an exit code other than 0 or 7:\n" + everything);
        Assert.That(locked, Has.All.Matches<RunnerResult>(r => r is not null && r.Output.Contains("another run holds the migration lock", StringComparison.Ordinal)), everything);
        if (lockTimeout is not null)
        {
            Assert.That(locked, Is.Empty, "with a long --lock-timeout every runner should have waited:\n" + everything);
        }

        Assert.That(await Database.LinesAsync("""SELECT "Version"::text || ' x' || count(*) FROM "VersionInfo" GROUP BY "Version" ORDER BY "Version" """),
            Is.EqualTo(ExpandPhase.Select(v => $"{v} x1")), "every version applied exactly once");
        Assert.That(await Database.LinesAsync("SELECT status FROM migration_log WHERE status IN ('SUCCESS', 'NOTHING_TO_DO') ORDER BY id"),
            Is.EqualTo(new[] { "SUCCESS" }.Concat(Enumerable.Repeat("NOTHING_TO_DO", nothingToDo.Count))));
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM migration_log"), Is.EqualTo(Runners), "one row per attempt");
    }

    [Test]
    public async Task A_run_refused_while_the_winner_adds_the_audit_columns_to_migration_log_still_logs_a_REFUSED_row()
    {
        // Given a winner held inside its transaction, after it altered migration_log (gated on an advisory lock the test holds)
        const long gate = 4242;
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.GateAfterEachInsert("hospitals", gate));
        await using var gatekeeper = await Sessions.OpenAsAsync(Database, "iamvet-tests gate");
        await using (var close = new NpgsqlCommand($"SELECT pg_advisory_lock({gate})", gatekeeper))
        {
            await close.ExecuteScalarAsync();
        }

        using var winner = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "2m");
        await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema migrate' AND a.wait_event = 'advisory'",
            TimeSpan.FromSeconds(60), "the winner's migration at the gate", winner);

        // When another run gives up on the migration lock and writes its row while migration_log is being altered
        using var loser = Start("migrate", "up", "--yes", "--no-backup", "--lock-timeout", "1s");
        await Sessions.WaitForAsync(Database, "a.application_name = 'iamvet-schema lock' AND a.wait_event_type = 'Lock'",
            TimeSpan.FromSeconds(60), "the refused run's log row waiting for migration_log", loser);
        await using (var open = new NpgsqlCommand($"SELECT pg_advisory_unlock({gate})", gatekeeper))
        {
            await open.ExecuteScalarAsync();
        }

        var won = await winner.WaitAsync(TimeSpan.FromSeconds(60));
        var lost = await loser.WaitAsync(TimeSpan.FromSeconds(60));

        // Then its row is written in the table's new shape, with its status
        Assert.That(won.ExitCode, Is.Zero, won.ToString());
        Assert.That(lost.ExitCode, Is.EqualTo(7), lost.ToString());
        Assert.That(await Database.LinesAsync("SELECT coalesce(status, 'NULL') || ' | ' || left(description, 40) FROM migration_log ORDER BY status"), Is.EqualTo(new[]
        {
            "REFUSED | REFUSED: another run holds the migration",
            "SUCCESS | SUCCESS: migrate up: done, now at 202509",
        }));
    }
}
