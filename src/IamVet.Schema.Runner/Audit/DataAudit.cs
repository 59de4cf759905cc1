using System.Text.RegularExpressions;
using Npgsql;

namespace IamVet.Schema.Runner.Audit;

public enum FindingSeverity
{
    /// <summary>The run is refused (exit 3) before anything changes.</summary>
    Blocking,

    /// <summary>Handled by the rules of docs/domain.md, and reported.</summary>
    Warning,
}

/// <summary>One kind of dirty row: how many, and the first ids (at most 20).</summary>
public sealed record AuditFinding(string Code, FindingSeverity Severity, string Message, long Count, IReadOnlyList<string> FirstIds);

/// <summary>One statement (or a few) of the audit, run on whichever of its connections is free.</summary>
public delegate Task<List<AuditFinding>> AuditJob(NpgsqlConnection worker);

/// <summary>
/// The dirty-data checks of docs/domain.md, run before any DDL for the migrations about to run, so a
/// row that would break a new constraint is named (with ids) up front instead of being discovered
/// halfway through the move.
/// </summary>
public static class DataAudit
{
    private const int IdsShown = 20;

    /// <summary>
    /// One dirty-data check. <paramref name="UsersCondition"/> is a condition on a users row (the
    /// offender is that user), evaluated for every such check in ONE scan of users (a rollback's
    /// look up the profile tables with <c>u.id NOT IN (SELECT "userId" … WHERE "userId" IS NOT NULL)</c>,
    /// which PostgreSQL answers from one hash of each subquery; without the filter a single NULL would
    /// make NOT IN match nothing);
    /// <paramref name="IdsSql"/> is a query returning the offending ids, which may read
    /// <c>hospital_users</c> (the ids of HOSPITAL users, collected once for all checks).
    /// <paramref name="AlongsideMigration"/>: a warning that reads only side tables and
    /// <c>hospital_users</c>, which a migrating run computes while its migrations run
    /// (<see cref="AlongsideJobs"/>) instead of before them.
    /// </summary>
    private sealed record Check(
        long Version, MigrationDirection Direction, string Code, FindingSeverity Severity, string Message,
        string? UsersCondition = null, string? IdsSql = null, bool AlongsideMigration = false, string? Reads = null)
    {
        /// <summary>
        /// The checks of one statement: all that test a condition on users together (one scan), and
        /// those of each other table they read (<see cref="Reads"/>) together, so statements on
        /// different tables can run side by side. A users check that names what else it reads is a
        /// statement of its own (a rollback's: the profile tables each check hashes).
        /// </summary>
        public string Statement => UsersCondition is not null ? "users" + (Reads is null ? "" : $" ({Reads})") : Reads ?? Code;

        /// <summary>
        /// An up's check of users alone: one a run without a backup can leave to the migration's own
        /// snapshot (<see cref="SnapshotJobs"/>), read beside the migrations from their first statement.
        /// </summary>
        public bool OnMigrationSnapshot => Direction == MigrationDirection.Up && UsersCondition is not null && Reads is null;
    }

    private const string HospitalColumnsFilled = """
        ("hospitalName" IS NOT NULL OR "businessNumber" IS NOT NULL OR "establishedDate" IS NOT NULL OR "hospitalAddress" IS NOT NULL
         OR "hospitalAddressDetail" IS NOT NULL OR "hospitalLogo" IS NOT NULL OR "hospitalWebsite" IS NOT NULL)
        """;

    /// <summary>The three user types that move, each into its profile table.</summary>
    private const string MovingTypes = "('VETERINARIAN', 'HOSPITAL', 'VETERINARY_STUDENT')";

    /// <summary>
    /// What a btree key entry may hold besides its 8-byte tuple header: a leaf entry takes at most
    /// 2704 bytes on an 8 kB page (BTMaxItemSize: a third of the page, less the page's overhead and a
    /// heap pointer).
    /// </summary>
    private const int KeyValueLimit = 2704 - 8;

    /// <summary>
    /// The size <paramref name="value"/> with <paramref name="prefix"/> before it takes in an index
    /// entry: its bytes and a 4-byte length header, or less when the heap compressed it (the index
    /// compresses a long value too). pg_column_size alone does not say it: for a value kept out of
    /// line uncompressed it is the bytes without the header.
    /// </summary>
    private static string KeySize(string value, string prefix) => $"least(octet_length({value}), pg_column_size({value})) + {4 + prefix.Length}";

    /// <summary>Whether <paramref name="id"/> with <paramref name="prefix"/> before it is too long for a one-column btree key.</summary>
    private static string TooLongForKey(string id, string prefix) => $"{KeySize(id, prefix)} > {KeyValueLimit}";

