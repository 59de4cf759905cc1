-- What the new application removed and added, found in ONE full join of the legacy rows of
-- hospitals that still have a hospitals row (rows of other users were never moved and stay) with
-- the table; only those rows are then written.
CREATE TEMP TABLE animals_changes AS
SELECT DISTINCT coalesce(a."userId", t."userId") AS "userId", coalesce(a."animalType", t."animalType") AS value,
       t.id AS new_id, t."createdAt" AS new_created_at, a."userId" IS NULL AS added
FROM (SELECT a."userId", a."animalType" FROM hospital_animals a JOIN hospitals h ON h."userId" = a."userId") a
FULL JOIN hospital_treatment_animals t ON t."userId" = a."userId" AND t."animalType" = a."animalType"
WHERE a."userId" IS NULL OR t."userId" IS NULL;
ANALYZE animals_changes;

-- 1. What the new application removed goes from the legacy table too (every duplicate of it).
DELETE FROM hospital_animals a
USING animals_changes c
WHERE NOT c.added AND a."userId" = c."userId" AND a."animalType" = c.value;

-- 2. What it added comes back, under the legacy id it came from when it has one.
INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt")
SELECT CASE WHEN c.new_id LIKE 'hta\_%' THEN substr(c.new_id, 5) ELSE c.new_id END,
       c."userId", c.value, c.new_created_at
FROM animals_changes c
WHERE c.added AND NOT EXISTS (SELECT FROM hospital_animals a WHERE a."userId" = c."userId" AND a."animalType" = c.value);

DROP TABLE animals_changes;

-- 3. What the next Up would not derive from the legacy rows waits in the stash (docs/adr/0002), keyed
--    by the legacy row the Up takes for the group (its earliest): an id other than 'hta_' || that
--    row's id (the application's own, or one whose earliest legacy row has since changed), a
--    createdAt other than that row's, with the legacy value it refines: the next Up takes it only
--    while that row still holds that value.
INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'hospital_treatment_animals', k.key, k.stash
FROM (
    SELECT e.id AS key,
           jsonb_strip_nulls(jsonb_build_object(
               'id', CASE WHEN t.id::text <> 'hta_' || e.id THEN t.id END,
               'createdAt', CASE WHEN t."createdAt" <> e."createdAt" THEN t."createdAt" END,
               'legacy', jsonb_build_object('createdAt', CASE WHEN t."createdAt" <> e."createdAt" THEN e."createdAt" END))) AS stash
    FROM hospital_treatment_animals t
    JOIN (SELECT DISTINCT ON (a."userId", a."animalType") a.id, a."userId", a."animalType", a."createdAt"
          FROM hospital_animals a
          ORDER BY a."userId", a."animalType", a."createdAt", a.id) e ON e."userId" = t."userId" AND e."animalType" = t."animalType"
) k
WHERE k.stash - 'legacy' <> '{}'
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();
