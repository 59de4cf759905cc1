using CsCheck;

namespace IamVet.Schema.Tests.Properties;

/// <summary>Where a run's seed came from.</summary>
public sealed record RunSeed(string Value, string Origin);

/// <summary>
/// Runs a CsCheck property over a sequence of cases that one seed fully determines, then lets CsCheck shrink
/// the first failure.
/// <para>
/// Why not simply <c>Check.SampleAsync(seed: …)</c>: in CsCheck (4.9.1) a seed replays only the FIRST case;
/// the remaining iterations draw from <c>PCG.ThreadPCG</c>, which is seeded from the clock, so two CI runs
/// would test different data. Here every case seed is a CsCheck seed (the PCG state before the case was
/// generated) and the next case continues from the same PCG, so:
/// the run seed is the first case's seed; a run is repeated exactly by giving its seed; a failing case is
/// replayed first by giving the case's own seed; and <c>Check.SampleAsync(seed: failing case)</c> starts
/// from that very case and shrinks it (random search for smaller failing cases, asserted one at a time).
/// </para>
/// </summary>
public static class SeededProperty
{
    /// <summary>A run or case seed to replay (a CsCheck seed: 12 to 17 characters of [0-9a-zA-Z_-]).</summary>
    public const string SeedVariable = "IAMVET_PROPERTY_SEED";

    /// <summary>How many cases to run (default <see cref="DefaultIterations"/>); raise it for a local soak.</summary>
    public const string IterationsVariable = "IAMVET_PROPERTY_ITER";

    /// <summary>How many candidates CsCheck may generate while shrinking a failure (only smaller ones are run).</summary>
    public const string ShrinkIterationsVariable = "IAMVET_PROPERTY_SHRINK_ITER";

    public const int DefaultIterations = 20;
    public const int DefaultShrinkIterations = 200;

    /// <summary>The run seed when the environment says CI (<c>CI=true</c>, as GitHub Actions, GitLab and most CI services set it).</summary>
    public const string CiSeed = "0IamVetRound";

    /// <summary>
    /// <see cref="SeedVariable"/> (or CsCheck's own <c>CsCheck_Seed</c>) when set; else <see cref="CiSeed"/> when
    /// <c>CI</c> is true, so CI always tests the same data; else a fresh seed, printed, so that local runs keep
    /// exploring new data and any failure can be replayed.
    /// </summary>
    public static RunSeed ChooseSeed()
    {
        foreach (var variable in new[] { SeedVariable, "CsCheck_Seed" })
        {
            var value = Environment.GetEnvironmentVariable(variable);
            if (!string.IsNullOrWhiteSpace(value))
            {
                return new RunSeed(value.Trim(), $"from {variable}");
            }
        }

        var ci = Environment.GetEnvironmentVariable("CI");
        if (string.Equals(ci, "true", StringComparison.OrdinalIgnoreCase) || ci == "1")
        {
            return new RunSeed(CiSeed, "fixed, CI=true");
        }

        return new RunSeed(Gen.Seed.Single(), "random, local run");
    }

    public static int Setting(string variable, int defaultValue) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : defaultValue;

    /// <summary>
    /// Runs <paramref name="property"/> on <paramref name="iterations"/> cases derived from <paramref name="seed"/>,
    /// one at a time. Returns null when all passed, else a report: the run seed, the first failing case (seed,
    /// data, failure) and what CsCheck shrank it to.
    /// </summary>
    public static async Task<string?> CheckAsync<T>(
        Gen<T> gen,
        Func<T, Task> property,
        RunSeed seed,
        int iterations,
        int shrinkIterations,
        Func<T, string> summarize,
        Func<T, string> describe,
        Action<string> log)
    {
        var pcg = PCG.Parse(seed.Value);
        for (var i = 0; i < iterations; i++)
        {
            var caseSeed = pcg.ToString();
            var value = gen.Generate(pcg, null, out _);
            var clock = Stopwatch.StartNew();
            try
            {
                await property(value);
            }
#pragma warning disable CA1031 // any exception from the property is a failing case, reported below with its seed
            catch (Exception failure)
#pragma warning restore CA1031
            {
                log(Line(i, iterations, caseSeed, summarize(value), $"FAILED ({clock.Elapsed.TotalSeconds:F1} s); shrinking…"));
                var report = new StringBuilder();
                report.Append(CultureInfo.InvariantCulture, $"Property failed on case {i + 1} of {iterations}; run seed {seed.Value} ({seed.Origin}).\n");
                report.Append(CultureInfo.InvariantCulture, $"Replay: {SeedVariable}={caseSeed} (that case first) or {SeedVariable}={seed.Value} (the whole run).\n\n");
                report.Append(CultureInfo.InvariantCulture, $"First failing case, seed {caseSeed}:\n{Describe(failure)}\nData: {describe(value)}\n\n");
                report.Append(await ShrinkAsync(gen, property, caseSeed, shrinkIterations, summarize, describe));
                return report.ToString();
            }

            log(Line(i, iterations, caseSeed, summarize(value), $"ok ({clock.Elapsed.TotalSeconds:F1} s)"));
        }

        return null;
    }

