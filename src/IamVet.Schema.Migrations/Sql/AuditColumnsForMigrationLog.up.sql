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

-- Audit values that an earlier rollback kept in description (its last line "iamvet-audit: {…}") come
-- back, and description is what it was (NULL when the line was all of it).
UPDATE migration_log m
SET (status, started_at, finished_at, duration_ms, version_from, version_to, backup_file,
     backup_sha256, runner_version, host, os_user, details)
  = (r.status, r.started_at, r.finished_at, r.duration_ms, r.version_from, r.version_to, r.backup_file,
     r.backup_sha256, r.runner_version, r.host, r.os_user, r.details),
    description = CASE WHEN m.description LIKE 'iamvet-audit: %' THEN NULL
                       ELSE left(m.description, length(m.description) - length(a.line) - 1) END
FROM (SELECT id, substring(description FROM '(?:^|\n)(iamvet-audit: \{[^\n]*\})$') AS line FROM migration_log) a
CROSS JOIN LATERAL jsonb_populate_record(NULL::migration_log, substr(a.line, length('iamvet-audit: ') + 1)::jsonb) r
WHERE a.id = m.id AND a.line IS NOT NULL;
