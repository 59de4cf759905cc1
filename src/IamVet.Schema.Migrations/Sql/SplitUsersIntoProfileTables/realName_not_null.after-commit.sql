-- The rollback's last step, after its COMMIT, in a transaction of its own (docs/adr/0008).
-- The Down left users."realName" nullable with CHECK (users_realname_not_null) NOT VALID, which
-- every row written since has had to pass. VALIDATE scans users under SHARE UPDATE EXCLUSIVE
-- (reads and writes go on); SET NOT NULL then needs ACCESS EXCLUSIVE only for a moment: the valid
-- CHECK proves the column has no NULL, so PostgreSQL skips its own scan. Does nothing when done.
DO $$
DECLARE
    missing bigint;
    first_ids text;
BEGIN
    IF NOT EXISTS (SELECT FROM pg_constraint WHERE conrelid = 'public.users'::regclass AND conname = 'users_realname_not_null') THEN
        RETURN;
    END IF;
    BEGIN
        ALTER TABLE users VALIDATE CONSTRAINT users_realname_not_null;
    EXCEPTION WHEN check_violation THEN
        SELECT count(*) INTO missing FROM users WHERE "realName" IS NULL;
        SELECT string_agg(id, ', ') INTO first_ids
        FROM (SELECT id FROM users WHERE "realName" IS NULL ORDER BY id LIMIT 20) f;
        RAISE EXCEPTION 'cannot make users."realName" NOT NULL again: % user(s) have no realName (first ids: %)', missing, first_ids
            USING ERRCODE = 'not_null_violation',
                  HINT = 'The rollback itself is committed; until this step runs, new rows without a realName are refused. Give these users a realName (or delete them) and run migrate down again to finish it.';
    END;
    ALTER TABLE users ALTER COLUMN "realName" SET NOT NULL;
    ALTER TABLE users DROP CONSTRAINT users_realname_not_null;
END $$;
