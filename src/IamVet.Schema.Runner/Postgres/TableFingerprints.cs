using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>Row count and an order-independent hash of a table's (or query's) rows.</summary>
public sealed record TableFingerprint(string Name, long Rows, string Hash);

/// <summary>
/// Fingerprints computed inside PostgreSQL as one aggregate — the count and the sum of a 64-bit
/// hash of each row — so nothing row-sized passes through the runner and the plan is a single scan.
/// <para>
/// The row hash is <c>hash_record_extended</c> (each column hashed by its type's own hash
/// function: no text conversion, about three times cheaper than hashing <c>row::text</c>), hashed
/// once more as a whole. That second hash matters: <c>hash_record_extended</c> combines the column
/// hashes linearly (h = 31·h + hᵢ), so a plain sum over rows would only compare each column's
/// multiset of values and miss values swapped between rows; rehashing makes each row's
/// contribution a non-linear function of all its values together.
/// </para>
/// A table's columns are listed in name order, so its fingerprint does not depend on column order
/// (the cleanup's Down adds the moved columns back at the end of users).
/// </summary>
public static class TableFingerprints
{
    /// <summary>The legacy tables whose content a round trip must preserve exactly.</summary>
    public static readonly IReadOnlyList<string> LegacyTables =
    [
        "users", "hospital_animals", "hospital_specialties", "hospital_facility_images", "hospital_business_licenses",
    ];

    /// <summary>
    /// Bumped whenever <see cref="RowHash"/> changes: fingerprints recorded in migration_log are
    /// only compared with fingerprints of the same format.
    /// </summary>
    public const string Format = "hash_record_extended/2";

    /// <summary>The SQL hash of one row, given as a record expression (<c>ROW(…)</c> or a whole-row alias).</summary>
    public static string RowHash(string record) => $"hashtextextended(hash_record_extended({record}, 0)::text, 0)";

    /// <summary>The SQL sum of <see cref="RowHash"/> over the rows passing <paramref name="filter"/>, as text ('0' for none).</summary>
    public static string HashSum(string record, string? filter = null) =>
        $"coalesce(sum({RowHash(record)}){(filter is null ? "" : $" FILTER (WHERE {filter})")}, 0)::text";

    public static async Task<TableFingerprint> OfTableAsync(NpgsqlConnection connection, string table, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        var columns = await ColumnsAsync(connection, table, "t", transaction, cancellationToken);
        return await OfQueryAsync(connection, table, $"SELECT ROW({columns}) AS r FROM public.{Identifiers.Quote(table)} t", transaction, wholeRow: false, cancellationToken);
    }

    /// <summary>Fingerprint of the rows of <paramref name="query"/> (a trusted, frozen SQL text).</summary>
    public static Task<TableFingerprint> OfQueryAsync(NpgsqlConnection connection, string name, string query, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default) =>
        OfQueryAsync(connection, name, query, transaction, wholeRow: true, cancellationToken);

    /// <summary>
    /// Fingerprints of several queries (trusted, frozen SQL texts) in ONE statement: a UNION ALL of
    /// their <see cref="OfQueryAsync(NpgsqlConnection, string, string, NpgsqlTransaction?, CancellationToken)"/>
    /// aggregates, so a connection that must read them itself (the migration's, whose new tables no
    /// other session sees) pays one round trip and one plan instead of one per query.
    /// </summary>
    public static async Task<IReadOnlyList<TableFingerprint>> OfQueriesAsync(
        NpgsqlConnection connection, IReadOnlyList<(string Name, string Query)> queries, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        if (queries.Count == 0)
        {
            return [];
        }

        var sql = string.Join("\nUNION ALL\n", queries.Select((q, i) => $"""
            SELECT {i} AS n, count(*), {HashSum("q")}
            FROM ({q.Query}) q
            """));
        var result = new TableFingerprint[queries.Count];
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var n = reader.GetInt32(0);
            result[n] = new TableFingerprint(queries[n].Name, reader.GetInt64(1), reader.GetString(2));
        }

        return result;
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

    /// <summary>
    /// The columns of <paramref name="table"/> in name order, qualified by <paramref name="alias"/>,
    /// ready to go inside <c>ROW(…)</c>. A column whose type has no 64-bit hash function that tells
    /// every distinct value apart (numeric, json, arrays, …) is compared by its text form instead, and
    /// so is an enum: its hash is that of its label's OID, which differs between databases, and a
    /// fingerprint must compare a restored or re-seeded copy with its source.
    /// </summary>
    public static async Task<string> ColumnsAsync(NpgsqlConnection connection, string table, string alias, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        await using var columns = new NpgsqlCommand("""
            SELECT string_agg(@alias || '.' || quote_ident(a.attname)
                              || CASE WHEN a.atttypid = ANY (ARRAY['text', 'varchar', 'int2', 'int4', 'int8', 'bool', 'timestamp',
                                                                                     'timestamptz', 'date', 'uuid', 'bytea']::regtype[]::oid[])
                                      THEN '' ELSE '::text' END,
                              ', ' ORDER BY a.attname)
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = to_regclass(@table) AND a.attnum > 0 AND NOT a.attisdropped
            """, connection, transaction);
        columns.Parameters.AddWithValue("alias", alias);
        columns.Parameters.AddWithValue("table", "public." + Identifiers.Quote(table));
        return await columns.ExecuteScalarAsync(cancellationToken) as string
            ?? throw new InvalidOperationException($"table {table} does not exist");
    }

    private static async Task<TableFingerprint> OfQueryAsync(NpgsqlConnection connection, string name, string query, NpgsqlTransaction? transaction, bool wholeRow, CancellationToken cancellationToken)
    {
        var sql = $"""
            SELECT count(*), {HashSum(wholeRow ? "q" : "q.r")}
            FROM ({query}) q
            """;
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new TableFingerprint(name, reader.GetInt64(0), reader.GetString(1));
    }
}
