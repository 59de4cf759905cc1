namespace IamVet.Schema.Tests.Runner;

/// <summary>The new application deletes a hospital image that is not the last: imageOrder keeps a gap.</summary>
[TestFixture]
public sealed class RollbackAfterImageDeletedTests : RunnerTest
{
    [Test]
    public async Task Down_after_a_middle_image_was_deleted_succeeds_and_keeps_the_order_of_the_others()
    {
        // Given an upgraded hospital with three images, of which the application deleted the second
        await Migrator.UpToAsync(Database, Versions.Baseline);
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원" },
            new LegacyImage("i1", "h1", "https://cdn/1.jpg", 0, new DateTime(2024, 1, 1), new DateTime(2024, 1, 1)),
            new LegacyImage("i2", "h1", "https://cdn/2.jpg", 0, new DateTime(2024, 1, 2), new DateTime(2024, 1, 2)),
            new LegacyImage("i3", "h1", "https://cdn/3.jpg", 0, new DateTime(2024, 1, 3), new DateTime(2024, 1, 3)));
        var up = await RunAsync("migrate", "up", "--yes", "--no-backup");
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        await Database.ExecuteAsync("DELETE FROM hospital_images WHERE id = 'himg_i2'");

        // When rolling back
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then it succeeds, the deleted image is gone and the others keep their order
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        var rows = await Database.RowsAsync("""SELECT id FROM hospital_facility_images ORDER BY "displayOrder", "createdAt", id""");
        Assert.That(rows.Select(r => r["id"]), Is.EqualTo(new[] { "i1", "i3" }));
    }
}
