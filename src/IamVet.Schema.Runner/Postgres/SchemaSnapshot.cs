using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// A comparable description of a schema's shape: enum types, columns (type, nullability,
/// default), indexes and constraints, one sorted line each. Used to prove a round trip returns
/// exactly the legacy shape, and by <c>baseline</c> to detect drift.
/// </summary>
public sealed record SchemaSnapshot(IReadOnlyList<string> Lines)
{
    /// <summary>Tables the runner itself owns, left out of shape comparisons.</summary>
    public static readonly IReadOnlySet<string> RunnerTables = new HashSet<string>(StringComparer.Ordinal) { "VersionInfo" };

    public static async Task<SchemaSnapshot> TakeAsync(NpgsqlConnection connection, IReadOnlyCollection<string>? onlyTables = null, string schema = "public")
    {
        const string sql = """
            SELECT 'type ' || t.typname || ' = ' || string_agg(e.enumlabel, ' | ' ORDER BY e.enumsortorder), NULL::text
            FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname = @schema GROUP BY t.typname
            UNION ALL
            SELECT format('column %s.%s %s%s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                          CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END,
                          coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')), c.relname
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r'
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = @schema AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT format('index %s', regexp_replace(pg_get_indexdef(i.indexrelid), ' ON \S+\.', ' ON ')), c.relname
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema
            UNION ALL
            SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid)), c.relname
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema
            """;
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddWithValue("schema", schema);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            var table = reader.IsDBNull(1) ? null : reader.GetString(1);
            if (table is not null && (RunnerTables.Contains(table) || (onlyTables is not null && !onlyTables.Contains(table))))
            {
                continue;
            }

            lines.Add(reader.GetString(0));
        }

        lines.Sort(StringComparer.Ordinal);
        return new SchemaSnapshot(lines);
    }

    /// <summary>Lines only in this snapshot ("- …") and only in <paramref name="other"/> ("+ …").</summary>
    public IReadOnlyList<string> Diff(SchemaSnapshot other) =>
        Lines.Except(other.Lines, StringComparer.Ordinal).Select(line => "- " + line)
            .Concat(other.Lines.Except(Lines, StringComparer.Ordinal).Select(line => "+ " + line))
            .ToList();
}
