using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>Row count and an order-independent hash of a table's (or query's) rows.</summary>
public sealed record TableFingerprint(string Name, long Rows, string Hash);

/// <summary>
/// Fingerprints computed inside PostgreSQL as one aggregate — the count and the sum of a 64-bit
/// <c>hashtextextended</c> of each row's text — so nothing row-sized passes through the runner and
/// the plan is a single scan (about five times cheaper than md5 over to_jsonb). A table's columns
/// are listed in name order, so its fingerprint does not depend on column order.
/// </summary>
public static class TableFingerprints
{
    /// <summary>The legacy tables whose content a round trip must preserve exactly.</summary>
    public static readonly IReadOnlyList<string> LegacyTables =
    [
        "users", "hospital_animals", "hospital_specialties", "hospital_facility_images", "hospital_business_licenses",
    ];

    public static async Task<TableFingerprint> OfTableAsync(NpgsqlConnection connection, string table, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        await using var columns = new NpgsqlCommand("""
            SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attname)
            FROM pg_attribute a
            WHERE a.attrelid = to_regclass(@table) AND a.attnum > 0 AND NOT a.attisdropped
            """, connection, transaction);
        columns.Parameters.AddWithValue("table", "public." + Identifiers.Quote(table));
        var list = await columns.ExecuteScalarAsync(cancellationToken) as string
            ?? throw new InvalidOperationException($"table {table} does not exist");
        return await OfQueryAsync(connection, table, $"SELECT {list} FROM public.{Identifiers.Quote(table)}", transaction, cancellationToken);
    }

    /// <summary>Fingerprint of the rows of <paramref name="query"/> (a trusted, frozen SQL text).</summary>
    public static async Task<TableFingerprint> OfQueryAsync(NpgsqlConnection connection, string name, string query, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        var sql = $"""
            SELECT count(*), coalesce(sum(hashtextextended(r::text, 0)), 0)::text
            FROM ({query}) r
            """;
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new TableFingerprint(name, reader.GetInt64(0), reader.GetString(1));
    }

    public static async Task<IReadOnlyList<TableFingerprint>> OfLegacyTablesAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        var result = new List<TableFingerprint>();
        foreach (var table in LegacyTables)
        {
            result.Add(await OfTableAsync(connection, table, transaction, cancellationToken));
        }

        return result;
    }
}