    private static string Line(int index, int count, string caseSeed, string summary, string outcome) =>
        string.Create(CultureInfo.InvariantCulture, $"case {index + 1}/{count} seed {caseSeed}: {summary} — {outcome}");

    /// <summary>
    /// CsCheck replays the failing case first (same seed), then runs only candidates smaller than the smallest
    /// failure so far. On one thread every failure it sees is a new minimum, so the last failure recorded here is
    /// the shrunk case (CsCheck's own message prints it through <paramref name="summarize"/> and keeps only the
    /// failure's message, so the full data and failure are taken from the recording).
    /// </summary>
    private static async Task<string> ShrinkAsync<T>(Gen<T> gen, Func<T, Task> property, string caseSeed, int iterations, Func<T, string> summarize, Func<T, string> describe)
    {
        (T Value, Exception Failure)? smallest = null;
        bool? replayFailed = null;
        async Task Recording(T value)
        {
            try
            {
                await property(value);
                replayFailed ??= false;
            }
            catch (Exception failure)
            {
                replayFailed ??= true;
                smallest = (value, failure);
                throw;
            }
        }

        try
        {
            await gen.SampleAsync(Recording, seed: caseSeed, iter: iterations, threads: 1, print: summarize);
            return "Shrinking: the failing case PASSED when replayed, so the failure depends on state left by earlier cases " +
                   "(replay the whole run seed to reproduce it); no other failure found.";
        }
        catch (CsCheckException shrunk) when (smallest is { } found)
        {
            var header = shrunk.Message.Split('\n', 2)[0];
            if (replayFailed != true)
            {
                return "Shrinking: the failing case PASSED when replayed, so the failure depends on state left by earlier cases " +
                       $"(replay the whole run seed to reproduce it). CsCheck then found another failure, as suspect: {header}\n{Describe(found.Failure)}";
            }

            return shrunk.Message.StartsWith($"Set seed: \"{caseSeed}\"", StringComparison.Ordinal)
                ? $"Shrinking: no smaller failing case found ({header}); the first failing case is the smallest known."
                : $"Shrunk by CsCheck: {header}\n{Describe(found.Failure)}\nData: {describe(found.Value)}";
        }
    }

    /// <summary>
    /// A mismatch as it is; a PostgreSQL error by its code and text, and, when FluentMigrator wrapped it
    /// (its message is the whole SQL script), the start of the script that failed.
    /// </summary>
    private static string Describe(Exception failure)
    {
        if (failure is RoundTripMismatchException)
        {
            return failure.Message;
        }

        var pg = failure as PostgresException;
        for (var inner = failure.InnerException; pg is null && inner is not null; inner = inner.InnerException)
        {
            pg = inner as PostgresException;
        }

        if (pg is null)
        {
            return $"{failure.GetType().Name}: {failure.Message}";
        }

        var text = $"PostgresException {pg.SqlState}: {pg.MessageText}" + (pg.Where is null ? "" : $" (at {pg.Where})");
        return ReferenceEquals(pg, failure)
            ? text
            : text + $"\n  raised in ({failure.GetType().Name}): " + string.Join("\n    ", failure.Message.Split('\n').Take(4));
    }
}
