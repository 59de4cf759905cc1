namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// Production has ~40 tables we do not manage, many with foreign keys into users(id) ON DELETE
/// CASCADE (jobs, applications, messages, …). Nothing we do may break them: no users row may go
/// (a cascade would take their rows along), no key may be dropped or left pointing nowhere.
/// </summary>
[TestFixture]
public sealed class TablesOutsideOurControlTests
{
    private static readonly string[] ForeignTables = ["jobs", "applications", "notifications"];

    private TestDatabase database = null!;

    [SetUp]
    public async Task BaselineWithForeignTablesAndRows()
    {
        database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Versions.Baseline);
        await LegacyRows.InsertAsync(database,
            new LegacyUser("v1", "VETERINARIAN") { Nickname = "닥터김", LicenseImage = "https://cdn/l1.png" },
            new LegacyUser("v2", "VETERINARIAN") { IsActive = false, DeletedAt = new DateTime(2025, 1, 1) },
            new LegacyUser("s1", "VETERINARY_STUDENT") { UniversityEmail = "s1@snu.ac.kr" },
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원", BusinessNumber = "111-11-11111" },
            new LegacyUser("h2", "HOSPITAL") { HospitalName = "튼튼병원", IsActive = false },
            new LegacyImage("i1", "h1", "https://cdn/h1/1.jpg", 0, new DateTime(2024, 4, 1), new DateTime(2024, 4, 1)),
            new LegacyImage("i2", "h1", "https://cdn/h1/2.jpg", 0, new DateTime(2024, 4, 2), new DateTime(2024, 4, 2)),
            new LegacyAnimal("a1", "h1", "DOG", new DateTime(2024, 1, 1)),
            new LegacyAnimal("a2", "h1", "DOG", new DateTime(2024, 1, 2)),
            new LegacySpecialty("p1", "h2", "내과", new DateTime(2024, 1, 1)),
            new LegacyLicense("l1", "h1", "l.pdf", "https://cdn/h1/l.pdf", "pdf", new DateTime(2024, 1, 1), 10));
        await database.ExecuteAsync("""
            CREATE TABLE jobs (
                id           text PRIMARY KEY,
                "hospitalId" text NOT NULL REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE,
                title        text NOT NULL
            );
            CREATE TABLE applications (
                id               text PRIMARY KEY,
                "jobId"          text NOT NULL REFERENCES jobs (id) ON UPDATE CASCADE ON DELETE CASCADE,
                "veterinarianId" text NOT NULL REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE,
                status           text NOT NULL
            );
            CREATE TABLE notifications (
                id          text PRIMARY KEY,
                "userId"    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                "senderId"  text REFERENCES users (id) ON DELETE SET NULL,
                message     text NOT NULL
            );
            INSERT INTO jobs VALUES ('j1', 'h1', '수의사 채용'), ('j2', 'h2', '테크니션 채용');
            INSERT INTO applications VALUES ('ap1', 'j1', 'v1', 'PENDING'), ('ap2', 'j2', 'v2', 'REJECTED'), ('ap3', 'j1', 's1', 'PENDING');
            INSERT INTO notifications VALUES ('n1', 'v1', 'h1', '지원 접수'), ('n2', 'h2', 'v2', '새 지원자'), ('n3', 's1', NULL, '환영합니다');
            """);
    }

    [TearDown]
    public async Task Drop() => await database.DisposeAsync();

    [Test]
    public async Task Up_through_the_cleanup_and_down_again_loses_no_row_and_leaves_every_reference_valid()
    {
        // Given the foreign rows, their keys and the legacy tables as they are now
        var rowsBefore = await FingerprintsAsync(ForeignTables.Concat(TableFingerprints.LegacyTables));
        var keysBefore = await ForeignKeysAsync();
        Assert.That(keysBefore, Has.Count.EqualTo(5 + 4), "foreign keys of the foreign tables and of the legacy side tables");

        // When everything goes up, the cleanup included
        await Migrator.UpToAsync(database, Versions.Cleanup);

        // Then the foreign rows and keys are untouched and still point at existing users
        Assert.That(await FingerprintsAsync(ForeignTables), Is.EqualTo(rowsBefore.Take(ForeignTables.Length)));
        Assert.That(await ForeignKeysAsync(), Is.SupersetOf(keysBefore.Where(key => ForeignTables.Any(t => key.StartsWith(t + ".", StringComparison.Ordinal)))));
        Assert.That(await DanglingReferencesAsync(), Is.Zero);
        Assert.That(await database.ScalarAsync<long>("SELECT count(*) FROM users"), Is.EqualTo(5));

        // When everything comes down to the baseline
        await Migrator.DownToAsync(database);

        // Then the foreign rows and the legacy tables are exactly as before, and so are the keys
        Assert.That(await FingerprintsAsync(ForeignTables.Concat(TableFingerprints.LegacyTables)), Is.EqualTo(rowsBefore));
        Assert.That(await ForeignKeysAsync(), Is.EqualTo(keysBefore));
        Assert.That(await DanglingReferencesAsync(), Is.Zero);
    }

    private async Task<List<TableFingerprint>> FingerprintsAsync(IEnumerable<string> tables)
    {
        await using var connection = await database.OpenAsync();
        var result = new List<TableFingerprint>();
        foreach (var table in tables)
        {
            result.Add(await TableFingerprints.OfTableAsync(connection, table));
        }

        return result;
    }

    /// <summary>Every foreign key of the public schema, with its definition and whether it is validated.</summary>
    private Task<List<string>> ForeignKeysAsync() => database.LinesAsync("""
        SELECT c.relname || '.' || k.conname, pg_get_constraintdef(k.oid), k.convalidated
        FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND k.contype = 'f' AND c.relname = ANY (ARRAY['jobs', 'applications', 'notifications',
              'hospital_animals', 'hospital_specialties', 'hospital_facility_images', 'hospital_business_licenses'])
        ORDER BY 1
        """);

    private Task<long> DanglingReferencesAsync() => database.ScalarAsync<long>("""
        SELECT (SELECT count(*) FROM jobs j WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = j."hospitalId"))
             + (SELECT count(*) FROM applications a WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = a."veterinarianId"))
             + (SELECT count(*) FROM applications a WHERE NOT EXISTS (SELECT FROM jobs j WHERE j.id = a."jobId"))
             + (SELECT count(*) FROM notifications n WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = n."userId"))
             + (SELECT count(*) FROM notifications n WHERE n."senderId" IS NOT NULL AND NOT EXISTS (SELECT FROM users u WHERE u.id = n."senderId"))
        """);
}
