-- The rollback stash (docs/adr/0002): what a Down keeps for the next Up that the legacy tables cannot
-- hold, per new table (kind) and legacy key (a profile's user id, a side row's legacy id). Exists only
-- while it holds something: the expand step's Up and Down create it first (if missing) and drop it
-- last when empty (rollback_stash.drop_if_empty.sql).
CREATE TABLE IF NOT EXISTS iamvet_rollback_stash (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    jsonb       NOT NULL,
    stashed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iamvet_rollback_stash_pkey PRIMARY KEY (kind, key)
);
