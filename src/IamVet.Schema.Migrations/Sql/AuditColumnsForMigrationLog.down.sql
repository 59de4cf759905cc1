-- Keep what the audit columns hold in the row itself: the legacy shape has only description, so a
-- row with audit values gets a last line "iamvet-audit: {…}" there (jsonb text has no newline), which
-- the next up reads back and removes. Nothing is left anywhere else (docs/adr/0002).
UPDATE migration_log m
SET description = concat_ws(E'\n', m.description, 'iamvet-audit: ' || p.payload::text)
FROM (
    -- Only the columns that are NULL are left out: jsonb_strip_nulls would also strip nulls nested
    -- inside details and change the audit JSON.
    SELECT l.id, (SELECT coalesce(jsonb_object_agg(c.key, c.value), '{}'::jsonb)
                  FROM jsonb_each(to_jsonb(l) - 'id' - 'migration_name' - 'executed_at' - 'description') c
                  WHERE c.value <> 'null'::jsonb) AS payload
    FROM migration_log l
) p
WHERE p.id = m.id AND p.payload <> '{}'::jsonb;

DROP INDEX migration_log_started_at_idx;
ALTER TABLE migration_log
    DROP CONSTRAINT migration_log_status_check,
    DROP COLUMN status,
    DROP COLUMN started_at,
    DROP COLUMN finished_at,
    DROP COLUMN duration_ms,
    DROP COLUMN version_from,
    DROP COLUMN version_to,
    DROP COLUMN backup_file,
    DROP COLUMN backup_sha256,
    DROP COLUMN runner_version,
    DROP COLUMN host,
    DROP COLUMN os_user,
    DROP COLUMN details;

