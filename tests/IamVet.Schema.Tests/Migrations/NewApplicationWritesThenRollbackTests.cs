namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// The whole expand phase end to end: production's legacy rows, every plain <c>migrate up</c>
/// migration, the new application writing only to the new tables (as it does once deployed), then
/// a rollback to the legacy baseline. The old application must find everything in its own columns
/// and tables, and users."realName" must be NOT NULL again.
/// </summary>
[TestFixture]
public sealed class NewApplicationWritesThenRollbackTests
{
    private TestDatabase database = null!;

    [SetUp]
    public async Task ExpandWithLegacyRowsThenLetTheNewApplicationWrite()
    {
        database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Versions.Baseline);
        await LegacyRows.InsertAsync(database,
            new LegacyUser("v1", "VETERINARIAN") { RealName = "김철수", Nickname = "닥터김", LicenseImage = "https://cdn/l1.png" },
            new LegacyUser("s1", "VETERINARY_STUDENT") { RealName = "최학생", UniversityEmail = "s1@snu.ac.kr" },
            new LegacyUser("h1", "HOSPITAL") { RealName = "김대표", HospitalName = "행복동물병원", BusinessNumber = "111-11-11111" },
            new LegacyImage("i1", "h1", "https://cdn/h1/1.jpg", 0, new DateTime(2024, 4, 1), new DateTime(2024, 4, 1)),
            new LegacyAnimal("a1", "h1", "DOG", new DateTime(2024, 1, 1)));
        await Migrator.UpToAsync(database, Migrator.Expanded);

