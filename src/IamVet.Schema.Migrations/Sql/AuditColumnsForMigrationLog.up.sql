ALTER TABLE migration_log
    ADD COLUMN status         varchar(20),
    ADD COLUMN started_at     timestamptz,
    ADD COLUMN finished_at    timestamptz,
    ADD COLUMN duration_ms    bigint,
    ADD COLUMN version_from   bigint,
    ADD COLUMN version_to     bigint,
    ADD COLUMN backup_file    text,
    ADD COLUMN backup_sha256  varchar(64),
    ADD COLUMN runner_version varchar(50),
    ADD COLUMN host           varchar(255),
    ADD COLUMN os_user        varchar(255),
    ADD COLUMN details        jsonb,
    ADD CONSTRAINT migration_log_status_check CHECK (status IN
        ('RUNNING', 'SUCCESS', 'FAILED', 'ROLLED_BACK', 'REFUSED', 'NOTHING_TO_DO', 'ABORTED'));
CREATE INDEX migration_log_started_at_idx ON migration_log (started_at);

-- Audit values that an earlier rollback stashed come back.
CREATE TABLE IF NOT EXISTS iamvet_rollback_stash (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    jsonb       NOT NULL,
    stashed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iamvet_rollback_stash_pkey PRIMARY KEY (kind, key)
);
UPDATE migration_log m
SET (status, started_at, finished_at, duration_ms, version_from, version_to, backup_file,
     backup_sha256, runner_version, host, os_user, details)
  = (r.status, r.started_at, r.finished_at, r.duration_ms, r.version_from, r.version_to, r.backup_file,
     r.backup_sha256, r.runner_version, r.host, r.os_user, r.details)
FROM iamvet_rollback_stash s
CROSS JOIN LATERAL jsonb_populate_record(NULL::migration_log, s.payload) r
WHERE s.kind = 'migration_log' AND s.key = m.id::text;
DELETE FROM iamvet_rollback_stash WHERE kind = 'migration_log';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM iamvet_rollback_stash) THEN
        DROP TABLE iamvet_rollback_stash;
    END IF;
END $$;
