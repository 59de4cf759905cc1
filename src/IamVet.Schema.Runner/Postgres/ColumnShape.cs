using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// The shape <c>baseline</c> compares: per table, each column's name, type and nullability.
/// The expected shape is not a second copy of the legacy schema: it is produced by running the
/// legacy baseline migration's own SQL in a scratch schema inside a transaction that is rolled back.
/// </summary>
public static class ColumnShape
{
    public static async Task<SortedSet<string>> ReadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string schema, IReadOnlyCollection<string> tables, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT format('%s.%s %s%s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END)
            FROM pg_attribute a
            JOIN pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p')
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = @schema AND c.relname = ANY(@tables) AND a.attnum > 0 AND NOT a.attisdropped
            """, connection, transaction);
        command.Parameters.AddWithValue("schema", schema);
        command.Parameters.AddWithValue("tables", tables.ToArray());
        var lines = new SortedSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            lines.Add(reader.GetString(0));
        }

        return lines;
    }

    /// <summary>Runs <paramref name="baselineSql"/> in a scratch schema, reads its column shape, and rolls everything back.</summary>
    public static async Task<(SortedSet<string> Shape, IReadOnlyList<string> Tables)> ExpectedAsync(NpgsqlConnection connection, string baselineSql, CancellationToken cancellationToken)
    {
        const string scratch = "iamvet_baseline_probe";
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var setup = new NpgsqlCommand($"CREATE SCHEMA {scratch}; SET LOCAL search_path = {scratch};", connection, transaction))
        {
            await setup.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var create = new NpgsqlCommand(baselineSql, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        var tables = new List<string>();
        await using (var list = new NpgsqlCommand($"SELECT relname FROM pg_class WHERE relnamespace = '{scratch}'::regnamespace AND relkind = 'r' ORDER BY 1", connection, transaction))
        await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                tables.Add(reader.GetString(0));
            }
        }

        var shape = await ReadAsync(connection, transaction, scratch, tables, cancellationToken);
        await transaction.RollbackAsync(cancellationToken);
        return (shape, tables);
    }
}
