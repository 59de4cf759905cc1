namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// <c>seed</c>: the realistic legacy data that rehearsals, the demo and the benchmarks run on. It
/// has the documented shape, it is deterministic, its dirty variant holds every kind of dirty row
/// of docs/domain.md, and it never writes into a database that already has users.
/// </summary>
[TestFixture]
public sealed class SeedTests : OperationsTest
{
    private const int Users = 5000;

    [Test]
    public async Task Seed_5000_users_has_the_documented_proportions_and_check_finds_nothing_blocking()
    {
        // When
        var seed = await RunAsync("seed", "--create-legacy-schema", "--users", Users.ToString(System.Globalization.CultureInfo.InvariantCulture), "--yes");
        var check = await RunAsync("check", "--no-backup", "--json");

        // Then about 60 % veterinarians, 25 % students, 15 % hospitals
        Assert.That(seed.ExitCode, Is.Zero, seed.ToString());
        var byType = (await Database.RowsAsync("""
                SELECT "userType"::text AS type, count(*) AS all_users,
                       count(*) FILTER (WHERE NOT "isActive" AND "deletedAt" IS NULL) AS inactive,
                       count(*) FILTER (WHERE "deletedAt" IS NOT NULL) AS withdrawn,
                       count(*) FILTER (WHERE "restoredAt" IS NOT NULL) AS restored
                FROM users GROUP BY 1
                """))
            .ToDictionary(row => (string)row["type"]!, row => row);
        var summary = string.Join("; ", byType.Select(p => $"{p.Key}: {string.Join(", ", p.Value.Select(c => $"{c.Key} {c.Value}"))}"));
        Assert.That(byType.Values.Sum(row => (long)row["all_users"]!), Is.EqualTo(Users), summary);
        Assert.That(Share(byType, "VETERINARIAN", "all_users", Users), Is.InRange(0.57, 0.63), summary);
        Assert.That(Share(byType, "VETERINARY_STUDENT", "all_users", Users), Is.InRange(0.22, 0.28), summary);
        Assert.That(Share(byType, "HOSPITAL", "all_users", Users), Is.InRange(0.13, 0.17), summary);

        // And every type has inactive and withdrawn users (~8 % and ~3 %): an active-only comparison would miss them
        foreach (var (type, row) in byType)
        {
            var all = (long)row["all_users"]!;
            Assert.That(Share(byType, type, "inactive", all), Is.InRange(0.04, 0.12), $"inactive {type} users; {summary}");
            Assert.That(Share(byType, type, "withdrawn", all), Is.InRange(0.01, 0.06), $"withdrawn {type} users; {summary}");
        }

        Assert.That(byType.Values.Sum(row => (long)row["restored"]!), Is.GreaterThan(0), "some withdrawn users were restored; " + summary);

        // And side rows exist for hospitals only
        foreach (var table in new[] { "hospital_animals", "hospital_specialties", "hospital_facility_images", "hospital_business_licenses" })
        {
            var owners = await Database.RowsAsync($"""SELECT u."userType"::text AS type, count(*) AS n FROM {table} s JOIN users u ON u.id = s."userId" GROUP BY 1""");
            Assert.That(owners.Select(o => o["type"]), Is.EqualTo(new[] { "HOSPITAL" }), $"owners of {table} rows");
            Assert.That((long)owners[0]["n"]!, Is.GreaterThan(0), table);
        }

        // And check (pre-flight and data audit) finds nothing that blocks migrate up
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        using var report = JsonDocument.Parse(check.StandardOutput);
        var findings = report.RootElement.GetProperty("audit").EnumerateArray().ToList();
        Assert.That(findings.Where(f => f.GetProperty("severity").GetString() == "blocking").Select(f => f.GetProperty("code").GetString()), Is.Empty, check.ToString());
    }

