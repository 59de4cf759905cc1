SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE hospital_treatment_specialties (
    id           varchar      NOT NULL,
    "hospitalId" varchar      NOT NULL,
    "userId"     varchar      NOT NULL,
    "specialty" varchar      NOT NULL,
    "createdAt"  timestamp(6) NOT NULL DEFAULT now()
);

INSERT INTO hospital_treatment_specialties (id, "hospitalId", "userId", "specialty", "createdAt")
-- From the stash (docs/adr/0002): the id and exact createdAt a rollback kept for the group's earliest row.
SELECT DISTINCT ON (a."userId", a."specialty")
       coalesce(s.payload ->> 'id', 'hts_' || a.id), h.id, a."userId", a."specialty",
       CASE WHEN a."createdAt" = (s.payload #>> '{legacy,createdAt}')::timestamp THEN (s.payload ->> 'createdAt')::timestamp ELSE a."createdAt" END
FROM hospital_specialties a
JOIN hospitals h ON h."userId" = a."userId"
LEFT JOIN iamvet_rollback_stash s ON s.kind = 'hospital_treatment_specialties' AND s.key = a.id
ORDER BY a."userId", a."specialty", a."createdAt", a.id;

ALTER TABLE hospital_treatment_specialties ADD CONSTRAINT hospital_treatment_specialties_pkey PRIMARY KEY (id);
ALTER TABLE hospital_treatment_specialties ADD CONSTRAINT "hospital_treatment_specialties_hospitalId_specialty_key" UNIQUE ("hospitalId", "specialty");
CREATE INDEX "hospital_treatment_specialties_userId_idx" ON hospital_treatment_specialties ("userId");
ALTER TABLE hospital_treatment_specialties ADD CONSTRAINT "hospital_treatment_specialties_hospitalId_fkey"
    FOREIGN KEY ("hospitalId") REFERENCES hospitals (id) ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE hospital_treatment_specialties ADD CONSTRAINT "hospital_treatment_specialties_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE hospital_treatment_specialties;

DELETE FROM iamvet_rollback_stash WHERE kind = 'hospital_treatment_specialties';
