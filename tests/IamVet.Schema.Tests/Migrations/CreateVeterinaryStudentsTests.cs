namespace IamVet.Schema.Tests.Migrations;

/// <summary>Sonarr shape: migrate to the version before, seed legacy rows, apply, assert exact rows.</summary>
[TestFixture]
public sealed class CreateVeterinaryStudentsTests : MigrationTest<SplitUsersIntoProfileTables>
{
    private const string StudentsQuery = """
        SELECT id, "userId", "realName", "birthDate", nickname, "universityEmail", "createdAt", "updatedAt"
        FROM veterinary_students ORDER BY id
        """;

    [Test]
    public async Task Every_student_moves_active_inactive_and_withdrawn_with_its_universityEmail()
    {
        // Given an active, an inactive and a withdrawn student, and users of the other types
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("s1", "VETERINARY_STUDENT") { RealName = "최학생", Nickname = "수의학도", BirthDate = new DateTime(2001, 4, 5), UniversityEmail = "s1@snu.ac.kr" },
            new LegacyUser("s2", "VETERINARY_STUDENT") { IsActive = false, RealName = "정휴면", UniversityEmail = "s2@knu.ac.kr" },
            new LegacyUser("s3", "VETERINARY_STUDENT") { DeletedAt = new DateTime(2025, 2, 3), WithdrawReason = "졸업", RealName = "한탈퇴" },
            new LegacyUser("v1", "VETERINARIAN") { RealName = "김수의" },
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원" });

        // When
        await ApplyAsync();

        // Then
        Assert.That(await Database.LinesAsync(StudentsQuery), Is.EqualTo(new[]
        {
            "vst_s1 | s1 | 최학생 | 2001-04-05 00:00:00 | 수의학도 | s1@snu.ac.kr | 2024-03-01 09:00:00.123 | 2024-06-01 12:30:00.456",
            "vst_s2 | s2 | 정휴면 | NULL | NULL | s2@knu.ac.kr | 2024-03-01 09:00:00.123 | 2024-06-01 12:30:00.456",
            "vst_s3 | s3 | 한탈퇴 | NULL | NULL | NULL | 2024-03-01 09:00:00.123 | 2024-06-01 12:30:00.456",
        }));
    }

    [Test]
    public async Task Up_after_down_gives_the_same_rows()
    {
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("s1", "VETERINARY_STUDENT") { Nickname = "수의학도", UniversityEmail = "s1@snu.ac.kr" },
            new LegacyUser("s2", "VETERINARY_STUDENT") { IsActive = false });
        await ApplyAsync();
        var first = await Database.LinesAsync(StudentsQuery);

        await RevertAsync();
        await ApplyAsync();

        Assert.That(await Database.LinesAsync(StudentsQuery), Is.EqualTo(first));
    }

    [Test]
    public async Task Down_writes_back_edited_profiles_and_a_new_signup()
    {
        // Given two students, one of whom the new application edits, and a student it signs up
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("s1", "VETERINARY_STUDENT") { RealName = "최학생", Nickname = "old", UniversityEmail = "s1@snu.ac.kr" },
            new LegacyUser("s2", "VETERINARY_STUDENT") { RealName = "정그대로", Nickname = "same", UniversityEmail = "s2@knu.ac.kr" });
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE veterinary_students
            SET nickname = '새별', "universityEmail" = 's1@yonsei.ac.kr', "birthDate" = '2002-03-04 05:06:07.891'
            WHERE "userId" = 's1';
            """);
        await NewApplication.SignUpAsync(Database, "s9", "VETERINARY_STUDENT");
        await Database.ExecuteAsync("""
            INSERT INTO veterinary_students (id, "userId", "realName", nickname, "universityEmail")
            VALUES ('cuid-s9', 's9', '신입생', 'fresh', 's9@cnu.ac.kr');
            """);

        // When
        await RevertAsync();

        // Then the legacy columns hold what the table held
        Assert.That(await Database.LinesAsync("""
            SELECT id, "realName", "birthDate", nickname, "universityEmail" FROM users ORDER BY id
            """), Is.EqualTo(new[]
        {
            "s1 | 최학생 | 2002-03-04 05:06:07.891 | 새별 | s1@yonsei.ac.kr",
            "s2 | 정그대로 | NULL | same | s2@knu.ac.kr",
            "s9 | 신입생 | NULL | fresh | s9@cnu.ac.kr",
        }));
        Assert.That(await Database.TableExistsAsync("veterinary_students"), Is.False);
    }

    [Test]
    public async Task Down_writes_back_university_emails_that_students_exchanged()
    {
        // Given two students who swapped universityEmail in the new table (users has a UNIQUE index on it)
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("s1", "VETERINARY_STUDENT") { UniversityEmail = "a@snu.ac.kr" },
            new LegacyUser("s2", "VETERINARY_STUDENT") { UniversityEmail = "b@snu.ac.kr" });
        await ApplyAsync();
        await Database.ExecuteAsync("""
            UPDATE veterinary_students SET "universityEmail" = 'tmp' WHERE "userId" = 's1';
            UPDATE veterinary_students SET "universityEmail" = 'a@snu.ac.kr' WHERE "userId" = 's2';
            UPDATE veterinary_students SET "universityEmail" = 'b@snu.ac.kr' WHERE "userId" = 's1';
            """);

        // When
        await RevertAsync();

        // Then
        Assert.That(await Database.LinesAsync("""SELECT id, "universityEmail" FROM users ORDER BY id"""),
            Is.EqualTo(new[] { "s1 | b@snu.ac.kr", "s2 | a@snu.ac.kr" }));
    }
}
