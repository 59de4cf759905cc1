using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>The small query helpers every part of the runner uses (one copy of each).</summary>
public static class Sql
{
    /// <summary>The first column of the first row of <paramref name="sql"/>.</summary>
    public static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        return (T)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Runs <paramref name="sql"/> (one or more statements) for its effect.</summary>
    public static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Whether table <paramref name="table"/> exists in schema public (the name as it is, quoted).</summary>
    public static async Task<bool> TableExistsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken, NpgsqlTransaction? transaction = null)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass(@t) IS NOT NULL", connection, transaction);
        command.Parameters.AddWithValue("t", "public." + Identifiers.Quote(table));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Every value of the first column of <paramref name="command"/>'s rows, as text.</summary>
    public static async Task<List<string>> ColumnAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }
}
