-- The up's only statement that takes ACCESS EXCLUSIVE on users, and its last (docs/adr/0006): every
-- lock is held to COMMIT, so from here on no session can read users until the migration commits.
-- During the expand phase the new application inserts users without realName (it lives in the
-- profile tables now), so the column must accept NULL.
-- A rollback whose last step never ran (docs/adr/0008) left a CHECK in place of NOT NULL: gone too.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_realname_not_null, ALTER COLUMN "realName" DROP NOT NULL;
