namespace IamVet.Schema.Runner.Verification;

/// <summary>Where the legacy side of a moved table comes from.</summary>
public enum LegacySource
{
    /// <summary>Rows of <c>users u</c> that pass <see cref="Projection.LegacyFilter"/>.</summary>
    Users,

    /// <summary>
    /// Rows of the side table of <see cref="Projection.SideTable"/>, seen as <c>s</c> with its
    /// user's type and activity (<c>u</c>); only the rows of HOSPITAL users move.
    /// </summary>
    SideTable,
}

/// <summary>
/// One moved table seen from both sides: the row the legacy side says each new row must be, and
/// the rows the new table holds, with the same column types in the same order, so their
/// fingerprints are equal exactly when every value arrived (after Up) or came back (after Down).
/// Ids are compared in their legacy form ('vet_u1' → 'u1'), so rows the new application created
/// compare too.
/// <para>
/// The legacy side is not a query of its own: <see cref="LegacyPass"/> evaluates
/// <see cref="LegacyRow"/> for every moved table of a source in ONE scan of that source (users
/// once for the three profile tables, each side table once), together with the counts per user
/// type and the full-row fingerprints of the legacy tables.
/// </para>
/// </summary>
public sealed record Projection(
    long MigrationVersion,
    string Table,
    LegacySource Source,
    string? SideTable,
    string LegacyFilter,
    string LegacyRow,
    string NewSide,
    IReadOnlyList<string> ExpectedConstraints,
    IReadOnlyList<string> ExpectedIndexes)
{
    /// <summary>
    /// The new side as an up must have left it, where that is stricter and cheaper than
    /// <see cref="NewSide"/> (which also accepts what the application may do later: a gap in
    /// imageOrder, a cleared licence file). Where it passes, it equals <see cref="NewSide"/> row for
    /// row, so its fingerprint is the one a later down compares with. Null: <see cref="NewSide"/>.
    /// </summary>
    public string? NewSideRightAfterUp { get; init; }
}

/// <summary>The projections of every data-moving migration (frozen like the migrations they check).</summary>
public static class Projections
{
    /// <summary>
    /// The newest business licence per user (what hospitals.businessLicenseFile is filled from),
    /// joined to the users scan only for HOSPITAL rows.
    /// </summary>
    internal const string NewestLicenceJoin = """
        LEFT JOIN (SELECT DISTINCT ON ("userId") "userId", "fileUrl" FROM hospital_business_licenses
                   ORDER BY "userId", "uploadedAt" DESC, id DESC) l ON l."userId" = u.id AND u."userType" = 'HOSPITAL'
        """;

