namespace IamVet.Schema.Tests.Migrations;

/// <summary>Sonarr shape: migrate to the version before, seed legacy rows, apply, assert exact rows.</summary>
[TestFixture]
public sealed class CreateHospitalsTests : MigrationTest<SplitUsersIntoProfileTables>
{
    private const string HospitalsQuery = """
        SELECT id, "userId", "hospitalName", "representativeName", "businessNumber", "businessLicenseFile",
               "establishedDate", "hospitalAddress", "hospitalAddressDetail", "postalCode", latitude, longitude,
               "hospitalLogo", "hospitalWebsite", "hospitalDescription", "createdAt", "updatedAt"
        FROM hospitals ORDER BY id
        """;

    [Test]
    public async Task Every_hospital_moves_active_or_not_with_its_realName_as_representative_and_no_values_for_the_new_columns()
    {
        // Given an active hospital with every column, an inactive and a withdrawn one, and a veterinarian
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h1", "HOSPITAL")
            {
                RealName = "김대표", HospitalName = "행복동물병원", BusinessNumber = "123-45-67890",
                EstablishedDate = new DateTime(2015, 3, 2), HospitalAddress = "서울시 강남구 테헤란로 1",
                HospitalAddressDetail = "2층", HospitalLogo = "https://cdn/logo1.png", HospitalWebsite = "https://happy.vet",
            },
            new LegacyUser("h2", "HOSPITAL") { IsActive = false, RealName = "이원장", HospitalName = "튼튼병원" },
            new LegacyUser("h3", "HOSPITAL") { DeletedAt = new DateTime(2025, 1, 2), WithdrawReason = "폐업", RealName = "박원장", HospitalName = "닫힌병원" },
            new LegacyUser("v1", "VETERINARIAN") { HospitalName = "근무병원" });

        // When
        await ApplyAsync();

