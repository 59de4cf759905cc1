namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// The runner's <c>migrate down</c> after the new application has written to the new tables, then
/// <c>migrate up</c> again: every value comes back (the migration-level detail of the rollback is in
/// NewApplicationWritesThenRollbackTests). Ids the application gave its own rows are renamed the way
/// docs/adr/0003 says (prefix + the user's id for profiles, prefix + the row's id for side rows);
/// every other id stays. Not compared: a profile's createdAt/updatedAt, which docs/domain.md derives
/// from users on every up, so the new application's own timestamps of a profile do not survive a
/// rollback (docs/reliability.md lists this).
/// </summary>
[TestFixture]
public sealed class RollbackAfterNewWritesTests : RunnerTest
{
    /// <summary>New table → (id prefix, whether the id is derived from the user's id rather than the row's, columns left out).</summary>
    private static readonly (string Table, string Prefix, bool ByUser, string Ignored)[] NewTables =
    [
        ("veterinarians", "vet_", true, " - 'createdAt' - 'updatedAt'"),
        ("veterinary_students", "vst_", true, " - 'createdAt' - 'updatedAt'"),
        ("hospitals", "hosp_", true, " - 'createdAt' - 'updatedAt'"),
        ("hospital_images", "himg_", false, ""),
        ("hospital_treatment_animals", "hta_", false, ""),
        ("hospital_treatment_specialties", "hts_", false, ""),
    ];

    [Test]
    public async Task Down_after_new_application_writes_then_up_again_loses_no_value()
    {
        // Given a normalized database the new application has written to
        await UpgradeLegacyDatabaseWithRowsAsync();
        await NewApplication.SignUpVeterinarianV9Async(Database);
        await NewApplication.SignUpAsync(Database, "s9", "VETERINARY_STUDENT");
        await NewApplication.SignUpAsync(Database, "h9", "HOSPITAL");
        await Database.ExecuteAsync("""
            INSERT INTO veterinary_students (id, "userId", "realName", nickname, "universityEmail")
            VALUES ('cuid-s9', 's9', '신입생', '새싹', 's9@cnu.ac.kr');
            INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName", "businessNumber", "businessLicenseFile",
                                   "hospitalAddress", "hospitalAddressDetail", "postalCode", latitude, longitude, "hospitalWebsite", "hospitalDescription")
            VALUES ('cuid-h9', 'h9', '신규동물병원', '최원장', '999-99-99999', 'https://cdn/h9/licence.pdf',
                    '대구시 중구 2', '1층', '41911', 35.86952722, 128.60603549, 'https://new.vet', '24시간 응급 진료');
            INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "imageDescription", "createdAt", "updatedAt") VALUES
                ('cuid-img1', 'cuid-h9', 'h9', 'https://cdn/h9/front.jpg', 1, '정문', '2025-10-01 09:00:00', '2025-10-01 09:00:00'),
                ('cuid-img2', 'cuid-h9', 'h9', 'https://cdn/h9/room.jpg', 2, NULL, '2025-10-01 09:00:01', '2025-10-02 10:00:00'),
                ('cuid-img3', 'hosp_hos1', 'hos1', 'https://cdn/i3.png', 3, '수술실', '2025-10-03 09:00:00', '2025-10-03 09:00:00');
            UPDATE veterinarians SET nickname = '닥터1-수정' WHERE "userId" = 'vet1';
            UPDATE hospitals SET "postalCode" = '04001', "hospitalDescription" = '마포 24시' WHERE "userId" = 'hos1';
            UPDATE hospital_images SET "imageDescription" = '대기실' WHERE id = 'himg_i2';
            """);
        await NewApplication.AddTreatmentsOfHospitalH9Async(Database);
        var written = await NewTableRowsAsync(renameAsTheNextUpWill: true);

        // When the runner rolls back and upgrades again
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");
        var legacy = await Database.LinesAsync("""SELECT id, "realName", nickname, "hospitalName" FROM users WHERE id IN ('v9', 'vet1', 'h9') ORDER BY id""");
        var again = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then the rollback put the values in the legacy columns, and the upgrade brought every row back
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(legacy, Is.EqualTo(new[] { "h9 | 최원장 | NULL | 신규동물병원", "v9 | 신규수의 | newvet | NULL", "vet1 | 김수의 | 닥터1-수정 | NULL" }));
        Assert.That(again.ExitCode, Is.Zero, again.ToString());
        var back = await NewTableRowsAsync(renameAsTheNextUpWill: false);
        foreach (var (table, _, _, _) in NewTables)
        {
            Assert.That(back[table], Is.EqualTo(written[table]), $"{table} after down and up again");
        }

        Assert.That(written["hospitals"], Has.Some.Contains("\"postalCode\": \"41911\"").And.Some.Contains("\"hospitalDescription\": \"마포 24시\""), "the test no longer writes the values it means to");
    }

    /// <summary>
    /// Every row of every new table: its id, then all other columns as jsonb text (hospitalId left out:
    /// the userId beside it names the same hospital). <paramref name="renameAsTheNextUpWill"/> gives the
    /// application's own rows the id the next up derives for them.
    /// </summary>
    private async Task<Dictionary<string, List<string>>> NewTableRowsAsync(bool renameAsTheNextUpWill)
    {
        var rows = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (table, prefix, byUser, ignored) in NewTables)
        {
            var id = !renameAsTheNextUpWill ? "id"
                : byUser ? $"'{prefix}' || \"userId\""
                : $"CASE WHEN id LIKE '{prefix}%' THEN id ELSE '{prefix}' || id END";
            rows[table] = await Database.LinesAsync($"""
                SELECT {id} AS id, (to_jsonb(t) - 'id' - 'hospitalId'{ignored})::text FROM {table} t ORDER BY 1
                """);
        }

        return rows;
    }
}
