SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE veterinary_students (
    id                varchar      NOT NULL,
    "userId"          varchar      NOT NULL,
    "realName"        varchar      NOT NULL,
    "birthDate"       timestamp(6),
    nickname          varchar(100),
    "universityEmail" varchar,
    "createdAt"       timestamp(6) NOT NULL DEFAULT now(),
    "updatedAt"       timestamp(6) NOT NULL DEFAULT now()
);

INSERT INTO veterinary_students (id, "userId", "realName", "birthDate", nickname, "universityEmail", "createdAt", "updatedAt")
-- The id and exact timestamps a rollback kept, as in veterinarians.up.sql.
SELECT coalesce(s.payload ->> 'id', 'vst_' || u.id), u.id, u."realName",
       CASE WHEN u."birthDate" = (s.payload #>> '{legacy,birthDate}')::timestamp THEN (s.payload ->> 'birthDate')::timestamp ELSE u."birthDate" END,
       u.nickname, u."universityEmail",
       CASE WHEN u."createdAt" = (s.payload #>> '{legacy,createdAt}')::timestamp THEN (s.payload ->> 'createdAt')::timestamp ELSE u."createdAt" END,
       CASE WHEN u."updatedAt" = (s.payload #>> '{legacy,updatedAt}')::timestamp THEN (s.payload ->> 'updatedAt')::timestamp ELSE u."updatedAt" END
FROM users u
LEFT JOIN iamvet_rollback_stash s ON s.kind = 'veterinary_students' AND s.key = u.id
WHERE u."userType" = 'VETERINARY_STUDENT';

ALTER TABLE veterinary_students ADD CONSTRAINT veterinary_students_pkey PRIMARY KEY (id);
ALTER TABLE veterinary_students ADD CONSTRAINT "veterinary_students_userId_key" UNIQUE ("userId");
ALTER TABLE veterinary_students ADD CONSTRAINT "veterinary_students_universityEmail_key" UNIQUE ("universityEmail");
CREATE INDEX veterinary_students_nickname_idx ON veterinary_students (nickname);
ALTER TABLE veterinary_students ADD CONSTRAINT "veterinary_students_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE veterinary_students;

DELETE FROM iamvet_rollback_stash WHERE kind = 'veterinary_students';
