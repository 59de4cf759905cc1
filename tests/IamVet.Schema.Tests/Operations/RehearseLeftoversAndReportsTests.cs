namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// Smaller truths of issue #14: a scratch database a killed rehearse left is named by the next
/// rehearse (not dropped: one may belong to a rehearse still running); a rehearse of an already
/// migrated database says there is nothing to rehearse instead of forecasting a 0 s lock; the
/// Markdown report is 0600 and written beside a backup only (none with --no-backup, and stderr says so).
/// </summary>
[TestFixture]
public sealed class RehearseLeftoversAndReportsTests : OperationsTest
{
    [Test]
    public async Task Rehearse_names_the_scratch_database_a_killed_rehearse_left_and_leaves_it_alone()
    {
        // Given a legacy database and the scratch database an earlier rehearse, killed, left behind
        await CreateLegacyDatabaseWithRowsAsync();
        var leftover = DerivedPrefix + "rehearse_20250101000000";
        await using (var admin = new NpgsqlConnection(PostgresServer.AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {Identifiers.Quote(leftover)}", admin);
            await create.ExecuteNonQueryAsync();
        }

        // When
        var result = await RunAsync("rehearse");

        // Then it says so, with how to drop it, and drops only its own scratch database
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardError, Does.Contain($"scratch database \"{leftover}\" of an earlier rehearse is still on the server")
            .And.Contain($"DROP DATABASE \"{leftover}\""), result.ToString());
        Assert.That((await DerivedDatabasesAsync()).Select(d => d.Name), Is.EqualTo(new[] { leftover }));
    }

    [Test]
    public async Task Rehearse_of_an_already_migrated_database_says_there_is_nothing_to_rehearse_and_forecasts_nothing()
    {
        // Given a database the up has already run on
        await UpgradeLegacyDatabaseWithRowsAsync();

        // When
        var result = await RunAsync("rehearse");
        var json = await RunAsync("rehearse", "--json");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("nothing to rehearse").And.Contain("no forecast"), result.ToString());
        Assert.That(result.StandardOutput, Does.Not.Contain("cannot be read for about"), result.ToString());
        Assert.That(json.ExitCode, Is.Zero, json.ToString());
        var document = JsonNode.Parse(json.StandardOutput)!;
        Assert.That(document["nothingToRehearse"]!.GetValue<bool>(), Is.True, json.ToString());
        Assert.That(document["forecast"], Is.Null, json.ToString());
        Assert.That(document["down"], Is.Null, "no down follows an up that did nothing\n" + json);
    }

    [Test]
    public async Task Migrate_up_with_no_backup_writes_no_report_file_and_says_so()
    {
        // Given
        await CreateLegacyDatabaseWithRowsAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardError, Does.Contain("report: not written (--no-backup"), result.ToString());
        Assert.That(Directory.Exists(BackupDirectory), Is.False, "--no-backup created the backup directory\n" + result);
        Assert.That(Directory.GetFiles(WorkDirectory, "*.report.md", SearchOption.AllDirectories), Is.Empty);
    }

    [Test]
    public async Task The_report_beside_a_backup_is_readable_by_its_owner_only()
    {
        // Given
        await CreateLegacyDatabaseWithRowsAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var report = Directory.GetFiles(BackupDirectory, "*.report.md").Single();
        Assert.That(File.GetUnixFileMode(report), Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
    }
}
