-- The down's statements that take ACCESS EXCLUSIVE on users, last (docs/adr/0006): dropping a
-- foreign key to users drops its triggers, which live on users; so does DROP TRIGGER on a legacy
-- table; so does the CHECK constraint added to users.
-- Everything was written back before this point; every lock is held to COMMIT.
DROP TRIGGER IF EXISTS iamvet_legacy_writes ON users;  -- (gone while the cleanup is applied: it names moved columns)
DROP TRIGGER iamvet_legacy_writes ON hospital_facility_images;
DROP TRIGGER iamvet_legacy_writes ON hospital_animals;
DROP TRIGGER iamvet_legacy_writes ON hospital_specialties;
DROP TRIGGER iamvet_legacy_writes ON hospital_business_licenses;
DROP TRIGGER iamvet_legacy_truncates ON users;
DROP TRIGGER iamvet_legacy_truncates ON hospital_facility_images;
DROP TRIGGER iamvet_legacy_truncates ON hospital_animals;
DROP TRIGGER iamvet_legacy_truncates ON hospital_specialties;
DROP TRIGGER iamvet_legacy_truncates ON hospital_business_licenses;
DROP FUNCTION iamvet_record_legacy_write();
DROP TABLE iamvet_legacy_writes;

-- The new tables go from the schema here: their foreign keys to users are dropped and they are
-- renamed out of the application's way, so from COMMIT on no statement finds them (a write the
-- new application has queued behind this transaction's locks fails, as against a dropped table,
-- and cannot vanish). DROP TABLE would unlink their files at COMMIT, with users still locked
-- (0.13–0.5 s at 1M users): the runner drops them right after COMMIT, in a transaction of its
-- own that locks nothing the application uses (rolled_back_tables.drop.sql, docs/adr/0009).
ALTER TABLE hospital_treatment_specialties DROP CONSTRAINT "hospital_treatment_specialties_userId_fkey";
ALTER TABLE hospital_treatment_animals DROP CONSTRAINT "hospital_treatment_animals_userId_fkey";
ALTER TABLE hospital_images DROP CONSTRAINT "hospital_images_userId_fkey";
ALTER TABLE hospitals DROP CONSTRAINT "hospitals_userId_fkey";
ALTER TABLE veterinary_students DROP CONSTRAINT "veterinary_students_userId_fkey";
ALTER TABLE veterinarians DROP CONSTRAINT "veterinarians_userId_fkey";
ALTER TABLE hospital_treatment_specialties RENAME TO iamvet_rolled_back_hospital_treatment_specialties;
ALTER TABLE hospital_treatment_animals RENAME TO iamvet_rolled_back_hospital_treatment_animals;
ALTER TABLE hospital_images RENAME TO iamvet_rolled_back_hospital_images;
ALTER TABLE hospitals RENAME TO iamvet_rolled_back_hospitals;
ALTER TABLE veterinary_students RENAME TO iamvet_rolled_back_veterinary_students;
ALTER TABLE veterinarians RENAME TO iamvet_rolled_back_veterinarians;

-- realName must be NOT NULL again, now that the profile tables' values are back. SET NOT NULL would
-- scan users here, under the lock every statement above holds to COMMIT; a CHECK NOT VALID does not
-- scan, and refuses every row written without a name from COMMIT on. The runner makes the column
-- NOT NULL right after COMMIT (realName_not_null.after-commit.sql, docs/adr/0008).
ALTER TABLE users ADD CONSTRAINT users_realname_not_null CHECK ("realName" IS NOT NULL) NOT VALID;
