SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE hospitals (
    id                      varchar       NOT NULL,
    "userId"                varchar       NOT NULL,
    "hospitalName"          varchar       NOT NULL,
    "representativeName"    varchar       NOT NULL,
    "businessNumber"        varchar,
    "businessLicenseFile"   varchar,
    "establishedDate"       timestamp(6),
    "hospitalAddress"       varchar,
    "hospitalAddressDetail" varchar,
    "postalCode"            varchar,
    latitude                numeric(10, 8),
    longitude               numeric(11, 8),
    "hospitalLogo"          varchar,
    "hospitalWebsite"       varchar,
    "hospitalDescription"   text,
    "createdAt"             timestamp(6)  NOT NULL DEFAULT now(),
    "updatedAt"             timestamp(6)  NOT NULL DEFAULT now()
);

-- Blocking dirty data: a HOSPITAL user without hospitalName, which the new table requires. The
-- runner's audit refuses them before the migration starts; this is the last line of defence, and
-- costs nothing when there are none: the INSERT's own NOT NULL check finds them, and only then are
-- the offenders counted and named (the error replaces the bare not-null violation).
DO $$
DECLARE
    missing bigint;
    first_ids text;
BEGIN
    INSERT INTO hospitals (id, "userId", "hospitalName", "representativeName", "businessNumber", "businessLicenseFile",
                           "establishedDate", "hospitalAddress", "hospitalAddressDetail", "postalCode", latitude, longitude,
                           "hospitalLogo", "hospitalWebsite", "hospitalDescription", "createdAt", "updatedAt")
    -- From the stash (docs/adr/0002): the values without a legacy column, and the id and exact
    -- timestamps a rollback kept (a timestamp only while the legacy column still holds what that
    -- rollback left there).
    SELECT coalesce(s.payload ->> 'id', 'hosp_' || u.id), u.id, u."hospitalName", u."realName", u."businessNumber", lic."fileUrl",
           CASE WHEN u."establishedDate" = (s.payload #>> '{legacy,establishedDate}')::timestamp THEN (s.payload ->> 'establishedDate')::timestamp ELSE u."establishedDate" END,
           u."hospitalAddress", u."hospitalAddressDetail",
           s.payload ->> 'postalCode', (s.payload ->> 'latitude')::numeric(10, 8), (s.payload ->> 'longitude')::numeric(11, 8),
           u."hospitalLogo", u."hospitalWebsite", s.payload ->> 'hospitalDescription',
           CASE WHEN u."createdAt" = (s.payload #>> '{legacy,createdAt}')::timestamp THEN (s.payload ->> 'createdAt')::timestamp ELSE u."createdAt" END,
           CASE WHEN u."updatedAt" = (s.payload #>> '{legacy,updatedAt}')::timestamp THEN (s.payload ->> 'updatedAt')::timestamp ELSE u."updatedAt" END
    FROM users u
    LEFT JOIN (
        SELECT DISTINCT ON ("userId") "userId", "fileUrl"
        FROM hospital_business_licenses
        ORDER BY "userId", "uploadedAt" DESC, id DESC
    ) lic ON lic."userId" = u.id
    LEFT JOIN iamvet_rollback_stash s ON s.kind = 'hospitals' AND s.key = u.id
    WHERE u."userType" = 'HOSPITAL';
EXCEPTION WHEN not_null_violation THEN
    SELECT count(*) INTO missing FROM users WHERE "userType" = 'HOSPITAL' AND "hospitalName" IS NULL;
    IF missing = 0 THEN
        RAISE;
    END IF;
    SELECT string_agg(id, ', ') INTO first_ids
    FROM (SELECT id FROM users WHERE "userType" = 'HOSPITAL' AND "hospitalName" IS NULL ORDER BY id LIMIT 20) f;
    RAISE EXCEPTION 'hospitals: % HOSPITAL user(s) have no hospitalName, which the new table requires (first ids: %)', missing, first_ids
        USING ERRCODE = 'not_null_violation',
              HINT = 'Fill users."hospitalName" for these accounts, then migrate again.';
END $$;

ALTER TABLE hospitals ADD CONSTRAINT hospitals_pkey PRIMARY KEY (id);
ALTER TABLE hospitals ADD CONSTRAINT "hospitals_userId_key" UNIQUE ("userId");
ALTER TABLE hospitals ADD CONSTRAINT "hospitals_businessNumber_key" UNIQUE ("businessNumber");
CREATE INDEX hospitals_latitude_longitude_idx ON hospitals (latitude, longitude);
ALTER TABLE hospitals ADD CONSTRAINT "hospitals_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE hospitals;

DELETE FROM iamvet_rollback_stash WHERE kind = 'hospitals';
