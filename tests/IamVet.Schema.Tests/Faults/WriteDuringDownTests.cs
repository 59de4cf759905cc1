namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// An application transaction that writes to a new table while <c>migrate down</c> runs: the down
/// holds the new tables it reads in SHARE mode before it reads them, so the write either commits
/// first (and is carried back) or waits and then fails against the dropped table. It never commits
/// between the down's copy and its DROP TABLE and vanishes (issue #14).
/// </summary>
[TestFixture]
public sealed class WriteDuringDownTests : RunnerTest
{
    [Test]
    public async Task A_nickname_edit_that_commits_while_the_down_runs_is_carried_back_to_users()
    {
        // Given an upgraded database and an application transaction that has edited a nickname but not committed
        await UpgradeLegacyDatabaseWithRowsAsync();
        await using var writer = await Sessions.OpenAsAsync(Database, "the application");
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var edit = new NpgsqlCommand("""UPDATE veterinarians SET nickname = '늦은수정' WHERE "userId" = 'vet1'""", writer, transaction))
        {
            await edit.ExecuteNonQueryAsync();
        }

        // When the down starts, waits on the writer, and the writer commits during the down
        using var down = Start("migrate", "down", "--yes", "--no-backup", "--lock-timeout", "30s");
        await Sessions.WaitForAsync(Database,
            "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(60), "the down waiting on the writer's lock", down);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await transaction.CommitAsync();
        var result = await down.WaitAsync(TimeSpan.FromSeconds(120));

        // Then the down succeeded and the committed edit is in users
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(await TableExistsAsync("veterinarians"), Is.False);
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("늦은수정"));
    }

    [Test]
    public async Task A_nickname_edit_that_commits_while_the_cleanups_down_runs_is_in_the_restored_users_column()
    {
        // Given a cleaned-up database (the moved columns dropped from users) and an uncommitted nickname edit
        await UpgradeLegacyDatabaseWithRowsAsync();
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup", "--cleanup");
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        await using var writer = await Sessions.OpenAsAsync(Database, "the application");
        await using var transaction = await writer.BeginTransactionAsync();
        await using (var edit = new NpgsqlCommand("""UPDATE veterinarians SET nickname = '늦은수정' WHERE "userId" = 'vet1'""", writer, transaction))
        {
            await edit.ExecuteNonQueryAsync();
        }

        // When only the cleanup is rolled back (its Down refills users from every profile table) and the writer commits meanwhile
        using var down = Start("migrate", "down", "--steps", "1", "--yes", "--no-backup", "--lock-timeout", "30s");
        await Sessions.WaitForAsync(Database,
            "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(60), "the down waiting on the writer's lock", down);
        await transaction.CommitAsync();
        var result = await down.WaitAsync(TimeSpan.FromSeconds(120));

        // Then the restored users column holds the committed edit, as veterinarians does
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("늦은수정"));
        Assert.That(await Database.ScalarAsync<string>("""SELECT nickname FROM veterinarians WHERE "userId" = 'vet1'"""), Is.EqualTo("늦은수정"));
    }

    [Test]
    public async Task A_write_started_after_the_down_holds_the_new_tables_waits_and_then_fails_instead_of_vanishing()
    {
        // Given an upgraded database and a session holding the lock on users (so the down, once it holds the new tables, waits there)
        await UpgradeLegacyDatabaseWithRowsAsync();
        await using var blocker = await Sessions.OpenAsAsync(Database, "a long reader");
        await using var blocking = await blocker.BeginTransactionAsync();
        await using (var hold = new NpgsqlCommand("LOCK TABLE users IN SHARE MODE", blocker, blocking))
        {
            await hold.ExecuteNonQueryAsync();
        }

        // When the down has taken the new tables and waits for users, and the application then writes
        using var down = Start("migrate", "down", "--yes", "--no-backup", "--lock-timeout", "30s");
        await Sessions.WaitForAsync(Database,
            "a.application_name = 'iamvet-schema migrate' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(60), "the down waiting for users", down);
        await using var writer = await Sessions.OpenAsAsync(Database, "the application");
        var write = Task.Run(async () =>
        {
            await using var edit = new NpgsqlCommand("""UPDATE veterinarians SET nickname = '늦은수정' WHERE "userId" = 'vet1'""", writer);
            return await edit.ExecuteNonQueryAsync();
        });
        await Sessions.WaitForAsync(Database,
            "a.application_name = 'the application' AND a.wait_event_type = 'Lock'", TimeSpan.FromSeconds(30), "the application's write waiting for the down");
        await blocking.CommitAsync();
        var result = await down.WaitAsync(TimeSpan.FromSeconds(120));

        // Then the down succeeded and the application's write failed against the dropped table: nothing committed and lost
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var failure = await Assert.ThrowsAsync<PostgresException>(async () => await write);
        Assert.That(failure!.SqlState, Is.EqualTo(PostgresErrorCodes.UndefinedTable));
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("닥터1"));
    }
}
