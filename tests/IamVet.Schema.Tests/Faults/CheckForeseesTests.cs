namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// What used to pass <c>check</c> and then stop <c>migrate</c> halfway (rolled back, but with a
/// message that named no row or object, at the worst moment): each is now named by <c>check</c>
/// and refused by <c>migrate</c> before anything changes (issue #14).
/// </summary>
[TestFixture]
public sealed class CheckForeseesTests : RunnerTest
{
    [Test]
    public async Task A_hand_made_table_the_up_would_create_is_named_by_check_and_refused_before_anything_changes()
    {
        // Given a legacy database where someone already made a veterinarians table
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("CREATE TABLE veterinarians (id integer)");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--no-backup");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then both name the table, and nothing changed
        foreach (var result in new[] { check, up })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("new-table-exists").And.Contain("veterinarians"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), up.ToString());
    }

    [Test]
    public async Task A_view_on_a_column_the_cleanup_drops_is_named_before_the_cleanup()
    {
        // Given a normalized database and a view of the application that still reads users.nickname
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("CREATE VIEW vet_nicknames AS SELECT id, nickname FROM users");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--cleanup", "--no-backup");
        var cleanup = await RunAsync("migrate", "up", "--cleanup", "--yes", "--no-backup");

        // Then both name the view, and nothing changed
        foreach (var result in new[] { check, cleanup })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("objects-use-dropped-columns").And.Contain("view vet_nicknames"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), cleanup.ToString());
    }

    [Test]
    public async Task An_animal_type_too_long_for_the_new_index_is_named_with_its_row()
    {
        // Given a hospital with a 10 kB animalType that does not compress (what made the index refuse it halfway)
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""
            INSERT INTO hospital_animals (id, "userId", "animalType")
            SELECT 'a-long', 'hos1', string_agg(md5(i::text), '') FROM generate_series(1, 320) i
            """);
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--no-backup");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then both name the row, and nothing changed
        foreach (var result in new[] { check, up })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("hospital_animals-value-too-long-for-index").And.Contain("a-long"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), up.ToString());
    }

    [Test]
    public async Task Ids_the_legacy_keys_hold_but_the_new_keys_refuse_once_prefixed_are_named_with_their_rows()
    {
        // Given a veterinarian and a hospital's animal whose ids (2,690 bytes that do not compress) the
        // legacy keys hold, but the new tables' keys do not once 'vet_' / 'hta_' is put before them
        await CreateLegacyDatabaseWithRowsAsync();
        var vetId = IncompressibleId("long-vet-", 2690);
        var animalId = IncompressibleId("long-ani-", 2690);
        await LegacyRows.InsertAsync(Database,
            new LegacyUser(vetId, "VETERINARIAN") { Email = "long@iamvet.test", Phone = "010-0000-0000" },
            new LegacyAnimal(animalId, "hos1", "BIRD", new DateTime(2024, 4, 3)));
        var before = await StateAsync();

        // When: check (what the audit runs before a backup), and an up without a backup (its users checks on the migration's snapshot)
        var check = await RunAsync("check", "--no-backup");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then both name the rows (the ids' starts: the output wraps long lines), and nothing changed
        foreach (var result in new[] { check, up })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("veterinarians-id-too-long-for-index").And.Contain(vetId[..40]), result.ToString());
            Assert.That(result.Output, Does.Contain("hospital_treatment_animals-id-too-long-for-index").And.Contain(animalId[..40]), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), up.ToString());
    }

    [Test]
    public async Task An_id_that_fits_the_new_key_once_prefixed_is_not_named()
    {
        // Given a veterinarian whose id (2,688 bytes that do not compress) still fits veterinarians' key with 'vet_' before it
        await CreateLegacyDatabaseWithRowsAsync();
        await LegacyRows.InsertAsync(Database, new LegacyUser(IncompressibleId("long-vet-", 2688), "VETERINARIAN") { Email = "long@iamvet.test", Phone = "010-0000-0000" });

        // When
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then the limit is the key's own: the up goes ahead
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(up.Output, Does.Not.Contain("id-too-long-for-index"), up.ToString());
    }

    [Test]
    public async Task Users_of_a_type_added_to_the_enum_are_named_as_moving_nowhere()
    {
        // Given an ADMIN user, a type added to the enum that no new table takes
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""ALTER TYPE "UserType" ADD VALUE 'ADMIN'""");
        await LegacyRows.InsertAsync(Database, new LegacyUser("admin1", "ADMIN") { Nickname = "운영자" });

        // When
        var check = await RunAsync("check", "--no-backup");

        // Then check passes (nothing breaks) and says where their values stay
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        Assert.That(check.Output, Does.Contain("user-type-that-moves-nowhere").And.Contain("admin1"), check.ToString());
    }

    [Test]
    public async Task A_search_path_that_puts_another_schema_first_does_not_change_what_the_runner_reads_or_writes()
    {
        // Given a database whose search_path puts a schema with a users table of its own first
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync($"""
            CREATE SCHEMA shadow;
            CREATE TABLE shadow.users (id text);
            ALTER DATABASE "{Database.Name}" SET search_path = shadow, public;
            """);

        // When
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then the migration moved public.users and its history is public's
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM public.veterinarians"), Is.EqualTo(2));
        Assert.That(await Database.ScalarAsync<bool>("SELECT to_regclass('shadow.veterinarians') IS NULL AND to_regclass('shadow.\"VersionInfo\"') IS NULL"), Is.True);
        Assert.That(await AppliedAsync(), Has.Member(Migrator.Expanded));
    }

    [Test]
    public async Task A_role_whose_sessions_are_read_only_is_refused_by_pre_flight_and_the_attempt_is_logged()
    {
        // Given a database whose sessions are read-only by default
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync($"""ALTER DATABASE "{Database.Name}" SET default_transaction_read_only = on""");
        var before = await StateAsync();

        // When
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then pre-flight refuses (not the first write, halfway), and the refusal is in migration_log
        Assert.That(up.ExitCode, Is.EqualTo(3), up.ToString());
        Assert.That(up.Output, Does.Contain("read-only by default").And.Contain("default_transaction_read_only"), up.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), up.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT description FROM migration_log ORDER BY id DESC LIMIT 1"), Does.StartWith("REFUSED:"));
    }

    [Test]
    public async Task A_profile_deleted_while_its_user_remains_is_named_by_check_down_before_the_rollback()
    {
        // Given a normalized database where the new application deleted a veterinarian's profile
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""DELETE FROM veterinarians WHERE "userId" = 'vet2'""");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then both name the user, and nothing changed
        foreach (var result in new[] { check, down })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("veterinarian-without-profile").And.Contain("vet2"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), down.ToString());
    }

    /// <summary><paramref name="start"/> and then hex digits of hashes (which do not compress), <paramref name="bytes"/> long in all.</summary>
    private static string IncompressibleId(string start, int bytes) =>
        (start + string.Concat(Enumerable.Range(0, (bytes / 64) + 1).Select(i => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))))))[..bytes];
}
