using Npgsql;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>
/// Row-level security that would hide rows from the connected role. Every connection of the runner
/// reads with <c>row_security = off</c> (<see cref="MigrationDatabase.SessionSettingsFor"/>), so
/// such a policy makes PostgreSQL refuse the query rather than filter it; this names the tables
/// beforehand, with what to do, so the run is refused (exit 3) before anything changes.
/// </summary>
public static class RowSecurity
{
    /// <summary>
    /// The tables of <paramref name="tables"/> (schema public) whose row-level security applies to
    /// the current role: enabled and forced (the owner too), or enabled for a role that is not the
    /// owner; never for a superuser or a BYPASSRLS role. One sentence per table, with its remedy.
    /// </summary>
    public static async Task<List<string>> AffectingAsync(NpgsqlConnection connection, IReadOnlyCollection<string> tables, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT CASE WHEN c.relforcerowsecurity AND pg_has_role(current_user, c.relowner, 'USAGE')
                        THEN format('%I (row level security enabled and forced; for the migration window run ALTER TABLE %I NO FORCE ROW LEVEL SECURITY as its owner %s, and FORCE it again afterwards, or connect as a role with BYPASSRLS)',
                                    c.relname, c.relname, pg_get_userbyid(c.relowner))
                        ELSE format('%I (row level security enabled%s; connect as its owner %s%s or as a role with BYPASSRLS)',
                                    c.relname, CASE WHEN c.relforcerowsecurity THEN ' and forced' ELSE '' END, pg_get_userbyid(c.relowner),
                                    CASE WHEN c.relforcerowsecurity THEN format(' after ALTER TABLE %I NO FORCE ROW LEVEL SECURITY', c.relname) ELSE '' END)
                   END
            FROM pg_class c, pg_roles r
            WHERE r.rolname = current_user AND NOT r.rolsuper AND NOT r.rolbypassrls
              AND c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p') AND c.relname = ANY(@tables)
              AND c.relrowsecurity
              AND (c.relforcerowsecurity OR NOT pg_has_role(current_user, c.relowner, 'USAGE'))
            ORDER BY c.relname
            """, connection);
        command.Parameters.AddWithValue("tables", tables.ToArray());
        return await Sql.ColumnAsync(command, cancellationToken);
    }

    /// <summary>The refusal for <paramref name="affected"/> (from <see cref="AffectingAsync"/>), or null when there is none.</summary>
    public static string? Refusal(string role, IReadOnlyList<string> affected) =>
        affected.Count == 0
            ? null
            : $"row-level security would hide rows from role \"{role}\", and the runner must read every row (it reads with row_security = off, " +
              $"so PostgreSQL would refuse the query rather than let it miss rows): {string.Join("; ", affected)}";
}
