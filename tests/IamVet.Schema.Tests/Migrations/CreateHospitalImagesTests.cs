namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// Sonarr shape: the hospital_images part of <see cref="SplitUsersIntoProfileTables"/> (which
/// moves users and the side tables together: docs/adr/0006).
/// </summary>
[TestFixture]
public sealed class CreateHospitalImagesTests : MigrationTest<SplitUsersIntoProfileTables>
{
    private const string ImagesQuery = """
        SELECT id, "hospitalId", "userId", "imageUrl", "imageOrder", "imageDescription", "createdAt", "updatedAt"
        FROM hospital_images ORDER BY "hospitalId", "imageOrder"
        """;

    private const string LegacyQuery = """
        SELECT id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt"
        FROM hospital_facility_images ORDER BY "userId", id
        """;

    private const string OrderQuery = """SELECT id, "imageOrder" FROM hospital_images ORDER BY "hospitalId", "imageOrder" """;

    private static readonly DateTime Updated = new(2024, 6, 1, 0, 0, 0);

    [SetUp]
    public async Task SeedTwoHospitalsAndAVeterinarian()
    {
        await LegacyRows.InsertTwoHospitalsAsync(Database);
        await LegacyRows.InsertAsync(Database, new LegacyUser("v1", "VETERINARIAN"));
    }

    [Test]
    public async Task Images_all_at_displayOrder_0_get_imageOrder_1_to_n_ordered_by_createdAt_then_id()
    {
        // Given h1's images all at displayOrder 0, two of them created at the same instant
        await LegacyRows.InsertAsync(Database,
            new LegacyImage("i3", "h1", "https://cdn/h1/3.jpg", 0, At(10, 0), Updated),
            new LegacyImage("i1", "h1", "https://cdn/h1/1.jpg", 0, At(11, 0), Updated),
            new LegacyImage("i2", "h1", "https://cdn/h1/2.jpg", 0, At(10, 0), Updated),
            new LegacyImage("j1", "h2", "https://cdn/h2/1.jpg", 0, At(9, 0), Updated));

        // When
        await ApplyAsync();

        // Then
        Assert.That(await Database.LinesAsync(ImagesQuery), Is.EqualTo(new[]
        {
            "himg_i2 | hosp_h1 | h1 | https://cdn/h1/2.jpg | 1 | NULL | 2024-04-01 10:00:00 | 2024-06-01 00:00:00",
            "himg_i3 | hosp_h1 | h1 | https://cdn/h1/3.jpg | 2 | NULL | 2024-04-01 10:00:00 | 2024-06-01 00:00:00",
            "himg_i1 | hosp_h1 | h1 | https://cdn/h1/1.jpg | 3 | NULL | 2024-04-01 11:00:00 | 2024-06-01 00:00:00",
            "himg_j1 | hosp_h2 | h2 | https://cdn/h2/1.jpg | 1 | NULL | 2024-04-01 09:00:00 | 2024-06-01 00:00:00",
        }));
    }

    [Test]
    public async Task Mixed_displayOrder_is_renumbered_by_displayOrder_then_createdAt()
    {
        await LegacyRows.InsertAsync(Database,
            new LegacyImage("k1", "h1", "https://cdn/k1.jpg", 2, At(8, 0), Updated),
            new LegacyImage("k2", "h1", "https://cdn/k2.jpg", 0, At(12, 0), Updated),
            new LegacyImage("k3", "h1", "https://cdn/k3.jpg", 1, At(9, 0), Updated),
            new LegacyImage("k4", "h1", "https://cdn/k4.jpg", 0, At(11, 0), Updated),
            new LegacyImage("k5", "h1", "https://cdn/k5.jpg", 7, At(7, 0), Updated));

        await ApplyAsync();

        Assert.That(await Database.LinesAsync(OrderQuery),
            Is.EqualTo(new[] { "himg_k4 | 1", "himg_k2 | 2", "himg_k3 | 3", "himg_k1 | 4", "himg_k5 | 5" }));
    }

