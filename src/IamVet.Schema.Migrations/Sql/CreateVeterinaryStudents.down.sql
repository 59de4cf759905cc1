-- users."universityEmail" has a UNIQUE index, checked row by row: clear the values that change
-- first, so emails two students exchanged (or one passed on to another) cannot collide mid-UPDATE.
UPDATE users u
SET "universityEmail" = NULL
FROM veterinary_students s
WHERE s."userId" = u.id
  AND u."universityEmail" IS DISTINCT FROM s."universityEmail"::text;

UPDATE users u
SET "realName"        = s."realName",
    "birthDate"       = s."birthDate",
    nickname          = s.nickname,
    "universityEmail" = s."universityEmail"
FROM veterinary_students s
WHERE s."userId" = u.id
  AND (u."realName", u."birthDate", u.nickname, u."universityEmail")
      IS DISTINCT FROM (s."realName"::text, s."birthDate"::timestamp(3), s.nickname, s."universityEmail"::text);

DROP TABLE veterinary_students;
