namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// <c>rehearse</c>: the real pipelines on a scratch copy. Whatever happens in the copy, the scratch
/// database is dropped afterwards, the source is exactly as it was, and the exit code says how the
/// rehearsed run ended.
/// </summary>
[TestFixture]
public sealed class RehearseTests : OperationsTest
{
    [Test]
    public async Task Rehearse_prints_a_forecast_drops_its_scratch_database_and_leaves_the_source_unchanged()
    {
        // Given a baselined legacy database with data
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await UntouchedStateAsync();

        // When
        var result = await RunAsync("rehearse");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(Unwrapped(result.StandardOutput), Does.Contain("forecast for the real run: data move")
            .And.Contain("During migrate up, users cannot be read for about").And.Contain("writes to users and the legacy side tables wait for about")
            .And.Contain("Rollback").And.Contain("writes to the new tables wait for about"), result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("migrate up on " + DerivedPrefix + "rehearse_").And.Contain("migrate down on " + DerivedPrefix + "rehearse_"), result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("dropped"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "the scratch database is still there\n" + result);
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse changed the source database");
        Assert.That(BackupFiles().Count(f => f.EndsWith(".dump", StringComparison.Ordinal)), Is.EqualTo(1), "rehearse takes one fresh backup");
    }

    [Test]
    public async Task Ctrl_C_during_rehearse_drops_the_scratch_database_and_leaves_the_source_unchanged()
    {
        // Given a legacy database whose copy will stall mid-move (the sabotage travels in the dump)
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.SleepAfterEachInsert("veterinarians", 60));
        var before = await UntouchedStateAsync();

        // When rehearse is interrupted (SIGINT, as Ctrl-C sends) while the copy is migrating
        using var running = Start("rehearse");
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await ScratchIsMigratingAsync() && DateTime.UtcNow < deadline && !running.HasExited)
        {
            await Task.Delay(200);
        }

        Assert.That(running.HasExited, Is.False, "rehearse ended before its copy began migrating");
        running.Interrupt();
        var result = await running.WaitAsync(TimeSpan.FromSeconds(30));

        // Then it stops, its scratch database is gone, and the source is as it was
        Assert.That(result.ExitCode, Is.Not.Zero, result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "the scratch database is still there\n" + result);
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse changed the source database");
    }

    private async Task<bool> ScratchIsMigratingAsync() =>
        await Database.ScalarAsync<bool>($"""
            SELECT EXISTS (SELECT FROM pg_stat_activity WHERE datname LIKE '{DerivedPrefix}rehearse\_%' AND wait_event = 'PgSleep')
            """);

    [Test]
    public async Task Rehearse_from_an_existing_backup_takes_no_new_one_and_drops_its_scratch_database()
    {
        // Given a backup taken earlier
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        var backupsBefore = BackupFiles();
        var before = await UntouchedStateAsync();

        // When
        var result = await RunAsync("rehearse", "--from", dump, "--json");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        using var json = ParseJson(result);
        Assert.That(json.RootElement.GetProperty("exitCode").GetInt32(), Is.Zero);
        Assert.That(json.RootElement.GetProperty("scratchDatabase").GetString(), Does.StartWith(DerivedPrefix + "rehearse_"));
        Assert.That(json.RootElement.GetProperty("phases").EnumerateArray().Select(p => p.GetProperty("phase").GetString()),
            Is.EqualTo(new[] { "restore", "migrate up", "migrate down" }), "no backup phase when --from is given");
        Assert.That(json.RootElement.GetProperty("forecast").GetProperty("dataMoveSeconds").GetDouble(), Is.GreaterThan(0));
        Assert.That(BackupFiles(), Is.EqualTo(backupsBefore), "rehearse --from took a backup of its own");
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "the scratch database is still there\n" + result);
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse changed the source database");
    }

    [Test]
    public async Task Rehearse_refused_in_the_copy_drops_the_scratch_database_exits_3_and_forecasts_nothing()
    {
        // Given a HOSPITAL without hospitalName: the data audit refuses migrate up (exit 3)
        await CreateLegacyDatabaseWithRowsAsync();
        await LegacyRows.InsertAsync(Database, new LegacyUser("hos-nameless", "HOSPITAL") { HospitalName = null });
        var before = await UntouchedStateAsync();

        // When
        var result = await RunAsync("rehearse");

        // Then the copy's refusal is the exit code, and the scratch database is gone anyway
        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("REFUSED").And.Contain("hos-nameless"), result.ToString());
        Assert.That(Unwrapped(result.StandardOutput), Does.Contain("no forecast: the rehearsed migrate up ended REFUSED (exit 3)").And.Not.Contain("forecast for the real run"),
            "a rehearsal whose migrate up failed must not forecast a window from it\n" + result);
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "the scratch database is still there\n" + result);
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse changed the source database");
    }

    [Test]
    public async Task Rehearse_whose_verification_fails_in_the_copy_drops_the_scratch_database_and_exits_6()
    {
        // Given a sabotage that travels with the dump into the copy (an event trigger that empties veterinarians)
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.DeleteEveryInsertedRow("veterinarians"));
        var before = await UntouchedStateAsync();

        // When
        var result = await RunAsync("rehearse", "--json");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(6), result.ToString());
        using var json = ParseJson(result);
        Assert.That(json.RootElement.GetProperty("exitCode").GetInt32(), Is.EqualTo(6));
        Assert.That(json.RootElement.GetProperty("up").GetProperty("status").GetString(), Is.EqualTo("ROLLED_BACK"));
        Assert.That(json.RootElement.GetProperty("forecast").ValueKind, Is.EqualTo(JsonValueKind.Null), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, "the scratch database is still there\n" + result);
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "rehearse changed the source database");
    }

    [Test]
    public async Task Rehearse_from_a_damaged_backup_is_refused_before_any_scratch_database_exists()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, _) = await BackupAsync();
        await using (var file = new FileStream(dump, FileMode.Open))
        {
            file.SetLength(file.Length - 1);
        }

        var result = await RunAsync("rehearse", "--from", dump);

        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.StandardError, Does.Contain("does not match its manifest"), result.ToString());
        Assert.That(await DerivedDatabasesAsync(), Is.Empty, result.ToString());
    }

    private static JsonDocument ParseJson(RunnerResult result)
    {
        try
        {
            return JsonDocument.Parse(result.StandardOutput);
        }
        catch (JsonException ex)
        {
            Assert.Fail($"stdout is not one JSON document ({ex.Message}):\n{result}");
            throw;
        }
    }
}
