namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// After the upgrade the application may delete a profile and give its unique value to another
/// user. The rollback would then write that value to the other user while the first keeps it in
/// the legacy column: a unique violation halfway through. It is refused up front instead (exit 3),
/// naming the user that holds the value, before the backup and before anything changes.
/// </summary>
[TestFixture]
public sealed class RollbackUniqueValueTests : RunnerTest
{
    [TestCase("""
        DELETE FROM veterinary_students WHERE "userId" = 'stu1';
        UPDATE veterinary_students SET "universityEmail" = 'stu1@snu.ac.kr' WHERE "userId" = 'stu2';
        """, "university-email-held-by-another-user", TestName = "Down_is_refused_when_a_deleted_students_universityEmail_went_to_another_student")]
    [TestCase("""
        DELETE FROM hospitals WHERE "userId" = 'hos1';
        UPDATE hospitals SET "businessNumber" = '123-45-67890' WHERE "userId" = 'hos2';
        """, "business-number-held-by-another-user", TestName = "Down_is_refused_when_a_deleted_hospitals_businessNumber_went_to_another_hospital")]
    public async Task Down_is_refused_naming_the_user_that_still_holds_the_value(string applicationWrites, string code)
    {
        // Given an upgraded database where the application passed a unique value on
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(applicationWrites);
        var before = await StateAsync();

        // When
        var down = await RunAsync("migrate", "down", "--yes");

        // Then refused before the backup, naming the user, and nothing changed
        Assert.That(down.ExitCode, Is.EqualTo(3), down.ToString());
        var holder = code.StartsWith("university", StringComparison.Ordinal) ? "stu1" : "hos1";
        Assert.That(down.Output, Does.Contain(code).And.Contain(holder), down.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + down);
        Assert.That(BackupFiles(), Is.Empty, "a refused run takes no backup");
    }

    [Test]
    public async Task Down_is_refused_naming_the_side_rows_the_application_added_under_a_legacy_id_that_is_taken()
    {
        // Given an upgraded database where the application added a treatment animal and a specialty
        // under the ids a1 and s1 (the legacy rows a1 and s1 stay: hta_a1 and hts_s1 are still there),
        // and an image i1 beside himg_i1 (both go back as i1)
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""
            INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType") SELECT 'a1', h.id, 'hos1', 'BIRD' FROM hospitals h WHERE h."userId" = 'hos1';
            INSERT INTO hospital_treatment_specialties (id, "hospitalId", "userId", specialty) SELECT 's1', h.id, 'hos1', '외과' FROM hospitals h WHERE h."userId" = 'hos1';
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder") SELECT 'i1', h.id, 'hos1', 'https://cdn/i9.png', 3 FROM hospitals h WHERE h."userId" = 'hos1';
            """);
        var before = await StateAsync();

        // When
        var check = await RunAsync("check", "--down", "--no-backup");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then both name the rows, and nothing changed
        foreach (var result in new[] { check, down })
        {
            Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
            Assert.That(result.Output, Does.Contain("hospital_animals-id-taken").And.Contain("Ids: a1."), result.ToString());
            Assert.That(result.Output, Does.Contain("hospital_specialties-id-taken").And.Contain("Ids: s1."), result.ToString());
            Assert.That(result.Output, Does.Contain("hospital_facility_images-id-taken").And.Contain("Ids: himg_i1, i1."), result.ToString());
        }

        Assert.That(await StateAsync(), Is.EqualTo(before), down.ToString());
    }
}
