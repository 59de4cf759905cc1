-- The legacy id of a new-table row: Up named it 'himg_' + legacy id; rows the new application
-- created keep their own id.
CREATE TEMP TABLE image_map AS
SELECT i.*, CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END AS legacy_id
FROM hospital_images i;

-- 1. Images the new application deleted go from the legacy table too (only for hospitals that
--    still have a hospitals row; rows of other users were never moved and stay).
DELETE FROM hospital_facility_images f
USING hospitals h
WHERE h."userId" = f."userId"
  AND NOT EXISTS (SELECT FROM image_map m WHERE m.legacy_id = f.id);

-- 2. Changed URLs and owners go back.
UPDATE hospital_facility_images f
SET "imageUrl" = m."imageUrl", "userId" = m."userId"
FROM image_map m
WHERE m.legacy_id = f.id
  AND (f."imageUrl", f."userId") IS DISTINCT FROM (m."imageUrl"::text, m."userId"::text);

-- 3. Images the new application added.
INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt")
SELECT m.legacy_id, m."userId", m."imageUrl", m."imageOrder", m."createdAt", m."updatedAt"
FROM image_map m
WHERE NOT EXISTS (SELECT FROM hospital_facility_images f WHERE f.id = m.legacy_id);

-- 4. Where the legacy order no longer gives the new table's imageOrder, write it out.
WITH ranked AS (
    SELECT f.id, f."userId",
           row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id) AS rank
    FROM hospital_facility_images f
    JOIN hospitals h ON h."userId" = f."userId"
), reordered AS (
    SELECT DISTINCT r."userId"
    FROM ranked r
    JOIN image_map m ON m.legacy_id = r.id
    WHERE m."imageOrder" <> r.rank
)
UPDATE hospital_facility_images f
SET "displayOrder" = m."imageOrder"
FROM image_map m, reordered r
WHERE m.legacy_id = f.id AND r."userId" = f."userId";

-- 5. imageDescription has no legacy column: keep it for the next Up.
CREATE TABLE IF NOT EXISTS iamvet_rollback_stash (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    jsonb       NOT NULL,
    stashed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iamvet_rollback_stash_pkey PRIMARY KEY (kind, key)
);
INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'hospital_images', m.legacy_id, jsonb_build_object('imageDescription', m."imageDescription")
FROM image_map m
WHERE m."imageDescription" IS NOT NULL
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM iamvet_rollback_stash) THEN
        DROP TABLE iamvet_rollback_stash;
    END IF;
END $$;

DROP TABLE image_map;
DROP TABLE hospital_images;
