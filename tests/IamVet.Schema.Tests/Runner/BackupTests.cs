namespace IamVet.Schema.Tests.Runner;

/// <summary>The restore point a run takes is real: private files, the checksum its manifest claims, and a dump that restores to the manifest's row counts.</summary>
[TestFixture]
public sealed class BackupTests : RunnerTest
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Test]
    public async Task The_dump_of_a_migrate_up_restores_into_a_new_database_with_the_row_counts_of_its_manifest()
    {
        // Given a baselined legacy database with data
        await CreateLegacyDatabaseWithRowsAsync();

        // When
        var result = await RunAsync("migrate", "up", "--yes");

        // Then the dump and its manifest are private and agree with each other
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var dump = Directory.GetFiles(BackupDirectory, "*.dump").Single();
        var manifestPath = Directory.GetFiles(BackupDirectory, "*.manifest.json").Single();
        Assert.That(File.GetUnixFileMode(dump), Is.EqualTo(OwnerReadWrite), "dump mode");
        Assert.That(File.GetUnixFileMode(manifestPath), Is.EqualTo(OwnerReadWrite), "manifest mode");
        Assert.That(File.GetUnixFileMode(BackupDirectory), Is.EqualTo(OwnerReadWrite | UnixFileMode.UserExecute), "backup directory mode");
        var manifest = JsonNode.Parse(await File.ReadAllTextAsync(manifestPath))!.AsObject();
        Assert.That(manifest["file"]!.GetValue<string>(), Is.EqualTo(Path.GetFileName(dump)));
        Assert.That(manifest["sha256"]!.GetValue<string>(), Is.EqualTo(await BackupWriter.Sha256Async(dump, CancellationToken.None)));
        Assert.That(manifest["sizeBytes"]!.GetValue<long>(), Is.EqualTo(new FileInfo(dump).Length));
        var rowCounts = manifest["rowCounts"]!.AsObject().ToDictionary(pair => pair.Key, pair => pair.Value!.GetValue<long>());
        Assert.That(rowCounts, Does.ContainKey("users").WithValue(6L), "the manifest counts the database as it was before the migration");
        Assert.That(rowCounts, Does.Not.ContainKey("veterinarians"));

        // And the dump restores, table for table, to those counts
        await using var restored = await TestDatabase.CreateAsync();
        PgClient.Restore(restored.ConnectionString, dump);
        await using var connection = await restored.OpenAsync();
        var restoredCounts = await BackupWriter.CountRowsAsync(connection, null, CancellationToken.None);
        Assert.That(restoredCounts, Is.EqualTo(rowCounts));
    }
}
