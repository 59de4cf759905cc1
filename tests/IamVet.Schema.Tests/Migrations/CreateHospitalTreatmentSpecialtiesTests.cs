namespace IamVet.Schema.Tests.Migrations;

/// <summary>hospital_specialties → hospital_treatment_specialties (the shared body: <see cref="HospitalTreatmentTableTests{TMigration}"/>).</summary>
[TestFixture]
public sealed class CreateHospitalTreatmentSpecialtiesTests : HospitalTreatmentTableTests
{
    protected override string LegacyTable => "hospital_specialties";

    protected override string Table => "hospital_treatment_specialties";

    protected override string Column => "specialty";

    protected override string TwiceValue => "내과";

    protected override string TiedValue => "외과";

    protected override string[] MovedRows =>
    [
        "hts_a2 | hosp_h1 | h1 | 내과 | 2024-01-01 00:00:00",
        "hts_a3 | hosp_h1 | h1 | 외과 | 2024-01-01 10:00:00",
        "hts_b1 | hosp_h2 | h2 | 내과 | 2024-02-01 08:30:00.25",
    ];

    protected override string NotMovedRow => "x1 | 내과 | 2024-03-01 00:00:00";

    protected override string ApplicationWrites => """
        DELETE FROM hospital_treatment_specialties WHERE id = 'hts_a3';
        INSERT INTO hospital_treatment_specialties (id, "hospitalId", "userId", specialty, "createdAt") VALUES
            ('cuid-derm', 'hosp_h1', 'h1', '피부과', '2025-10-01 09:00:00'),
            ('cuid-eye', 'hosp_h2', 'h2', '안과', '2025-10-02 09:00:00');
        """;

    protected override string[] LegacyRowsAfterApplicationWrites =>
    [
        "a1 | h1 | 내과 | 2024-01-02 00:00:00",
        "a2 | h1 | 내과 | 2024-01-01 00:00:00",
        "b1 | h2 | 내과 | 2024-02-01 08:30:00.25",
        "cuid-derm | h1 | 피부과 | 2025-10-01 09:00:00",
        "cuid-eye | h2 | 안과 | 2025-10-02 09:00:00",
        "x1 | v1 | 내과 | 2024-03-01 00:00:00",
    ];

    protected override string[] ValuesAfterTheNextUp => ["h1 | 내과", "h1 | 피부과", "h2 | 내과", "h2 | 안과"];

    [Test]
    public Task Down_mirrors_specialties_the_new_application_added_and_removed() =>
        DownMirrorsWhatTheNewApplicationAddedAndRemovedAsync();

    protected override object LegacyRow(string id, string userId, string value, DateTime createdAt) =>
        new LegacySpecialty(id, userId, value, createdAt);
}
