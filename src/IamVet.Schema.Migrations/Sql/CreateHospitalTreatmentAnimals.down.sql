-- 1. What the new application removed goes from the legacy table too (every duplicate of it),
--    for hospitals that still have a hospitals row; rows of other users were never moved and stay.
DELETE FROM hospital_animals a
USING hospitals h
WHERE h."userId" = a."userId"
  AND NOT EXISTS (SELECT FROM hospital_treatment_animals t WHERE t."userId" = a."userId" AND t."animalType" = a."animalType");

-- 2. What it added comes back, under the legacy id it came from when it has one.
INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt")
SELECT CASE WHEN t.id LIKE 'hta\_%' THEN substr(t.id, 5) ELSE t.id END,
       t."userId", t."animalType", t."createdAt"
FROM hospital_treatment_animals t
WHERE NOT EXISTS (SELECT FROM hospital_animals a WHERE a."userId" = t."userId" AND a."animalType" = t."animalType");

DROP TABLE hospital_treatment_animals;
