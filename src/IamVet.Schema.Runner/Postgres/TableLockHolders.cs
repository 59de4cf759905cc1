using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>Who holds locks on the tables of the public schema: named when a lock wait reached --lock-timeout.</summary>
public static class TableLockHolders
{
    /// <summary>
    /// One line per session (other than this one) and lock it holds on a public table (not its indexes), e.g.
    /// <c>pid 4711 (app) holds AccessShareLock on users</c>, or "a session that has since let go".
    /// </summary>
    public static async Task<string> DescribeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT DISTINCT format('pid %s (%s) holds %s on %s', l.pid, coalesce(nullif(a.application_name, ''), 'no application name'), l.mode, l.relation::regclass)
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.granted AND l.pid <> pg_backend_pid() AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.relation IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'p'))
            """, connection);
        var holders = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                holders.Add(reader.GetString(0));
            }
        }

        return holders.Count == 0 ? "a session that has since let go" : string.Join("; ", holders);
    }
}
