-- The plain-SQL baseline for a LOSSLESS `migrate down`: what a DBA would write by hand to carry the
-- application's writes since the up back into the legacy tables, then drop the new tables. It
-- leaves users, hospital_facility_images, hospital_animals, hospital_specialties and
-- hospital_business_licenses with the same content as the runner's Downs (checked by
-- bench/check-lossless-baseline.sh): profile values written back into users; images the
-- application deleted, added, re-URLed, moved or reordered; animals and specialties it removed or
-- added; a businessLicenseFile set since the up, as a new newest licence row.
-- Set-based statements only: no guards, no verification, no bookkeeping (VersionInfo is left to
-- the caller, as in baseline-down.sql).
-- NOT done, unlike the runner: the values that have no legacy column (hospitals.postalCode,
-- latitude, longitude, hospitalDescription; hospital_images.imageDescription; migration_log's
-- audit columns), the application's own ids and its timestamps finer than the legacy columns' are
-- dropped, not kept in iamvet_rollback_stash for the next up (docs/adr/0014).
-- Run as one transaction: psql --single-transaction. (bench/baseline-down.sql stays the minimal,
-- lossy baseline: users columns only.)
SET work_mem = '256MB';

-- Profile values back into users. users."universityEmail" and "businessNumber" have UNIQUE
-- indexes, checked row by row: the values that change are cleared first, so values two profiles
-- exchanged (or one passed on to another) cannot collide mid-UPDATE.
UPDATE users u SET "realName" = v."realName", "birthDate" = v."birthDate", nickname = v.nickname, "licenseImage" = v."licenseImage"
FROM veterinarians v WHERE v."userId" = u.id
  AND (u."realName", u."birthDate", u.nickname, u."licenseImage") IS DISTINCT FROM (v."realName"::text, v."birthDate"::timestamp(3), v.nickname, v."licenseImage"::text);

UPDATE users u SET "universityEmail" = NULL
FROM veterinary_students s WHERE s."userId" = u.id
  AND u."universityEmail" IS NOT NULL AND u."universityEmail" IS DISTINCT FROM s."universityEmail"::text;
UPDATE users u SET "realName" = s."realName", "birthDate" = s."birthDate", nickname = s.nickname, "universityEmail" = s."universityEmail"
FROM veterinary_students s WHERE s."userId" = u.id
  AND (u."realName", u."birthDate", u.nickname, u."universityEmail") IS DISTINCT FROM (s."realName"::text, s."birthDate"::timestamp(3), s.nickname, s."universityEmail"::text);

UPDATE users u SET "businessNumber" = NULL
FROM hospitals h WHERE h."userId" = u.id
  AND u."businessNumber" IS NOT NULL AND u."businessNumber" IS DISTINCT FROM h."businessNumber"::text;
UPDATE users u SET "hospitalName" = h."hospitalName", "realName" = h."representativeName", "businessNumber" = h."businessNumber",
    "establishedDate" = h."establishedDate", "hospitalAddress" = h."hospitalAddress", "hospitalAddressDetail" = h."hospitalAddressDetail",
    "hospitalLogo" = h."hospitalLogo", "hospitalWebsite" = h."hospitalWebsite"
FROM hospitals h WHERE h."userId" = u.id
  AND (u."hospitalName", u."realName", u."businessNumber", u."establishedDate", u."hospitalAddress", u."hospitalAddressDetail", u."hospitalLogo", u."hospitalWebsite")
      IS DISTINCT FROM (h."hospitalName"::text, h."representativeName"::text, h."businessNumber"::text, h."establishedDate"::timestamp(3),
                        h."hospitalAddress"::text, h."hospitalAddressDetail"::text, h."hospitalLogo"::text, h."hospitalWebsite"::text);

-- A businessLicenseFile set since the up becomes the hospital's newest licence row (so the next up
-- picks it again), named and dated as the runner names and dates it.
INSERT INTO hospital_business_licenses (id, "userId", "fileName", "fileUrl", "fileType", "uploadedAt", "fileSize")
SELECT 'hbl_' || md5(h.id || ':' || h."businessLicenseFile"), h."userId",
       coalesce(nullif(regexp_replace(h."businessLicenseFile", '^.*/', ''), ''), h."businessLicenseFile"),
       h."businessLicenseFile",
       coalesce(lower(substring(h."businessLicenseFile" from '\.([A-Za-z0-9]{1,10})$')), 'unknown'),
       greatest(h."updatedAt"::timestamp(3), l."uploadedAt" + interval '1 millisecond'), NULL
