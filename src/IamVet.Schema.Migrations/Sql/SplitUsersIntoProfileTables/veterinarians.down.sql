-- The table is the truth after Up: write back every value the legacy columns lack
-- (profiles created or edited by the new application). The table goes in exclusive.down.sql.
UPDATE users u
SET "realName"     = v."realName",
    "birthDate"    = v."birthDate",
    nickname       = v.nickname,
    "licenseImage" = v."licenseImage"
FROM veterinarians v
WHERE v."userId" = u.id
  AND (u."realName", u."birthDate", u.nickname, u."licenseImage")
      IS DISTINCT FROM (v."realName"::text, v."birthDate"::timestamp(3), v.nickname, v."licenseImage"::text);
