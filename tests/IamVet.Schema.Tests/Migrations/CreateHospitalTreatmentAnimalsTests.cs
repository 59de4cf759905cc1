using IamVet.Schema.Tests.Infrastructure;

namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// Sonarr shape, with one adjustment: hospitals rows come from users, so the legacy rows are seeded
/// before CreateHospitals (the setup stops at the version before it) and each test applies
/// everything up to CreateHospitalTreatmentAnimals; Down goes back one step.
/// </summary>
[TestFixture]
public sealed class CreateHospitalTreatmentAnimalsTests
{
    private const string LegacyQuery = """SELECT id, "userId", "animalType", "createdAt" FROM hospital_animals ORDER BY id""";

    private TestDatabase database = null!;

    [SetUp]
    public async Task MigrateToTheVersionBeforeHospitals()
    {
        database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Migrator.VeterinaryStudents);

        // h1 has DOG twice (a2 is earlier) and CAT twice at the same instant (a3 has the lower id);
        // the veterinarian v1 has a row that is not a hospital's.
        await LegacyRows.InsertAsync(database,
            new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원" },
            new LegacyUser("h2", "HOSPITAL") { HospitalName = "튼튼병원" },
            new LegacyUser("v1", "VETERINARIAN"),
            new LegacyAnimal("a1", "h1", "DOG", new DateTime(2024, 1, 2)),
            new LegacyAnimal("a2", "h1", "DOG", new DateTime(2024, 1, 1)),
            new LegacyAnimal("a4", "h1", "CAT", new DateTime(2024, 1, 1, 10, 0, 0)),
            new LegacyAnimal("a3", "h1", "CAT", new DateTime(2024, 1, 1, 10, 0, 0)),
            new LegacyAnimal("b1", "h2", "DOG", new DateTime(2024, 2, 1, 8, 30, 0, 250)),
            new LegacyAnimal("x1", "v1", "DOG", new DateTime(2024, 3, 1)));
    }

    [TearDown]
    public async Task Drop() => await database.DisposeAsync();

    [Test]
    public async Task Duplicates_per_hospital_collapse_to_the_earliest_row_then_the_lowest_id()
    {
        await Migrator.UpToAsync(database, Migrator.TreatmentAnimals);

        Assert.That(await database.LinesAsync("""
            SELECT id, "hospitalId", "userId", "animalType", "createdAt"
            FROM hospital_treatment_animals ORDER BY "hospitalId", "animalType"
            """), Is.EqualTo(new[]
        {
            "hta_a3 | hosp_h1 | h1 | CAT | 2024-01-01 10:00:00",
            "hta_a2 | hosp_h1 | h1 | DOG | 2024-01-01 00:00:00",
            "hta_b1 | hosp_h2 | h2 | DOG | 2024-02-01 08:30:00.25",
        }));
    }

    [Test]
    public async Task Rows_of_a_user_who_is_not_a_hospital_are_not_moved_and_stay_in_the_legacy_table()
    {
        await Migrator.UpToAsync(database, Migrator.TreatmentAnimals);

        Assert.That(await database.ScalarAsync<long>("""SELECT count(*) FROM hospital_treatment_animals WHERE "userId" = 'v1'"""), Is.Zero);
        Assert.That(await database.LinesAsync("""SELECT id FROM hospital_animals WHERE "userId" = 'v1'"""), Is.EqualTo(new[] { "x1" }));
        await Migrator.DownToAsync(database, Migrator.HospitalImages);
        Assert.That(await database.LinesAsync("""SELECT id, "animalType", "createdAt" FROM hospital_animals WHERE "userId" = 'v1'"""),
            Is.EqualTo(new[] { "x1 | DOG | 2024-03-01 00:00:00" }));
    }

    [Test]
    public async Task Down_leaves_the_legacy_duplicates_untouched_when_nothing_changed()
    {
        var legacyBefore = await database.LinesAsync(LegacyQuery);

        await Migrator.UpToAsync(database, Migrator.TreatmentAnimals);
        await Migrator.DownToAsync(database, Migrator.HospitalImages);

        Assert.That(await database.LinesAsync(LegacyQuery), Is.EqualTo(legacyBefore));
        Assert.That(legacyBefore, Has.Count.EqualTo(6));
        Assert.That(await database.TableExistsAsync("hospital_treatment_animals"), Is.False);
    }

    [Test]
    public async Task Down_mirrors_animal_types_the_new_application_added_and_removed()
    {
        // Given the new application removes CAT from h1 and adds BIRD to h1 and RABBIT to h2
        await Migrator.UpToAsync(database, Migrator.TreatmentAnimals);
        await database.ExecuteAsync("""
            DELETE FROM hospital_treatment_animals WHERE id = 'hta_a3';
            INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt") VALUES
                ('cuid-bird', 'hosp_h1', 'h1', 'BIRD', '2025-10-01 09:00:00'),
                ('cuid-rabbit', 'hosp_h2', 'h2', 'RABBIT', '2025-10-02 09:00:00');
            """);

        // When
        await Migrator.DownToAsync(database, Migrator.HospitalImages);

        // Then every CAT row of h1 is gone, the additions are there, the rest is as it was
        Assert.That(await database.LinesAsync(LegacyQuery), Is.EqualTo(new[]
        {
            "a1 | h1 | DOG | 2024-01-02 00:00:00",
            "a2 | h1 | DOG | 2024-01-01 00:00:00",
            "b1 | h2 | DOG | 2024-02-01 08:30:00.25",
            "cuid-bird | h1 | BIRD | 2025-10-01 09:00:00",
            "cuid-rabbit | h2 | RABBIT | 2025-10-02 09:00:00",
            "x1 | v1 | DOG | 2024-03-01 00:00:00",
        }));

        // And the next Up gives the new application's set again
        await Migrator.UpToAsync(database, Migrator.TreatmentAnimals);
        Assert.That(await database.LinesAsync("""
            SELECT "userId", "animalType" FROM hospital_treatment_animals ORDER BY "userId", "animalType"
            """), Is.EqualTo(new[] { "h1 | BIRD", "h1 | DOG", "h2 | DOG", "h2 | RABBIT" }));
    }
}
