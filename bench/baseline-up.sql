-- The plain-SQL baseline for `migrate up`: the same normalization written the way a DBA would by
-- hand, in bulk-load order (bare table, INSERT … SELECT, then keys, indexes, foreign keys), with
-- no guards, stash, verification or bookkeeping. Run as one transaction: psql --single-transaction.
SET maintenance_work_mem = '512MB';
SET work_mem = '256MB';

ALTER TABLE migration_log ADD COLUMN status varchar(20), ADD COLUMN started_at timestamptz, ADD COLUMN finished_at timestamptz,
    ADD COLUMN duration_ms bigint, ADD COLUMN version_from bigint, ADD COLUMN version_to bigint, ADD COLUMN backup_file text,
    ADD COLUMN backup_sha256 varchar(64), ADD COLUMN runner_version varchar(50), ADD COLUMN host varchar(255),
    ADD COLUMN os_user varchar(255), ADD COLUMN details jsonb;
ALTER TABLE users ALTER COLUMN "realName" DROP NOT NULL;

CREATE TABLE veterinarians (id varchar NOT NULL, "userId" varchar NOT NULL, "realName" varchar NOT NULL, "birthDate" timestamp(6),
    nickname varchar(100), "licenseImage" varchar, "createdAt" timestamp(6) NOT NULL DEFAULT now(), "updatedAt" timestamp(6) NOT NULL DEFAULT now());
INSERT INTO veterinarians SELECT 'vet_' || id, id, "realName", "birthDate", nickname, "licenseImage", "createdAt", "updatedAt"
FROM users WHERE "userType" = 'VETERINARIAN';
ALTER TABLE veterinarians ADD PRIMARY KEY (id), ADD UNIQUE ("userId");
CREATE INDEX ON veterinarians (nickname);
ALTER TABLE veterinarians ADD FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE veterinary_students (id varchar NOT NULL, "userId" varchar NOT NULL, "realName" varchar NOT NULL, "birthDate" timestamp(6),
    nickname varchar(100), "universityEmail" varchar, "createdAt" timestamp(6) NOT NULL DEFAULT now(), "updatedAt" timestamp(6) NOT NULL DEFAULT now());
INSERT INTO veterinary_students SELECT 'vst_' || id, id, "realName", "birthDate", nickname, "universityEmail", "createdAt", "updatedAt"
FROM users WHERE "userType" = 'VETERINARY_STUDENT';
ALTER TABLE veterinary_students ADD PRIMARY KEY (id), ADD UNIQUE ("userId"), ADD UNIQUE ("universityEmail");
CREATE INDEX ON veterinary_students (nickname);
ALTER TABLE veterinary_students ADD FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospitals (id varchar NOT NULL, "userId" varchar NOT NULL, "hospitalName" varchar NOT NULL, "representativeName" varchar NOT NULL,
    "businessNumber" varchar, "businessLicenseFile" varchar, "establishedDate" timestamp(6), "hospitalAddress" varchar,
    "hospitalAddressDetail" varchar, "postalCode" varchar, latitude numeric(10, 8), longitude numeric(11, 8), "hospitalLogo" varchar,
    "hospitalWebsite" varchar, "hospitalDescription" text, "createdAt" timestamp(6) NOT NULL DEFAULT now(), "updatedAt" timestamp(6) NOT NULL DEFAULT now());
INSERT INTO hospitals
SELECT 'hosp_' || u.id, u.id, u."hospitalName", u."realName", u."businessNumber", l."fileUrl", u."establishedDate", u."hospitalAddress",
       u."hospitalAddressDetail", NULL, NULL, NULL, u."hospitalLogo", u."hospitalWebsite", NULL, u."createdAt", u."updatedAt"
FROM users u
LEFT JOIN (SELECT DISTINCT ON ("userId") "userId", "fileUrl" FROM hospital_business_licenses ORDER BY "userId", "uploadedAt" DESC, id DESC) l
       ON l."userId" = u.id
WHERE u."userType" = 'HOSPITAL';
ALTER TABLE hospitals ADD PRIMARY KEY (id), ADD UNIQUE ("userId"), ADD UNIQUE ("businessNumber");
CREATE INDEX ON hospitals (latitude, longitude);
ALTER TABLE hospitals ADD FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospital_images (id varchar NOT NULL, "hospitalId" varchar NOT NULL, "userId" varchar NOT NULL, "imageUrl" varchar NOT NULL,
    "imageOrder" integer NOT NULL, "imageDescription" varchar, "createdAt" timestamp(6) NOT NULL DEFAULT now(), "updatedAt" timestamp(6) NOT NULL DEFAULT now());
INSERT INTO hospital_images
SELECT 'himg_' || f.id, h.id, f."userId", f."imageUrl",
       row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id), NULL, f."createdAt", f."updatedAt"
FROM hospital_facility_images f JOIN hospitals h ON h."userId" = f."userId";
ALTER TABLE hospital_images ADD PRIMARY KEY (id), ADD UNIQUE ("hospitalId", "imageOrder");
CREATE INDEX ON hospital_images ("userId");
ALTER TABLE hospital_images ADD FOREIGN KEY ("hospitalId") REFERENCES hospitals (id) ON UPDATE CASCADE ON DELETE CASCADE,
    ADD FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospital_treatment_animals (id varchar NOT NULL, "hospitalId" varchar NOT NULL, "userId" varchar NOT NULL,
    "animalType" varchar NOT NULL, "createdAt" timestamp(6) NOT NULL DEFAULT now());
INSERT INTO hospital_treatment_animals
SELECT DISTINCT ON (a."userId", a."animalType") 'hta_' || a.id, h.id, a."userId", a."animalType", a."createdAt"
FROM hospital_animals a JOIN hospitals h ON h."userId" = a."userId"
ORDER BY a."userId", a."animalType", a."createdAt", a.id;
ALTER TABLE hospital_treatment_animals ADD PRIMARY KEY (id), ADD UNIQUE ("hospitalId", "animalType");
CREATE INDEX ON hospital_treatment_animals ("userId");
ALTER TABLE hospital_treatment_animals ADD FOREIGN KEY ("hospitalId") REFERENCES hospitals (id) ON UPDATE CASCADE ON DELETE CASCADE,
    ADD FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospital_treatment_specialties (id varchar NOT NULL, "hospitalId" varchar NOT NULL, "userId" varchar NOT NULL,
    specialty varchar NOT NULL, "createdAt" timestamp(6) NOT NULL DEFAULT now());
INSERT INTO hospital_treatment_specialties
SELECT DISTINCT ON (s."userId", s.specialty) 'hts_' || s.id, h.id, s."userId", s.specialty, s."createdAt"
FROM hospital_specialties s JOIN hospitals h ON h."userId" = s."userId"
ORDER BY s."userId", s.specialty, s."createdAt", s.id;
ALTER TABLE hospital_treatment_specialties ADD PRIMARY KEY (id), ADD UNIQUE ("hospitalId", specialty);
CREATE INDEX ON hospital_treatment_specialties ("userId");
ALTER TABLE hospital_treatment_specialties ADD FOREIGN KEY ("hospitalId") REFERENCES hospitals (id) ON UPDATE CASCADE ON DELETE CASCADE,
    ADD FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

ANALYZE veterinarians, veterinary_students, hospitals, hospital_images, hospital_treatment_animals, hospital_treatment_specialties;
