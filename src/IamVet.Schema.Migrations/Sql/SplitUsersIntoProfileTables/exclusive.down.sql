-- The down's statements that take ACCESS EXCLUSIVE on users, last (docs/adr/0006): dropping a
-- table drops its foreign key to users, whose triggers live on users; so does DROP TRIGGER on a legacy
-- table; so does the CHECK constraint added to users.
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

-- realName must be NOT NULL again, now that the profile tables' values are back. SET NOT NULL would
-- scan users here, under the lock every statement above holds to COMMIT; a CHECK NOT VALID does not
-- scan, and refuses every row written without a name from COMMIT on. The runner makes the column
-- NOT NULL right after COMMIT (realName_not_null.after-commit.sql, docs/adr/0008).
ALTER TABLE users ADD CONSTRAINT users_realname_not_null CHECK ("realName" IS NOT NULL) NOT VALID;
