-- The down's statements that take ACCESS EXCLUSIVE on users, last (docs/adr/0006): dropping a
-- table drops its foreign key to users, whose triggers live on users; so does DROP TRIGGER on a legacy
-- table; SET NOT NULL alters users.
-- Everything was written back before this point; every lock is held to COMMIT.
DROP TRIGGER IF EXISTS iamvet_legacy_writes ON users;  -- (gone while the cleanup is applied: it names moved columns)
DROP TRIGGER iamvet_legacy_writes ON hospital_facility_images;
DROP TRIGGER iamvet_legacy_writes ON hospital_animals;
DROP TRIGGER iamvet_legacy_writes ON hospital_specialties;
DROP TRIGGER iamvet_legacy_writes ON hospital_business_licenses;
DROP FUNCTION iamvet_record_legacy_write();
DROP TABLE iamvet_legacy_writes;
DROP TABLE hospital_treatment_specialties;
DROP TABLE hospital_treatment_animals;
DROP TABLE hospital_images;
DROP TABLE hospitals;
DROP TABLE veterinary_students;
DROP TABLE veterinarians;

-- realName is NOT NULL again, now that the profile tables' values are back. SET NOT NULL scans
-- users once; only when it fails are the users without a name looked up.
DO $$
DECLARE
    missing bigint;
    first_ids text;
BEGIN
    ALTER TABLE users ALTER COLUMN "realName" SET NOT NULL;
EXCEPTION WHEN not_null_violation THEN
    SELECT count(*) INTO missing FROM users WHERE "realName" IS NULL;
    SELECT string_agg(id, ', ') INTO first_ids
    FROM (SELECT id FROM users WHERE "realName" IS NULL ORDER BY id LIMIT 20) f;
    RAISE EXCEPTION 'cannot make users."realName" NOT NULL again: % user(s) have no realName and no profile row to take it from (first ids: %)', missing, first_ids
        USING ERRCODE = 'not_null_violation',
              HINT = 'Give these users a realName (or delete them) and run migrate down again.';
END $$;
