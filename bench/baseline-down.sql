-- The plain-SQL baseline for `migrate down`: write the profile values back into users, then drop
-- the new tables and restore the constraint — what a DBA would write by hand (no mirroring of side
-- rows, no stash, no verification). Run as one transaction: psql --single-transaction.
UPDATE users u SET "realName" = v."realName", "birthDate" = v."birthDate", nickname = v.nickname, "licenseImage" = v."licenseImage"
FROM veterinarians v WHERE v."userId" = u.id
  AND (u."realName", u."birthDate", u.nickname, u."licenseImage") IS DISTINCT FROM (v."realName"::text, v."birthDate"::timestamp(3), v.nickname, v."licenseImage"::text);
UPDATE users u SET "realName" = s."realName", "birthDate" = s."birthDate", nickname = s.nickname, "universityEmail" = s."universityEmail"
FROM veterinary_students s WHERE s."userId" = u.id
  AND (u."realName", u."birthDate", u.nickname, u."universityEmail") IS DISTINCT FROM (s."realName"::text, s."birthDate"::timestamp(3), s.nickname, s."universityEmail"::text);
UPDATE users u SET "hospitalName" = h."hospitalName", "realName" = h."representativeName", "businessNumber" = h."businessNumber",
    "establishedDate" = h."establishedDate", "hospitalAddress" = h."hospitalAddress", "hospitalAddressDetail" = h."hospitalAddressDetail",
    "hospitalLogo" = h."hospitalLogo", "hospitalWebsite" = h."hospitalWebsite"
FROM hospitals h WHERE h."userId" = u.id
  AND (u."hospitalName", u."realName", u."businessNumber", u."establishedDate", u."hospitalAddress", u."hospitalAddressDetail", u."hospitalLogo", u."hospitalWebsite")
      IS DISTINCT FROM (h."hospitalName"::text, h."representativeName"::text, h."businessNumber"::text, h."establishedDate"::timestamp(3),
                        h."hospitalAddress"::text, h."hospitalAddressDetail"::text, h."hospitalLogo"::text, h."hospitalWebsite"::text);
DROP TABLE hospital_treatment_specialties, hospital_treatment_animals, hospital_images, hospitals, veterinary_students, veterinarians;
ALTER TABLE users ALTER COLUMN "realName" SET NOT NULL;
ALTER TABLE migration_log DROP COLUMN status, DROP COLUMN started_at, DROP COLUMN finished_at, DROP COLUMN duration_ms,
    DROP COLUMN version_from, DROP COLUMN version_to, DROP COLUMN backup_file, DROP COLUMN backup_sha256,
    DROP COLUMN runner_version, DROP COLUMN host, DROP COLUMN os_user, DROP COLUMN details;
