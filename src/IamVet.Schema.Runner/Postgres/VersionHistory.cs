using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>Reads FluentMigrator's VersionInfo table without creating it (read-only commands must not write).</summary>
public static class VersionHistory
{
    public static async Task<IReadOnlyList<long>> ReadAppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken = default)
    {
        await using (var exists = new NpgsqlCommand("""SELECT to_regclass('public."VersionInfo"') IS NOT NULL""", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return [];
            }
        }

        await using var command = new NpgsqlCommand("""SELECT "Version" FROM public."VersionInfo" ORDER BY "Version" """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new List<long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt64(0));
        }

        return versions;
    }
}
