namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// The runner's <c>migrate down</c> after the new application has written to the new tables, then
/// <c>migrate up</c> again: every row comes back exactly, with every value (the migration-level detail
/// of the rollback is in NewApplicationWritesThenRollbackTests), the ids the application gave its own
/// rows, and timestamps finer than the legacy columns' milliseconds or other than the legacy rows'
/// (a profile's createdAt/updatedAt): what the legacy side cannot hold waits in the rollback stash
/// (docs/adr/0002), and the next up takes a timestamp from it only while the old application has
/// left the legacy value as the rollback wrote it.
/// </summary>
[TestFixture]
public sealed class RollbackAfterNewWritesTests : RunnerTest
{
    private static readonly string[] NewTables =
    [
        "veterinarians", "veterinary_students", "hospitals", "hospital_images", "hospital_treatment_animals", "hospital_treatment_specialties",
    ];

    [Test]
    public async Task Down_after_new_application_writes_then_up_again_gives_back_every_row_with_its_own_id_and_exact_timestamps()
    {
        // Given a normalized database the new application has written to
        await UpgradeLegacyDatabaseWithRowsAsync();
        await NewApplication.SignUpVeterinarianV9Async(Database);
        await NewApplication.SignUpAsync(Database, "s9", "VETERINARY_STUDENT");
        await NewApplication.SignUpAsync(Database, "h9", "HOSPITAL");
        await Database.ExecuteAsync("""
            INSERT INTO veterinary_students (id, "userId", "realName", nickname, "universityEmail")
            VALUES ('cuid-s9', 's9', '신입생', '새싹', 's9@cnu.ac.kr');
            INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName", "businessNumber", "businessLicenseFile",
                                   "hospitalAddress", "hospitalAddressDetail", "postalCode", latitude, longitude, "hospitalWebsite", "hospitalDescription")
            VALUES ('cuid-h9', 'h9', '신규동물병원', '최원장', '999-99-99999', 'https://cdn/h9/licence.pdf',
                    '대구시 중구 2', '1층', '41911', 35.86952722, 128.60603549, 'https://new.vet', '24시간 응급 진료');
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "imageDescription", "createdAt", "updatedAt") VALUES
                ('cuid-img1', 'cuid-h9', 'h9', 'https://cdn/h9/front.jpg', 1, '정문', '2025-10-01 09:00:00', '2025-10-01 09:00:00'),
                ('cuid-img2', 'cuid-h9', 'h9', 'https://cdn/h9/room.jpg', 2, NULL, '2025-10-01 09:00:01', '2025-10-02 10:00:00'),
                ('cuid-img3', 'hosp_hos1', 'hos1', 'https://cdn/i3.png', 3, '수술실', '2025-10-03 09:00:00.000001', '2025-10-03 09:00:00.123456');
            UPDATE veterinarians SET nickname = '닥터1-수정', "birthDate" = '1990-05-17 00:00:00.123456', "updatedAt" = '2025-10-04 10:00:00.654321'
            WHERE "userId" = 'vet1';
            UPDATE veterinary_students SET id = 'cuid-stu1' WHERE "userId" = 'stu1';
            UPDATE hospitals SET "establishedDate" = '2020-03-01 00:00:00.000500' WHERE "userId" = 'h9';
            UPDATE hospital_images SET "updatedAt" = '2025-10-05 08:00:00.000007' WHERE id = 'himg_i1';
            DELETE FROM hospital_treatment_animals WHERE id = 'hta_a1';
            INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
                VALUES ('cuid-dog', 'hosp_hos1', 'hos1', 'DOG', '2025-10-06 07:00:00.999999');
            UPDATE hospitals SET "postalCode" = '04001', "hospitalDescription" = '마포 24시' WHERE "userId" = 'hos1';
            UPDATE hospital_images SET "imageDescription" = '대기실' WHERE id = 'himg_i2';
            """);
        await NewApplication.AddTreatmentsOfHospitalH9Async(Database);
        var written = await NewTableRowsAsync();

        // When the runner rolls back and upgrades again
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");
        var legacy = await Database.LinesAsync("""SELECT id, "realName", nickname, "hospitalName" FROM users WHERE id IN ('v9', 'vet1', 'h9') ORDER BY id""");
        var again = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then the rollback put the values in the legacy columns, and the upgrade brought every row back
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(legacy, Is.EqualTo(new[] { "h9 | 최원장 | NULL | 신규동물병원", "v9 | 신규수의 | newvet | NULL", "vet1 | 김수의 | 닥터1-수정 | NULL" }));
        Assert.That(again.ExitCode, Is.Zero, again.ToString());
        var back = await NewTableRowsAsync();
        foreach (var table in NewTables)
        {
            Assert.That(back[table], Is.EqualTo(written[table]), $"{table} after down and up again");
        }

        Assert.That(written["hospitals"], Has.Some.Contains("\"postalCode\": \"41911\"").And.Some.Contains("\"hospitalDescription\": \"마포 24시\""), "the test no longer writes the values it means to");
        Assert.That(written["veterinarians"], Has.Some.Contains("cuid-v9").And.Some.Contains("00:00:00.123456"), "the test no longer writes the values it means to");
        Assert.That(await TableExistsAsync("iamvet_rollback_stash"), Is.False, "the up used up the stash");
    }

    [Test]
    public async Task A_timestamp_the_old_application_changed_after_the_rollback_wins_over_the_stash_and_the_id_stays()
    {
        // Given a profile with the application's own id and a birthDate in microseconds, rolled back
        await UpgradeLegacyDatabaseWithRowsAsync();
        await NewApplication.SignUpVeterinarianV9Async(Database);
        await Database.ExecuteAsync("""UPDATE veterinarians SET "birthDate" = '1995-06-07 00:00:00.123456' WHERE id = 'cuid-v9'""");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(await Database.ScalarAsync<string>("""SELECT "birthDate"::text FROM users WHERE id = 'v9'"""), Is.EqualTo("1995-06-07 00:00:00.123"));

        // When the old application, the truth again, corrects the birthDate, and the runner upgrades again
        await Database.ExecuteAsync("""UPDATE users SET "birthDate" = '1995-06-08' WHERE id = 'v9'""");
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then its value wins over the stashed one, and the profile keeps its id
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(await Database.LinesAsync("""SELECT id, "birthDate"::text FROM veterinarians WHERE "userId" = 'v9'"""),
            Is.EqualTo(new[] { "cuid-v9 | 1995-06-08 00:00:00" }));
    }

    /// <summary>Every row of every new table, all columns as jsonb text, ordered by id.</summary>
    private async Task<Dictionary<string, List<string>>> NewTableRowsAsync()
    {
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var table in NewTables)
        {
            rows[table] = await Database.LinesAsync($"SELECT id, to_jsonb(t)::text FROM {table} t ORDER BY 1");
        }

        return rows;
    }
}
