using Npgsql;

namespace IamVet.Schema.Runner.Audit;

/// <summary>
/// What an old application wrote to the legacy side after the up (a rolling deploy: old instances
/// still writing a moved column of users or a legacy side table), as the up's triggers recorded it
/// in <see cref="Table"/> (docs/adr/0007), and that the rollback would overwrite: the new tables are
/// carried back over the legacy side, so a recorded write survives only where both sides now agree.
/// Named before anything changes; refused unless the operator lets the new tables win.
/// </summary>
public static class LegacyWrites
{
    /// <summary>The up's record of writes to the legacy side (SplitUsersIntoProfileTables/legacy_writes.up.sql).</summary>
    public const string Table = "iamvet_legacy_writes";

    public const string Code = "legacy-written-since-up";

    /// <summary>
    /// The users whose recorded legacy write differs from what the rollback writes back: a moved
    /// column of users against the user's profile (the columns of that profile, compared as the
    /// Down compares them), a side table's rows of a hospital against its rows in the new table (the
    /// set of animal types or specialties, the images in order, the licence file when the new
    /// table has one). A TRUNCATE of a side table is recorded as a removal of each of its rows and
    /// compared the same way; a TRUNCATE of users always counts: it cannot run without the tables
    /// that reference users, the new ones among them, so what it removed is only in the up's backup.
    /// </summary>
    private static string Overwritten(bool usersColumnsDropped) => $"""
        SELECT w.user_id FROM {Table} w
        LEFT JOIN users u ON u.id = w.user_id
        WHERE (w.table_name = 'users' AND w.operation = 'TRUNCATE')
           OR u.id IS NOT NULL AND CASE w.table_name
            WHEN 'users' THEN
                {(usersColumnsDropped ? "false" : UsersOverwritten)}
        """ + "\n" + SideTablesOverwritten;

    /// <summary>A recorded write of a moved column of users <c>u</c> that differs from the user's profile.</summary>
    private const string UsersOverwritten = """
                EXISTS (SELECT FROM veterinarians v WHERE v."userId" = u.id
                        AND (u."realName", u."birthDate", u.nickname, u."licenseImage")
                            IS DISTINCT FROM (v."realName"::text, v."birthDate"::timestamp(3), v.nickname, v."licenseImage"::text))
                OR EXISTS (SELECT FROM veterinary_students s WHERE s."userId" = u.id
                        AND (u."realName", u."birthDate", u.nickname, u."universityEmail")
                            IS DISTINCT FROM (s."realName"::text, s."birthDate"::timestamp(3), s.nickname, s."universityEmail"::text))
                OR EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id
                        AND (u."hospitalName", u."realName", u."businessNumber", u."establishedDate", u."hospitalAddress",
                             u."hospitalAddressDetail", u."hospitalLogo", u."hospitalWebsite")
                            IS DISTINCT FROM
                            (h."hospitalName"::text, h."representativeName"::text, h."businessNumber"::text, h."establishedDate"::timestamp(3),
                             h."hospitalAddress"::text, h."hospitalAddressDetail"::text, h."hospitalLogo"::text, h."hospitalWebsite"::text))
        """;

    /// <summary>The rest of <see cref="Overwritten"/>: a recorded write of a legacy side table that differs from the new table's rows.</summary>
    private const string SideTablesOverwritten = """
            WHEN 'hospital_animals' THEN
                EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id)
                AND (SELECT array_agg(DISTINCT a."animalType"::text ORDER BY a."animalType"::text) FROM hospital_animals a WHERE a."userId" = u.id)
                    IS DISTINCT FROM (SELECT array_agg(t."animalType"::text ORDER BY t."animalType"::text) FROM hospital_treatment_animals t WHERE t."userId" = u.id)
            WHEN 'hospital_specialties' THEN
                EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id)
                AND (SELECT array_agg(DISTINCT a.specialty::text ORDER BY a.specialty::text) FROM hospital_specialties a WHERE a."userId" = u.id)
                    IS DISTINCT FROM (SELECT array_agg(t.specialty::text ORDER BY t.specialty::text) FROM hospital_treatment_specialties t WHERE t."userId" = u.id)
            WHEN 'hospital_facility_images' THEN
                EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id)
                AND (SELECT array_agg(f."imageUrl"::text ORDER BY f."displayOrder", f."createdAt", f.id) FROM hospital_facility_images f WHERE f."userId" = u.id)
                    IS DISTINCT FROM (SELECT array_agg(i."imageUrl"::text ORDER BY i."imageOrder") FROM hospital_images i WHERE i."userId" = u.id)
            WHEN 'hospital_business_licenses' THEN
                EXISTS (SELECT FROM hospitals h WHERE h."userId" = u.id AND h."businessLicenseFile" IS NOT NULL
                        AND h."businessLicenseFile"::text IS DISTINCT FROM (
                            SELECT l."fileUrl"::text FROM hospital_business_licenses l WHERE l."userId" = u.id
                            ORDER BY l."uploadedAt" DESC, l.id DESC LIMIT 1))
            ELSE true
        END
        """;

    /// <summary>
    /// The writes the rollback would overwrite, named. <paramref name="usersColumnsDropped"/>: the
    /// cleanup has dropped the moved columns of users, so the rollback goes through the cleanup's Down,
    /// which adds them back filled from the profiles: what an old application wrote to them before the
    /// cleanup went with them (the cleanup is the operator's word that the old application is gone),
    /// and nothing of users is left to overwrite. The side tables stay, and are compared as always.
    /// </summary>
    public static async Task<List<AuditFinding>> FindAsync(NpgsqlConnection connection, bool overwrite, bool usersColumnsDropped, CancellationToken cancellationToken)
    {
        var overwritten = Overwritten(usersColumnsDropped);
        var (count, ids) = await DataAudit.CountAsync(connection, overwritten, cancellationToken);
        if (count == 0)
        {
            return [];
        }

        await using var written = new NpgsqlCommand(
            $"SELECT DISTINCT w.table_name || CASE w.operation WHEN 'TRUNCATE' THEN ' (TRUNCATE)' ELSE '' END FROM {Table} w WHERE w.user_id IN (SELECT o.user_id FROM ({overwritten}) o) ORDER BY 1", connection);
        var tables = await Sql.ColumnAsync(written, cancellationToken);
        var what = $"values an old application wrote after the up (to {string.Join(", ", tables)}) that the rollback would overwrite with the new tables' values" +
                   (tables.Contains("users (TRUNCATE)") ? " (a TRUNCATE of users emptied every table that references users, the new tables too: what it removed is only in the up's backup)" : "");
        return
        [
            overwrite
                ? new AuditFinding(Code, FindingSeverity.Warning, $"{what}: overwritten, as --overwrite-legacy-writes asks (the new tables win).", count, ids)
                : new AuditFinding(Code, FindingSeverity.Blocking,
                    $"{what}. Both sides stay as they are until you choose: make the new tables hold what should survive " +
                    $"(then both sides agree and nothing is overwritten; {Table} lists each write), or give --overwrite-legacy-writes to let the new tables win.",
                    count, ids),
        ];
    }
}
