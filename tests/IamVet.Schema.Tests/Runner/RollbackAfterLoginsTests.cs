namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// Logins keep writing users."lastLoginAt" after the upgrade, a column no new table carries. A
/// rollback must still go through, every moved value checked table by table.
/// </summary>
[TestFixture]
public sealed class RollbackAfterLoginsTests : RunnerTest
{
    [Test]
    public async Task Down_succeeds_after_logins_changed_users_lastLoginAt_and_keeps_those_values()
    {
        // Given an upgraded database whose users logged in since
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""UPDATE users SET "lastLoginAt" = '2026-11-29 10:00:00.123456'""");

        // When rolling back
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup", "--json");

        // Then it succeeds, says the legacy tables changed since the up, and the logins are kept
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(down.StandardOutput, Does.Contain("\"exactRestore\": false"), down.ToString());
        Assert.That(await Database.ScalarAsync<long>("""SELECT count(*) FROM users WHERE "lastLoginAt" <> '2026-11-29 10:00:00.123456'"""), Is.Zero);
    }
}
