namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// Adopting production: a legacy database made by plain SQL (not by our migrations), with a
/// hand-written migration_log and application tables of its own that point into users.
/// </summary>
[TestFixture]
public sealed class BaselineTests : RunnerTest
{
    private static readonly string[] OtherTables = ["jobs", "applications", "messages"];

    /// <summary>Three of production's ~40 other tables, with foreign keys into users (and one another) and rows.</summary>
    private const string ApplicationTables = """
        CREATE TABLE jobs (
            id text PRIMARY KEY,
            "hospitalId" text NOT NULL REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE,
            title text NOT NULL,
            "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE applications (
            id text PRIMARY KEY,
            "jobId" text NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
            "veterinarianId" text NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
            status text NOT NULL);
        CREATE TABLE messages (
            id text PRIMARY KEY,
            "senderId" text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            "receiverId" text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            content text NOT NULL);
        INSERT INTO jobs (id, "hospitalId", title) VALUES ('j1', 'hos1', '수의사 채용'), ('j2', 'hos2', '야간 진료 수의사');
        INSERT INTO applications VALUES ('ap1', 'j1', 'vet1', 'PENDING'), ('ap2', 'j2', 'vet2', 'ACCEPTED'), ('ap3', 'j1', 'stu1', 'PENDING');
        INSERT INTO messages VALUES ('m1', 'hos1', 'vet1', '면접 일정'), ('m2', 'vet1', 'hos1', '확인했습니다'), ('m3', 'stu2', 'hos2', '문의');
        INSERT INTO migration_log (migration_name, executed_at, description) VALUES
            ('001_initial_schema', '2024-01-15 10:00:00', 'Prisma initial migration'),
            ('002_add_hospital_profiles', '2024-06-01 09:30:00', NULL),
            ('003_manual_fix', '2025-02-10 17:45:12.123456', 'hand-run psql fix');
        """;

    private const string ForeignKeysIntoUsers = """
        SELECT format('%s.%s -> %s valid=%s', conrelid::regclass, conname, confrelid::regclass, convalidated)
        FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN ('jobs', 'applications', 'messages') ORDER BY 1
        """;

    private const string Orphans = """
        SELECT (SELECT count(*) FROM jobs j WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = j."hospitalId"))
             + (SELECT count(*) FROM applications a WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = a."veterinarianId"))
             + (SELECT count(*) FROM messages m WHERE NOT EXISTS (SELECT FROM users u WHERE u.id = m."senderId")
                                                   OR NOT EXISTS (SELECT FROM users u WHERE u.id = m."receiverId"))
        """;

    [Test]
    public async Task Baseline_then_up_then_down_keeps_the_old_log_rows_the_foreign_keys_and_every_row_of_other_tables()
    {
        // Given production's shape made by plain SQL, data, a hand-written migration_log and tables pointing into users
        await CreateLegacyDatabaseWithoutHistoryAsync();
        await LegacyRows.InsertAsync(Database, SeedRows);
        await Database.ExecuteAsync(ApplicationTables);
        var logBefore = await LinesAsync("SELECT format('%s|%s|%s|%s', id, migration_name, executed_at, description) FROM migration_log ORDER BY id");
        var keysBefore = await LinesAsync(ForeignKeysIntoUsers);
        var otherBefore = await FingerprintsAsync(OtherTables);
        var legacyBefore = await FingerprintsAsync(TableFingerprints.LegacyTables);

        // When it is adopted, normalized and rolled back
        var baseline = await RunAsync("baseline", "--yes");
        var up = await RunAsync("migrate", "up", "--yes");
        var keysWhileNormalized = await LinesAsync(ForeignKeysIntoUsers);
        var otherWhileNormalized = await FingerprintsAsync(OtherTables);
        var down = await RunAsync("migrate", "down", "--yes");

        // Then every run succeeded and nothing outside our tables moved
        Assert.That(baseline.ExitCode, Is.Zero, baseline.ToString());
        Assert.That(up.ExitCode, Is.Zero, up.ToString());
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline }));
        var logAfter = await LinesAsync("SELECT format('%s|%s|%s|%s', id, migration_name, executed_at, description) FROM migration_log ORDER BY id");
        Assert.That(logAfter.Take(logBefore.Count), Is.EqualTo(logBefore), "the hand-written migration_log rows changed");
        Assert.That(logAfter, Has.Count.EqualTo(logBefore.Count + 3), "one row each for baseline, up and down:\n" + string.Join("\n", logAfter));
        Assert.That(keysBefore, Has.Count.EqualTo(5));
        Assert.That(keysWhileNormalized, Is.EqualTo(keysBefore));
        Assert.That(await LinesAsync(ForeignKeysIntoUsers), Is.EqualTo(keysBefore));
        Assert.That(await Database.ScalarAsync<long>(Orphans), Is.Zero, "rows of other tables point at users that are gone");
        Assert.That(otherWhileNormalized, Is.EqualTo(otherBefore));
        Assert.That(await FingerprintsAsync(OtherTables), Is.EqualTo(otherBefore));
        Assert.That(await FingerprintsAsync(TableFingerprints.LegacyTables), Is.EqualTo(legacyBefore), "the legacy tables are not exactly as before the up");
    }

    [TestCase("""ALTER TABLE users DROP COLUMN "loginId" """, "expected, not found: users.loginId character varying(100)",
        TestName = "Baseline_refuses_a_database_whose_users_lacks_a_column_with_a_readable_difference")]
    [TestCase("""ALTER TABLE users ALTER COLUMN nickname TYPE text""", "found, not expected: users.nickname text",
        TestName = "Baseline_refuses_a_database_whose_users_has_a_column_of_another_type_with_a_readable_difference")]
    public async Task Baseline_refuses_a_database_whose_legacy_shape_differs(string drift, string difference)
    {
        await CreateLegacyDatabaseWithoutHistoryAsync();
        await Database.ExecuteAsync(drift);
        var before = await StateAsync();

        var result = await RunAsync("baseline", "--yes");

        Assert.That(result.ExitCode, Is.EqualTo(3), result.ToString());
        Assert.That(result.Output, Does.Contain("does not have the legacy shape").And.Contain(difference), result.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + result);
        Assert.That(await TableExistsAsync("VersionInfo"), Is.False, "nothing may be recorded as applied");
        Assert.That(await Database.ScalarAsync<long>("SELECT count(*) FROM migration_log"), Is.Zero);
    }

    private async Task<List<string>> LinesAsync(string sql) =>
        (await Database.RowsAsync(sql)).Select(row => (string)row.Values.Single()!).ToList();

    private async Task<List<string>> FingerprintsAsync(IEnumerable<string> tables)
    {
        await using var connection = await Database.OpenAsync();
        var lines = new List<string>();
        foreach (var table in tables)
        {
            var fingerprint = await TableFingerprints.OfTableAsync(connection, table);
            lines.Add($"{table}: {fingerprint.Rows} row(s), {fingerprint.Hash}");
        }

        return lines;
    }
}
