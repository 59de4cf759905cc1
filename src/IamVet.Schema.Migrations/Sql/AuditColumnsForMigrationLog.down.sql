-- Keep what the audit columns hold: the legacy migration_log has nowhere to put it.
CREATE TABLE IF NOT EXISTS iamvet_rollback_stash (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    jsonb       NOT NULL,
    stashed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iamvet_rollback_stash_pkey PRIMARY KEY (kind, key)
);
INSERT INTO iamvet_rollback_stash (kind, key, payload)
SELECT 'migration_log', p.id::text, p.payload
FROM (
    -- Only the columns that are NULL are left out: jsonb_strip_nulls would also strip nulls nested
    -- inside details and change the audit JSON.
    SELECT m.id, (SELECT coalesce(jsonb_object_agg(c.key, c.value), '{}'::jsonb)
                  FROM jsonb_each(to_jsonb(m) - 'id' - 'migration_name' - 'executed_at' - 'description') c
                  WHERE c.value <> 'null'::jsonb) AS payload
    FROM migration_log m
) p
WHERE p.payload <> '{}'::jsonb
ON CONFLICT (kind, key) DO UPDATE SET payload = EXCLUDED.payload, stashed_at = now();

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

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM iamvet_rollback_stash) THEN
        DROP TABLE iamvet_rollback_stash;
    END IF;
END $$;
