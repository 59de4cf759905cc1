namespace IamVet.Schema.Tests.Properties;

/// <summary>
/// The round-trip promise of the expand migrations, checked over generated legacy data rather than a few
/// hand-picked rows: up → down gives back every legacy row exactly, and up → down → up rebuilds the same
/// new tables (deterministic ids, nothing lost in between). Seeds: see <see cref="SeededProperty"/>
/// (fixed when CI=true, fresh and printed otherwise, replay with IAMVET_PROPERTY_SEED).
/// </summary>
[TestFixture]
public sealed class RoundTripPropertyTests
{
    [Test]
    public async Task Up_down_restores_every_legacy_row_and_up_down_up_rebuilds_identical_new_tables()
    {
        var seed = SeededProperty.ChooseSeed();
        var iterations = SeededProperty.Setting(SeededProperty.IterationsVariable, SeededProperty.DefaultIterations);
        var shrinkIterations = SeededProperty.Setting(SeededProperty.ShrinkIterationsVariable, SeededProperty.DefaultShrinkIterations);
        await TestContext.Out.WriteLineAsync($"run seed {seed.Value} ({seed.Origin}); {iterations} cases of 0..{LegacyDataGen.MaxUsers} users; replay with {SeededProperty.SeedVariable}=<seed>");

        await using var harness = new RoundTripHarness();
        await harness.StartAsync();

        var failure = await SeededProperty.CheckAsync(
            LegacyDataGen.DataSet,
            harness.CheckAsync,
            seed,
            iterations,
            shrinkIterations,
            summarize: data => data.Summary(),
            describe: data => data.Describe(maxRowsPerTable: 60),
            log: TestContext.Out.WriteLine);

        await TestContext.Out.WriteLineAsync($"databases created: {harness.DatabasesCreated}");
        if (failure is not null)
        {
            Assert.Fail(failure);
        }
    }
}
