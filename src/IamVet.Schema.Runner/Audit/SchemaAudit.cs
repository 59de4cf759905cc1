using Npgsql;

namespace IamVet.Schema.Runner.Audit;

/// <summary>
/// What would stop the planned migrations halfway that is not dirty data in a row's values but the
/// shape around them: a table the plan creates that someone already made, objects that use the
/// columns the cleanup drops, values too long for a new index, users of a type no table takes. Each
/// is named, with the objects or ids, before anything changes; <c>check</c> finds them the same way.
/// </summary>
public static class SchemaAudit
{
    /// <summary>The three user types that move (the enum may have more: they move nowhere).</summary>
    private const string MovingTypes = "('VETERINARIAN', 'HOSPITAL', 'VETERINARY_STUDENT')";

    /// <summary>
    /// A btree index entry holds at most about 2.7 kB (a third of a page); the new UNIQUE
    /// (hospitalId, value) indexes refuse a longer entry. The size a value takes stored (compressed
    /// as the index would compress it) plus the hospital id, with a little margin.
    /// </summary>
    private const int IndexEntryLimit = 2600;

    private static readonly string[] MovedUserColumns =
    [
        "realName", "birthDate", "businessNumber", "establishedDate", "hospitalAddress", "hospitalAddressDetail",
        "hospitalLogo", "hospitalName", "hospitalWebsite", "licenseImage", "nickname", "universityEmail",
    ];

    /// <summary>
    /// What the catalog alone shows (found now), and the checks that read rows: jobs for the data
    /// audit's connections, which run them side by side with its own (<see cref="DataAudit.RunAsync"/>).
    /// A rollback's checks of this kind (profiles deleted while their users remain) are in the data
    /// audit's one pass over users.
    /// </summary>
    public static async Task<(List<AuditFinding> Found, List<AuditJob> Jobs)> RunAsync(NpgsqlConnection connection, MigrationPlan plan, CancellationToken cancellationToken)
    {
        var versions = plan.Steps.Select(step => step.Version).ToHashSet();
        var findings = new List<AuditFinding>();
        var jobs = new List<AuditJob>();
        if (plan.Direction != MigrationDirection.Up)
        {
            return (findings, jobs);
        }

        var existing = new List<string>();
        foreach (var table in plan.Steps.SelectMany(step => Projections.Of(step.Version)).Select(p => p.Table))
        {
            if (await Sql.TableExistsAsync(connection, table, cancellationToken))
            {
                existing.Add(table);
            }
        }

        if (existing.Count > 0)
        {
            findings.Add(new AuditFinding("new-table-exists", FindingSeverity.Blocking,
                "tables the plan creates exist already, though the migration history says they were never created (made by hand, or restored from elsewhere): " +
                "the migration would stop at CREATE TABLE. Rename or drop them first (after checking what they hold).", existing.Count, existing));
        }

        if (versions.Contains(Versions.SplitUsers))
        {
            // Only an enum with labels beyond the three can hold such users: a scan of users (the cast to
            // text costs a lookup per row) only then, or when the column is not an enum at all.
            if (await UserTypesBeyondTheMovingOnesAsync(connection, cancellationToken) is not { Count: 0 })
            {
                jobs.Add(worker => FoundAsync(worker, "user-type-that-moves-nowhere", FindingSeverity.Warning,
                    "users whose userType is none of the three that move (a label added to the \"UserType\" enum, e.g. ADMIN): no new table takes their " +
                    "type-specific columns, which stay only in users (the cleanup will refuse while they hold values).",
                    $"""SELECT id FROM users WHERE "userType"::text NOT IN {MovingTypes}""", cancellationToken));
            }

            foreach (var (table, column) in new[] { ("hospital_animals", "animalType"), ("hospital_specialties", "specialty") })
            {
                // The side table alone finds the long values (none, as a rule); only those are looked up in users.
                jobs.Add(worker => FoundAsync(worker, $"{table}-value-too-long-for-index", FindingSeverity.Blocking,
                    $"{table} rows whose \"{column}\" is too long for the new UNIQUE (hospitalId, {column}) index (a btree entry holds at most about 2.7 kB): " +
                    "the migration would stop at the index. Shorten these values first.",
                    $"""
                    WITH long AS MATERIALIZED (
                        SELECT s.id, s."userId" FROM {table} s
                        WHERE pg_column_size(s."{column}") + octet_length('hosp_' || s."userId") > {IndexEntryLimit})
                    SELECT l.id FROM long l JOIN users u ON u.id = l."userId" AND u."userType" = 'HOSPITAL'
                    """, cancellationToken));
            }
        }

        if (versions.Contains(Versions.Cleanup))
        {
            findings.AddRange(await DependentsOfMovedColumnsAsync(connection, cancellationToken));
        }

        return (findings, jobs);
    }

    /// <summary>
    /// The labels of users."userType"'s enum other than the three that move; null when the column is
    /// not an enum (any value may then be there).
    /// </summary>
    private static async Task<List<string>?> UserTypesBeyondTheMovingOnesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"""
            SELECT t.typtype = 'e', array_remove(array_agg(e.enumlabel::text), NULL)
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            LEFT JOIN pg_enum e ON e.enumtypid = t.oid AND e.enumlabel::text NOT IN {MovingTypes}
            WHERE a.attrelid = 'public.users'::regclass AND a.attname = 'userType' AND NOT a.attisdropped
            GROUP BY t.typtype
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || !reader.GetBoolean(0))
        {
            return null;
        }

        return [.. reader.GetFieldValue<string[]>(1)];
    }

    /// <summary>Views, rules and foreign keys outside the runner's own that use a column the cleanup drops: DROP COLUMN would fail on them.</summary>
    private static async Task<List<AuditFinding>> DependentsOfMovedColumnsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            WITH moved AS (SELECT attnum FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attname = ANY(@moved))
            SELECT DISTINCT format('%s %s', CASE c.relkind WHEN 'm' THEN 'materialized view' WHEN 'v' THEN 'view' ELSE 'rule of' END, c.oid::regclass)
            FROM pg_depend d
            JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
            JOIN pg_class c ON c.oid = r.ev_class
            WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = 'public.users'::regclass AND d.refobjsubid IN (SELECT attnum FROM moved)
              AND c.oid <> 'public.users'::regclass
            UNION
            SELECT format('foreign key %s of %s', k.conname, k.conrelid::regclass)
            FROM pg_constraint k
            WHERE k.contype = 'f' AND k.confrelid = 'public.users'::regclass AND k.confkey && ARRAY(SELECT attnum FROM moved)
            ORDER BY 1
            """, connection);
        command.Parameters.AddWithValue("moved", MovedUserColumns);
        var dependents = await Sql.ColumnAsync(command, cancellationToken);
        return dependents.Count == 0
            ? []
            : [new AuditFinding("objects-use-dropped-columns", FindingSeverity.Blocking,
                "objects that use columns the cleanup drops from users: DROP COLUMN would stop at them. Make them read the new tables (or drop them) first.",
                dependents.Count, dependents.Take(20).ToList())];
    }

    private static async Task<List<AuditFinding>> FoundAsync(
        NpgsqlConnection connection, string code, FindingSeverity severity, string message, string idsSql, CancellationToken cancellationToken)
    {
        var (count, ids) = await DataAudit.CountAsync(connection, idsSql, cancellationToken);
        return count == 0 ? [] : [new AuditFinding(code, severity, message, count, ids)];
    }
}
