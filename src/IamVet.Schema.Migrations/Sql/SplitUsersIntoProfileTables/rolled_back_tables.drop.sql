-- The new tables a rollback renamed out of the application's way (exclusive.down.sql) are dropped
-- here, in a transaction of their own after the rollback's COMMIT (docs/adr/0009): their files are
-- unlinked at this COMMIT, which holds locks on these tables only, not on users. Also the first
-- statement of an up, for tables an unfinished rollback left (their index names would clash with
-- the tables the up creates). Does nothing when they are gone.
DROP TABLE IF EXISTS
    iamvet_rolled_back_hospital_treatment_specialties,
    iamvet_rolled_back_hospital_treatment_animals,
    iamvet_rolled_back_hospital_images,
    iamvet_rolled_back_hospitals,
    iamvet_rolled_back_veterinary_students,
    iamvet_rolled_back_veterinarians;
