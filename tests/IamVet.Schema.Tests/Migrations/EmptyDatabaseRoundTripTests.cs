namespace IamVet.Schema.Tests.Migrations;

[TestFixture]
public sealed class EmptyDatabaseRoundTripTests
{
    [Test]
    public async Task Up_then_down_on_an_empty_database_leaves_exactly_the_legacy_baseline()
    {
        // Given a database holding only the legacy baseline
        await using var database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Versions.Baseline);
        var baseline = await SnapshotAsync(database);

        // When every migration, the cleanup included, goes up and comes back down
        await Migrator.UpToAsync(database, Migrator.Expanded);
        var expanded = await SnapshotAsync(database);
        await Migrator.DownToAsync(database);

        // Then the shape is the baseline's, line for line
        var after = await SnapshotAsync(database);
        Assert.That(baseline.Diff(after), Is.Empty, "schema differs from the legacy baseline after up → down");
        Assert.That(expanded.Diff(after), Is.Not.Empty, "the up did not change the schema at all");
        Assert.That(await Migrator.AppliedAsync(database), Is.EqualTo(new[] { Versions.Baseline }));
    }

    [Test]
    public async Task Up_with_cleanup_then_down_restores_every_legacy_column_and_index()
    {
        await using var database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Versions.Baseline);
        var baseline = await SnapshotAsync(database);

        await Migrator.UpToAsync(database, Versions.Cleanup);
        await Migrator.DownToAsync(database);

        var after = await SnapshotAsync(database);
        Assert.That(baseline.Diff(after), Is.Empty);
    }

    [Test]
    public async Task The_legacy_baseline_has_the_production_shape_of_users()
    {
        await using var database = await TestDatabase.CreateAsync();
        await Migrator.UpToAsync(database, Versions.Baseline);
        var snapshot = await SnapshotAsync(database);

        Assert.That(snapshot.Lines, Does.Contain("column users.realName text NOT NULL"));
        Assert.That(snapshot.Lines, Does.Contain("column users.seq integer NOT NULL DEFAULT nextval('users_seq_seq'::regclass)"));
        Assert.That(snapshot.Lines, Does.Contain("index CREATE UNIQUE INDEX \"users_businessNumber_key\" ON users USING btree (\"businessNumber\")"));
        Assert.That(snapshot.Lines, Does.Contain("type UserType = VETERINARIAN | HOSPITAL | VETERINARY_STUDENT"));
        Assert.That(snapshot.Lines.Count(line => line.StartsWith("column users.", StringComparison.Ordinal)), Is.EqualTo(31));
    }

    private static async Task<SchemaSnapshot> SnapshotAsync(TestDatabase database)
    {
        await using var connection = await database.OpenAsync();
        return await SchemaSnapshot.TakeAsync(connection);
    }
}
