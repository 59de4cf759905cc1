-- 1. What the new application removed goes from the legacy table too (every duplicate of it),
--    for hospitals that still have a hospitals row; rows of other users were never moved and stay.
DELETE FROM hospital_specialties a
USING hospitals h
WHERE h."userId" = a."userId"
  AND NOT EXISTS (SELECT FROM hospital_treatment_specialties t WHERE t."userId" = a."userId" AND t."specialty" = a."specialty");

-- 2. What it added comes back, under the legacy id it came from when it has one.
INSERT INTO hospital_specialties (id, "userId", "specialty", "createdAt")
SELECT CASE WHEN t.id LIKE 'hts\_%' THEN substr(t.id, 5) ELSE t.id END,
       t."userId", t."specialty", t."createdAt"
FROM hospital_treatment_specialties t
WHERE NOT EXISTS (SELECT FROM hospital_specialties a WHERE a."userId" = t."userId" AND a."specialty" = t."specialty");

DROP TABLE hospital_treatment_specialties;
