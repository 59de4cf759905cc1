-- 1. The legacy columns of users take back every value the table holds. ONE join finds the rows
--    that differ, which are written, and the hospitals holding what the next Up would not derive from
--    the legacy side: values without a legacy column, an id of the application's own, an
--    establishedDate finer than users' timestamp(3), createdAt/updatedAt other than users' (as in
--    veterinarians.down.sql); those wait in the stash (3.).
CREATE TEMP TABLE hospital_changes AS
SELECT h."userId", h."hospitalName", h."representativeName", h."businessNumber", h."establishedDate", h."hospitalAddress",
       h."hospitalAddressDetail", h."hospitalLogo", h."hospitalWebsite", d.changes,
       d.changes AND u."businessNumber" IS DISTINCT FROM h."businessNumber"::text AS number_changes,
       jsonb_strip_nulls(jsonb_build_object(
           'postalCode', h."postalCode", 'latitude', h.latitude, 'longitude', h.longitude, 'hospitalDescription', h."hospitalDescription",
           'id', CASE WHEN d.own_id THEN h.id END,
           'establishedDate', CASE WHEN d.fine_established THEN h."establishedDate" END,
           'createdAt', CASE WHEN d.own_created THEN h."createdAt" END,
           'updatedAt', CASE WHEN d.own_updated THEN h."updatedAt" END,
           'legacy', jsonb_build_object(
               'establishedDate', CASE WHEN d.fine_established THEN h."establishedDate"::timestamp(3) END,
               'createdAt', CASE WHEN d.own_created THEN u."createdAt" END,
               'updatedAt', CASE WHEN d.own_updated THEN u."updatedAt" END))) AS stash
FROM hospitals h
JOIN users u ON u.id = h."userId"
CROSS JOIN LATERAL (SELECT
    (u."hospitalName", u."realName", u."businessNumber", u."establishedDate", u."hospitalAddress",
     u."hospitalAddressDetail", u."hospitalLogo", u."hospitalWebsite")
        IS DISTINCT FROM
        (h."hospitalName"::text, h."representativeName"::text, h."businessNumber"::text, h."establishedDate"::timestamp(3),
         h."hospitalAddress"::text, h."hospitalAddressDetail"::text, h."hospitalLogo"::text, h."hospitalWebsite"::text) AS changes,
    h.id::text <> 'hosp_' || h."userId" AS own_id,
    h."establishedDate" <> h."establishedDate"::timestamp(3) AS fine_established,
    h."createdAt" <> u."createdAt" AS own_created,
    h."updatedAt" <> u."updatedAt" AS own_updated) d
WHERE d.changes OR d.own_id OR d.fine_established OR d.own_created OR d.own_updated
   OR h."postalCode" IS NOT NULL OR h.latitude IS NOT NULL OR h.longitude IS NOT NULL OR h."hospitalDescription" IS NOT NULL;
ANALYZE hospital_changes;

--    users."businessNumber" has a UNIQUE index, checked row by row: clear the values that change
--    first, so numbers two hospitals exchanged (or one passed on to another) cannot collide.
UPDATE users u
SET "businessNumber" = NULL
FROM hospital_changes c
WHERE c."userId" = u.id AND c.number_changes;

UPDATE users u
SET "hospitalName"          = c."hospitalName",
    "realName"              = c."representativeName",
    "businessNumber"        = c."businessNumber",
    "establishedDate"       = c."establishedDate",
    "hospitalAddress"       = c."hospitalAddress",
    "hospitalAddressDetail" = c."hospitalAddressDetail",
    "hospitalLogo"          = c."hospitalLogo",
    "hospitalWebsite"       = c."hospitalWebsite"
FROM hospital_changes c
WHERE c."userId" = u.id AND c.changes;

-- 2. A business licence file set after Up becomes the newest legacy licence row, so the next Up
--    picks it again.
WITH newest AS (
    SELECT DISTINCT ON ("userId") "userId", "fileUrl", "uploadedAt"
    FROM hospital_business_licenses
    ORDER BY "userId", "uploadedAt" DESC, id DESC
)
INSERT INTO hospital_business_licenses (id, "userId", "fileName", "fileUrl", "fileType", "uploadedAt", "fileSize")
SELECT 'hbl_' || md5(h.id || ':' || h."businessLicenseFile"),
       h."userId",
       coalesce(nullif(regexp_replace(h."businessLicenseFile", '^.*/', ''), ''), h."businessLicenseFile"),
       h."businessLicenseFile",
       coalesce(lower(substring(h."businessLicenseFile" from '\.([A-Za-z0-9]{1,10})$')), 'unknown'),
       greatest(h."updatedAt"::timestamp(3), n."uploadedAt" + interval '1 millisecond'),
       NULL
FROM hospitals h
LEFT JOIN newest n ON n."userId" = h."userId"
WHERE h."businessLicenseFile" IS NOT NULL
  AND h."businessLicenseFile" IS DISTINCT FROM n."fileUrl"
ON CONFLICT (id) DO UPDATE SET "uploadedAt" = EXCLUDED."uploadedAt";

-- 3. What the next Up would not derive from the legacy side waits in the stash.
INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'hospitals', c."userId", c.stash
FROM hospital_changes c
WHERE c.stash - 'legacy' <> '{}'
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();

DROP TABLE hospital_changes;
