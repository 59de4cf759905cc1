using IamVet.Schema.Tests.Infrastructure;

namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// Sonarr shape, with one adjustment: hospitals rows come from users, so the legacy rows are seeded
/// before CreateHospitals (the setup stops at the version before it) and each test applies
/// everything up to CreateHospitalTreatmentSpecialties; Down goes back one step.
/// </summary>
[TestFixture]
public sealed class CreateHospitalTreatmentSpecialtiesTests
{
    private const string LegacyQuery = """SELECT id, "userId", specialty, "createdAt" FROM hospital_specialties ORDER BY id""";

    private TestDatabase database = null!;

    [SetUp]
    public async Task MigrateToTheVersionBeforeHospitals()
    {
        database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Migrator.VeterinaryStudents);

        // h1 has 내과 twice (a2 is earlier) and 외과 twice at the same instant (a3 has the lower id);
        // the veterinarian v1 has a row that is not a hospital's.
        await LegacyRows.InsertAsync(database,
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원" },
            new LegacyUser("h2", "HOSPITAL") { HospitalName = "튼튼병원" },
            new LegacyUser("v1", "VETERINARIAN"),
            new LegacySpecialty("a1", "h1", "내과", new DateTime(2024, 1, 2)),
            new LegacySpecialty("a2", "h1", "내과", new DateTime(2024, 1, 1)),
            new LegacySpecialty("a4", "h1", "외과", new DateTime(2024, 1, 1, 10, 0, 0)),
            new LegacySpecialty("a3", "h1", "외과", new DateTime(2024, 1, 1, 10, 0, 0)),
            new LegacySpecialty("b1", "h2", "내과", new DateTime(2024, 2, 1, 8, 30, 0, 250)),
            new LegacySpecialty("x1", "v1", "내과", new DateTime(2024, 3, 1)));
    }

    [TearDown]
    public async Task Drop() => await database.DisposeAsync();

    [Test]
    public async Task Duplicates_per_hospital_collapse_to_the_earliest_row_then_the_lowest_id()
    {
        await Migrator.UpToAsync(database, Migrator.TreatmentSpecialties);

        Assert.That(await database.LinesAsync("""
            SELECT id, "hospitalId", "userId", specialty, "createdAt"
            FROM hospital_treatment_specialties ORDER BY "hospitalId", specialty
            """), Is.EqualTo(new[]
        {
            "hts_a2 | hosp_h1 | h1 | 내과 | 2024-01-01 00:00:00",
            "hts_a3 | hosp_h1 | h1 | 외과 | 2024-01-01 10:00:00",
            "hts_b1 | hosp_h2 | h2 | 내과 | 2024-02-01 08:30:00.25",
        }));
    }

    [Test]
    public async Task Rows_of_a_user_who_is_not_a_hospital_are_not_moved_and_stay_in_the_legacy_table()
    {
        await Migrator.UpToAsync(database, Migrator.TreatmentSpecialties);

        Assert.That(await database.ScalarAsync<long>("""SELECT count(*) FROM hospital_treatment_specialties WHERE "userId" = 'v1'"""), Is.Zero);
        Assert.That(await database.LinesAsync("""SELECT id FROM hospital_specialties WHERE "userId" = 'v1'"""), Is.EqualTo(new[] { "x1" }));
        await Migrator.DownToAsync(database, Migrator.TreatmentAnimals);
        Assert.That(await database.LinesAsync("""SELECT id, specialty, "createdAt" FROM hospital_specialties WHERE "userId" = 'v1'"""),
            Is.EqualTo(new[] { "x1 | 내과 | 2024-03-01 00:00:00" }));
    }

    [Test]
    public async Task Down_leaves_the_legacy_duplicates_untouched_when_nothing_changed()
    {
        var legacyBefore = await database.LinesAsync(LegacyQuery);

        await Migrator.UpToAsync(database, Migrator.TreatmentSpecialties);
        await Migrator.DownToAsync(database, Migrator.TreatmentAnimals);

        Assert.That(await database.LinesAsync(LegacyQuery), Is.EqualTo(legacyBefore));
        Assert.That(legacyBefore, Has.Count.EqualTo(6));
        Assert.That(await database.TableExistsAsync("hospital_treatment_specialties"), Is.False);
    }

    [Test]
    public async Task Down_mirrors_specialties_the_new_application_added_and_removed()
    {
        // Given the new application removes 외과 from h1 and adds 피부과 to h1 and 안과 to h2
        await Migrator.UpToAsync(database, Migrator.TreatmentSpecialties);
        await database.ExecuteAsync("""
            DELETE FROM hospital_treatment_specialties WHERE id = 'hts_a3';
            INSERT INTO hospital_treatment_specialties (id, "hospitalId", "userId", specialty, "createdAt") VALUES
                ('cuid-derm', 'hosp_h1', 'h1', '피부과', '2025-10-01 09:00:00'),
                ('cuid-eye', 'hosp_h2', 'h2', '안과', '2025-10-02 09:00:00');
            """);

        // When
        await Migrator.DownToAsync(database, Migrator.TreatmentAnimals);

        // Then every 외과 row of h1 is gone, the additions are there, the rest is as it was
        Assert.That(await database.LinesAsync(LegacyQuery), Is.EqualTo(new[]
        {
            "a1 | h1 | 내과 | 2024-01-02 00:00:00",
            "a2 | h1 | 내과 | 2024-01-01 00:00:00",
            "b1 | h2 | 내과 | 2024-02-01 08:30:00.25",
            "cuid-derm | h1 | 피부과 | 2025-10-01 09:00:00",
            "cuid-eye | h2 | 안과 | 2025-10-02 09:00:00",
            "x1 | v1 | 내과 | 2024-03-01 00:00:00",
        }));

        // And the next Up gives the new application's set again
        await Migrator.UpToAsync(database, Migrator.TreatmentSpecialties);
        Assert.That(await database.LinesAsync("""
            SELECT "userId", specialty FROM hospital_treatment_specialties ORDER BY "userId", specialty
            """), Is.EqualTo(new[] { "h1 | 내과", "h1 | 피부과", "h2 | 내과", "h2 | 안과" }));
    }
}
