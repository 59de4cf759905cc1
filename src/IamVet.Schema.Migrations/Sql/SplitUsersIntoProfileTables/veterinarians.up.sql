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
SELECT 'vet_' || u.id, u.id, u."realName", u."birthDate", u.nickname, u."licenseImage", u."createdAt", u."updatedAt"
FROM users u
WHERE u."userType" = 'VETERINARIAN';

ALTER TABLE veterinarians ADD CONSTRAINT veterinarians_pkey PRIMARY KEY (id);
ALTER TABLE veterinarians ADD CONSTRAINT "veterinarians_userId_key" UNIQUE ("userId");
CREATE INDEX veterinarians_nickname_idx ON veterinarians (nickname);
ALTER TABLE veterinarians ADD CONSTRAINT "veterinarians_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE veterinarians;
