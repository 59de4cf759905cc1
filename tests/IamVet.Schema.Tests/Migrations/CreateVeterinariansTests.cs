namespace IamVet.Schema.Tests.Migrations;

/// <summary>Sonarr shape: migrate to the version before, seed legacy rows, apply, assert exact rows.</summary>
[TestFixture]
public sealed class CreateVeterinariansTests : MigrationTest<SplitUsersIntoProfileTables>
{
    [Test]
    public async Task Every_veterinarian_moves_active_inactive_and_withdrawn_with_deterministic_ids()
    {
        // Given an active, an inactive and a withdrawn veterinarian, and users of the other types
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("u1", "VETERINARIAN") { RealName = "김철수", Nickname = "닥터김", BirthDate = new DateTime(1990, 5, 17, 0, 0, 0, 250), LicenseImage = "https://cdn/l1.png" },
            new LegacyUser("u2", "VETERINARIAN") { IsActive = false, RealName = "이영희" },
            new LegacyUser("u3", "VETERINARIAN") { DeletedAt = new DateTime(2025, 1, 2), WithdrawReason = "이직", RealName = "박민수" },
            new LegacyUser("s1", "VETERINARY_STUDENT") { UniversityEmail = "s1@snu.ac.kr" },
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원" });

        // When
        await ApplyAsync();

        // Then
        var rows = await Database.RowsAsync("""
            SELECT id, "userId", "realName", "birthDate", nickname, "licenseImage", "createdAt", "updatedAt"
            FROM veterinarians ORDER BY id
            """);
        Assert.That(rows.Select(r => r["id"]), Is.EqualTo(new[] { "vet_u1", "vet_u2", "vet_u3" }));
        Assert.That(rows[0]["userId"], Is.EqualTo("u1"));
        Assert.That(rows[0]["realName"], Is.EqualTo("김철수"));
        Assert.That(rows[0]["nickname"], Is.EqualTo("닥터김"));
        Assert.That(rows[0]["birthDate"], Is.EqualTo(new DateTime(1990, 5, 17, 0, 0, 0, 250)));
        Assert.That(rows[0]["licenseImage"], Is.EqualTo("https://cdn/l1.png"));
        Assert.That(rows[0]["createdAt"], Is.EqualTo(new DateTime(2024, 3, 1, 9, 0, 0, 123)));
        Assert.That(rows[2]["realName"], Is.EqualTo("박민수"));
    }

    [Test]
    public async Task Down_writes_back_an_edited_nickname_and_a_new_signup()
    {
        await LegacyRows.InsertAsync(Database, new LegacyUser("u1", "VETERINARIAN") { Nickname = "old" });
        await ApplyAsync();

        // When the new application edits a profile and signs up a vet without users.realName
        await Database.ExecuteAsync("""
            UPDATE veterinarians SET nickname = '새닉네임', "birthDate" = '1991-02-03 04:05:06.789' WHERE "userId" = 'u1';
            INSERT INTO users (id, email, phone, "userType", "termsAgreedAt", "privacyAgreedAt", "updatedAt")
                VALUES ('u9', 'u9@x', '010-9', 'VETERINARIAN', now(), now(), now());
            INSERT INTO veterinarians (id, "userId", "realName", nickname) VALUES ('cuid9', 'u9', '신규수의', 'newbie');
            """);
        await RevertAsync();

        var rows = await Database.RowsAsync("""SELECT id, "realName", nickname, "birthDate" FROM users ORDER BY id""");
        Assert.That(rows, Has.Count.EqualTo(2));
        Assert.That(rows[0]["nickname"], Is.EqualTo("새닉네임"));
        Assert.That(rows[0]["birthDate"], Is.EqualTo(new DateTime(1991, 2, 3, 4, 5, 6, 789)));
        Assert.That(rows[1]["realName"], Is.EqualTo("신규수의"));
        Assert.That(rows[1]["nickname"], Is.EqualTo("newbie"));
        Assert.That(await Database.ScalarAsync<bool>("SELECT to_regclass('veterinarians') IS NULL"), Is.True);
    }
}
