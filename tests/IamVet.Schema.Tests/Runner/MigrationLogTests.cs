namespace IamVet.Schema.Tests.Runner;

/// <summary>
/// Every attempt leaves its migration_log row, a failed one too, with the status of its outcome,
/// once migration_log has its audit columns (the runner first brings it to that version itself).
/// </summary>
[TestFixture]
public sealed class MigrationLogTests : RunnerTest
{
    public enum Failure
    {
        NamelessHospital,
        ConflictingTable,
        TamperedValue,
    }

    [TestCase(Failure.NamelessHospital, 3, "REFUSED", TestName = "A_refused_attempt_leaves_a_REFUSED_row")]
    [TestCase(Failure.ConflictingTable, 5, "ROLLED_BACK", TestName = "A_failed_migration_leaves_a_ROLLED_BACK_row")]
    [TestCase(Failure.TamperedValue, 6, "ROLLED_BACK", TestName = "A_verification_mismatch_leaves_a_ROLLED_BACK_row")]
    public async Task A_failed_attempt_leaves_its_row_with_the_status_of_its_outcome(Failure failure, int exitCode, string status)
    {
        // Given migration_log with its audit columns, seed rows, and one way for the next up to fail
        var toAuditColumns = await RunAsync("migrate", "up", "--yes", "--no-backup", "--create-legacy-schema", "--to", Versions.AuditColumns.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.That(toAuditColumns.ExitCode, Is.Zero, toAuditColumns.ToString());
        await LegacyRows.InsertAsync(Database, SeedRows);
        switch (failure)
        {
            case Failure.NamelessHospital:
                await LegacyRows.InsertAsync(Database, new LegacyUser("hos-nameless", "HOSPITAL") { HospitalName = null });
                break;
            case Failure.ConflictingTable:
                // A name the migration creates, taken by another kind of object: the audit (which names a hand-made
                // table up front) does not foresee it, so the migration itself fails at CREATE INDEX.
                await Database.ExecuteAsync("CREATE SEQUENCE hospitals_latitude_longitude_idx");
                break;
            case Failure.TamperedValue:
                await Database.ExecuteAsync(Sabotage.OverwriteEveryInsertedValue("veterinary_students", "nickname", "tampered"));
                break;
        }

        var before = await StateAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes", "--no-backup");

        // Then
        Assert.That(result.ExitCode, Is.EqualTo(exitCode), result.ToString());
        Assert.That(await AppliedAsync(), Is.EqualTo(new[] { Versions.Baseline, Versions.AuditColumns }));
        var rows = await Database.RowsAsync("""
            SELECT status, version_from, version_to, finished_at IS NOT NULL AS finished, description, (details->>'exitCode')::int AS exit_code
            FROM migration_log ORDER BY id
            """);
        Assert.That(rows.Select(r => r["status"]), Is.EqualTo(new[] { "SUCCESS", status }), "rows: " + string.Join("; ", rows.Select(r => $"{r["status"]} {r["description"]}")));
        var row = rows[1];
        Assert.That(row["version_from"], Is.EqualTo(Versions.AuditColumns));
        Assert.That(row["version_to"], Is.EqualTo(Migrator.Expanded));
        Assert.That(row["finished"], Is.True);
        Assert.That(row["exit_code"], Is.EqualTo(exitCode));
        Assert.That(row["description"], Does.StartWith(status + ":"));
        Assert.That(await StateAsync(), Is.EqualTo(before), "the legacy tables' fingerprints, the shape or the versions changed\n" + result);
    }
}