        // The new application: a vet and a hospital sign up (users rows without realName), the
        // hospital adds images, animals, a specialty and its licence file, and v1 edits a nickname.
        await NewApplication.SignUpVeterinarianV9Async(database);
        await NewApplication.SignUpAsync(database, "h9", "HOSPITAL");
        await database.ExecuteAsync("""
            INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName", "businessNumber", "businessLicenseFile",
                                   "hospitalAddress", "hospitalAddressDetail", "hospitalWebsite")
            VALUES ('cuid-h9', 'h9', '신규동물병원', '최원장', '999-99-99999', 'https://cdn/h9/licence.pdf',
                    '대구시 중구 2', '1층', 'https://new.vet');
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "createdAt", "updatedAt") VALUES
                ('cuid-img1', 'cuid-h9', 'h9', 'https://cdn/h9/front.jpg', 1, '2025-10-01 09:00:00', '2025-10-01 09:00:00'),
                ('cuid-img2', 'cuid-h9', 'h9', 'https://cdn/h9/room.jpg', 2, '2025-10-01 09:00:01', '2025-10-01 09:00:01');
            UPDATE veterinarians SET nickname = '닥터김2' WHERE "userId" = 'v1';
            """);
        await NewApplication.AddTreatmentsOfHospitalH9Async(database);
    }

    [TearDown]
    public async Task Drop() => await database.DisposeAsync();

    [Test]
    public async Task After_rollback_the_users_columns_hold_the_new_signups_and_the_edit()
    {
        await Migrator.DownToAsync(database);

        Assert.That(await database.LinesAsync("""
            SELECT id, "userType"::text, "realName", "birthDate", nickname, "licenseImage", "universityEmail",
                   "hospitalName", "businessNumber", "hospitalAddress", "hospitalAddressDetail", "hospitalWebsite"
            FROM users ORDER BY id
            """), Is.EqualTo(new[]
        {
            "h1 | HOSPITAL | 김대표 | NULL | NULL | NULL | NULL | 행복동물병원 | 111-11-11111 | NULL | NULL | NULL",
            "h9 | HOSPITAL | 최원장 | NULL | NULL | NULL | NULL | 신규동물병원 | 999-99-99999 | 대구시 중구 2 | 1층 | https://new.vet",
            "s1 | VETERINARY_STUDENT | 최학생 | NULL | NULL | NULL | s1@snu.ac.kr | NULL | NULL | NULL | NULL | NULL",
            "v1 | VETERINARIAN | 김철수 | NULL | 닥터김2 | https://cdn/l1.png | NULL | NULL | NULL | NULL | NULL | NULL",
            "v9 | VETERINARIAN | 신규수의 | 1995-06-07 00:00:00 | newvet | https://cdn/v9/licence.png | NULL | NULL | NULL | NULL | NULL | NULL",
        }));
    }

    [Test]
    public async Task After_rollback_the_legacy_side_tables_hold_the_new_hospitals_images_animals_specialty_and_licence()
    {
        await Migrator.DownToAsync(database);

        Assert.That(await database.LinesAsync("""
            SELECT id, "userId", "imageUrl", "displayOrder", "createdAt" FROM hospital_facility_images ORDER BY id
            """), Is.EqualTo(new[]
        {
            "cuid-img1 | h9 | https://cdn/h9/front.jpg | 1 | 2025-10-01 09:00:00",
            "cuid-img2 | h9 | https://cdn/h9/room.jpg | 2 | 2025-10-01 09:00:01",
            "i1 | h1 | https://cdn/h1/1.jpg | 0 | 2024-04-01 00:00:00",
        }));
        Assert.That(await database.LinesAsync("""SELECT id, "userId", "animalType" FROM hospital_animals ORDER BY id"""),
            Is.EqualTo(new[] { "a1 | h1 | DOG", "cuid-ani1 | h9 | DOG", "cuid-ani2 | h9 | CAT" }));
        Assert.That(await database.LinesAsync("""SELECT id, "userId", specialty FROM hospital_specialties ORDER BY id"""),
            Is.EqualTo(new[] { "cuid-spc1 | h9 | 내과" }));
        Assert.That(await database.LinesAsync("""
            SELECT "userId", "fileName", "fileUrl", "fileType" FROM hospital_business_licenses ORDER BY "userId"
            """), Is.EqualTo(new[] { "h9 | licence.pdf | https://cdn/h9/licence.pdf | pdf" }));
    }

    [Test]
    public async Task After_rollback_realName_is_NOT_NULL_again_and_only_the_legacy_tables_remain()
    {
        await Migrator.DownToAsync(database);

        Assert.That(await database.IsNullableAsync("users", "realName"), Is.False);
        Assert.That(await Migrator.AppliedAsync(database), Is.EqualTo(new[] { Versions.Baseline }));
        Assert.That(await database.LinesAsync("""
            SELECT table_name::text FROM information_schema.tables
            WHERE table_schema = 'public' AND table_name <> 'VersionInfo' ORDER BY table_name
            """), Is.EqualTo(new[]
        {
            "hospital_animals", "hospital_business_licenses", "hospital_facility_images", "hospital_specialties",
            "iamvet_rollback_stash", // the application's own ids and timestamps, for the next up (docs/adr/0002)
            "migration_log", "users",
        }));
    }

    [Test]
    public async Task The_next_up_gives_the_new_application_its_rows_back()
    {
        // When it rolls back and upgrades again
        await Migrator.DownToAsync(database);
        await Migrator.UpToAsync(database, Migrator.Expanded);

        // Then the profiles and side rows are there again, the application's under its own ids (kept in
        // the rollback stash, docs/adr/0002), the others under ids derived from the legacy ids
        Assert.That(await database.LinesAsync("""SELECT id, "userId", "realName", nickname FROM veterinarians ORDER BY id"""),
            Is.EqualTo(new[] { "cuid-v9 | v9 | 신규수의 | newvet", "vet_v1 | v1 | 김철수 | 닥터김2" }));
        Assert.That(await database.LinesAsync("""SELECT id, "hospitalName", "businessLicenseFile" FROM hospitals ORDER BY id"""),
            Is.EqualTo(new[] { "cuid-h9 | 신규동물병원 | https://cdn/h9/licence.pdf", "hosp_h1 | 행복동물병원 | NULL" }));
        Assert.That(await database.LinesAsync("""SELECT id, "hospitalId", "imageOrder" FROM hospital_images ORDER BY id"""),
            Is.EqualTo(new[] { "cuid-img1 | cuid-h9 | 1", "cuid-img2 | cuid-h9 | 2", "himg_i1 | hosp_h1 | 1" }));
        Assert.That(await database.LinesAsync("""SELECT id, "hospitalId", "animalType" FROM hospital_treatment_animals ORDER BY id"""),
            Is.EqualTo(new[] { "cuid-ani1 | cuid-h9 | DOG", "cuid-ani2 | cuid-h9 | CAT", "hta_a1 | hosp_h1 | DOG" }));
        Assert.That(await database.TableExistsAsync("iamvet_rollback_stash"), Is.False, "the up used up the stash");
    }
}