        // Then
        Assert.That(await Database.LinesAsync(HospitalsQuery), Is.EqualTo(new[]
        {
            "hosp_h1 | h1 | 행복동물병원 | 김대표 | 123-45-67890 | NULL | 2015-03-02 00:00:00 | 서울시 강남구 테헤란로 1 | 2층 | NULL | NULL | NULL | https://cdn/logo1.png | https://happy.vet | NULL | 2024-03-01 09:00:00.123 | 2024-06-01 12:30:00.456",
            "hosp_h2 | h2 | 튼튼병원 | 이원장 | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | 2024-03-01 09:00:00.123 | 2024-06-01 12:30:00.456",
            "hosp_h3 | h3 | 닫힌병원 | 박원장 | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | 2024-03-01 09:00:00.123 | 2024-06-01 12:30:00.456",
        }));
    }

    [Test]
    public async Task BusinessLicenseFile_is_the_newest_licence_by_uploadedAt_with_a_tie_going_to_the_greater_id_and_NULL_without_one()
    {
        // Given h1 with three licences, h2 with two uploaded at the same instant, h3 with none
        await LegacyRows.InsertTwoHospitalsAsync(Database);
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h3", "HOSPITAL") { HospitalName = "새병원" },
            new LegacyLicense("l0", "h1", "oldest.pdf", "https://cdn/h1/oldest.pdf", "pdf", new DateTime(2023, 1, 1), 100),
            new LegacyLicense("l2", "h1", "newest.pdf", "https://cdn/h1/newest.pdf", "pdf", new DateTime(2024, 5, 5, 10, 0, 0, 1), 300),
            new LegacyLicense("l1", "h1", "older.pdf", "https://cdn/h1/older.pdf", "pdf", new DateTime(2024, 5, 5, 10, 0, 0, 0), 200),
            new LegacyLicense("lb", "h2", "b.png", "https://cdn/h2/b.png", "png", new DateTime(2024, 2, 2, 10, 0, 0), null),
            new LegacyLicense("la", "h2", "a.png", "https://cdn/h2/a.png", "png", new DateTime(2024, 2, 2, 10, 0, 0), null));

        // When
        await ApplyAsync();

        // Then
        Assert.That(await Database.LinesAsync("""SELECT id, "businessLicenseFile" FROM hospitals ORDER BY id"""), Is.EqualTo(new[]
        {
            "hosp_h1 | https://cdn/h1/newest.pdf",
            "hosp_h2 | https://cdn/h2/b.png",
            "hosp_h3 | NULL",
        }));
    }

    [Test]
    public async Task A_hospital_without_hospitalName_stops_the_migration_naming_it_and_nothing_is_created()
    {
        // Given a sound hospital and two without a hospitalName
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h-ok", "HOSPITAL") { HospitalName = "행복동물병원" },
            new LegacyUser("h-bad2", "HOSPITAL") { HospitalName = null },
            new LegacyUser("h-bad1", "HOSPITAL") { HospitalName = null, IsActive = false });
        var usersBefore = await Database.LinesAsync("SELECT to_jsonb(u)::text FROM users u ORDER BY id");

        // When
        var error = await MigrationFailure.OfAsync(ApplyAsync);

        // Then the message names both ids, and the database is as it was
        Assert.That(error.MessageText, Does.Contain("2 HOSPITAL user(s) have no hospitalName"));
        Assert.That(error.MessageText, Does.Contain("h-bad1, h-bad2"));
        Assert.That(await Database.TableExistsAsync("hospitals"), Is.False);
        Assert.That(await Database.TableExistsAsync("iamvet_rollback_stash"), Is.False);
        Assert.That(await Migrator.AppliedAsync(Database), Has.No.Member(Versions.SplitUsers));
        Assert.That((await Migrator.AppliedAsync(Database)).Max(), Is.EqualTo(Versions.AuditColumns));
        Assert.That(await Database.LinesAsync("SELECT to_jsonb(u)::text FROM users u ORDER BY id"), Is.EqualTo(usersBefore));
    }

    [Test]
    public async Task Down_writes_back_an_edited_hospital_and_a_new_hospital_signup()
    {
        // Given a hospital the new application edits, one it leaves alone, and one it signs up
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h1", "HOSPITAL") { RealName = "김대표", HospitalName = "행복동물병원", BusinessNumber = "111-11-11111" },
            new LegacyUser("h2", "HOSPITAL") { RealName = "이원장", HospitalName = "튼튼병원", HospitalWebsite = "https://strong.vet" });
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE hospitals
            SET "hospitalName" = '더행복동물병원', "representativeName" = '김새대표', "businessNumber" = '999-99-99999',
                "establishedDate" = '2016-07-08', "hospitalAddress" = '부산시 해운대구 1', "hospitalAddressDetail" = '3층',
                "hospitalLogo" = 'https://cdn/logo-new.png', "hospitalWebsite" = 'https://happier.vet'
            WHERE "userId" = 'h1';
            """);
        await NewApplication.SignUpAsync(Database, "h9", "HOSPITAL");
        await Database.ExecuteAsync("""
            INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName", "businessNumber", "hospitalAddress")
            VALUES ('cuid-h9', 'h9', '신규병원', '최원장', '555-55-55555', '대구시 중구 2');
            """);

        // When
        await RevertAsync();

        // Then
        Assert.That(await Database.LinesAsync("""
            SELECT id, "realName", "hospitalName", "businessNumber", "establishedDate", "hospitalAddress",
                   "hospitalAddressDetail", "hospitalLogo", "hospitalWebsite"
            FROM users ORDER BY id
            """), Is.EqualTo(new[]
        {
            "h1 | 김새대표 | 더행복동물병원 | 999-99-99999 | 2016-07-08 00:00:00 | 부산시 해운대구 1 | 3층 | https://cdn/logo-new.png | https://happier.vet",
            "h2 | 이원장 | 튼튼병원 | NULL | NULL | NULL | NULL | NULL | https://strong.vet",
            "h9 | 최원장 | 신규병원 | 555-55-55555 | NULL | 대구시 중구 2 | NULL | NULL | NULL",
        }));
        Assert.That(await Database.TableExistsAsync("hospitals"), Is.False);
        // Only the sign-up's own id (and its createdAt/updatedAt, which are not users') wait for the next up
        Assert.That(await Database.LinesAsync("SELECT kind, key, payload ->> 'id' FROM iamvet_rollback_stash ORDER BY kind, key"),
            Is.EqualTo(new[] { "hospitals | h9 | cuid-h9" }));
    }

    [Test]
    public async Task Down_writes_back_business_numbers_that_hospitals_exchanged()
    {
        // Given two hospitals that swapped businessNumber in the new table (users has a UNIQUE index on it)
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원", BusinessNumber = "111-11-11111" },
            new LegacyUser("h2", "HOSPITAL") { HospitalName = "튼튼병원", BusinessNumber = "222-22-22222" });
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE hospitals SET "businessNumber" = NULL WHERE "userId" = 'h1';
            UPDATE hospitals SET "businessNumber" = '111-11-11111' WHERE "userId" = 'h2';
            UPDATE hospitals SET "businessNumber" = '222-22-22222' WHERE "userId" = 'h1';
            """);

        // When
        await RevertAsync();

        // Then
        Assert.That(await Database.LinesAsync("""SELECT id, "businessNumber" FROM users ORDER BY id"""),
            Is.EqualTo(new[] { "h1 | 222-22-22222", "h2 | 111-11-11111" }));
    }

    [Test]
    public async Task Down_after_the_app_sets_a_new_businessLicenseFile_adds_a_legacy_licence_that_the_next_up_picks_as_newest()
    {
        // Given a hospital with two licences, whose licence file the new application replaces
        await LegacyRows.InsertTwoHospitalsAsync(Database);
        await LegacyRows.InsertAsync(Database,
            new LegacyLicense("l1", "h1", "old.pdf", "https://cdn/h1/old.pdf", "pdf", new DateTime(2024, 1, 1), 100),
            new LegacyLicense("l2", "h1", "cur.pdf", "https://cdn/h1/cur.pdf", "pdf", new DateTime(2025, 7, 7, 7, 7, 7, 700), 200),
            new LegacyLicense("l3", "h2", "h2.pdf", "https://cdn/h2/h2.pdf", "pdf", new DateTime(2024, 1, 1), 100));
        await ApplyAsync();
        await Database.ExecuteAsync("""UPDATE hospitals SET "businessLicenseFile" = 'https://cdn/h1/Renewed.JPG' WHERE "userId" = 'h1'""");

        // When
        await RevertAsync();

        // Then a new licence row, newer than every other of h1, carries the file; the others are untouched
        var licences = await Database.LinesAsync("""
            SELECT "userId", "fileName", "fileUrl", "fileType", "uploadedAt", "fileSize"
            FROM hospital_business_licenses ORDER BY "userId", "uploadedAt", id
            """);
        Assert.That(licences, Is.EqualTo(new[]
        {
            "h1 | old.pdf | https://cdn/h1/old.pdf | pdf | 2024-01-01 00:00:00 | 100",
            "h1 | cur.pdf | https://cdn/h1/cur.pdf | pdf | 2025-07-07 07:07:07.7 | 200",
            "h1 | Renewed.JPG | https://cdn/h1/Renewed.JPG | jpg | 2025-07-07 07:07:07.701 | NULL",
            "h2 | h2.pdf | https://cdn/h2/h2.pdf | pdf | 2024-01-01 00:00:00 | 100",
        }));

        // And the next Up picks it
        await ApplyAsync();
        Assert.That(await Database.LinesAsync("""SELECT id, "businessLicenseFile" FROM hospitals ORDER BY id"""), Is.EqualTo(new[]
        {
            "hosp_h1 | https://cdn/h1/Renewed.JPG",
            "hosp_h2 | https://cdn/h2/h2.pdf",
        }));

        // And a second round trip without changes adds nothing
        await RevertAsync();
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM hospital_business_licenses"), Is.EqualTo(4));
    }

    [Test]
    public async Task Down_stashes_postalCode_coordinates_and_description_and_the_next_up_restores_them()
    {
        // Given the new application fills the columns that have no legacy column
        await LegacyRows.InsertTwoHospitalsAsync(Database);
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("h3", "HOSPITAL") { HospitalName = "새병원" });
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE hospitals SET "postalCode" = '06236', latitude = 37.49790000, longitude = 127.02760000,
                                 "hospitalDescription" = '24시 응급진료'
            WHERE "userId" = 'h1';
            UPDATE hospitals SET latitude = -33.86881234 WHERE "userId" = 'h2';
            """);
        var expected = new[]
        {
            "hosp_h1 | 06236 | 37.49790000 | 127.02760000 | 24시 응급진료",
            "hosp_h2 | NULL | -33.86881234 | NULL | NULL",
            "hosp_h3 | NULL | NULL | NULL | NULL",
        };
        const string newColumns = """SELECT id, "postalCode", latitude, longitude, "hospitalDescription" FROM hospitals ORDER BY id""";
        Assert.That(await Database.LinesAsync(newColumns), Is.EqualTo(expected));

        // When it rolls back
        await RevertAsync();

        // Then the values wait in the stash
        Assert.That(await Database.LinesAsync("""
            SELECT kind, key, payload ->> 'postalCode', payload ->> 'latitude', payload ->> 'longitude', payload ->> 'hospitalDescription'
            FROM iamvet_rollback_stash ORDER BY kind, key
            """), Is.EqualTo(new[]
        {
            "hospitals | h1 | 06236 | 37.49790000 | 127.02760000 | 24시 응급진료",
            "hospitals | h2 | NULL | -33.86881234 | NULL | NULL",
        }));

        // When it upgrades again
        await ApplyAsync();

        // Then they are back and the stash is gone
        Assert.That(await Database.LinesAsync(newColumns), Is.EqualTo(expected));
        Assert.That(await Database.TableExistsAsync("iamvet_rollback_stash"), Is.False);
    }
}
