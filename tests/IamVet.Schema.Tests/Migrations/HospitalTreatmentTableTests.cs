namespace IamVet.Schema.Tests.Migrations;

/// <summary>
/// Sonarr shape: the treatment-table parts of <see cref="SplitUsersIntoProfileTables"/>.
/// hospital_animals and hospital_specialties move the same way, so one body serves both: a subclass
/// names the tables, the value column, the id prefix and the two values, and holds that table's
/// frozen expected rows.
/// </summary>
public abstract class HospitalTreatmentTableTests : MigrationTest<SplitUsersIntoProfileTables>
{
    /// <summary>The legacy table, e.g. <c>hospital_animals</c>.</summary>
    protected abstract string LegacyTable { get; }

    /// <summary>The new table, e.g. <c>hospital_treatment_animals</c>.</summary>
    protected abstract string Table { get; }

    /// <summary>The value column as SQL, quoted where it must be, e.g. <c>"animalType"</c>.</summary>
    protected abstract string Column { get; }

    /// <summary>The value h1 has twice at different instants (and h2 and v1 have once).</summary>
    protected abstract string TwiceValue { get; }

    /// <summary>The value h1 has twice at the same instant.</summary>
    protected abstract string TiedValue { get; }

    /// <summary>The new table's rows after the up, ordered by hospitalId and value.</summary>
    protected abstract string[] MovedRows { get; }

    /// <summary>v1's legacy row (id, value, createdAt) after the down.</summary>
    protected abstract string NotMovedRow { get; }

    /// <summary>SQL of the new application: it deletes h1's tied value row and adds a value to h1 and one to h2.</summary>
    protected abstract string ApplicationWrites { get; }

    /// <summary>The legacy table after the down that follows <see cref="ApplicationWrites"/>.</summary>
    protected abstract string[] LegacyRowsAfterApplicationWrites { get; }

    /// <summary>The new table's (userId, value) after the next up.</summary>
    protected abstract string[] ValuesAfterTheNextUp { get; }

    private string LegacyQuery => $"""SELECT id, "userId", {Column}, "createdAt" FROM {LegacyTable} ORDER BY id""";

    /// <summary>A legacy row of <see cref="LegacyTable"/>.</summary>
    protected abstract object LegacyRow(string id, string userId, string value, DateTime createdAt);

    [SetUp]
    public async Task SeedTwoHospitalsAndAVeterinarianWithDuplicates()
    {
        // h1 has TwiceValue twice (a2 is earlier) and TiedValue twice at the same instant (a3 has the
        // lower id); the veterinarian v1 has a row that is not a hospital's.
        await LegacyRows.InsertTwoHospitalsAsync(Database);
        await LegacyRows.InsertAsync(Database,
            new LegacyUser("v1", "VETERINARIAN"),
            LegacyRow("a1", "h1", TwiceValue, new DateTime(2024, 1, 2)),
            LegacyRow("a2", "h1", TwiceValue, new DateTime(2024, 1, 1)),
            LegacyRow("a4", "h1", TiedValue, new DateTime(2024, 1, 1, 10, 0, 0)),
            LegacyRow("a3", "h1", TiedValue, new DateTime(2024, 1, 1, 10, 0, 0)),
            LegacyRow("b1", "h2", TwiceValue, new DateTime(2024, 2, 1, 8, 30, 0, 250)),
            LegacyRow("x1", "v1", TwiceValue, new DateTime(2024, 3, 1)));
    }

    [Test]
    public async Task Duplicates_per_hospital_collapse_to_the_earliest_row_then_the_lowest_id()
    {
        await ApplyAsync();

        Assert.That(await Database.LinesAsync($"""
            SELECT id, "hospitalId", "userId", {Column}, "createdAt"
            FROM {Table} ORDER BY "hospitalId", {Column}
            """), Is.EqualTo(MovedRows));
    }

    [Test]
    public async Task Rows_of_a_user_who_is_not_a_hospital_are_not_moved_and_stay_in_the_legacy_table()
    {
        await ApplyAsync();

        Assert.That(await Database.ScalarAsync<long>($"""SELECT count(*) FROM {Table} WHERE "userId" = 'v1'"""), Is.Zero);
        Assert.That(await Database.LinesAsync($"""SELECT id FROM {LegacyTable} WHERE "userId" = 'v1'"""), Is.EqualTo(new[] { "x1" }));
        await RevertAsync();
        Assert.That(await Database.LinesAsync($"""SELECT id, {Column}, "createdAt" FROM {LegacyTable} WHERE "userId" = 'v1'"""),
            Is.EqualTo(new[] { NotMovedRow }));
    }

    [Test]
    public async Task Down_leaves_the_legacy_duplicates_untouched_when_nothing_changed()
    {
        var legacyBefore = await Database.LinesAsync(LegacyQuery);

        await ApplyAsync();
        await RevertAsync();

        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(legacyBefore));
        Assert.That(legacyBefore, Has.Count.EqualTo(6));
        Assert.That(await Database.TableExistsAsync(Table), Is.False);
    }

    /// <summary>The body of the subclass's <c>Down_mirrors_…_the_new_application_added_and_removed</c> test.</summary>
    protected async Task DownMirrorsWhatTheNewApplicationAddedAndRemovedAsync()
    {
        // Given the new application removes TiedValue from h1 and adds a value to h1 and one to h2
        await ApplyAsync();
        await Database.ExecuteAsync(ApplicationWrites);

        // When
        await RevertAsync();

        // Then every TiedValue row of h1 is gone, the additions are there, the rest is as it was
        Assert.That(await Database.LinesAsync(LegacyQuery), Is.EqualTo(LegacyRowsAfterApplicationWrites));

        // And the next Up gives the new application's set again
        await ApplyAsync();
        Assert.That(await Database.LinesAsync($"""
            SELECT "userId", {Column} FROM {Table} ORDER BY "userId", {Column}
            """), Is.EqualTo(ValuesAfterTheNextUp));
    }
}