FROM hospitals h
LEFT JOIN (SELECT DISTINCT ON ("userId") "userId", "fileUrl", "uploadedAt" FROM hospital_business_licenses
           ORDER BY "userId", "uploadedAt" DESC, id DESC) l ON l."userId" = h."userId"
WHERE h."businessLicenseFile" IS NOT NULL AND h."businessLicenseFile" IS DISTINCT FROM l."fileUrl"
ON CONFLICT (id) DO UPDATE SET "uploadedAt" = EXCLUDED."uploadedAt";

-- Images. A hospital_images row is the legacy row whose id it carries after 'himg_' (rows the
-- application created keep their own id). Legacy rows of users without a hospitals row were never
-- moved and stay.
DELETE FROM hospital_facility_images f
USING hospitals h
WHERE h."userId" = f."userId"
  AND NOT EXISTS (SELECT FROM hospital_images i WHERE CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END = f.id);

UPDATE hospital_facility_images f SET "imageUrl" = i."imageUrl", "userId" = i."userId"
FROM hospital_images i
WHERE CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END = f.id
  AND (f."imageUrl", f."userId") IS DISTINCT FROM (i."imageUrl"::text, i."userId"::text);

INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt")
SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END, i."userId", i."imageUrl", i."imageOrder", i."createdAt", i."updatedAt"
FROM hospital_images i
WHERE NOT EXISTS (SELECT FROM hospital_facility_images f WHERE f.id = CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END);

-- Where the legacy order (displayOrder, createdAt, id) no longer ranks a hospital's images as
-- imageOrder does, write imageOrder into displayOrder (that hospital's images only; the others keep
-- their displayOrder, mostly 0).
UPDATE hospital_facility_images f SET "displayOrder" = i."imageOrder"
FROM hospital_images i
WHERE CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END = f.id
  AND f."userId" IN (
      SELECT r."userId"
      FROM (SELECT f.id, f."userId", row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id) AS rank
            FROM hospital_facility_images f JOIN hospitals h ON h."userId" = f."userId") r
      JOIN hospital_images i ON CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END = r.id
      WHERE i."imageOrder" <> r.rank);

-- Animals and specialties: a (hospital, value) the application removed goes (every legacy
-- duplicate of it); one it added comes back, under the legacy id it came from when it has one.
DELETE FROM hospital_animals a
USING hospitals h
WHERE h."userId" = a."userId"
  AND NOT EXISTS (SELECT FROM hospital_treatment_animals t WHERE t."userId" = a."userId" AND t."animalType" = a."animalType");
INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt")
SELECT CASE WHEN t.id LIKE 'hta\_%' THEN substr(t.id, 5) ELSE t.id END, t."userId", t."animalType", t."createdAt"
FROM hospital_treatment_animals t
WHERE NOT EXISTS (SELECT FROM hospital_animals a WHERE a."userId" = t."userId" AND a."animalType" = t."animalType");

DELETE FROM hospital_specialties a
USING hospitals h
WHERE h."userId" = a."userId"
  AND NOT EXISTS (SELECT FROM hospital_treatment_specialties t WHERE t."userId" = a."userId" AND t.specialty = a.specialty);
INSERT INTO hospital_specialties (id, "userId", specialty, "createdAt")
SELECT CASE WHEN t.id LIKE 'hts\_%' THEN substr(t.id, 5) ELSE t.id END, t."userId", t.specialty, t."createdAt"
FROM hospital_treatment_specialties t
WHERE NOT EXISTS (SELECT FROM hospital_specialties a WHERE a."userId" = t."userId" AND a.specialty = t.specialty);

DROP TABLE hospital_treatment_specialties, hospital_treatment_animals, hospital_images, hospitals, veterinary_students, veterinarians;
ALTER TABLE users ALTER COLUMN "realName" SET NOT NULL;
ALTER TABLE migration_log DROP COLUMN status, DROP COLUMN started_at, DROP COLUMN finished_at, DROP COLUMN duration_ms,
    DROP COLUMN version_from, DROP COLUMN version_to, DROP COLUMN backup_file, DROP COLUMN backup_sha256,
    DROP COLUMN runner_version, DROP COLUMN host, DROP COLUMN os_user, DROP COLUMN details;
