namespace IamVet.Schema.Runner.Verification;

/// <summary>
/// One moved table seen from both sides: the rows the legacy side says it must hold, and the rows
/// it holds, as queries with the same column names and casts, so their fingerprints are equal
/// exactly when every value arrived (after Up) or came back (after Down). Ids are compared in their
/// legacy form ('vet_u1' → 'u1'), so rows the new application created compare too.
/// </summary>
public sealed record Projection(
    long MigrationVersion,
    string Table,
    string LegacySide,
    string NewSide,
    string CountByTypeSql,
    IReadOnlyList<string> ExpectedConstraints,
    IReadOnlyList<string> ExpectedIndexes);

/// <summary>The projections of every data-moving migration (frozen like the migrations they check).</summary>
public static class Projections
{
    public static readonly IReadOnlyList<Projection> All =
    [
        new(202509290300, "veterinarians",
            """
            SELECT u.id AS "userId", u."realName"::text AS "realName", u."birthDate"::timestamp(3) AS "birthDate",
                   u.nickname::text AS nickname, u."licenseImage"::text AS "licenseImage"
            FROM users u WHERE u."userType" = 'VETERINARIAN'
            """,
            """
            SELECT v."userId"::text AS "userId", v."realName"::text AS "realName", v."birthDate"::timestamp(3) AS "birthDate",
                   v.nickname::text AS nickname, v."licenseImage"::text AS "licenseImage"
            FROM veterinarians v
            """,
            """SELECT count(*), count(*) FILTER (WHERE "isActive") FROM users WHERE "userType" = 'VETERINARIAN'""",
            ["veterinarians_pkey", "veterinarians_userId_key", "veterinarians_userId_fkey"],
            ["veterinarians_nickname_idx"]),
        new(202509290400, "veterinary_students",
            """
            SELECT u.id AS "userId", u."realName"::text AS "realName", u."birthDate"::timestamp(3) AS "birthDate",
                   u.nickname::text AS nickname, u."universityEmail"::text AS "universityEmail"
            FROM users u WHERE u."userType" = 'VETERINARY_STUDENT'
            """,
            """
            SELECT s."userId"::text AS "userId", s."realName"::text AS "realName", s."birthDate"::timestamp(3) AS "birthDate",
                   s.nickname::text AS nickname, s."universityEmail"::text AS "universityEmail"
            FROM veterinary_students s
            """,
            """SELECT count(*), count(*) FILTER (WHERE "isActive") FROM users WHERE "userType" = 'VETERINARY_STUDENT'""",
            ["veterinary_students_pkey", "veterinary_students_userId_key", "veterinary_students_universityEmail_key", "veterinary_students_userId_fkey"],
            ["veterinary_students_nickname_idx"]),
        new(202509290500, "hospitals",
            """
            SELECT u.id AS "userId", u."hospitalName"::text AS "hospitalName", u."realName"::text AS "representativeName",
                   u."businessNumber"::text AS "businessNumber", l."fileUrl"::text AS "businessLicenseFile",
                   u."establishedDate"::timestamp(3) AS "establishedDate", u."hospitalAddress"::text AS "hospitalAddress",
                   u."hospitalAddressDetail"::text AS "hospitalAddressDetail", u."hospitalLogo"::text AS "hospitalLogo",
                   u."hospitalWebsite"::text AS "hospitalWebsite"
            FROM users u
            LEFT JOIN (SELECT DISTINCT ON ("userId") "userId", "fileUrl" FROM hospital_business_licenses
                       ORDER BY "userId", "uploadedAt" DESC, id DESC) l ON l."userId" = u.id
            WHERE u."userType" = 'HOSPITAL'
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
            """SELECT count(*), count(*) FILTER (WHERE "isActive") FROM users WHERE "userType" = 'HOSPITAL'""",
            ["hospitals_pkey", "hospitals_userId_key", "hospitals_businessNumber_key", "hospitals_userId_fkey"],
            ["hospitals_latitude_longitude_idx"]),
        new(202509290600, "hospital_images",
            """
            SELECT f.id AS "legacyId", f."userId" AS "userId", f."imageUrl" AS "imageUrl",
                   row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id) AS "imageOrder"
            FROM hospital_facility_images f
            JOIN users u ON u.id = f."userId" AND u."userType" = 'HOSPITAL'
            """,
            """
            SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END::text AS "legacyId",
                   i."userId"::text AS "userId", i."imageUrl"::text AS "imageUrl", i."imageOrder"::bigint AS "imageOrder"
            FROM hospital_images i
            """,
            """SELECT count(*), count(*) FILTER (WHERE u."isActive") FROM hospital_facility_images f JOIN users u ON u.id = f."userId" AND u."userType" = 'HOSPITAL'""",
            ["hospital_images_pkey", "hospital_images_hospitalId_imageOrder_key", "hospital_images_hospitalId_fkey", "hospital_images_userId_fkey"],
            ["hospital_images_userId_idx"]),
        new(202509290700, "hospital_treatment_animals",
            """
            SELECT DISTINCT a."userId" AS "userId", a."animalType" AS "animalType"
            FROM hospital_animals a JOIN users u ON u.id = a."userId" AND u."userType" = 'HOSPITAL'
            """,
            """SELECT t."userId"::text AS "userId", t."animalType"::text AS "animalType" FROM hospital_treatment_animals t""",
            """SELECT count(*), count(*) FILTER (WHERE u."isActive") FROM hospital_animals a JOIN users u ON u.id = a."userId" AND u."userType" = 'HOSPITAL'""",
            ["hospital_treatment_animals_pkey", "hospital_treatment_animals_hospitalId_animalType_key", "hospital_treatment_animals_hospitalId_fkey", "hospital_treatment_animals_userId_fkey"],
            ["hospital_treatment_animals_userId_idx"]),
        new(202509290800, "hospital_treatment_specialties",
            """
            SELECT DISTINCT a."userId" AS "userId", a.specialty AS specialty
            FROM hospital_specialties a JOIN users u ON u.id = a."userId" AND u."userType" = 'HOSPITAL'
            """,
            """SELECT t."userId"::text AS "userId", t.specialty::text AS specialty FROM hospital_treatment_specialties t""",
            """SELECT count(*), count(*) FILTER (WHERE u."isActive") FROM hospital_specialties a JOIN users u ON u.id = a."userId" AND u."userType" = 'HOSPITAL'""",
            ["hospital_treatment_specialties_pkey", "hospital_treatment_specialties_hospitalId_specialty_key", "hospital_treatment_specialties_hospitalId_fkey", "hospital_treatment_specialties_userId_fkey"],
            ["hospital_treatment_specialties_userId_idx"]),
    ];

    public static Projection? For(long version) => All.FirstOrDefault(p => p.MigrationVersion == version);
}
