using Npgsql;

namespace IamVet.Schema.Runner.Pipeline.Stages;

/// <summary>What the verification found and how long it took: the Verify row of the report.</summary>
public sealed record VerifyReport(VerificationResult Result, TimeSpan Duration)
{
    public const string Name = "Verify";

    public StageResult ToStageResult() => new(Name, Result.Passed ? StageStatus.Pass : StageStatus.Fail, Duration,
        Result.Passed ? "every moved value, row count, key and index checked" : $"{Result.Mismatches.Count} mismatch(es)",
        Result.Passed ? DescribeTables(Result.Summary) : Result.Mismatches);

    private static List<string> DescribeTables(JsonObject summary)
    {
        var lines = new List<string>();
        if (summary["tables"] is JsonObject tables)
        {
            foreach (var (table, node) in tables)
            {
                var entry = node!.AsObject();
                lines.Add(entry.ContainsKey("sourceRowsAll")
                    ? $"{table}: {entry["newRows"]} row(s) = {entry["sourceRowsAll"]} source row(s) (active only: {entry["sourceRowsActive"]}), fingerprints equal"
                    : entry["byExactRestore"]?.GetValue<bool>() == true
                        ? $"{table}: {entry["legacyRows"]} row(s) back on the legacy side (its legacy table is exactly as before the up)"
                        : $"{table}: {entry["legacyRows"]} row(s) back on the legacy side, fingerprints equal");
            }
        }

        if (summary["exactRestore"] is JsonValue exact)
        {
            lines.Add(exact.GetValue<bool>()
                ? "legacy tables equal their fingerprints from before the up"
                : "legacy tables changed since the up in columns no new table carries (e.g. lastLoginAt); each moved table was compared on its own");
        }

        return lines;
    }
}

/// <summary>The fingerprints a successful up recorded in migration_log, for the down that returns to where it started.</summary>
public sealed record RecordedUp(IReadOnlyList<TableFingerprint> LegacyTablesBefore, IReadOnlyList<TableFingerprint> NewSideAfter)
{
    public static RecordedUp? From(JsonObject? recorded) =>
        recorded is null ? null : new RecordedUp(FromJson(recorded["legacyTablesBefore"]), FromJson(recorded["newSideAfter"]));

    public static JsonArray ToJson(IEnumerable<TableFingerprint> fingerprints) =>
        new(fingerprints.Select(f => (JsonNode?)new JsonObject { ["table"] = f.Name, ["rows"] = f.Rows, ["hash"] = f.Hash }).ToArray());

    private static List<TableFingerprint> FromJson(JsonNode? node) =>
        node is JsonArray array
            ? array.Select(n => new TableFingerprint(n!["table"]!.GetValue<string>(), n["rows"]!.GetValue<long>(), n["hash"]!.GetValue<string>())).ToList()
            : [];
}

/// <summary>
/// The Verify step, inside the migration transaction: the data at the exclusive-lock gate, the final
/// shape before COMMIT (<see cref="Verifier"/>, <see cref="VerifyScope"/>). An
/// up is compared as an up must leave the new tables; a down, when nothing it carries back was
/// written since the up, also with the legacy tables' fingerprints from before that up.
/// </summary>
public static class VerifyStep
{
    public static Task<VerificationResult> RunAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MigrationPlan plan, VerificationBaseline baseline,
        IReadOnlyList<TableFingerprint>? expectedLegacyAfterDown, VerifyScope scope, CancellationToken cancellationToken) =>
        Verifier.VerifyAsync(connection, transaction, plan, baseline, expectedLegacyAfterDown, cancellationToken,
            rightAfterUp: plan.Direction == MigrationDirection.Up, scope);

    /// <summary>What a verified up records for the down that will undo it (migration_log.details.fingerprints).</summary>
    public static async Task<JsonObject> FingerprintsForDownAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, VerificationBaseline baseline, VerificationResult verification, CancellationToken cancellationToken) =>
        new()
        {
            ["format"] = TableFingerprints.Format,
            ["legacyTablesBefore"] = RecordedUp.ToJson((await baseline.LegacyBeforeAsync())!.FullTables),
            ["newSideAfter"] = RecordedUp.ToJson((await Verifier.NewSideOfEveryMovedTableAsync(connection, transaction, verification.NewSide, cancellationToken)).Values),
        };
}
