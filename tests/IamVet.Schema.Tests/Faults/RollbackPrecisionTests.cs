namespace IamVet.Schema.Tests.Faults;

/// <summary>
/// Values of the new tables that the legacy columns cannot hold, named by the rollback's data audit
/// before anything changes (issue #14): sub-millisecond timestamps (the legacy columns are
/// timestamp(3)) are a warning with a count and ids, and come back rounded; a string longer than a
/// bounded legacy column (users.nickname is varchar(100)) refuses the rollback.
/// </summary>
[TestFixture]
public sealed class RollbackPrecisionTests : RunnerTest
{
    [Test]
    public async Task A_rollback_names_the_users_whose_birthDate_loses_its_sub_millisecond_precision_and_goes_on()
    {
        // Given an upgraded database where the new application wrote a birthDate with microseconds
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""UPDATE veterinarians SET "birthDate" = '1990-05-17 00:00:00.123456' WHERE "userId" = 'vet1'""");

        // When
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup", "--json");

        // Then the audit named the user with a count, and the value came back rounded to the millisecond
        Assert.That(down.ExitCode, Is.Zero, down.ToString());
        var finding = Findings(down).Single(f => f["code"]!.GetValue<string>() == "sub-millisecond-precision");
        Assert.That(finding["severity"]!.GetValue<string>(), Is.EqualTo("Warning").IgnoreCase);
        Assert.That(finding["count"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(finding["firstIds"]!.AsArray().Select(id => id!.GetValue<string>()), Is.EqualTo(new[] { "vet1" }));
        Assert.That(finding["message"]!.GetValue<string>(), Does.Contain("veterinarians.birthDate").And.Contain("users.birthDate"));
        Assert.That(await Database.ScalarAsync<string>("""SELECT "birthDate"::text FROM users WHERE id = 'vet1'"""), Is.EqualTo("1990-05-17 00:00:00.123"));
    }

    [Test]
    public async Task A_rollback_names_a_treatment_animal_the_application_added_with_microseconds()
    {
        // Given an upgraded database where the new application added an animal with a microsecond createdAt
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync("""
            INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
            VALUES ('cuid-a9', 'hosp_hos1', 'hos1', 'BIRD', '2025-10-01 09:00:00.000001')
            """);

        // When
        var check = await RunAsync("check", "--down", "--no-backup", "--json");

        // Then
        Assert.That(check.ExitCode, Is.Zero, check.ToString());
        var finding = Findings(check).Single(f => f["code"]!.GetValue<string>() == "sub-millisecond-precision");
        Assert.That(finding["firstIds"]!.AsArray().Select(id => id!.GetValue<string>()), Is.EqualTo(new[] { "cuid-a9" }));
        Assert.That(finding["message"]!.GetValue<string>(), Does.Contain("hospital_treatment_animals.createdAt"));
    }

    [Test]
    public async Task A_rollback_that_would_put_a_nickname_longer_than_users_allows_is_refused_naming_the_user_and_changing_nothing()
    {
        // Given an upgraded database whose new application widened veterinarians.nickname and wrote a long one
        await UpgradeLegacyDatabaseWithRowsAsync();
        await Database.ExecuteAsync($"""
            ALTER TABLE veterinarians ALTER COLUMN nickname TYPE varchar(200);
            UPDATE veterinarians SET nickname = '{new string('닉', 150)}' WHERE "userId" = 'vet1';
            """);
        var before = await StateAsync();

        // When
        var down = await RunAsync("migrate", "down", "--yes", "--no-backup");

        // Then
        Assert.That(down.ExitCode, Is.EqualTo(3), down.ToString());
        Assert.That(down.Output, Does.Contain("value-too-long-for-legacy-column").And.Contain("Ids: vet1."), down.ToString());
        Assert.That(await StateAsync(), Is.EqualTo(before), "the database changed\n" + down);
    }

    private static List<JsonObject> Findings(RunnerResult result)
    {
        var document = JsonNode.Parse(result.StandardOutput)!.AsObject();
        return FindAll(document).ToList();

        static IEnumerable<JsonObject> FindAll(JsonNode? node) => node switch
        {
            JsonObject o when o.ContainsKey("code") && o.ContainsKey("firstIds") => [o],
            JsonObject o => o.SelectMany(p => FindAll(p.Value)),
            JsonArray a => a.SelectMany(FindAll),
            _ => [],
        };
    }
}