    private static readonly Check[] Checks =
    [
        new(Versions.SplitUsers, MigrationDirection.Up, "hospital-without-name", FindingSeverity.Blocking,
            "HOSPITAL users without hospitalName: hospitals.hospitalName is NOT NULL. Fill users.\"hospitalName\" first.",
            UsersCondition: """ "userType" = 'HOSPITAL' AND "hospitalName" IS NULL"""),
        // users."realName" is nullable in the state a rollback whose last step is pending leaves (exit 9,
        // docs/adr/0008); each profile table's name column is NOT NULL.
        new(Versions.SplitUsers, MigrationDirection.Up, "user-without-real-name", FindingSeverity.Blocking,
            "VETERINARIAN, VETERINARY_STUDENT or HOSPITAL users without realName (users.\"realName\" is nullable while an earlier rollback's last step is pending): " +
            "veterinarians.realName, veterinary_students.realName and hospitals.representativeName are NOT NULL. Give them a realName (or delete them) first.",
            UsersCondition: $""" "userType" IN {MovingTypes} AND "realName" IS NULL"""),

        // Each new table's key is the legacy id with a prefix (docs/adr/0003): an id the legacy key just
        // holds may be too long for the new one. The side tables alone find the long ids (none, as a
        // rule); only those are looked up in users.
        .. new[] { ("VETERINARIAN", "veterinarians", "vet_"), ("VETERINARY_STUDENT", "veterinary_students", "vst_"), ("HOSPITAL", "hospitals", "hosp_") }
            .Select(p => new Check(Versions.SplitUsers, MigrationDirection.Up, $"{p.Item2}-id-too-long-for-index", FindingSeverity.Blocking,
                $"{p.Item1} users whose id, prefixed '{p.Item3}' as {p.Item2}.id, is too long for its primary key (a btree entry holds at most 2704 bytes): " +
                "the migration would stop at the key. Give these users shorter ids first.",
                UsersCondition: $""" "userType" = '{p.Item1}' AND {TooLongForKey("id", p.Item3)}""")),
        .. new[] { ("hospital_animals", "hospital_treatment_animals", "hta_"), ("hospital_specialties", "hospital_treatment_specialties", "hts_") }
            .Select(p => new Check(Versions.SplitUsers, MigrationDirection.Up, $"{p.Item2}-id-too-long-for-index", FindingSeverity.Blocking,
                $"{p.Item1} rows of HOSPITAL users whose id, prefixed '{p.Item3}' as {p.Item2}.id, is too long for its primary key (a btree entry holds at most 2704 bytes): " +
                "the migration would stop at the key. Give these rows shorter ids first.",
                IdsSql: $"""
                WITH long AS MATERIALIZED (SELECT s.id, s."userId" FROM {p.Item1} s WHERE {TooLongForKey("s.id", p.Item3)})
                SELECT l.id FROM long l JOIN users u ON u.id = l."userId" AND u."userType" = 'HOSPITAL'
                """, Reads: p.Item1)),
        new(Versions.SplitUsers, MigrationDirection.Up, "hospital_images-id-too-long-for-index", FindingSeverity.Blocking,
            "hospital_facility_images rows of HOSPITAL users whose id, prefixed 'himg_' as hospital_images.id, is too long for its primary key, or whose hospital's id " +
            "(hosp_…) with imageOrder is too long for UNIQUE (hospitalId, imageOrder) (a btree entry holds at most 2704 bytes): the migration would stop at the key. " +
            "Give these rows (or their hospitals) shorter ids first.",
            IdsSql: $"""
            WITH long AS MATERIALIZED (
                SELECT f.id, f."userId" FROM hospital_facility_images f
                WHERE {TooLongForKey("f.id", "himg_")} OR ({KeySize("f.\"userId\"", "hosp_")} + 3) / 4 * 4 + 4 > {KeyValueLimit})
            SELECT l.id FROM long l JOIN users u ON u.id = l."userId" AND u."userType" = 'HOSPITAL'
            """, Reads: "hospital_facility_images"),
        new(Versions.SplitUsers, MigrationDirection.Up, "veterinarian-with-hospital-columns", FindingSeverity.Warning,
            "VETERINARIAN users with hospital columns filled: those values move nowhere and exist only in users (the cleanup will refuse until they are cleared).",
            UsersCondition: $""" "userType" = 'VETERINARIAN' AND {HospitalColumnsFilled}"""),
        new(Versions.SplitUsers, MigrationDirection.Up, "veterinarian-with-university-email", FindingSeverity.Warning,
            "VETERINARIAN users with universityEmail: the value moves nowhere and exists only in users.",
            UsersCondition: """ "userType" = 'VETERINARIAN' AND "universityEmail" IS NOT NULL"""),
        new(Versions.SplitUsers, MigrationDirection.Up, "student-with-license-image", FindingSeverity.Warning,
            "VETERINARY_STUDENT users with licenseImage: the value moves nowhere and exists only in users.",
            UsersCondition: """ "userType" = 'VETERINARY_STUDENT' AND "licenseImage" IS NOT NULL"""),
        new(Versions.SplitUsers, MigrationDirection.Up, "student-with-hospital-columns", FindingSeverity.Warning,
            "VETERINARY_STUDENT users with hospital columns filled: those values move nowhere and exist only in users.",
            UsersCondition: $""" "userType" = 'VETERINARY_STUDENT' AND {HospitalColumnsFilled}"""),
        new(Versions.SplitUsers, MigrationDirection.Up, "hospital-with-person-columns", FindingSeverity.Warning,
            "HOSPITAL users with birthDate, nickname, licenseImage or universityEmail: those values move nowhere and exist only in users.",
            UsersCondition: """ "userType" = 'HOSPITAL' AND ("birthDate" IS NOT NULL OR nickname IS NOT NULL OR "licenseImage" IS NOT NULL OR "universityEmail" IS NOT NULL)"""),
        new(Versions.SplitUsers, MigrationDirection.Up, "images-all-display-order-zero", FindingSeverity.Warning,
            "Hospitals whose facility images all have displayOrder 0: imageOrder is renumbered 1..n by createdAt, id.",
            IdsSql: """
            SELECT f."userId" FROM hospital_facility_images f JOIN hospital_users h ON h.id = f."userId"
            GROUP BY f."userId" HAVING count(*) > 1 AND max(f."displayOrder") = 0 AND min(f."displayOrder") = 0
            """, AlongsideMigration: true, Reads: "hospital_facility_images"),
        new(Versions.SplitUsers, MigrationDirection.Up, "images-of-non-hospital-users", FindingSeverity.Warning,
            "hospital_facility_images rows whose user is not a HOSPITAL (or does not exist): they stay in the legacy table and are not moved.",
            IdsSql: """
            SELECT f.id FROM hospital_facility_images f WHERE NOT EXISTS (SELECT FROM hospital_users h WHERE h.id = f."userId")
            """, AlongsideMigration: true, Reads: "hospital_facility_images"),
        new(Versions.SplitUsers, MigrationDirection.Up, "duplicate-animals", FindingSeverity.Warning,
            "Hospitals with the same animalType more than once: collapsed to one row (the earliest).",
            IdsSql: """SELECT "userId" FROM hospital_animals GROUP BY "userId", "animalType" HAVING count(*) > 1""", AlongsideMigration: true, Reads: "hospital_animals"),
        new(Versions.SplitUsers, MigrationDirection.Up, "animals-of-non-hospital-users", FindingSeverity.Warning,
            "hospital_animals rows whose user is not a HOSPITAL (or does not exist): they stay in the legacy table and are not moved.",
            IdsSql: """
            SELECT a.id FROM hospital_animals a
            WHERE NOT EXISTS (SELECT FROM hospital_users h WHERE h.id = a."userId")
            """, AlongsideMigration: true, Reads: "hospital_animals"),
        new(Versions.SplitUsers, MigrationDirection.Up, "duplicate-specialties", FindingSeverity.Warning,
            "Hospitals with the same specialty more than once: collapsed to one row (the earliest).",
            IdsSql: """SELECT "userId" FROM hospital_specialties GROUP BY "userId", specialty HAVING count(*) > 1""", AlongsideMigration: true, Reads: "hospital_specialties"),
        new(Versions.SplitUsers, MigrationDirection.Up, "specialties-of-non-hospital-users", FindingSeverity.Warning,
            "hospital_specialties rows whose user is not a HOSPITAL (or does not exist): they stay in the legacy table and are not moved.",
            IdsSql: """
            SELECT s.id FROM hospital_specialties s
            WHERE NOT EXISTS (SELECT FROM hospital_users h WHERE h.id = s."userId")
            """, AlongsideMigration: true, Reads: "hospital_specialties"),
        .. new[] { ("VETERINARIAN", "veterinarians", "v"), ("VETERINARY_STUDENT", "veterinary_students", "s"), ("HOSPITAL", "hospitals", "h") }
            .Select(p => new Check(Versions.SplitUsers, MigrationDirection.Down, $"{p.Item1.ToLowerInvariant().Replace('_', '-')}-without-profile", FindingSeverity.Blocking,
                $"{p.Item1} users without a {p.Item2} row (the new application deleted the profile, or made the user without one): a rollback puts back " +
                $"what a profile holds, so these users' legacy columns would keep values the application no longer has, and the verification refuses. " +
                $"Give them a {p.Item2} row again, or delete the users, first.",
                UsersCondition: $"""u."userType" = '{p.Item1}' AND u.id NOT IN (SELECT "userId" FROM {p.Item2} WHERE "userId" IS NOT NULL)""")),

        // realName becomes NOT NULL again: every user must get one back from a profile table.
        new(Versions.SplitUsers, MigrationDirection.Down, "user-without-real-name", FindingSeverity.Blocking,
            "users without realName and without a profile to take it from: users.realName cannot become NOT NULL again. Give them a realName (or delete them) first.",
            UsersCondition: """
                u."realName" IS NULL AND u.id NOT IN (SELECT "userId" FROM veterinarians WHERE "realName" IS NOT NULL AND "userId" IS NOT NULL)
                AND u.id NOT IN (SELECT "userId" FROM veterinary_students WHERE "realName" IS NOT NULL AND "userId" IS NOT NULL)
                AND u.id NOT IN (SELECT "userId" FROM hospitals WHERE "representativeName" IS NOT NULL AND "userId" IS NOT NULL)
                """, Reads: "names and unique values"),

        // users."universityEmail" and "businessNumber" are UNIQUE. The rollback writes each profile's
        // value back to its own user, and leaves the legacy value of a user who has no such profile
        // (a deleted one, or another type's dirty data): when a profile now holds that same value,
        // the write would violate the unique index halfway through. Named before anything changes.
        .. new[] { ("veterinary_students", "universityEmail", "university-email-held-by-another-user"), ("hospitals", "businessNumber", "business-number-held-by-another-user") }
            .Select(p => new Check(Versions.SplitUsers, MigrationDirection.Down, p.Item3, FindingSeverity.Blocking,
                $"users without a {p.Item1} row whose legacy \"{p.Item2}\" another user's {p.Item1} row now holds: the rollback would give that user the value, " +
                $"which users.\"{p.Item2}\" allows once. Clear it on these users (or give them their profile back) first.",
                UsersCondition: $"""
                    u."{p.Item2}" IS NOT NULL AND u.id NOT IN (SELECT "userId" FROM {p.Item1} WHERE "userId" IS NOT NULL)
                    AND u."{p.Item2}" IN (SELECT "{p.Item2}" FROM {p.Item1})
                    """, Reads: "names and unique values")),
        // The legacy side tables' primary keys: a row the new application added goes back under its
        // legacy id (its own id without the up's prefix), which a legacy row that stays, or another
        // added row, may hold already.
        .. new[] { ("hospital_treatment_animals", "hospital_animals", "animalType", "hta_"), ("hospital_treatment_specialties", "hospital_specialties", "specialty", "hts_") }
            .Select(p => new Check(Versions.SplitUsers, MigrationDirection.Down, $"{p.Item2}-id-taken", FindingSeverity.Blocking,
                $"{p.Item1} rows the rollback writes back into {p.Item2} (added since the up) under an id (theirs without '{p.Item4}') that a row of {p.Item2} " +
                $"which stays, or another such row, holds: {p.Item2}'s primary key allows it once, and the rollback would fail halfway. Give these rows other ids first.",
                IdsSql: $"""
                WITH t AS (
                    SELECT t.id, t."userId", t."{p.Item3}" AS value, CASE WHEN t.id LIKE '{p.Item4.Replace("_", @"\_", StringComparison.Ordinal)}%' THEN substr(t.id, {p.Item4.Length + 1}) ELSE t.id END AS legacy_id
                    FROM {p.Item1} t
                ), added AS (
                    SELECT t.* FROM t WHERE NOT EXISTS (SELECT FROM {p.Item2} a WHERE a."userId" = t."userId" AND a."{p.Item3}" = t.value)
                )
                SELECT x.id FROM added x
                WHERE EXISTS (SELECT FROM {p.Item2} a WHERE a.id = x.legacy_id
                              AND (NOT EXISTS (SELECT FROM hospitals h WHERE h."userId" = a."userId")
                                   OR EXISTS (SELECT FROM t WHERE t."userId" = a."userId" AND t.value = a."{p.Item3}")))
                   OR EXISTS (SELECT FROM added y WHERE y.legacy_id = x.legacy_id AND y.id <> x.id)
                """, Reads: p.Item1)),
        new(Versions.SplitUsers, MigrationDirection.Down, "hospital_facility_images-id-taken", FindingSeverity.Blocking,
            "hospital_images rows that go back into hospital_facility_images under the same id (theirs without 'himg_'): its primary key allows it once, so the rollback " +
            "would fail halfway, or write one of them over the other. Give these rows other ids first.",
            IdsSql: """
            SELECT unnest(array_agg(i.id)) FROM hospital_images i
            GROUP BY CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END HAVING count(*) > 1
            """, Reads: "hospital_images"),
        new(Versions.Cleanup, MigrationDirection.Up, "cleanup-unrepresented-values", FindingSeverity.Blocking,
            "users whose values in the columns the cleanup drops are in no new table (they would be lost): clear or move them first.",
            IdsSql: """
            SELECT u.id FROM users u
            WHERE NOT EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id)
              AND ("hospitalName" IS NOT NULL OR "businessNumber" IS NOT NULL OR "establishedDate" IS NOT NULL OR "hospitalAddress" IS NOT NULL
                   OR "hospitalAddressDetail" IS NOT NULL OR "hospitalLogo" IS NOT NULL OR "hospitalWebsite" IS NOT NULL)
            UNION
            SELECT u.id FROM users u
            WHERE (u."licenseImage" IS NOT NULL AND NOT EXISTS (SELECT FROM veterinarians v WHERE v."userId" = u.id))
               OR (u."universityEmail" IS NOT NULL AND NOT EXISTS (SELECT FROM veterinary_students s WHERE s."userId" = u.id))
               OR ((u."birthDate" IS NOT NULL OR u.nickname IS NOT NULL)
                   AND NOT EXISTS (SELECT FROM veterinarians v WHERE v."userId" = u.id)
                   AND NOT EXISTS (SELECT FROM veterinary_students s WHERE s."userId" = u.id))
               OR (u."realName" IS NOT NULL
                   AND NOT EXISTS (SELECT FROM veterinarians v WHERE v."userId" = u.id)
                   AND NOT EXISTS (SELECT FROM veterinary_students s WHERE s."userId" = u.id)
                   AND NOT EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id))
            """),
    ];

