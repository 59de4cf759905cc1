namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// In production hospital_facility_images."userId" references detailed_hospital_profiles("userId"),
/// a table we do not manage (docs/domain.md). A rollback that writes new images back must not fail
/// halfway on that key: the audit finds such hospitals first and names them.
/// </summary>
[TestFixture]
public sealed class ProductionImageForeignKeyTests : RunnerTest
{
    [Test]
    public async Task Down_is_refused_naming_a_hospital_whose_new_images_the_legacy_key_would_reject_and_succeeds_once_it_has_a_profile()
    {
        // Given production's shape: the images key points at detailed_hospital_profiles, and an upgrade
        await CreateLegacyDatabaseWithoutHistoryAsync();
        await Database.ExecuteAsync("""
            CREATE TABLE detailed_hospital_profiles ("userId" text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE);
            ALTER TABLE hospital_facility_images DROP CONSTRAINT "hospital_facility_images_userId_fkey";
            ALTER TABLE hospital_facility_images ADD CONSTRAINT "hospital_facility_images_userId_fkey"
                FOREIGN KEY ("userId") REFERENCES detailed_hospital_profiles ("userId") ON UPDATE CASCADE ON DELETE CASCADE;
            """);
        Assert.That((await RunAsync("baseline", "--yes")).ExitCode, Is.Zero);
        Assert.That((await RunAsync("migrate", "up", "--yes", "--no-backup")).ExitCode, Is.Zero);

        // When the new application signs up a hospital with an image but no detailed profile
        await NewApplication.SignUpAsync(Database, "h_new", "HOSPITAL");
        await Database.ExecuteAsync("""
            INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName") VALUES ('cuid_h', 'h_new', '새병원', '원장');
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder") VALUES ('cuid_i', 'cuid_h', 'h_new', 'https://cdn/x.jpg', 1);
            """);
        var before = await StateAsync();
        var refused = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then the rollback is refused before anything changes, naming the hospital and the table
        Assert.That(refused.ExitCode, Is.EqualTo(3), refused.ToString());
        Assert.That(refused.Output, Does.Contain("h_new").And.Contain("detailed_hospital_profiles"), refused.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before));

        // And once the hospital has its profile, the rollback writes the image back
        await Database.ExecuteAsync("""INSERT INTO detailed_hospital_profiles ("userId") VALUES ('h_new')""");
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(await Database.ScalarAsync<string>("""SELECT "imageUrl" FROM hospital_facility_images WHERE id = 'cuid_i'"""), Is.EqualTo("https://cdn/x.jpg"));
    }
}
