namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// Right after an up the new tables must hold exactly what the legacy side says: a licence file
/// the up failed to copy, or an imageOrder with gaps, is a failed up (exit 6, rolled back), even
/// though the same state, reached later by the application's own writes, is one a down accepts.
/// </summary>
[TestFixture]
public sealed class UpVerificationTests : RunnerTest
{
    [TestCase("hospitals", "businessLicenseFile", "NULL", "hospitals: 2 row(s) on both sides, but the moved values differ",
        TestName = "Exit_6_when_the_up_leaves_a_hospital_without_its_newest_licence_file")]
    [TestCase("hospital_images", "imageOrder", "NEW.\"imageOrder\" * 10", "hospital_images: 2 row(s) on both sides, but the moved values differ",
        TestName = "Exit_6_when_the_up_leaves_gaps_in_imageOrder")]
    public async Task A_value_the_up_got_wrong_fails_verification_and_rolls_back(string table, string column, string expression, string mismatch)
    {
        // Given a trigger, attached as soon as the table is created, that changes a value on its way in
        await CreateLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync(Sabotage.RewriteEveryInsertedValue(table, column, expression));

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(6), result.ToString());
        Assert.That(result.Output, Does.Contain(mismatch).And.Contain("rolled back"), result.ToString());
        Assert.That(await Database.ScalarAsync<bool>($"SELECT to_regclass('public.{table}') IS NULL"), Is.True, "the table was rolled back");
    }
}
