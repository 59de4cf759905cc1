-- The table is the truth after Up. ONE join finds the users rows whose legacy columns differ from it
-- (profiles created or edited by the new application), which are written back, and the profiles
-- holding what the next Up would not derive from users, which wait in the stash (as in
-- veterinarians.down.sql).
CREATE TEMP TABLE student_changes AS
SELECT s."userId", s."realName", s."birthDate", s.nickname, s."universityEmail", d.changes,
       d.changes AND u."universityEmail" IS DISTINCT FROM s."universityEmail"::text AS email_changes,
       jsonb_strip_nulls(jsonb_build_object(
           'id', CASE WHEN d.own_id THEN s.id END,
           'birthDate', CASE WHEN d.fine_birth THEN s."birthDate" END,
           'createdAt', CASE WHEN d.own_created THEN s."createdAt" END,
           'updatedAt', CASE WHEN d.own_updated THEN s."updatedAt" END,
           'legacy', jsonb_build_object(
               'birthDate', CASE WHEN d.fine_birth THEN s."birthDate"::timestamp(3) END,
               'createdAt', CASE WHEN d.own_created THEN u."createdAt" END,
               'updatedAt', CASE WHEN d.own_updated THEN u."updatedAt" END))) AS stash
FROM veterinary_students s
JOIN users u ON u.id = s."userId"
CROSS JOIN LATERAL (SELECT
    (u."realName", u."birthDate", u.nickname, u."universityEmail")
        IS DISTINCT FROM (s."realName"::text, s."birthDate"::timestamp(3), s.nickname, s."universityEmail"::text) AS changes,
    s.id::text <> 'vst_' || s."userId" AS own_id,
    s."birthDate" <> s."birthDate"::timestamp(3) AS fine_birth,
    s."createdAt" <> u."createdAt" AS own_created,
    s."updatedAt" <> u."updatedAt" AS own_updated) d
WHERE d.changes OR d.own_id OR d.fine_birth OR d.own_created OR d.own_updated;
ANALYZE student_changes;

-- users."universityEmail" has a UNIQUE index, checked row by row: clear the values that change
-- first, so emails two students exchanged (or one passed on to another) cannot collide mid-UPDATE.
UPDATE users u
SET "universityEmail" = NULL
FROM student_changes c
WHERE c."userId" = u.id AND c.email_changes;

UPDATE users u
SET "realName"        = c."realName",
    "birthDate"       = c."birthDate",
    nickname          = c.nickname,
    "universityEmail" = c."universityEmail"
FROM student_changes c
WHERE c."userId" = u.id AND c.changes;

INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'veterinary_students', c."userId", c.stash
FROM student_changes c
WHERE c.stash - 'legacy' <> '{}'
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();

DROP TABLE student_changes;
