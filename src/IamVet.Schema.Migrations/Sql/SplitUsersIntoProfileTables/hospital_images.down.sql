-- The legacy id of a new-table row: Up named it 'himg_' + legacy id; rows the new application
-- created keep their own id.
-- Every difference between the legacy table and the new one is found in ONE full join, and only
-- those rows are then written: images the new application deleted (only those of hospitals that
-- still have a hospitals row: rows of other users were never moved and stay), added, gave another
-- URL or owner, or put in another order (imageOrder against the legacy rank per hospital).
CREATE TEMP TABLE image_changes AS
WITH m AS (
    SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END AS legacy_id,
           i."userId", i."imageUrl", i."imageOrder", i."createdAt", i."updatedAt"
    FROM hospital_images i
), f AS (
    SELECT f.id, f."userId", f."imageUrl", h."userId" IS NOT NULL AS of_hospital,
           row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id) AS rank
    FROM hospital_facility_images f
    LEFT JOIN hospitals h ON h."userId" = f."userId"
)
SELECT m.legacy_id, m."userId" AS new_user_id, m."imageUrl" AS new_url, m."imageOrder", m."createdAt", m."updatedAt",
       f.id AS old_id, f."userId" AS old_user_id
FROM m
FULL JOIN f ON f.id = m.legacy_id
WHERE CASE
    WHEN m.legacy_id IS NULL THEN f.of_hospital  -- deleted
    WHEN f.id IS NULL THEN true                  -- added
    ELSE (f."imageUrl", f."userId") IS DISTINCT FROM (m."imageUrl"::text, m."userId"::text)
         OR (f.of_hospital AND m."imageOrder" <> f.rank)
END;
ANALYZE image_changes;

-- 1. Images the new application deleted go from the legacy table too.
DELETE FROM hospital_facility_images f
USING image_changes c
WHERE c.legacy_id IS NULL AND f.id = c.old_id;

-- 2. Changed URLs and owners go back.
UPDATE hospital_facility_images f
SET "imageUrl" = c.new_url, "userId" = c.new_user_id
FROM image_changes c
WHERE c.legacy_id IS NOT NULL AND f.id = c.old_id
  AND (f."imageUrl", f."userId") IS DISTINCT FROM (c.new_url::text, c.new_user_id::text);

-- 3. Images the new application added.
INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt")
SELECT c.legacy_id, c.new_user_id, c.new_url, c."imageOrder", c."createdAt", c."updatedAt"
FROM image_changes c
WHERE c.old_id IS NULL;

-- 4. Where the legacy order no longer gives the new table's imageOrder, write it out. Only the
--    hospitals named above can need it: every other one has the same rows in both tables as
--    before, and no order difference was found for it.
WITH candidates AS (
    SELECT new_user_id AS "userId" FROM image_changes WHERE new_user_id IS NOT NULL
    UNION
    SELECT old_user_id FROM image_changes WHERE old_user_id IS NOT NULL
), ranked AS (
    SELECT f.id, f."userId",
           row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id) AS rank
    FROM hospital_facility_images f
    JOIN hospitals h ON h."userId" = f."userId"
    WHERE f."userId" IN (SELECT "userId" FROM candidates)
), mapped AS (
    SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END AS legacy_id, i."imageOrder"
    FROM hospital_images i
    WHERE i."userId" IN (SELECT "userId" FROM candidates)
), reordered AS (
    SELECT DISTINCT r."userId"
    FROM ranked r
    JOIN mapped m ON m.legacy_id = r.id
    WHERE m."imageOrder" <> r.rank
)
UPDATE hospital_facility_images f
SET "displayOrder" = m."imageOrder"
FROM mapped m, reordered r
WHERE m.legacy_id = f.id AND r."userId" = f."userId";

-- 5. What the next Up would not derive from the legacy row (now there for every image) waits in the
--    stash (docs/adr/0002): imageDescription, which has no legacy column; an id of the application's
--    own (the Up would prefix it); createdAt/updatedAt other than the legacy row's (finer than its
--    timestamp(3), or an existing image's updatedAt, which is not written back), each with the legacy
--    value it refines: the next Up takes it only while the legacy row still holds that value.
INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'hospital_images', k.legacy_id, k.stash
FROM (
    SELECT m.legacy_id,
           jsonb_strip_nulls(jsonb_build_object(
               'imageDescription', m."imageDescription",
               'id', CASE WHEN m.id NOT LIKE 'himg\_%' THEN m.id END,
               'createdAt', CASE WHEN m."createdAt" <> f."createdAt" THEN m."createdAt" END,
               'updatedAt', CASE WHEN m."updatedAt" <> f."updatedAt" THEN m."updatedAt" END,
               'legacy', jsonb_build_object(
                   'createdAt', CASE WHEN m."createdAt" <> f."createdAt" THEN f."createdAt" END,
                   'updatedAt', CASE WHEN m."updatedAt" <> f."updatedAt" THEN f."updatedAt" END))) AS stash
    FROM (SELECT CASE WHEN i.id LIKE 'himg\_%' THEN substr(i.id, 6) ELSE i.id END AS legacy_id, i.*
          FROM hospital_images i) m
    JOIN hospital_facility_images f ON f.id = m.legacy_id
) k
WHERE k.stash - 'legacy' <> '{}'
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();

DROP TABLE image_changes;
