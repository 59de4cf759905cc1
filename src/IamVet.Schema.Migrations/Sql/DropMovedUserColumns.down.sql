SET LOCAL maintenance_work_mem = '512MB';

ALTER TABLE users
    ADD COLUMN "realName"              text,
    ADD COLUMN "birthDate"             timestamp(3),
    ADD COLUMN "businessNumber"        text,
    ADD COLUMN "establishedDate"       timestamp(3),
    ADD COLUMN "hospitalAddress"       text,
    ADD COLUMN "hospitalAddressDetail" text,
    ADD COLUMN "hospitalLogo"          text,
    ADD COLUMN "hospitalName"          text,
    ADD COLUMN "hospitalWebsite"       text,
    ADD COLUMN "licenseImage"          text,
    ADD COLUMN nickname                varchar(100),
    ADD COLUMN "universityEmail"       text;

UPDATE users u
SET "realName" = v."realName", "birthDate" = v."birthDate", nickname = v.nickname, "licenseImage" = v."licenseImage"
FROM veterinarians v
WHERE v."userId" = u.id;

UPDATE users u
SET "realName" = s."realName", "birthDate" = s."birthDate", nickname = s.nickname, "universityEmail" = s."universityEmail"
FROM veterinary_students s
WHERE s."userId" = u.id;

UPDATE users u
SET "realName" = h."representativeName", "hospitalName" = h."hospitalName", "businessNumber" = h."businessNumber",
    "establishedDate" = h."establishedDate", "hospitalAddress" = h."hospitalAddress",
    "hospitalAddressDetail" = h."hospitalAddressDetail", "hospitalLogo" = h."hospitalLogo",
    "hospitalWebsite" = h."hospitalWebsite"
FROM hospitals h
WHERE h."userId" = u.id;

CREATE UNIQUE INDEX "users_businessNumber_key" ON users ("businessNumber");
CREATE UNIQUE INDEX "users_universityEmail_key" ON users ("universityEmail");
CREATE INDEX users_nickname_idx ON users (nickname);
