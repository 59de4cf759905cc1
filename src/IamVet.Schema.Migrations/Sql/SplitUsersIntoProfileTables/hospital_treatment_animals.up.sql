SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE hospital_treatment_animals (
    id           varchar      NOT NULL,
    "hospitalId" varchar      NOT NULL,
    "userId"     varchar      NOT NULL,
    "animalType" varchar      NOT NULL,
    "createdAt"  timestamp(6) NOT NULL DEFAULT now()
);

INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
-- From the stash (docs/adr/0002): the id and exact createdAt a rollback kept for the group's earliest row.
SELECT DISTINCT ON (a."userId", a."animalType")
       coalesce(s.payload ->> 'id', 'hta_' || a.id), h.id, a."userId", a."animalType",
       CASE WHEN a."createdAt" = (s.payload #>> '{legacy,createdAt}')::timestamp THEN (s.payload ->> 'createdAt')::timestamp ELSE a."createdAt" END
FROM hospital_animals a
JOIN hospitals h ON h."userId" = a."userId"
LEFT JOIN iamvet_rollback_stash s ON s.kind = 'hospital_treatment_animals' AND s.key = a.id
ORDER BY a."userId", a."animalType", a."createdAt", a.id;

ALTER TABLE hospital_treatment_animals ADD CONSTRAINT hospital_treatment_animals_pkey PRIMARY KEY (id);
ALTER TABLE hospital_treatment_animals ADD CONSTRAINT "hospital_treatment_animals_hospitalId_animalType_key" UNIQUE ("hospitalId", "animalType");
CREATE INDEX "hospital_treatment_animals_userId_idx" ON hospital_treatment_animals ("userId");
ALTER TABLE hospital_treatment_animals ADD CONSTRAINT "hospital_treatment_animals_hospitalId_fkey"
    FOREIGN KEY ("hospitalId") REFERENCES hospitals (id) ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE hospital_treatment_animals ADD CONSTRAINT "hospital_treatment_animals_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE hospital_treatment_animals;

DELETE FROM iamvet_rollback_stash WHERE kind = 'hospital_treatment_animals';
