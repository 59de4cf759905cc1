namespace IamVet.Schema.Tests.Migrations;

/// <summary>hospital_animals → hospital_treatment_animals (the shared body: <see cref="HospitalTreatmentTableTests{TMigration}"/>).</summary>
[TestFixture]
public sealed class CreateHospitalTreatmentAnimalsTests : HospitalTreatmentTableTests
{
    protected override string LegacyTable => "hospital_animals";

    protected override string Table => "hospital_treatment_animals";

    protected override string Column => "\"animalType\"";

    protected override string TwiceValue => "DOG";

    protected override string TiedValue => "CAT";

    protected override string[] MovedRows =>
    [
        "hta_a3 | hosp_h1 | h1 | CAT | 2024-01-01 10:00:00",
        "hta_a2 | hosp_h1 | h1 | DOG | 2024-01-01 00:00:00",
        "hta_b1 | hosp_h2 | h2 | DOG | 2024-02-01 08:30:00.25",
    ];

    protected override string NotMovedRow => "x1 | DOG | 2024-03-01 00:00:00";

    protected override string ApplicationWrites => """
        DELETE FROM hospital_treatment_animals WHERE id = 'hta_a3';
        INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt") VALUES
            ('cuid-bird', 'hosp_h1', 'h1', 'BIRD', '2025-10-01 09:00:00'),
            ('cuid-rabbit', 'hosp_h2', 'h2', 'RABBIT', '2025-10-02 09:00:00');
        """;

    protected override string[] LegacyRowsAfterApplicationWrites =>
    [
        "a1 | h1 | DOG | 2024-01-02 00:00:00",
        "a2 | h1 | DOG | 2024-01-01 00:00:00",
        "b1 | h2 | DOG | 2024-02-01 08:30:00.25",
        "cuid-bird | h1 | BIRD | 2025-10-01 09:00:00",
        "cuid-rabbit | h2 | RABBIT | 2025-10-02 09:00:00",
        "x1 | v1 | DOG | 2024-03-01 00:00:00",
    ];

    protected override string[] ValuesAfterTheNextUp => ["h1 | BIRD", "h1 | DOG", "h2 | DOG", "h2 | RABBIT"];

    [Test]
    public Task Down_mirrors_animal_types_the_new_application_added_and_removed() =>
        DownMirrorsWhatTheNewApplicationAddedAndRemovedAsync();

    protected override object LegacyRow(string id, string userId, string value, DateTime createdAt) =>
        new LegacyAnimal(id, userId, value, createdAt);
}
