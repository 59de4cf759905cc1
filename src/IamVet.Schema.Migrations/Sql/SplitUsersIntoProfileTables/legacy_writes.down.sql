-- The rollback's own writes to the legacy tables are not old-application writes: not recorded
-- (legacy_writes.up.sql). For this transaction only.
SET LOCAL iamvet.rollback = 'on';