    [Test]
    public async Task Images_of_a_user_who_is_not_a_hospital_stay_in_the_legacy_table_and_are_not_moved()
    {
        // Given an image of a hospital and one of a veterinarian
        await LegacyRows.InsertAsync(Database,
            new LegacyImage("i1", "h1", "https://cdn/h1/1.jpg", 0, At(10, 0), Updated),
            new LegacyImage("x1", "v1", "https://cdn/v1/x.jpg", 3, At(10, 0), Updated));
        var legacyBefore = await Database.LinesAsync(LegacyQuery);

        // When
        await ApplyAsync();

        // Then only the hospital's image moved; the legacy table is untouched, before and after Down
        Assert.That(await Database.LinesAsync("SELECT id FROM hospital_images ORDER BY id"), Is.EqualTo(new[] { "himg_i1" }));
        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(legacyBefore));
        await RevertAsync();
        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(legacyBefore));
    }

    [Test]
    public async Task Down_leaves_the_legacy_images_untouched_when_nothing_changed()
    {
        await SeedThreeImagesOfH1Async();
        await LegacyRows.InsertAsync(Database,
            new LegacyImage("m1", "h2", "https://cdn/m1.jpg", 5, At(9, 0), Updated),
            new LegacyImage("m2", "h2", "https://cdn/m2.jpg", 0, At(9, 0), Updated));
        var legacyBefore = await Database.LinesAsync(LegacyQuery);

        await ApplyAsync();
        await RevertAsync();

        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(legacyBefore));
        Assert.That(await Database.TableExistsAsync("hospital_images"), Is.False);
        Assert.That(await Database.TableExistsAsync("iamvet_rollback_stash"), Is.False);
    }

    [Test]
    public async Task Down_mirrors_an_image_the_new_application_added()
    {
        // Given
        await SeedThreeImagesOfH1Async();
        await ApplyAsync();
        await Database.ExecuteAsync("""
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "createdAt", "updatedAt")
            VALUES ('img-new', 'hosp_h1', 'h1', 'https://cdn/h1/new.jpg', 4, '2025-10-01 12:00:00', '2025-10-01 12:00:00');
            """);

        // When
        await RevertAsync();

        // Then
        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(new[]
        {
            "a | h1 | https://cdn/h1/a.jpg | 0 | 2024-04-01 09:00:00 | 2024-06-01 00:00:00",
            "b | h1 | https://cdn/h1/b.jpg | 0 | 2024-04-01 10:00:00 | 2024-06-01 00:00:00",
            "c | h1 | https://cdn/h1/c.jpg | 0 | 2024-04-01 11:00:00 | 2024-06-01 00:00:00",
            "img-new | h1 | https://cdn/h1/new.jpg | 4 | 2025-10-01 12:00:00 | 2025-10-01 12:00:00",
        }));
        await ApplyAsync();
        Assert.That(await Database.LinesAsync(OrderQuery),
            Is.EqualTo(new[] { "himg_a | 1", "himg_b | 2", "himg_c | 3", "img-new | 4" }));
    }

    [Test]
    public async Task Down_mirrors_an_image_the_new_application_deleted()
    {
        await SeedThreeImagesOfH1Async();
        await ApplyAsync();
        await Database.ExecuteAsync("DELETE FROM hospital_images WHERE id = 'himg_b'");

        await RevertAsync();

        Assert.That(await Database.LinesAsync("""SELECT id, "imageUrl" FROM hospital_facility_images ORDER BY id"""),
            Is.EqualTo(new[] { "a | https://cdn/h1/a.jpg", "c | https://cdn/h1/c.jpg" }));
        await ApplyAsync();
        Assert.That(await Database.LinesAsync(OrderQuery), Is.EqualTo(new[] { "himg_a | 1", "himg_c | 2" }));
    }

    [Test]
    public async Task Down_mirrors_a_set_the_new_application_reordered_and_the_next_up_gives_that_order()
    {
        // Given the new application puts c first (through free slots: UNIQUE (hospitalId, imageOrder))
        await SeedThreeImagesOfH1Async();
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE hospital_images SET "imageOrder" = "imageOrder" + 100 WHERE "hospitalId" = 'hosp_h1';
            UPDATE hospital_images SET "imageOrder" = 1 WHERE id = 'himg_c';
            UPDATE hospital_images SET "imageOrder" = 2 WHERE id = 'himg_a';
            UPDATE hospital_images SET "imageOrder" = 3 WHERE id = 'himg_b';
            """);

        // When
        await RevertAsync();

        // Then
        Assert.That(await Database.LinesAsync("""SELECT id, "displayOrder" FROM hospital_facility_images ORDER BY id"""),
            Is.EqualTo(new[] { "a | 2", "b | 3", "c | 1" }));
        await ApplyAsync();
        Assert.That(await Database.LinesAsync(OrderQuery), Is.EqualTo(new[] { "himg_c | 1", "himg_a | 2", "himg_b | 3" }));
    }

    [Test]
    public async Task Down_mirrors_a_changed_url()
    {
        await SeedThreeImagesOfH1Async();
        await ApplyAsync();
        await Database.ExecuteAsync("""UPDATE hospital_images SET "imageUrl" = 'https://cdn/h1/b-v2.webp' WHERE id = 'himg_b'""");

        await RevertAsync();

        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(new[]
        {
            "a | h1 | https://cdn/h1/a.jpg | 0 | 2024-04-01 09:00:00 | 2024-06-01 00:00:00",
            "b | h1 | https://cdn/h1/b-v2.webp | 0 | 2024-04-01 10:00:00 | 2024-06-01 00:00:00",
            "c | h1 | https://cdn/h1/c.jpg | 0 | 2024-04-01 11:00:00 | 2024-06-01 00:00:00",
        }));
    }

    [Test]
    public async Task ImageDescription_survives_down_then_up_through_the_stash()
    {
        // Given descriptions on a moved image and on one the new application added
        await SeedThreeImagesOfH1Async();
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE hospital_images SET "imageDescription" = '진료실 전경' WHERE id = 'himg_a';
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "imageDescription")
            VALUES ('img-new', 'hosp_h2', 'h2', 'https://cdn/h2/new.jpg', 1, '대기실');
            """);

        // When it rolls back
        await RevertAsync();

        // Then the descriptions wait in the stash, keyed by legacy id
        Assert.That(await Database.LinesAsync("SELECT kind, key, payload ->> 'imageDescription' FROM iamvet_rollback_stash ORDER BY key"),
            Is.EqualTo(new[] { "hospital_images | a | 진료실 전경", "hospital_images | img-new | 대기실" }));

        // When it upgrades again
        await ApplyAsync();

        // Then they are back and the stash is gone
        Assert.That(await Database.LinesAsync("""SELECT id, "imageDescription" FROM hospital_images ORDER BY id"""), Is.EqualTo(new[]
        {
            "himg_a | 진료실 전경",
            "himg_b | NULL",
            "himg_c | NULL",
            "img-new | 대기실",
        }));
        Assert.That(await Database.TableExistsAsync("iamvet_rollback_stash"), Is.False);
    }

    private static DateTime At(int hour, int minute) => new(2024, 4, 1, hour, minute, 0);

    /// <summary>h1: a, b, c, all at displayOrder 0, created in that order (imageOrder 1, 2, 3).</summary>
    private Task SeedThreeImagesOfH1Async() => LegacyRows.InsertAsync(Database,
        new LegacyImage("a", "h1", "https://cdn/h1/a.jpg", 0, At(9, 0), Updated),
        new LegacyImage("b", "h1", "https://cdn/h1/b.jpg", 0, At(10, 0), Updated),
        new LegacyImage("c", "h1", "https://cdn/h1/c.jpg", 0, At(11, 0), Updated));
}
