using Npgsql;

namespace IamVet.Schema.Runner.Audit;

/// <summary>
/// What would stop the planned migrations halfway that is not dirty data in a row's values but the
/// shape around them: a table the plan creates that someone already made, objects that use the
/// columns the cleanup drops, values too long for a new index, users of a type no table takes, and
/// (for a rollback) profiles the application deleted while their users remain. Each is named, with
/// the objects or ids, before anything changes; <c>check</c> finds them the same way.
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

    public static async Task<List<AuditFinding>> RunAsync(NpgsqlConnection connection, MigrationPlan plan, CancellationToken cancellationToken)
    {
        var versions = plan.Steps.Select(step => step.Version).ToHashSet();
        var findings = new List<AuditFinding>();
        if (plan.Direction == MigrationDirection.Up)
        {
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
                findings.AddRange(await FoundAsync(connection, "user-type-that-moves-nowhere", FindingSeverity.Warning,
                    "users whose userType is none of the three that move (a label added to the \"UserType\" enum, e.g. ADMIN): no new table takes their " +
                    "type-specific columns, which stay only in users (the cleanup will refuse while they hold values).",
                    $"""SELECT id FROM users WHERE "userType"::text NOT IN {MovingTypes}""", cancellationToken));
            }

            foreach (var (table, column) in new[] { ("hospital_animals", "animalType"), ("hospital_specialties", "specialty") })
            {
                if (versions.Contains(Versions.SplitUsers))
                {
                    findings.AddRange(await FoundAsync(connection, $"{table}-value-too-long-for-index", FindingSeverity.Blocking,
                        $"{table} rows whose \"{column}\" is too long for the new UNIQUE (hospitalId, {column}) index (a btree entry holds at most about 2.7 kB): " +
                        "the migration would stop at the index. Shorten these values first.",
                        $"""
                        SELECT s.id FROM {table} s JOIN users u ON u.id = s."userId" AND u."userType" = 'HOSPITAL'
                        WHERE pg_column_size(s."{column}") + octet_length('hosp_' || s."userId") > {IndexEntryLimit}
                        """, cancellationToken));
                }
            }

            if (versions.Contains(Versions.Cleanup))
            {
                findings.AddRange(await DependentsOfMovedColumnsAsync(connection, cancellationToken));
            }
        }
        else
        {
            foreach (var (table, type) in new[] { ("veterinarians", "VETERINARIAN"), ("veterinary_students", "VETERINARY_STUDENT"), ("hospitals", "HOSPITAL") })
            {
                if (versions.Contains(Versions.SplitUsers) && await Sql.TableExistsAsync(connection, table, cancellationToken))
                {
                    findings.AddRange(await FoundAsync(connection, $"{type.ToLowerInvariant().Replace('_', '-')}-without-profile", FindingSeverity.Blocking,
                        $"{type} users without a {table} row (the new application deleted the profile, or made the user without one): a rollback puts back " +
                        $"what a profile holds, so these users' legacy columns would keep values the application no longer has, and the verification refuses. " +
                        $"Give them a {table} row again, or delete the users, first.",
                        $"""SELECT u.id FROM users u WHERE u."userType" = '{type}' AND NOT EXISTS (SELECT FROM {table} p WHERE p."userId" = u.id)""",
                        cancellationToken));
                }
            }
        }

        return findings;
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