    public static readonly IReadOnlyList<Projection> All =
    [
        new(Versions.SplitUsers, "veterinarians", LegacySource.Users, null,
            """u."userType" = 'VETERINARIAN'""",
            """u.id, u."realName"::text, u."birthDate"::timestamp(3), u.nickname::text, u."licenseImage"::text""",
            """
            SELECT v."userId"::text AS "userId", v."realName"::text AS "realName", v."birthDate"::timestamp(3) AS "birthDate",
                   v.nickname::text AS nickname, v."licenseImage"::text AS "licenseImage"
            FROM veterinarians v
            """,
            ["veterinarians_pkey", "veterinarians_userId_key", "veterinarians_userId_fkey"],
            ["veterinarians_nickname_idx"]),
        new(Versions.SplitUsers, "veterinary_students", LegacySource.Users, null,
            """u."userType" = 'VETERINARY_STUDENT'""",
            """u.id, u."realName"::text, u."birthDate"::timestamp(3), u.nickname::text, u."universityEmail"::text""",
            """
            SELECT s."userId"::text AS "userId", s."realName"::text AS "realName", s."birthDate"::timestamp(3) AS "birthDate",
                   s.nickname::text AS nickname, s."universityEmail"::text AS "universityEmail"
            FROM veterinary_students s
            """,
            ["veterinary_students_pkey", "veterinary_students_userId_key", "veterinary_students_universityEmail_key", "veterinary_students_userId_fkey"],
            ["veterinary_students_nickname_idx"]),
        new(Versions.SplitUsers, "hospitals", LegacySource.Users, null,
            """u."userType" = 'HOSPITAL'""",
            """
            u.id, u."hospitalName"::text, u."realName"::text, u."businessNumber"::text, l."fileUrl"::text,
            u."establishedDate"::timestamp(3), u."hospitalAddress"::text, u."hospitalAddressDetail"::text,
            u."hospitalLogo"::text, u."hospitalWebsite"::text
            """,
            """
            SELECT h."userId"::text AS "userId", h."hospitalName"::text AS "hospitalName", h."representativeName"::text AS "representativeName",
                   h."businessNumber"::text AS "businessNumber",
                   coalesce(h."businessLicenseFile"::text, l."fileUrl") AS "businessLicenseFile",
                   h."establishedDate"::timestamp(3) AS "establishedDate", h."hospitalAddress"::text AS "hospitalAddress",
                   h."hospitalAddressDetail"::text AS "hospitalAddressDetail", h."hospitalLogo"::text AS "hospitalLogo",
                   h."hospitalWebsite"::text AS "hospitalWebsite"
            FROM hospitals h
            LEFT JOIN (SELECT DISTINCT ON ("userId") "userId", "fileUrl" FROM hospital_business_licenses
                       ORDER BY "userId", "uploadedAt" DESC, id DESC) l ON l."userId" = h."userId"
            """,
            ["hospitals_pkey", "hospitals_userId_key", "hospitals_businessNumber_key", "hospitals_userId_fkey"],
            ["hospitals_latitude_longitude_idx"])
        {
            // Right after an up the file must be the newest licence's itself: no fallback to the
            // licence table, which would hide a file the up failed to copy (and costs a sort).
            NewSideRightAfterUp = """
                SELECT h."userId"::text AS "userId", h."hospitalName"::text AS "hospitalName", h."representativeName"::text AS "representativeName",
                       h."businessNumber"::text AS "businessNumber", h."businessLicenseFile"::text AS "businessLicenseFile",
                       h."establishedDate"::timestamp(3) AS "establishedDate", h."hospitalAddress"::text AS "hospitalAddress",
                       h."hospitalAddressDetail"::text AS "hospitalAddressDetail", h."hospitalLogo"::text AS "hospitalLogo",
                       h."hospitalWebsite"::text AS "hospitalWebsite"
                FROM hospitals h
                """,
        },
        new(Versions.SplitUsers, "hospital_images", LegacySource.SideTable, "hospital_facility_images",
            """u."userType" = 'HOSPITAL'""",
            // imageOrder: 1, 2, 3 … per hospital by displayOrder, createdAt, id (LegacyPass adds it as s.rank).
            // The new side is ranked too: after the application deletes an image the order keeps a
            // gap (1, 3), which the legacy side, holding the same order, can only express as (1, 2).
            """s.id, s."userId", s."imageUrl", s.rank""",
            """
            SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END::text AS "legacyId",
                   i."userId"::text AS "userId", i."imageUrl"::text AS "imageUrl",
                   row_number() OVER (PARTITION BY i."userId" ORDER BY i."imageOrder", i.id) AS "imageOrder"
            FROM hospital_images i
            """,
            ["hospital_images_pkey", "hospital_images_hospitalId_imageOrder_key", "hospital_images_hospitalId_fkey", "hospital_images_userId_fkey"],
            ["hospital_images_userId_idx"])
        {
            // Right after an up imageOrder must already be 1, 2, 3 … per hospital: compared as it
            // is, not re-ranked (which would hide a gap the up left, and costs a sort).
            NewSideRightAfterUp = """
                SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END::text AS "legacyId",
                       i."userId"::text AS "userId", i."imageUrl"::text AS "imageUrl", i."imageOrder"::bigint AS "imageOrder"
                FROM hospital_images i
                """,
        },
        new(Versions.SplitUsers, "hospital_treatment_animals", LegacySource.SideTable, "hospital_animals",
            """u."userType" = 'HOSPITAL'""",
            // Duplicates per hospital collapse to one row: LegacyPass groups by this row.
            "s.\"userId\", s.\"animalType\"",
            """SELECT t."userId"::text AS "userId", t."animalType"::text AS "animalType" FROM hospital_treatment_animals t""",
            ["hospital_treatment_animals_pkey", "hospital_treatment_animals_hospitalId_animalType_key", "hospital_treatment_animals_hospitalId_fkey", "hospital_treatment_animals_userId_fkey"],
            ["hospital_treatment_animals_userId_idx"]),
        new(Versions.SplitUsers, "hospital_treatment_specialties", LegacySource.SideTable, "hospital_specialties",
            """u."userType" = 'HOSPITAL'""",
            "s.\"userId\", s.specialty",
            """SELECT t."userId"::text AS "userId", t.specialty::text AS specialty FROM hospital_treatment_specialties t""",
            ["hospital_treatment_specialties_pkey", "hospital_treatment_specialties_hospitalId_specialty_key", "hospital_treatment_specialties_hospitalId_fkey", "hospital_treatment_specialties_userId_fkey"],
            ["hospital_treatment_specialties_userId_idx"]),
    ];

    /// <summary>The tables migration <paramref name="version"/> moves (none: it moves no data).</summary>
    public static IReadOnlyList<Projection> Of(long version) => All.Where(p => p.MigrationVersion == version).ToList();

    public static Projection? ForTable(string table) => All.FirstOrDefault(p => p.Table == table);
}
