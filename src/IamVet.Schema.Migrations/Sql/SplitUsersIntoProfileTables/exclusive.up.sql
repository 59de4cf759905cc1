-- The up's only statement that takes ACCESS EXCLUSIVE on users, and its last (docs/adr/0006): every
-- lock is held to COMMIT, so from here on no session can read users until the migration commits.
-- During the expand phase the new application inserts users without realName (it lives in the
-- profile tables now), so the column must accept NULL.
ALTER TABLE users ALTER COLUMN "realName" DROP NOT NULL;
