namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// Sonarr shape, with one adjustment: the profile tables are filled from users, so the legacy rows
/// are seeded before SplitUsersIntoProfileTables and each test first applies the expand phase
/// (<see cref="Migrator.Expanded"/>), the version before the cleanup.
/// </summary>
[TestFixture]
public sealed class DropMovedUserColumnsTests : MigrationTest<DropMovedUserColumns>
{
    /// <summary>The twelve columns the cleanup drops, per user.</summary>
    private const string DroppedColumnsQuery = """
        SELECT id, "realName", "birthDate", "businessNumber", "establishedDate", "hospitalAddress",
               "hospitalAddressDetail", "hospitalLogo", "hospitalName", "hospitalWebsite", "licenseImage",
               nickname, "universityEmail"
        FROM users ORDER BY id
        """;

    protected override long StartVersion => Versions.AuditColumns;

    [SetUp]
    public async Task SeedBeforeTheProfileTables()
    {
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("v1", "VETERINARIAN")
            {
                RealName = "김철수", BirthDate = new DateTime(1990, 5, 17, 0, 0, 0, 250), Nickname = "닥터김", LicenseImage = "https://cdn/l1.png",
            },
            new LegacyUser("v2", "VETERINARIAN") { IsActive = false, DeletedAt = new DateTime(2025, 1, 1), RealName = "이탈퇴" },
            new LegacyUser("s1", "VETERINARY_STUDENT")
            {
                RealName = "최학생", BirthDate = new DateTime(2001, 4, 5), Nickname = "수의학도", UniversityEmail = "s1@snu.ac.kr",
            },
            new LegacyUser("h1", "HOSPITAL")
            {
                RealName = "김대표", HospitalName = "행복동물병원", BusinessNumber = "123-45-67890",
                EstablishedDate = new DateTime(2015, 3, 2, 0, 0, 0, 1), HospitalAddress = "서울시 강남구 테헤란로 1",
                HospitalAddressDetail = "2층", HospitalLogo = "https://cdn/logo1.png", HospitalWebsite = "https://happy.vet",
            },
            new LegacyUser("h2", "HOSPITAL") { IsActive = false, RealName = "이원장", HospitalName = "튼튼병원" });
    }

    [Test]
    public async Task Refuses_while_a_veterinarian_carries_a_hospitalName_naming_the_user_and_the_column()
    {
        // Given values that belong to no profile of their user's type
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("v-stray", "VETERINARIAN") { HospitalName = "옛 근무병원" },
            new LegacyUser("s-stray", "VETERINARY_STUDENT") { LicenseImage = "https://cdn/early-licence.png" });
        await Migrator.UpToAsync(Database, Migrator.Expanded);
        var before = await Database.LinesAsync(DroppedColumnsQuery);

        // When
        var error = await MigrationFailure.OfAsync(ApplyAsync);

        // Then the message names each column and its user ids, and nothing was dropped
        Assert.That(error.MessageText, Does.StartWith("cleanup refused"));
        Assert.That(error.MessageText, Does.Contain("""users."hospitalName": 1 value(s) not in any new table (user ids: v-stray)"""));
        Assert.That(error.MessageText, Does.Contain("""users."licenseImage": 1 value(s) not in any new table (user ids: s-stray)"""));
        Assert.That(await Database.ColumnExistsAsync("users", "hospitalName"), Is.True);
        Assert.That(await Database.LinesAsync(DroppedColumnsQuery), Is.EqualTo(before));
        Assert.That((await Migrator.AppliedAsync(Database)).Max(), Is.EqualTo(Migrator.Expanded));
    }

    [Test]
    public async Task Succeeds_once_the_stray_value_is_cleared()
    {
        // Given a veterinarian's stray hospitalName, then cleared
        await LegacyRows.InsertAsync(Database, new LegacyUser("v-stray", "VETERINARIAN") { HospitalName = "옛 근무병원" });
        await Migrator.UpToAsync(Database, Migrator.Expanded);
        await Database.ExecuteAsync("""UPDATE users SET "hospitalName" = NULL WHERE id = 'v-stray'""");

        // When
        await ApplyAsync();

        // Then all twelve columns are gone
        Assert.That(await Migrator.AppliedAsync(Database), Does.Contain(Versions.Cleanup));
        Assert.That(await Database.ScalarAsync<long>("""
            SELECT count(*) FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = 'users'
              AND column_name IN ('realName', 'birthDate', 'businessNumber', 'establishedDate', 'hospitalAddress',
                                  'hospitalAddressDetail', 'hospitalLogo', 'hospitalName', 'hospitalWebsite',
                                  'licenseImage', 'nickname', 'universityEmail')
            """), Is.Zero);
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM users"), Is.EqualTo(6));
    }

    [Test]
    public async Task Down_restores_every_dropped_value()
    {
        // Given the expand phase with a new sign-up and the cleanup applied
        await Migrator.UpToAsync(Database, Migrator.Expanded);
        await NewApplication.SignUpAsync(Database, "v9", "VETERINARIAN");
        await Database.ExecuteAsync("""
            INSERT INTO veterinarians (id, "userId", "realName", nickname) VALUES ('cuid-v9', 'v9', '신규수의', 'newvet');
            """);
        var before = await Database.LinesAsync(DroppedColumnsQuery);
        await ApplyAsync();

        // When
        await RevertAsync();

        // Then every one of the twelve columns holds what it held, user by user; the sign-up, which
        // the new application wrote only to veterinarians, now has its values in users too
        var expected = before.Select(line => line.StartsWith("v9 |", StringComparison.Ordinal)
            ? "v9 | 신규수의 | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | newvet | NULL"
            : line).ToList();
        Assert.That(before, Does.Contain("v9 | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL | NULL"));
        Assert.That(await Database.LinesAsync(DroppedColumnsQuery), Is.EqualTo(expected));
        Assert.That(before, Has.Count.EqualTo(6));
        Assert.That(before[0], Is.EqualTo("h1 | 김대표 | NULL | 123-45-67890 | 2015-03-02 00:00:00.001 | 서울시 강남구 테헤란로 1 | 2층 | https://cdn/logo1.png | 행복동물병원 | https://happy.vet | NULL | NULL | NULL"));
    }
}