    /// <summary>
    /// Runs the checks that apply to the migrations of <paramref name="plan"/>. With
    /// <paramref name="moreConnections"/>, the checks of different tables run side by side on
    /// a second connection (role audit) opened from it (the audit is a point-in-time look before anything changes, so
    /// the statements need no common snapshot); otherwise one after the other.
    /// </summary>
    /// <para>
    /// <paramref name="leaveAlongsideChecks"/>: a migrating run leaves the warnings that read only
    /// side tables to its migrate stage, which computes them on its snapshot readers while the
    /// migrations run (<see cref="AlongsideJobs"/>); everything that can refuse the run, and
    /// everything that reads users, is checked here, before anything changes.
    /// </para>
    /// <para>
    /// <paramref name="leaveSnapshotChecks"/>: a migrating run with no backup between this audit and the
    /// migration leaves the up's users checks (the refusing one among them) to its migrate stage,
    /// which runs them on the migration's own snapshot as the migrations start
    /// (<see cref="SnapshotJobs"/>; docs/adr/0010).
    /// </para>
    /// <para>
    /// <paramref name="overwriteLegacyWrites"/>: the operator lets a rollback overwrite what an old
    /// application wrote to the legacy side after the up (<c>--overwrite-legacy-writes</c>): named as
    /// a warning instead of refusing.
    /// </para>
    public static async Task<IReadOnlyList<AuditFinding>> RunAsync(
        NpgsqlConnection connection, MigrationPlan plan, MigrationDatabase? moreConnections, CancellationToken cancellationToken, bool leaveAlongsideChecks = false,
        bool overwriteLegacyWrites = false, bool leaveSnapshotChecks = false)
    {
        var versions = plan.Steps.Select(step => step.Version).ToHashSet();
        var findings = new List<AuditFinding>();
        if (!await Sql.TableExistsAsync(connection, "users", cancellationToken))
        {
            return findings; // an empty database: the baseline in this plan creates the tables, there is no data yet
        }

        var (schemaFindings, jobs) = await SchemaAudit.RunAsync(connection, plan, cancellationToken);
        findings.AddRange(schemaFindings);

        // One statement per table the checks read: users, then each side table (and the cleanup's);
        // then the other checks of a down.
        // Each is a job; two connections take them in turn.
        var profilesExist = plan.Direction == MigrationDirection.Up || await ProfileTablesExistAsync(connection, cancellationToken);
        await using var columnsOfUsers = new NpgsqlCommand(
            "SELECT attname::text FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attnum > 0 AND NOT attisdropped", connection);
        var usersColumns = await Sql.ColumnAsync(columnsOfUsers, cancellationToken);
        foreach (var group in Checks.Where(c => c.Direction == plan.Direction && versions.Contains(c.Version) && !(leaveAlongsideChecks && c.AlongsideMigration) && !(leaveSnapshotChecks && c.OnMigrationSnapshot))
                     .Where(c => c.Direction == MigrationDirection.Up || profilesExist)
                     .Select(c => c.Version == Versions.Cleanup ? c with { IdsSql = ProfilesAsPlanned(c.IdsSql!, versions) } : c)
                     .Select(c => c.UsersCondition is null ? c : c with { UsersCondition = AsPlanned(c.UsersCondition, usersColumns) })
                     .GroupBy(c => c.Statement)
                     .Select(g => g.ToList()))
        {
            jobs.Add(async worker => Found(group, await CountAllAsync(worker, group, cancellationToken)).ToList());
        }

        if (plan.Direction == MigrationDirection.Down && versions.Contains(Versions.SplitUsers)
            && await Sql.TableExistsAsync(connection, LegacyWrites.Table, cancellationToken))
        {
            var usersColumnsDropped = !usersColumns.Contains("realName");
            jobs.Add(worker => LegacyWrites.FindAsync(worker, overwriteLegacyWrites, usersColumnsDropped, cancellationToken));
        }

        if (plan.Direction == MigrationDirection.Down && versions.Contains(Versions.SplitUsers)
            && await Sql.TableExistsAsync(connection, "hospital_images", cancellationToken))
        {
            jobs.Add(worker => ImagesTheLegacyForeignKeyRefusesAsync(worker, cancellationToken));
        }

        if (plan.Direction == MigrationDirection.Down)
        {
            // Values the legacy columns cannot hold: the cleanup's Down writes the profiles' values into users too.
            foreach (var table in WrittenBack.Where(m => versions.Contains(Versions.SplitUsers) || (m.LegacyTable == "users" && versions.Contains(Versions.Cleanup)))
                         .GroupBy(m => m.NewTable))
            {
                if (await Sql.TableExistsAsync(connection, table.Key, cancellationToken))
                {
                    var columns = table.ToList();
                    jobs.Add(worker => ValuesTheLegacyColumnsCannotHoldAsync(worker, columns, cancellationToken));
                }
            }
        }

        var found = new List<AuditFinding>[jobs.Count];
        if (moreConnections is null || jobs.Count < 2)
        {
            for (var i = 0; i < jobs.Count; i++)
            {
                found[i] = await jobs[i](connection);
            }
        }
        else
        {
            // Two connections (this one and one more) take the statements in turn: two backends,
            // each on one core, is what a two-core server can run side by side.
            await using var other = await moreConnections.OpenAsync(Roles.Audit, cancellationToken);
            var next = -1;
            await Task.WhenAll(new[] { connection, other }.Select(async worker =>
            {
                for (var i = Interlocked.Increment(ref next); i < jobs.Count; i = Interlocked.Increment(ref next))
                {
                    found[i] = await jobs[i](worker);
                }
            }));
        }

        findings.AddRange(found.SelectMany(f => f));
        return findings;
    }