    [Test]
    public async Task Seed_dirty_adds_every_kind_of_dirty_row_and_check_refuses_naming_the_nameless_hospital()
    {
        // When
        var seed = await RunAsync("seed", "--create-legacy-schema", "--users", "300", "--dirty", "--yes");
        var check = await RunAsync("check", "--no-backup");

        // Then each kind of dirty row of docs/domain.md is there
        Assert.That(seed.ExitCode, Is.Zero, seed.ToString());
        var kinds = new Dictionary<string, string>
        {
            ["a HOSPITAL without hospitalName"] = """SELECT count(*) FROM users WHERE "userType" = 'HOSPITAL' AND "hospitalName" IS NULL""",
            ["duplicate animals of one hospital"] = """
                SELECT count(*) FROM (SELECT FROM hospital_animals a JOIN users u ON u.id = a."userId" AND u."userType" = 'HOSPITAL'
                                      GROUP BY a."userId", a."animalType" HAVING count(*) > 1) d
                """,
            ["duplicate specialties of one hospital"] = """
                SELECT count(*) FROM (SELECT FROM hospital_specialties s JOIN users u ON u.id = s."userId" AND u."userType" = 'HOSPITAL'
                                      GROUP BY s."userId", s.specialty HAVING count(*) > 1) d
                """,
            ["a hospital whose facility images are all at displayOrder 0"] = """
                SELECT count(*) FROM (SELECT FROM hospital_facility_images f JOIN users u ON u.id = f."userId" AND u."userType" = 'HOSPITAL'
                                      GROUP BY f."userId" HAVING count(*) > 1 AND max(f."displayOrder") = 0) d
                """,
            ["animals of a user who is not a HOSPITAL"] = """SELECT count(*) FROM hospital_animals a JOIN users u ON u.id = a."userId" WHERE u."userType" <> 'HOSPITAL'""",
            ["specialties of a user who is not a HOSPITAL"] = """SELECT count(*) FROM hospital_specialties s JOIN users u ON u.id = s."userId" WHERE u."userType" <> 'HOSPITAL'""",
            ["facility images of a user who is not a HOSPITAL"] = """SELECT count(*) FROM hospital_facility_images f JOIN users u ON u.id = f."userId" WHERE u."userType" <> 'HOSPITAL'""",
            ["a VETERINARIAN with hospital columns"] = """SELECT count(*) FROM users WHERE "userType" = 'VETERINARIAN' AND ("hospitalName" IS NOT NULL OR "businessNumber" IS NOT NULL)""",
            ["a VETERINARY_STUDENT with licenseImage"] = """SELECT count(*) FROM users WHERE "userType" = 'VETERINARY_STUDENT' AND "licenseImage" IS NOT NULL""",
        };
        foreach (var (kind, sql) in kinds)
        {
            Assert.That(await Database.ScalarAsync<long>(sql), Is.GreaterThan(0), $"seed --dirty has no {kind}");
        }

        // And check refuses (exit 3) naming the blocking row
        Assert.That(check.ExitCode, Is.EqualTo(3), check.ToString());
        Assert.That(check.Output, Does.Contain("dirty_hospital_no_name").And.Contain("hospitalName"), check.ToString());
    }

    [Test]
    public async Task Seed_on_a_database_that_has_users_is_refused_and_changes_nothing()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        var before = await UntouchedStateAsync();

        var result = await RunAsync("seed", "--users", "100", "--yes");

        Assert.That(result.ExitCode, Is.EqualTo(2), result.ToString());
        Assert.That(result.StandardError, Does.Contain("users already has rows"), result.ToString());
        Assert.That(await UntouchedStateAsync(), Is.EqualTo(before), "seed changed a database that had users");
    }

    [Test]
    public async Task Seed_is_deterministic_the_same_number_of_users_gives_the_same_rows()
    {
        // Given a second empty database
        await using var other = await TestDatabase.CreateAsync();

        // When both are seeded with the same N
        var first = await RunAsync("seed", "--create-legacy-schema", "--users", "1500", "--yes");
        var second = await RunAsync(new Dictionary<string, string?> { [ConnectionSettings.EnvironmentVariable] = other.ConnectionString },
            "seed", "--create-legacy-schema", "--users", "1500", "--yes");

        // Then every legacy table has the same rows
        Assert.That(first.ExitCode, Is.Zero, first.ToString());
        Assert.That(second.ExitCode, Is.Zero, second.ToString());
        var expected = await LegacyFingerprintsAsync(Database.Name);
        Assert.That(expected.Single(f => f.Name == "users").Rows, Is.EqualTo(1500));
        Assert.That(await LegacyFingerprintsAsync(other.Name), Is.EqualTo(expected));
    }

    private static double Share(Dictionary<string, Dictionary<string, object?>> byType, string type, string column, long of) =>
        byType.TryGetValue(type, out var row) ? (long)row[column]! / (double)of : 0;
}
