-- The table is the truth after Up. ONE join finds the users rows whose legacy columns differ from it
-- (profiles created or edited by the new application), which are written back, and the profiles
-- holding what the next Up would not derive from users (docs/adr/0002): an id of the application's
-- own, a birthDate finer than users' timestamp(3), createdAt/updatedAt other than users'. Those wait
-- in the stash, each timestamp with the legacy value it refines: the next Up takes it only while the
-- legacy column still holds that value. The table goes in exclusive.down.sql.
CREATE TEMP TABLE veterinarian_changes AS
SELECT v."userId", v."realName", v."birthDate", v.nickname, v."licenseImage", d.changes,
       jsonb_strip_nulls(jsonb_build_object(
           'id', CASE WHEN d.own_id THEN v.id END,
           'birthDate', CASE WHEN d.fine_birth THEN v."birthDate" END,
           'createdAt', CASE WHEN d.own_created THEN v."createdAt" END,
           'updatedAt', CASE WHEN d.own_updated THEN v."updatedAt" END,
           'legacy', jsonb_build_object(
               'birthDate', CASE WHEN d.fine_birth THEN v."birthDate"::timestamp(3) END,
               'createdAt', CASE WHEN d.own_created THEN u."createdAt" END,
               'updatedAt', CASE WHEN d.own_updated THEN u."updatedAt" END))) AS stash
FROM veterinarians v
JOIN users u ON u.id = v."userId"
CROSS JOIN LATERAL (SELECT
    (u."realName", u."birthDate", u.nickname, u."licenseImage")
        IS DISTINCT FROM (v."realName"::text, v."birthDate"::timestamp(3), v.nickname, v."licenseImage"::text) AS changes,
    v.id::text <> 'vet_' || v."userId" AS own_id,
    v."birthDate" <> v."birthDate"::timestamp(3) AS fine_birth,
    v."createdAt" <> u."createdAt" AS own_created,
    v."updatedAt" <> u."updatedAt" AS own_updated) d
WHERE d.changes OR d.own_id OR d.fine_birth OR d.own_created OR d.own_updated;
ANALYZE veterinarian_changes;

UPDATE users u
SET "realName"     = c."realName",
    "birthDate"    = c."birthDate",
    nickname       = c.nickname,
    "licenseImage" = c."licenseImage"
FROM veterinarian_changes c
WHERE c."userId" = u.id AND c.changes;

INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'veterinarians', c."userId", c.stash
FROM veterinarian_changes c
WHERE c.stash - 'legacy' <> '{}'
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();

DROP TABLE veterinarian_changes;
