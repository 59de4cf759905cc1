namespace IamVet.Schema.Tests.Operations;

/// <summary>
/// PostgreSQL keeps 63 bytes of a name and cuts the rest with only a NOTICE: a database the runner
/// derives from a long one (…_restore_…, …_rehearse_…) must still be created, found and dropped by
/// the name the runner uses.
/// </summary>
[TestFixture]
public sealed class LongDatabaseNameTests : OperationsTest
{
    private static readonly string LongName = $"t_{Guid.NewGuid():N}_{new string('x', 25)}";

    protected override string? NewDatabaseName() => LongName;

    [Test]
    public void Derived_names_fit_keep_their_suffix_and_tell_long_names_apart()
    {
        const string suffix = "_restore_20261129213000";
        Assert.That(Identifiers.Derived("iamvet", suffix), Is.EqualTo("iamvet" + suffix));

        var one = Identifiers.Derived(new string('a', 50) + "_one", suffix);
        var two = Identifiers.Derived(new string('a', 50) + "_two", suffix);
        Assert.That(Encoding.UTF8.GetByteCount(one), Is.LessThanOrEqualTo(63));
        Assert.That(one, Does.EndWith(suffix).And.StartWith("aaaa"));
        Assert.That(one, Is.Not.EqualTo(two));

        var korean = Identifiers.Derived(string.Concat(Enumerable.Repeat("수의사", 10)), suffix);
        Assert.That(Encoding.UTF8.GetByteCount(korean), Is.LessThanOrEqualTo(63));
        Assert.That(korean, Does.StartWith("수의사").And.EndWith(suffix).And.Not.Contain("\uFFFD"));
    }

    [Test]
    public async Task Restore_of_a_database_with_a_long_name_creates_and_verifies_its_copy_under_a_name_that_fits()
    {
        Assert.That(Encoding.UTF8.GetByteCount(Database.Name), Is.EqualTo(60), "the test needs a name with no room for a suffix");
        await CreateLegacyDatabaseWithRowsAsync();
        var (dump, manifest) = await BackupAsync();

        var result = await RunAsync("restore", "--from", dump, "--json");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var restored = JsonNode.Parse(result.StandardOutput)!["database"]!.GetValue<string>();
        try
        {
            Assert.That(Encoding.UTF8.GetByteCount(restored), Is.LessThanOrEqualTo(63), restored);
            Assert.That((await DatabasesAsync()).Select(d => d.Name), Does.Contain(restored), "the copy exists under the name the runner reported");
            Assert.That(await RowCountsAsync(restored), Is.EqualTo(RowCountsOf(manifest)));
        }
        finally
        {
            await DropDatabaseAsync(restored);
        }
    }

    [Test]
    public async Task Rehearse_of_a_database_with_a_long_name_passes_and_leaves_no_scratch_database()
    {
        await CreateLegacyDatabaseWithRowsAsync();

        var result = await RunAsync("rehearse", "--json");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var left = (await DatabasesAsync()).Select(d => d.Name).Where(n => n != Database.Name && n.StartsWith(Database.Name[..34], StringComparison.Ordinal));
        Assert.That(left, Is.Empty, result.ToString());
    }
}
