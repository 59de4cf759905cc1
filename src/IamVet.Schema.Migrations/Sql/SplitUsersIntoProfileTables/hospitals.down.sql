-- 1. The legacy columns of users take back every value the table holds. The rows that differ are
--    found in ONE join, and only they are written.
CREATE TEMP TABLE hospital_changes AS
SELECT h."userId", h."hospitalName", h."representativeName", h."businessNumber", h."establishedDate", h."hospitalAddress",
       h."hospitalAddressDetail", h."hospitalLogo", h."hospitalWebsite",
       u."businessNumber" IS DISTINCT FROM h."businessNumber"::text AS number_changes
FROM hospitals h
JOIN users u ON u.id = h."userId"
WHERE (u."hospitalName", u."realName", u."businessNumber", u."establishedDate", u."hospitalAddress",
       u."hospitalAddressDetail", u."hospitalLogo", u."hospitalWebsite")
      IS DISTINCT FROM
      (h."hospitalName"::text, h."representativeName"::text, h."businessNumber"::text, h."establishedDate"::timestamp(3),
       h."hospitalAddress"::text, h."hospitalAddressDetail"::text, h."hospitalLogo"::text, h."hospitalWebsite"::text);
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
WHERE c."userId" = u.id;

DROP TABLE hospital_changes;

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

-- 3. Values with no legacy column wait in the stash for the next Up.
CREATE TABLE IF NOT EXISTS iamvet_rollback_stash (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    jsonb       NOT NULL,
    stashed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iamvet_rollback_stash_pkey PRIMARY KEY (kind, key)
);
INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'hospitals', h."userId",
       jsonb_strip_nulls(jsonb_build_object('postalCode', h."postalCode", 'latitude', h.latitude,
                                            'longitude', h.longitude, 'hospitalDescription', h."hospitalDescription"))
FROM hospitals h
WHERE h."postalCode" IS NOT NULL OR h.latitude IS NOT NULL OR h.longitude IS NOT NULL OR h."hospitalDescription" IS NOT NULL
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM iamvet_rollback_stash) THEN
        DROP TABLE iamvet_rollback_stash;
    END IF;
END $$;
