-- After the up the new tables are the truth. An old application instance that still writes a moved
-- column of users or a legacy side table (a rolling deploy) writes where the new application never
-- looks, and the rollback, which carries the new tables back, would overwrite it. Every such write
-- is recorded here, so that the rollback's audit names it before anything changes and the operator
-- chooses which side wins (docs/adr/0007). The rollback's own write-back is not recorded
-- (iamvet.rollback, set by legacy_writes.down.sql). A TRUNCATE of users or of a side table fires no
-- row trigger: a statement trigger BEFORE it records every row it is about to remove, as a DELETE of
-- each would be (operation TRUNCATE). Creating a trigger takes SHARE ROW EXCLUSIVE: readers go on.
-- exclusive.down.sql drops all of it.
CREATE TABLE iamvet_legacy_writes (
    id          bigserial   PRIMARY KEY,
    table_name  text        NOT NULL,
    row_id      text        NOT NULL,
    user_id     text,
    operation   text        NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    written_by  text        NOT NULL DEFAULT current_user,
    application text        DEFAULT current_setting('application_name', true)
);

CREATE FUNCTION iamvet_record_legacy_write() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('iamvet.rollback', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' AND TG_TABLE_NAME = 'users' THEN
        INSERT INTO iamvet_legacy_writes (table_name, row_id, user_id, operation) SELECT 'users', u.id, u.id, TG_OP FROM users u;
    ELSIF TG_OP = 'TRUNCATE' THEN
        EXECUTE format('INSERT INTO iamvet_legacy_writes (table_name, row_id, user_id, operation) SELECT %L, s.id, s."userId", %L FROM %I s',
                       TG_TABLE_NAME, TG_OP, TG_TABLE_NAME);
    ELSIF TG_TABLE_NAME = 'users' THEN
        INSERT INTO iamvet_legacy_writes (table_name, row_id, user_id, operation) VALUES ('users', NEW.id, NEW.id, TG_OP);
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO iamvet_legacy_writes (table_name, row_id, user_id, operation) VALUES (TG_TABLE_NAME, OLD.id, OLD."userId", TG_OP);
    ELSE
        INSERT INTO iamvet_legacy_writes (table_name, row_id, user_id, operation) VALUES (TG_TABLE_NAME, NEW.id, NEW."userId", TG_OP);
        IF TG_OP = 'UPDATE' AND OLD."userId" IS DISTINCT FROM NEW."userId" THEN
            INSERT INTO iamvet_legacy_writes (table_name, row_id, user_id, operation) VALUES (TG_TABLE_NAME, OLD.id, OLD."userId", TG_OP);
        END IF;
    END IF;
    RETURN NULL;
END $$;

-- users: Sql/Shared/legacy_writes_trigger_on_users.sql (the cleanup drops and re-creates it with the columns it names).
CREATE TRIGGER iamvet_legacy_writes AFTER INSERT OR UPDATE OR DELETE ON hospital_facility_images
    FOR EACH ROW EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_writes AFTER INSERT OR UPDATE OR DELETE ON hospital_animals
    FOR EACH ROW EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_writes AFTER INSERT OR UPDATE OR DELETE ON hospital_specialties
    FOR EACH ROW EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_writes AFTER INSERT OR UPDATE OR DELETE ON hospital_business_licenses
    FOR EACH ROW EXECUTE FUNCTION iamvet_record_legacy_write();

-- TRUNCATE (of users too: it cannot run without the tables whose foreign keys reference users, the
-- new ones among them, so the new application's rows go with it). The cleanup leaves this one alone.
CREATE TRIGGER iamvet_legacy_truncates BEFORE TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_truncates BEFORE TRUNCATE ON hospital_facility_images
    FOR EACH STATEMENT EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_truncates BEFORE TRUNCATE ON hospital_animals
    FOR EACH STATEMENT EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_truncates BEFORE TRUNCATE ON hospital_specialties
    FOR EACH STATEMENT EXECUTE FUNCTION iamvet_record_legacy_write();
CREATE TRIGGER iamvet_legacy_truncates BEFORE TRUNCATE ON hospital_business_licenses
    FOR EACH STATEMENT EXECUTE FUNCTION iamvet_record_legacy_write();
