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
SELECT 'vst_' || u.id, u.id, u."realName", u."birthDate", u.nickname, u."universityEmail", u."createdAt", u."updatedAt"
FROM users u
WHERE u."userType" = 'VETERINARY_STUDENT';

ALTER TABLE veterinary_students ADD CONSTRAINT veterinary_students_pkey PRIMARY KEY (id);
ALTER TABLE veterinary_students ADD CONSTRAINT "veterinary_students_userId_key" UNIQUE ("userId");
ALTER TABLE veterinary_students ADD CONSTRAINT "veterinary_students_universityEmail_key" UNIQUE ("universityEmail");
CREATE INDEX veterinary_students_nickname_idx ON veterinary_students (nickname);
ALTER TABLE veterinary_students ADD CONSTRAINT "veterinary_students_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE veterinary_students;
