SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

-- Bulk-load order: bare table, one INSERT … SELECT, then keys, indexes and foreign keys.
CREATE TABLE veterinarians (
    id             varchar      NOT NULL,
    "userId"       varchar      NOT NULL,
    "realName"     varchar      NOT NULL,
    "birthDate"    timestamp(6),
    nickname       varchar(100),
    "licenseImage" varchar,
    "createdAt"    timestamp(6) NOT NULL DEFAULT now(),
    "updatedAt"    timestamp(6) NOT NULL DEFAULT now()
);

INSERT INTO veterinarians (id, "userId", "realName", "birthDate", nickname, "licenseImage", "createdAt", "updatedAt")
-- The id and exact timestamps a rollback kept (docs/adr/0002): a timestamp only while the legacy
-- column still holds what that rollback left there.
SELECT coalesce(s.payload ->> 'id', 'vet_' || u.id), u.id, u."realName",
       CASE WHEN u."birthDate" = (s.payload #>> '{legacy,birthDate}')::timestamp THEN (s.payload ->> 'birthDate')::timestamp ELSE u."birthDate" END,
       u.nickname, u."licenseImage",
       CASE WHEN u."createdAt" = (s.payload #>> '{legacy,createdAt}')::timestamp THEN (s.payload ->> 'createdAt')::timestamp ELSE u."createdAt" END,
       CASE WHEN u."updatedAt" = (s.payload #>> '{legacy,updatedAt}')::timestamp THEN (s.payload ->> 'updatedAt')::timestamp ELSE u."updatedAt" END
FROM users u
LEFT JOIN iamvet_rollback_stash s ON s.kind = 'veterinarians' AND s.key = u.id
WHERE u."userType" = 'VETERINARIAN';

ALTER TABLE veterinarians ADD CONSTRAINT veterinarians_pkey PRIMARY KEY (id);
ALTER TABLE veterinarians ADD CONSTRAINT "veterinarians_userId_key" UNIQUE ("userId");
CREATE INDEX veterinarians_nickname_idx ON veterinarians (nickname);
ALTER TABLE veterinarians ADD CONSTRAINT "veterinarians_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE veterinarians;

DELETE FROM iamvet_rollback_stash WHERE kind = 'veterinarians';
