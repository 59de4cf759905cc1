-- A value is represented when the user has a row in the profile table that carries that column
-- (that table is the truth since the expand phase). Anything else would be lost: refuse.
DO $$
DECLARE
    report text;
BEGIN
    WITH unrepresented AS (
        SELECT u.id, c.col
        FROM users u
        LEFT JOIN veterinarians v ON v."userId" = u.id
        LEFT JOIN veterinary_students s ON s."userId" = u.id
        LEFT JOIN hospitals h ON h."userId" = u.id
        CROSS JOIN LATERAL (VALUES
            ('realName',              u."realName" IS NOT NULL AND v.id IS NULL AND s.id IS NULL AND h.id IS NULL),
            ('birthDate',             u."birthDate" IS NOT NULL AND v.id IS NULL AND s.id IS NULL),
            ('nickname',              u.nickname IS NOT NULL AND v.id IS NULL AND s.id IS NULL),
            ('licenseImage',          u."licenseImage" IS NOT NULL AND v.id IS NULL),
            ('universityEmail',       u."universityEmail" IS NOT NULL AND s.id IS NULL),
            ('hospitalName',          u."hospitalName" IS NOT NULL AND h.id IS NULL),
            ('businessNumber',        u."businessNumber" IS NOT NULL AND h.id IS NULL),
            ('establishedDate',       u."establishedDate" IS NOT NULL AND h.id IS NULL),
            ('hospitalAddress',       u."hospitalAddress" IS NOT NULL AND h.id IS NULL),
            ('hospitalAddressDetail', u."hospitalAddressDetail" IS NOT NULL AND h.id IS NULL),
            ('hospitalLogo',          u."hospitalLogo" IS NOT NULL AND h.id IS NULL),
            ('hospitalWebsite',       u."hospitalWebsite" IS NOT NULL AND h.id IS NULL)
        ) AS c(col, lost)
        WHERE c.lost
    ), per_column AS (
        SELECT col, count(*) AS n, (array_agg(id ORDER BY id))[1:20] AS first_ids
        FROM unrepresented
        GROUP BY col
    )
    SELECT string_agg(format('users.%I: %s value(s) not in any new table (user ids: %s)', col, n, array_to_string(first_ids, ', ')), '; ' ORDER BY col)
    INTO report
    FROM per_column;

    IF report IS NOT NULL THEN
        RAISE EXCEPTION 'cleanup refused, dropping these columns would lose data: %', report
            USING ERRCODE = 'object_in_use',
                  HINT = 'Move or clear these values (they belong to no profile of the user''s type), then run the cleanup again.';
    END IF;
END $$;

-- The rollback's record of old-application writes names these columns (Sql/Shared/legacy_writes_trigger_on_users.sql).
DROP TRIGGER IF EXISTS iamvet_legacy_writes ON users;

ALTER TABLE users
    DROP COLUMN "realName",
    DROP COLUMN "birthDate",
    DROP COLUMN "businessNumber",
    DROP COLUMN "establishedDate",
    DROP COLUMN "hospitalAddress",
    DROP COLUMN "hospitalAddressDetail",
    DROP COLUMN "hospitalLogo",
    DROP COLUMN "hospitalName",
    DROP COLUMN "hospitalWebsite",
    DROP COLUMN "licenseImage",
    DROP COLUMN nickname,
    DROP COLUMN "universityEmail";
