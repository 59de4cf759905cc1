-- The table is the truth after Up: the users rows whose legacy columns differ from it (profiles
-- created or edited by the new application) are found in ONE join, and only they are written.
CREATE TEMP TABLE student_changes AS
SELECT s."userId", s."realName", s."birthDate", s.nickname, s."universityEmail",
       u."universityEmail" IS DISTINCT FROM s."universityEmail"::text AS email_changes
FROM veterinary_students s
JOIN users u ON u.id = s."userId"
WHERE (u."realName", u."birthDate", u.nickname, u."universityEmail")
      IS DISTINCT FROM (s."realName"::text, s."birthDate"::timestamp(3), s.nickname, s."universityEmail"::text);
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
WHERE c."userId" = u.id;

DROP TABLE student_changes;
