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
