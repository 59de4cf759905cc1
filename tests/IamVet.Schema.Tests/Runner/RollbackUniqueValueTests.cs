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
}
