-- The trigger that records an old application's write to a moved column of users
-- (SplitUsersIntoProfileTables/legacy_writes.up.sql; docs/adr/0007). Only a change of a moved column
-- fires it: the new application writes users' other columns. Used by the expand step's up and by the
-- cleanup's down, which gives the columns back (the cleanup's up drops the trigger with them).
CREATE TRIGGER iamvet_legacy_writes
    AFTER UPDATE OF "realName", "birthDate", nickname, "licenseImage", "universityEmail", "hospitalName", "businessNumber",
                    "establishedDate", "hospitalAddress", "hospitalAddressDetail", "hospitalLogo", "hospitalWebsite"
    ON users FOR EACH ROW
    WHEN ((OLD."realName", OLD."birthDate", OLD.nickname, OLD."licenseImage", OLD."universityEmail", OLD."hospitalName", OLD."businessNumber",
           OLD."establishedDate", OLD."hospitalAddress", OLD."hospitalAddressDetail", OLD."hospitalLogo", OLD."hospitalWebsite")
          IS DISTINCT FROM
          (NEW."realName", NEW."birthDate", NEW.nickname, NEW."licenseImage", NEW."universityEmail", NEW."hospitalName", NEW."businessNumber",
           NEW."establishedDate", NEW."hospitalAddress", NEW."hospitalAddressDetail", NEW."hospitalLogo", NEW."hospitalWebsite"))
    EXECUTE FUNCTION iamvet_record_legacy_write();
