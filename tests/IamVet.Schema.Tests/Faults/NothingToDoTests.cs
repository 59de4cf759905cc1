namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Asking for what is already there is a no-op: exit 0, nothing changed, no backup, and a
/// NOTHING_TO_DO row. (A second <c>migrate up</c>: ExitCodeTests.Exit_0_up_on_an_empty_database_and_a_second_up_has_nothing_to_do.)
/// </summary>
[TestFixture]
public sealed class NothingToDoTests : RunnerTest
{
    [Test]
    public async Task Migrate_down_on_a_database_at_the_baseline_does_nothing_and_says_so()
    {
        // Given a baselined legacy database with users
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await StateAsync();

        // When
        var result = await RunAsync("migrate", "down", "--yes");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("nothing to do"), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(BackupFiles(), Is.Empty, "a run with nothing to do takes no backup");
        Assert.That(await Database.LinesAsync("SELECT description FROM migration_log"),
            Is.EqualTo(new[] { $"NOTHING_TO_DO: nothing to do: the database is already at {Versions.Baseline}" }), "migration_log still has its legacy shape: the status leads the description");
    }
}
