namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Issue #14, case 2: after the up the new tables are the truth, but an old application instance (a
/// rolling deploy) may still write a moved column of users or a legacy side table. The up's triggers
/// record such writes (docs/adr/0007); the rollback's audit names the users whose writes it would
/// overwrite, before anything changes, and refuses (exit 3) unless the operator lets the new tables
/// win (--overwrite-legacy-writes) or makes both sides agree. The new application's own writes are
/// never named.
/// </summary>
[TestFixture]
public sealed class LegacyWritesAfterUpTests : RunnerTest
{
    [Test]
    public async Task An_old_application_nickname_edit_after_the_up_is_named_by_check_down_and_refuses_the_rollback()
    {
        // Given an upgraded database and an old application instance that edits a nickname in users
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("UPDATE users SET nickname = '구버전수정' WHERE id = 'vet1'");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then both name the user and the table, and nothing changed: both values are still there to choose from
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("legacy-written-since-up").And.Contain("vet1").And.Contain("to users"), check.ToString());
        Assert.That(down.ExitCode, Is.EqualTo(3), down.ToString());
        Assert.That(down.Output, Does.Contain("legacy-written-since-up").And.Contain("vet1").And.Contain("--overwrite-legacy-writes"), down.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before));
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("구버전수정"));
        Assert.That(await Database.ScalarAsync<string>("""SELECT nickname FROM veterinarians WHERE "userId" = 'vet1'"""), Is.EqualTo("닥터1"));
    }

    [Test]
    public async Task With_overwrite_legacy_writes_the_rollback_lets_the_new_tables_win_and_says_so()
    {
        // Given an old application's nickname edit after the up
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("UPDATE users SET nickname = '구버전수정' WHERE id = 'vet1'");

        // When the operator lets the new tables win
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup", "--overwrite-legacy-writes");

        // Then the rollback ran, warned about the write it overwrote, and left no trace of the record
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(down.Output, Does.Contain("legacy-written-since-up").And.Contain("overwritten"), down.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("닥터1"));
        Assert.That(await TableExistsAsync("iamvet_legacy_writes"), Is.False);
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM pg_trigger WHERE tgname = 'iamvet_legacy_writes'"), Is.Zero);
    }

    [Test]
    public async Task An_animal_an_old_application_adds_after_the_up_is_named_with_its_hospital()
    {
        // Given an upgraded database and an old application instance that adds a treatment animal to hos1
        await UpgradeLegacyDatabaseWithRowsAsync();
        await LegacyRows.InsertAsync(Database, new LegacyAnimal("a-old", "hos1", "BIRD", new DateTime(2025, 10, 1)));

        // When
        var check = await RunAsync("check", "--down", "--no-backup");

        // Then the rollback, which mirrors the new table's animals back, would delete it: named and refused
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("legacy-written-since-up").And.Contain("hos1").And.Contain("to hospital_animals"), check.ToString());
    }

    [Test]
    public async Task A_TRUNCATE_of_a_legacy_side_table_after_the_up_is_named_by_check_down_and_refuses_the_rollback()
    {
        // Given an upgraded database and an old application instance that truncates hospital_specialties
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("TRUNCATE hospital_specialties");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then the rollback, which would put hos1's specialty back, names it and changes nothing
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("legacy-written-since-up").And.Contain("hos1").And.Contain("to hospital_specialties (TRUNCATE)"), check.ToString());
        Assert.That(down.ExitCode, Is.EqualTo(3), down.ToString());
        Assert.That(down.Output, Does.Contain("legacy-written-since-up").And.Contain("hos1"), down.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before));
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM hospital_specialties"), Is.Zero);
    }

    [Test]
    public async Task A_TRUNCATE_of_every_legacy_side_table_after_the_up_names_each_table_and_hospital()
    {
        // Given an old application instance that truncates the four side tables in one statement
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("TRUNCATE hospital_animals, hospital_specialties, hospital_facility_images, hospital_business_licenses");

        // When
        var check = await RunAsync("check", "--down", "--no-backup");

        // Then hos1 (animals, specialty, images) and hos2 (its licence file) are named, with every table
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("legacy-written-since-up").And.Contain("Ids: hos1, hos2."), check.ToString());
        foreach (var table in new[] { "hospital_animals", "hospital_business_licenses", "hospital_facility_images", "hospital_specialties" })
        {
            Assert.That(check.Output, Does.Contain($"{table} (TRUNCATE)"), check.ToString());
        }
    }

    [Test]
    public async Task A_TRUNCATE_of_users_after_the_up_is_named_by_check_down_and_refuses_the_rollback()
    {
        // Given an old application instance that truncates users (and with it, by their foreign keys, every
        // table that references users: the new tables too)
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("TRUNCATE users CASCADE");
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then both name the users it removed, and nothing changed: the backup of the up is where they are
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("legacy-written-since-up").And.Contain("users (TRUNCATE)")
            .And.Contain("hos1, hos2, stu1, stu2, vet1, vet2"), check.ToString());
        Assert.That(down.ExitCode, Is.EqualTo(3), down.ToString());
        Assert.That(down.Output, Does.Contain("legacy-written-since-up").And.Contain("vet1"), down.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before));
    }

    [Test]
    public async Task An_animal_an_old_application_adds_for_a_user_who_is_no_hospital_stays_and_only_that_side_table_is_read_again()
    {
        // Given an old application's animal for vet1 (no hospital: never moved, never mirrored) and a login
        await UpgradeLegacyDatabaseWithRowsAsync();
        await LegacyRows.InsertAsync(Database, new LegacyAnimal("a-vet", "vet1", "BIRD", new DateTime(2025, 10, 1)));
        await Database.ExecuteAsync("""UPDATE users SET "lastLoginAt" = now() WHERE id = 'vet1'""");

        // When
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup", "--json");

        // Then the rollback overwrote nothing (not named), the row stays, and hospital_animals, which is
        // not as before the up, was compared on its own while the untouched side tables were proven by
        // their fingerprints (users is always read)
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(down.Output, Does.Not.Contain("legacy-written-since-up"), down.ToString());
        Assert.That(await Database.ScalarAsync<long>("""SELECT count(*) FROM hospital_animals WHERE id = 'a-vet'"""), Is.EqualTo(1));
        var tables = JsonNode.Parse(down.StandardOutput)!["verification"]!["tables"]!;
        Assert.That(tables["hospital_treatment_animals"]!["byExactRestore"]!.GetValue<bool>(), Is.False, down.ToString());
        Assert.That(tables["hospital_treatment_animals"]!["fingerprintMatch"]!.GetValue<bool>(), Is.True, down.ToString());
        Assert.That(tables["hospital_treatment_specialties"]!["byExactRestore"]!.GetValue<bool>(), Is.True, down.ToString());
        Assert.That(tables["veterinarians"]!["byExactRestore"]!.GetValue<bool>(), Is.False, down.ToString());
    }

    [Test]
    public async Task Once_the_new_tables_hold_the_old_applications_values_the_rollback_keeps_them()
    {
        // Given an old application's nickname edit and animal, which the operator copies into the new tables
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("UPDATE users SET nickname = '구버전수정' WHERE id = 'vet1'");
        await LegacyRows.InsertAsync(Database, new LegacyAnimal("a-old", "hos1", "BIRD", new DateTime(2025, 10, 1)));
        await Database.ExecuteAsync("""
            UPDATE veterinarians SET nickname = '구버전수정' WHERE "userId" = 'vet1';
            INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
            SELECT 'a-old', h.id, h."userId", 'BIRD', '2025-10-01' FROM hospitals h WHERE h."userId" = 'hos1';
            """);

        // When
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then both sides agreed, nothing was refused, and the values survive the rollback
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(down.Output, Does.Not.Contain("legacy-written-since-up"), down.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("구버전수정"));
        Assert.That(await Database.ScalarAsync<long>("""SELECT count(*) FROM hospital_animals WHERE "userId" = 'hos1' AND "animalType" = 'BIRD'"""), Is.EqualTo(1));
    }

    [Test]
    public async Task The_cleanup_rolls_back_to_the_baseline_in_one_run_and_gives_back_the_legacy_tables()
    {
        // Given a legacy database, upgraded, an old application's nickname edit the cleanup then dropped
        // with its column (the cleanup is the operator's word that the old application is gone), and the cleanup
        await CreateLegacyDatabaseWithRowsAsync();
        var legacy = await LegacyTablesAsync();
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        await Database.ExecuteAsync("UPDATE users SET nickname = '구버전수정' WHERE id = 'vet1'");
        var cleanup = await RunAsync("migrate", "up", "--cleanup", "--yes", "--no-backup");
        Assert.That(cleanup.ExitCode, Is.Zero, cleanup.ToString());

        // When it is rolled back to the baseline in one run
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then nothing is named (the cleanup's Down refills users from the profiles, so no legacy value
        // is overwritten), and the legacy tables are as they were before the up
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        Assert.That(check.Output, Does.Not.Contain("legacy-written-since-up"), check.ToString());
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }));
        Assert.That(await LegacyTablesAsync(), Is.EqualTo(legacy));
    }

    [Test]
    public async Task After_the_cleanup_an_old_application_animal_is_still_named_by_a_rollback_to_the_baseline()
    {
        // Given a cleaned-up database and an old application instance that adds a treatment animal to hos1
        await UpgradeLegacyDatabaseWithRowsAsync();
        var cleanup = await RunAsync("migrate", "up", "--cleanup", "--yes", "--no-backup");
        Assert.That(cleanup.ExitCode, Is.Zero, cleanup.ToString());
        await LegacyRows.InsertAsync(Database, new LegacyAnimal("a-old", "hos1", "BIRD", new DateTime(2025, 10, 1)));
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then both name the hospital and the table, and nothing changed
        foreach (var result in new[] { check, down })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("legacy-written-since-up").And.Contain("hos1").And.Contain("to hospital_animals"), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), down.ToString());
    }

    [Test]
    public async Task The_new_applications_own_writes_are_never_named()
    {
        // Given an upgraded database and only the new application writing: profiles, a login, an animal, a new sign-up
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""
            UPDATE veterinarians SET nickname = '새닉네임' WHERE "userId" = 'vet1';
            UPDATE users SET "lastLoginAt" = now() WHERE id IN ('vet1', 'hos1');
            INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
            SELECT 'hta-new', h.id, h."userId", 'BIRD', now() FROM hospitals h WHERE h."userId" = 'hos1';
            """);

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then nothing is named, and the rollback carries the new application's writes back (not recorded as legacy writes)
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        Assert.That(check.Output, Does.Not.Contain("legacy-written-since-up"), check.ToString());
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(await Database.ScalarAsync<string>("SELECT nickname FROM users WHERE id = 'vet1'"), Is.EqualTo("새닉네임"));
        Assert.That(await Database.ScalarAsync<long>("""SELECT count(*) FROM hospital_animals WHERE "userId" = 'hos1' AND "animalType" = 'BIRD'"""), Is.EqualTo(1));

        // And nothing of the up is left behind: no record of legacy writes, and in the stash only the
        // animal's own id for the next up (ADR 0014), not the runner's own migration_log audit values,
        // which stay in the rows' descriptions (ADR 0002)
        Assert.That(await TableExistsAsync("iamvet_legacy_writes"), Is.False);
        Assert.That(await Database.LinesAsync("SELECT kind, key, payload ->> 'id' FROM iamvet_rollback_stash ORDER BY kind, key"),
            Is.EqualTo(new[] { "hospital_treatment_animals | hta-new | hta-new" }));
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM migration_log WHERE description LIKE '%iamvet-audit: {%'"), Is.GreaterThan(0));
    }
}
