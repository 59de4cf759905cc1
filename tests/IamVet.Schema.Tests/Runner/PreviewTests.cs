namespace IamVet.Schema.Tests.Runner;

/// <summary><c>preview</c> prints the SQL a run would execute and executes none of it: pg_dump sees the same database before and after.</summary>
[TestFixture]
public sealed class PreviewTests : RunnerTest
{
    [Test]
    public async Task Preview_up_prints_the_sql_and_leaves_a_legacy_database_with_data_byte_for_byte_unchanged()
    {
        // Given a baselined legacy database with data
        await CreateLegacyDatabaseWithRowsAsync();
        var before = PgClient.DumpPlain(Database.ConnectionString);

        // When
        var result = await RunAsync("preview", "up");

        // Then
        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("CREATE TABLE veterinarians"), result.ToString());
        Assert.That(result.StandardOutput, Does.Not.Contain(";;"), "every statement ends with one semicolon");
        Assert.That(PgClient.DumpPlain(Database.ConnectionString), Is.EqualTo(before), "preview up changed the database");
    }

    [Test]
    public async Task Preview_up_on_an_empty_database_creates_not_even_the_version_table()
    {
        var before = PgClient.DumpPlain(Database.ConnectionString);

        var result = await RunAsync("preview", "up");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("CREATE TABLE users").And.Contain("CREATE TABLE veterinarians"), result.ToString());
        Assert.That(PgClient.DumpPlain(Database.ConnectionString), Is.EqualTo(before), "preview up changed the database");
        Assert.That(await TableExistsAsync("VersionInfo"), Is.False);
    }

    [Test]
    public async Task Preview_down_prints_the_sql_and_leaves_a_normalized_database_byte_for_byte_unchanged()
    {
        await CreateLegacyDatabaseWithRowsAsync();
        await Migrator.UpToAsync(Database, Migrator.Expanded);
        var before = PgClient.DumpPlain(Database.ConnectionString);

        var result = await RunAsync("preview", "down");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("ALTER TABLE veterinarians RENAME TO iamvet_rolled_back_veterinarians"), result.ToString());
        Assert.That(result.StandardOutput, Does.Contain("the Finish stage runs each of these").And.Contain("ALTER TABLE users VALIDATE CONSTRAINT users_realname_not_null"), result.ToString());
        Assert.That(PgClient.DumpPlain(Database.ConnectionString), Is.EqualTo(before), "preview down changed the database");
    }
}
