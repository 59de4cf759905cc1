using System.Text.Json.Nodes;
using IamVet.Schema.Runner.Engine;
using IamVet.Schema.Runner.Postgres;
using Npgsql;

namespace IamVet.Schema.Runner.Verification;

/// <summary>What verification found: a summary for the report and migration_log, and every mismatch.</summary>
public sealed record VerificationResult(JsonObject Summary, IReadOnlyList<string> Mismatches)
{
    public bool Passed => Mismatches.Count == 0;
}

/// <summary>Fingerprints taken inside the migration transaction before the first migration runs.</summary>
public sealed record VerificationBaseline(
    IReadOnlyDictionary<string, TableFingerprint> NewSideBefore,
    IReadOnlyList<TableFingerprint> LegacyBefore);

/// <summary>
/// Proves, inside the migration transaction and before COMMIT, that the data arrived: per moved
/// table, the legacy-side and new-side projections have equal counts and fingerprints (every
/// moved column, every side row mapped exactly once), the counts per user type (all users, and
/// the runbook's active-only numbers beside them), and the keys, foreign keys and indexes of the
/// target shape. For Down, the reverse: the legacy side holds what the new tables held. Everything
/// is computed by set-based aggregates in PostgreSQL; no row data passes through the runner.
/// </summary>
public static class Verifier
{
    public static async Task<VerificationBaseline> CaptureAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, MigrationPlan plan, CancellationToken cancellationToken)
    {
        var newSide = new Dictionary<string, TableFingerprint>(StringComparer.Ordinal);
        if (plan.Direction == MigrationDirection.Down)
        {
            foreach (var projection in ProjectionsOf(plan))
            {
                newSide[projection.Table] = await TableFingerprints.OfQueryAsync(connection, projection.Table, projection.NewSide, transaction, cancellationToken);
            }
        }

        var legacy = await LegacyTablesExistAsync(connection, transaction, cancellationToken)
            ? await TableFingerprints.OfLegacyTablesAsync(connection, transaction, cancellationToken)
            : [];
        return new VerificationBaseline(newSide, legacy);
    }

    public static async Task<VerificationResult> VerifyAsync(
        NpgsqlConnection connection,
        NpgsqlTransaction transaction,
        MigrationPlan plan,
        VerificationBaseline baseline,
        IReadOnlyList<TableFingerprint>? expectedLegacyAfterDown,
        CancellationToken cancellationToken)
    {
        var mismatches = new List<string>();
        var tables = new JsonObject();
        var summary = new JsonObject { ["direction"] = plan.Direction.ToString().ToLowerInvariant(), ["tables"] = tables };

        foreach (var projection in ProjectionsOf(plan))
        {
            var legacy = await TableFingerprints.OfQueryAsync(connection, projection.Table, projection.LegacySide, transaction, cancellationToken);
            var entry = new JsonObject { ["legacyRows"] = legacy.Rows };
            if (plan.Direction == MigrationDirection.Up)
            {
                var target = await TableFingerprints.OfQueryAsync(connection, projection.Table, projection.NewSide, transaction, cancellationToken);
                var (all, active) = await CountsAsync(connection, transaction, projection.CountByTypeSql, cancellationToken);
                entry["newRows"] = target.Rows;
                entry["sourceRowsAll"] = all;
                entry["sourceRowsActive"] = active;
                entry["fingerprintMatch"] = legacy.Hash == target.Hash && legacy.Rows == target.Rows;
                if (legacy.Rows != target.Rows)
                {
                    mismatches.Add($"{projection.Table}: the legacy side has {legacy.Rows} row(s) to move, the new table holds {target.Rows}");
                }
                else if (legacy.Hash != target.Hash)
                {
                    mismatches.Add($"{projection.Table}: {legacy.Rows} row(s) on both sides, but the moved values differ (fingerprint mismatch)");
                }

                mismatches.AddRange(await MissingStructureAsync(connection, transaction, projection, cancellationToken));
            }
            else
            {
                var before = baseline.NewSideBefore[projection.Table];
                entry["newRowsBefore"] = before.Rows;
                entry["fingerprintMatch"] = before.Hash == legacy.Hash && before.Rows == legacy.Rows;
                if (before.Rows != legacy.Rows || before.Hash != legacy.Hash)
                {
                    mismatches.Add($"{projection.Table}: the legacy side does not hold what the table held before the rollback " +
                                   $"({before.Rows} row(s) in {projection.Table}, {legacy.Rows} on the legacy side{(before.Rows == legacy.Rows ? ", values differ" : "")})");
                }

                if (await ExistsAsync(connection, transaction, $"public.{projection.Table}", cancellationToken))
                {
                    mismatches.Add($"{projection.Table}: still exists after the rollback");
                }
            }

            tables[projection.Table] = entry;
        }

        if (plan.Direction == MigrationDirection.Down && expectedLegacyAfterDown is { Count: > 0 })
        {
            // Nothing was written between the up and this down: the legacy tables must be exactly as before the up.
            var now = await TableFingerprints.OfLegacyTablesAsync(connection, transaction, cancellationToken);
            var differing = now.Where(f => expectedLegacyAfterDown.FirstOrDefault(e => e.Name == f.Name) is { } e && (e.Rows != f.Rows || e.Hash != f.Hash))
                .Select(f => f.Name).ToList();
            summary["exactRestore"] = differing.Count == 0;
            mismatches.AddRange(differing.Select(name => $"{name}: differs from its fingerprint recorded before the up, though nothing was written in between"));
        }

        if (plan.Steps.Any(step => step.Version == 202509291000))
        {
            var left = await ScalarAsync<long>(connection, transaction, """
                SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'users'
                  AND column_name IN ('realName','birthDate','businessNumber','establishedDate','hospitalAddress','hospitalAddressDetail',
                                      'hospitalLogo','hospitalName','hospitalWebsite','licenseImage','nickname','universityEmail')
                """, cancellationToken);
            var expected = plan.Direction == MigrationDirection.Up ? 0 : 12;
            if (left != expected)
            {
                mismatches.Add($"cleanup: users has {left} of the 12 moved columns, expected {expected}");
            }
        }

        summary["mismatches"] = new JsonArray(mismatches.Select(m => (JsonNode?)m).ToArray());
        return new VerificationResult(summary, mismatches);
    }

    private static IEnumerable<Projection> ProjectionsOf(MigrationPlan plan) =>
        plan.Steps.Select(step => Projections.For(step.Version)).OfType<Projection>();

    private static async Task<List<string>> MissingStructureAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Projection projection, CancellationToken cancellationToken)
    {
        var missing = new List<string>();
        foreach (var constraint in projection.ExpectedConstraints)
        {
            await using var command = new NpgsqlCommand(
                "SELECT EXISTS (SELECT FROM pg_constraint WHERE conname = @name AND conrelid = to_regclass(@table))", connection, transaction);
            command.Parameters.AddWithValue("name", constraint);
            command.Parameters.AddWithValue("table", "public." + projection.Table);
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                missing.Add($"{projection.Table}: constraint {constraint} is missing");
            }
        }

        foreach (var index in projection.ExpectedIndexes)
        {
            await using var command = new NpgsqlCommand(
                "SELECT EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = @table AND indexname = @name)", connection, transaction);
            command.Parameters.AddWithValue("name", index);
            command.Parameters.AddWithValue("table", projection.Table);
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                missing.Add($"{projection.Table}: index {index} is missing");
            }
        }

        return missing;
    }

    private static async Task<bool> LegacyTablesExistAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        await ExistsAsync(connection, transaction, "public.users", cancellationToken);

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string relation, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass(@r) IS NOT NULL", connection, transaction);
        command.Parameters.AddWithValue("r", relation);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<(long All, long Active)> CountsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
