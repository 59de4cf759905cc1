namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>
/// Query results as one plain line per row (<c>"v1 | v2 | …"</c>, <c>NULL</c> for null, timestamps
/// as <c>yyyy-MM-dd HH:mm:ss.FFFFFF</c>), so a test states the exact rows it expects as literals and
/// a failure shows the count and the first differing row. Plus the few catalog questions tests ask.
/// </summary>
public static class RowLines
{
    public static async Task<List<string>> LinesAsync(this TestDatabase database, string sql)
    {
        await using var connection = await database.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            var values = new string[reader.FieldCount];
            for (var i = 0; i < reader.FieldCount; i++)
            {
                values[i] = Render(reader.IsDBNull(i) ? null : reader.GetValue(i));
            }

            lines.Add(string.Join(" | ", values));
        }

        return lines;
    }

    public static string Render(object? value) => value switch
    {
        null => "NULL",
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Whether a table of that (lower-case, frozen) name exists in the public schema.</summary>
    public static Task<bool> TableExistsAsync(this TestDatabase database, string table) =>
        database.ScalarAsync<bool>($"SELECT to_regclass(quote_ident('{table}')) IS NOT NULL");

    public static Task<bool> ColumnExistsAsync(this TestDatabase database, string table, string column) =>
        database.ScalarAsync<bool>($"""
            SELECT EXISTS (SELECT FROM information_schema.columns
                           WHERE table_schema = 'public' AND table_name = '{table}' AND column_name = '{column}')
            """);

    public static Task<bool> IsNullableAsync(this TestDatabase database, string table, string column) =>
        database.ScalarAsync<bool>($"""
            SELECT is_nullable = 'YES' FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = '{table}' AND column_name = '{column}'
            """);
}