    /// <summary>
    /// The cleanup's check reads the profile tables. When the same plan creates them (a
    /// <c>migrate up --cleanup</c> from the legacy shape), they do not exist yet: each is read as
    /// SplitUsersIntoProfileTables fills it, one row per user of its type (<c>WHERE u."userType" = …</c>).
    /// </summary>
    private static string ProfilesAsPlanned(string sql, HashSet<long> planned)
    {
        if (!planned.Contains(Versions.SplitUsers))
        {
            return sql;
        }

        foreach (var (table, alias, userType) in new[] { ("veterinarians", "v", "VETERINARIAN"), ("veterinary_students", "s", "VETERINARY_STUDENT"), ("hospitals", "h", "HOSPITAL") })
        {
            sql = sql.Replace($"""EXISTS (SELECT FROM {table} {alias} WHERE {alias}."userId" = u.id)""", $"""u."userType" = '{userType}'""", StringComparison.Ordinal);
        }

        return sql;
    }

    /// <summary>
    /// Whether the three profile tables a rollback's users checks read exist (one migration creates
    /// them; one made away by hand makes the Downs stop at it and roll back, and these checks are
    /// left out).
    /// </summary>
    private static async Task<bool> ProfileTablesExistAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        foreach (var table in new[] { "veterinarians", "veterinary_students", "hospitals" })
        {
            if (!await Sql.TableExistsAsync(connection, table, cancellationToken))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// A users condition as it reads the users of this database: a legacy column the cleanup has
    /// dropped (a rollback through the cleanup, whose Down refills it from the profiles first) reads
    /// as NULL, the value it has before the cleanup's Down fills it.
    /// </summary>
    private static string AsPlanned(string condition, IReadOnlyCollection<string> usersColumns)
    {
        foreach (var column in MovedUsersColumns.Where(c => !usersColumns.Contains(c)))
        {
            condition = Regex.Replace(condition, $@"\bu\.""{column}""", "NULL::text");
        }

        return condition;
    }

    private static readonly string[] MovedUsersColumns = ["realName", "universityEmail", "businessNumber"];

    /// <summary>
    /// The checks <see cref="RunAsync"/> leaves to a migrating run (<c>leaveAlongsideChecks</c>), one
    /// job per side table, for snapshot readers whose sessions hold <paramref name="hospitalUsersTable"/>
    /// (the ids of HOSPITAL users): they read nothing else of users, so they can run while a
    /// migration holds users locked (null: each statement collects those ids from users itself).
    /// Warnings only: nothing found here could refuse the run.
    /// </summary>
    public static IReadOnlyList<Func<NpgsqlConnection, NpgsqlTransaction, Task<List<AuditFinding>>>> AlongsideJobs(
        MigrationPlan plan, string? hospitalUsersTable, CancellationToken cancellationToken)
    {
        var versions = plan.Steps.Select(step => step.Version).ToHashSet();
        return Checks.Where(c => c.AlongsideMigration && c.Direction == plan.Direction && versions.Contains(c.Version))
            .GroupBy(c => c.Statement)
            .Select(g => g.ToList())
            .Select(group => (Func<NpgsqlConnection, NpgsqlTransaction, Task<List<AuditFinding>>>)(async (connection, transaction) =>
                Found(group, await CountAllAsync(connection, group, cancellationToken, transaction, hospitalUsersTable)).ToList()))
            .ToList();
    }

    /// <summary>
    /// The checks <see cref="RunAsync"/> leaves to a migrating run without a backup
    /// (<c>leaveSnapshotChecks</c>): the up's users checks, one statement, for a reader of the
    /// migration's snapshot taken once the migration holds users against writers, so they see exactly
    /// the rows the migrations move. A blocking finding refuses the run as the audit always has
    /// (exit 3, nothing committed): the migrate stage cancels and rolls back the migration.
    /// </summary>
    public static IReadOnlyList<Func<NpgsqlConnection, NpgsqlTransaction, Task<List<AuditFinding>>>> SnapshotJobs(
        MigrationPlan plan, CancellationToken cancellationToken)
    {
        var versions = plan.Steps.Select(step => step.Version).ToHashSet();
        return Checks.Where(c => c.OnMigrationSnapshot && c.Direction == plan.Direction && versions.Contains(c.Version))
            .GroupBy(c => c.Statement)
            .Select(g => g.ToList())
            .Select(group => (Func<NpgsqlConnection, NpgsqlTransaction, Task<List<AuditFinding>>>)(async (connection, transaction) =>
                !await Sql.TableExistsAsync(connection, "users", cancellationToken, transaction)
                    ? [] // an empty database: the baseline in this plan creates users
                    : Found(group, await CountAllAsync(connection, group, cancellationToken, transaction)).ToList()))
            .ToList();
    }

    /// <summary>Whether <paramref name="plan"/> has checks <see cref="SnapshotJobs"/> would run.</summary>
    public static bool HasSnapshotChecks(MigrationPlan plan) =>
        Checks.Any(c => c.OnMigrationSnapshot && c.Direction == plan.Direction && plan.Steps.Any(step => step.Version == c.Version));

    /// <summary>Whether <paramref name="plan"/> has checks <see cref="AlongsideJobs"/> would run.</summary>
    public static bool HasAlongsideChecks(MigrationPlan plan) =>
        Checks.Any(c => c.AlongsideMigration && c.Direction == plan.Direction && plan.Steps.Any(step => step.Version == c.Version));

    private static IEnumerable<AuditFinding> Found(IEnumerable<Check> checks, IEnumerable<(long Count, IReadOnlyList<string> Ids)> counted) =>
        checks.Zip(counted)
            .Where(found => found.Second.Count > 0)
            .Select(found => new AuditFinding(found.First.Code, found.First.Severity, found.First.Message, found.Second.Count, found.Second.Ids));

    /// <summary>
    /// A value a Down writes back from a new table's column into a legacy column. <see cref="Named"/>
    /// is what a finding names (the user for a profile, the row for a side table);
    /// <see cref="Rows"/> limits the check to the rows whose value the Down writes (a side row the
    /// new application added: the ones the up moved keep their legacy values).
    /// </summary>
    private sealed record WriteBack(string NewTable, string NewColumn, string LegacyTable, string LegacyColumn, string Named, string Rows = "true");

    private static readonly WriteBack[] WrittenBack =
    [
        .. new[] { "realName", "birthDate", "nickname", "licenseImage" }.Select(c => new WriteBack("veterinarians", c, "users", c, "userId")),
        .. new[] { "realName", "birthDate", "nickname", "universityEmail" }.Select(c => new WriteBack("veterinary_students", c, "users", c, "userId")),
        new("hospitals", "representativeName", "users", "realName", "userId"),
        .. new[] { "hospitalName", "businessNumber", "establishedDate", "hospitalAddress", "hospitalAddressDetail", "hospitalLogo", "hospitalWebsite" }
            .Select(c => new WriteBack("hospitals", c, "users", c, "userId")),
        new("hospitals", "businessLicenseFile", "hospital_business_licenses", "fileUrl", "userId"),
        .. new[] { "imageUrl", "createdAt", "updatedAt" }
            .Select(c => new WriteBack("hospital_images", c, "hospital_facility_images", c, "id", @"n.id NOT LIKE 'himg\_%'")),
        .. new[] { "animalType", "createdAt" }
            .Select(c => new WriteBack("hospital_treatment_animals", c, "hospital_animals", c, "id", @"n.id NOT LIKE 'hta\_%'")),
        .. new[] { "specialty", "createdAt" }
            .Select(c => new WriteBack("hospital_treatment_specialties", c, "hospital_specialties", c, "id", @"n.id NOT LIKE 'hts\_%'")),
    ];

    /// <summary>The types the cleanup's Down gives the users columns it adds back (while they are dropped, the catalog has none).</summary>
    private static readonly Dictionary<string, string> CleanupRestoresAs = new(StringComparer.Ordinal)
    {
        ["birthDate"] = "timestamp(3) without time zone",
        ["establishedDate"] = "timestamp(3) without time zone",
        ["nickname"] = "character varying(100)",
    };

    /// <summary>
    /// Values of the new tables that the legacy columns they go back into cannot hold, compared on
    /// the columns' actual types: a string longer than a bounded legacy column (varchar(n)) would
    /// make the Down fail halfway, so it blocks; a timestamp with more fractional digits than the
    /// legacy column keeps (timestamp(3): milliseconds) is held there rounded until the next up (docs/adr/0014), so it is named as a warning.
    /// </summary>
    private static async Task<List<AuditFinding>> ValuesTheLegacyColumnsCannotHoldAsync(NpgsqlConnection connection, List<WriteBack> columns, CancellationToken cancellationToken)
    {
        // Every check of one new table in one scan of it.
        var checks = new List<(string Condition, AuditFinding Finding)>();
        foreach (var column in columns)
        {
            var target = await TypeOfAsync(connection, column.LegacyTable, column.LegacyColumn, cancellationToken)
                         ?? (column.LegacyTable == "users" ? CleanupRestoresAs.GetValueOrDefault(column.LegacyColumn, "text") : null);
            var source = await TypeOfAsync(connection, column.NewTable, column.NewColumn, cancellationToken);
            if (target is null || source is null)
            {
                continue;
            }

            var value = $"n.{Identifiers.Quote(column.NewColumn)}";
            var from = $"{column.NewTable}.{column.NewColumn}";
            var into = $"{column.LegacyTable}.{column.LegacyColumn}";
            if (Bound(target, "character varying") is { } length && (Bound(source, "character varying") is not { } sourceLength || sourceLength > length))
            {
                checks.Add(($"({column.Rows}) AND char_length({value}) > {length}", new AuditFinding("value-too-long-for-legacy-column", FindingSeverity.Blocking,
                    $"{from} holds values longer than {into} ({target}) allows: the rollback would fail halfway. Shorten them first.", 0, [])));
            }

            if (Bound(target, "timestamp") is { } digits && (Bound(source, "timestamp") ?? 0) > digits)
            {
                checks.Add(($"({column.Rows}) AND {value} <> {value}::timestamp({digits})", new AuditFinding("sub-millisecond-precision", FindingSeverity.Warning,
                    $"{from} holds values with more fractional digits than {into} ({target}) keeps: the legacy column holds them rounded to {digits} digit(s); the next up restores them from iamvet_rollback_stash while the old application leaves them unchanged.", 0, [])));
            }
        }

        if (checks.Count == 0)
        {
            return [];
        }

        var table = columns[0];
        var counted = await CountEachAsync(connection,
            [Flagged("flagged", $"{Identifiers.Quote(table.NewTable)} n", $"n.{Identifiers.Quote(table.Named)}", checks.Select(c => c.Condition).ToList())],
            checks.Select((_, i) => $"SELECT id FROM flagged WHERE f{i}").ToList(), cancellationToken);
        return checks.Zip(counted)
            .Where(c => c.Second.Count > 0)
            .Select(c => c.First.Finding with { Count = c.Second.Count, FirstIds = c.Second.Ids })
            .ToList();
    }

    /// <summary>The type of <paramref name="table"/>.<paramref name="column"/> as format_type writes it, or null when there is no such column.</summary>
    private static async Task<string?> TypeOfAsync(NpgsqlConnection connection, string table, string column, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT format_type(atttypid, atttypmod) FROM pg_attribute
            WHERE attrelid = to_regclass(@table) AND attname = @column AND NOT attisdropped AND attnum > 0
            """, connection);
        command.Parameters.AddWithValue("table", "public." + Identifiers.Quote(table));
        command.Parameters.AddWithValue("column", column);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>
    /// The n of a type format_type writes "<paramref name="kind"/>(n)…" (a varchar's length, a
    /// timestamp's fractional digits); a timestamp without one keeps 6; null: unbounded or another type.
    /// </summary>
    private static int? Bound(string type, string kind)
    {
        if (!type.StartsWith(kind, StringComparison.Ordinal))
        {
            return null;
        }

        var open = type.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return type == "timestamp without time zone" ? 6 : null;
        }

        return int.Parse(type[(open + 1)..type.IndexOf(')', open)], CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// In production hospital_facility_images."userId" references detailed_hospital_profiles, a
    /// table we do not manage, not users. Images the new application added are written back into
    /// hospital_facility_images on Down; for a hospital with no row in whatever table that key
    /// references, the write-back would fail halfway. Found here, by reading where the key points,
    /// and named before anything changes.
    /// </summary>
    private static async Task<List<AuditFinding>> ImagesTheLegacyForeignKeyRefusesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var targets = new List<(string Table, string Column)>();
        await using (var keys = new NpgsqlCommand("""
            SELECT format('%I.%I', n.nspname, t.relname), quote_ident(a.attname)
            FROM pg_constraint c
            JOIN pg_class t ON t.oid = c.confrelid
            JOIN pg_namespace n ON n.oid = t.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = c.confkey[1]
            WHERE c.conrelid = 'public.hospital_facility_images'::regclass AND c.contype = 'f' AND cardinality(c.conkey) = 1
              AND c.conkey[1] = (SELECT attnum FROM pg_attribute WHERE attrelid = 'public.hospital_facility_images'::regclass AND attname = 'userId')
            """, connection))
        await using (var reader = await keys.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                targets.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        var findings = new List<AuditFinding>();
        foreach (var (table, column) in targets)
        {
            if (table == "public.users" && column == "id" && await ImagesReferenceUsersAsync(connection, cancellationToken))
            {
                continue; // hospital_images."userId" references users (id) itself, validated: every image's user is there
            }

            var (count, ids) = await CountAsync(connection, $"""
                SELECT i."userId" FROM hospital_images i
                WHERE NOT EXISTS (SELECT FROM hospital_facility_images f
                                  WHERE f.id = CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END)
                  AND NOT EXISTS (SELECT FROM {table} r WHERE r.{column} = i."userId")
                """, cancellationToken);
            if (count > 0)
            {
                findings.Add(new AuditFinding("images-without-legacy-key-target", FindingSeverity.Blocking,
                    $"hospitals whose images, added since the upgrade, must go back into hospital_facility_images, whose \"userId\" references {table}({column}), " +
                    "where these users have no row: the write-back would violate that foreign key. Create their rows there (or remove the images) first.",
                    count, ids));
            }
        }

        return findings;
    }

    /// <summary>Whether hospital_images has a validated foreign key ("userId") → users (id).</summary>
    private static async Task<bool> ImagesReferenceUsersAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await Sql.ScalarAsync<bool>(connection, """
            SELECT EXISTS (
                SELECT FROM pg_constraint c
                WHERE c.conrelid = 'public.hospital_images'::regclass AND c.confrelid = 'public.users'::regclass AND c.contype = 'f' AND c.convalidated
                  AND c.conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = c.conrelid AND attname = 'userId')]
                  AND c.confkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = c.confrelid AND attname = 'id')])
            """, cancellationToken);

    /// <summary>
    /// <paramref name="checks"/> in one statement: the users checks share one scan of users (only
    /// offending rows are kept, flagged per check); side-table checks read the list of HOSPITAL
    /// users collected once per statement.
    /// </summary>
    private static async Task<List<(long Count, IReadOnlyList<string> Ids)>> CountAllAsync(
        NpgsqlConnection connection, List<Check> checks, CancellationToken cancellationToken, NpgsqlTransaction? inTransaction = null, string? hospitalUsersTable = null)
    {
        var usersChecks = checks.Where(c => c.UsersCondition is not null).ToList();
        var ctes = new List<string>
        {
            hospitalUsersTable is null
                ? "hospital_users AS MATERIALIZED (SELECT id FROM users WHERE \"userType\" = 'HOSPITAL')"
                : $"hospital_users AS (SELECT id FROM {hospitalUsersTable})",
        };
        if (usersChecks.Count > 0)
        {
            ctes.Add(Flagged("flagged_users", "users u", "u.id", usersChecks.Select(c => c.UsersCondition!).ToList()));
        }

        var ids = checks.Select(c => c.UsersCondition is not null ? $"SELECT id FROM flagged_users WHERE f{usersChecks.IndexOf(c)}" : c.IdsSql!).ToList();
        return await CountEachAsync(connection, ctes, ids, cancellationToken, inTransaction);
    }

    /// <summary>
    /// A CTE <paramref name="name"/>(id, f0, f1, …) of the rows of <paramref name="from"/> that meet
    /// any of <paramref name="conditions"/>, flagged per condition: one scan for all of them.
    /// </summary>
    private static string Flagged(string name, string from, string id, IReadOnlyList<string> conditions) => $"""
        {name} AS MATERIALIZED (
            SELECT {id} AS id, {string.Join(", ", conditions.Select((c, i) => $"({c}) AS f{i}"))}
            FROM {from} WHERE {string.Join(" OR ", conditions.Select(c => $"({c})"))})
        """;

    /// <summary>
    /// How many distinct offenders each of <paramref name="idsQueries"/> returns, and the first of
    /// them in order, in one statement after <paramref name="ctes"/> (in a REPEATABLE READ
    /// transaction of its own unless <paramref name="inTransaction"/> is given).
    /// </summary>
    private static async Task<List<(long Count, IReadOnlyList<string> Ids)>> CountEachAsync(
        NpgsqlConnection connection, IReadOnlyList<string> ctes, List<string> idsQueries, CancellationToken cancellationToken, NpgsqlTransaction? inTransaction = null)
    {
        if (idsQueries.Count == 0)
        {
            return [];
        }

        var all = ctes.Concat(idsQueries.Select((ids, i) => $"c{i} AS (SELECT DISTINCT o.x::text AS x FROM ({ids}) o(x))"));
        var columns = Enumerable.Range(0, idsQueries.Count).Select(i =>
            $"(SELECT count(*) FROM c{i}), coalesce((SELECT array_agg(x ORDER BY x) FROM (SELECT x FROM c{i} ORDER BY x LIMIT {IdsShown}) f), ARRAY[]::text[])");
        var sql = $"WITH {string.Join(",\n", all)}\nSELECT {string.Join(",\n", columns)}";

        await using var own = inTransaction is null ? await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken) : null;
        var transaction = inTransaction ?? own!;
        if (own is not null)
        {
            // No parallel workers: the audit's statements already run two at a time, one per core of a
            // two-core server, and each worker of a statement builds its own copy of every hashed
            // subquery (a rollback's profile check at 1M users: 1.3 s alone, 1.4 s with two workers,
            // 3.8 s beside the other statement doing the same); a production server's other cores
            // stay the application's, as the snapshot readers leave them (SnapshotReaders).
            await using var workMem = new NpgsqlCommand("SET LOCAL work_mem = '64MB'; SET LOCAL max_parallel_workers_per_gather = 0", connection, transaction);
            await workMem.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = 0 };
        var result = new List<(long, IReadOnlyList<string>)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            for (var i = 0; i < idsQueries.Count; i++)
            {
                result.Add((reader.GetInt64(2 * i), reader.GetFieldValue<string[]>((2 * i) + 1)));
            }
        }

        if (own is not null)
        {
            await own.CommitAsync(cancellationToken);
        }

        return result;
    }

    /// <summary>The ids of a finding as every message shows them: <c>Ids: a, b, ….</c> (the first <see cref="IdsShown"/>).</summary>
    public static string IdsText(long count, IReadOnlyList<string> firstIds) =>
        $"Ids: {string.Join(", ", firstIds)}{(count > firstIds.Count ? ", …" : "")}.";

    /// <summary>How many distinct offenders <paramref name="idsSql"/> returns, and the first of them in order.</summary>
    internal static async Task<(long Count, IReadOnlyList<string> Ids)> CountAsync(NpgsqlConnection connection, string idsSql, CancellationToken cancellationToken)
    {
        var sql = $"""
            WITH offenders AS (SELECT DISTINCT o.x::text AS x FROM ({idsSql}) o(x))
            SELECT (SELECT count(*) FROM offenders),
                   coalesce((SELECT array_agg(x ORDER BY x) FROM (SELECT x FROM offenders ORDER BY x LIMIT {IdsShown}) f), ARRAY[]::text[])
            """;
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetFieldValue<string[]>(1));
    }
}
