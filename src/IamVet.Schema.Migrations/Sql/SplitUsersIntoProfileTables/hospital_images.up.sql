SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

CREATE TABLE IF NOT EXISTS iamvet_rollback_stash (
    kind       text        NOT NULL,
    key        text        NOT NULL,
    payload    jsonb       NOT NULL,
    stashed_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT iamvet_rollback_stash_pkey PRIMARY KEY (kind, key)
);

CREATE TABLE hospital_images (
    id                 varchar      NOT NULL,
    "hospitalId"       varchar      NOT NULL,
    "userId"           varchar      NOT NULL,
    "imageUrl"         varchar      NOT NULL,
    "imageOrder"       integer      NOT NULL,
    "imageDescription" varchar,
    "createdAt"        timestamp(6) NOT NULL DEFAULT now(),
    "updatedAt"        timestamp(6) NOT NULL DEFAULT now()
);

INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "imageDescription", "createdAt", "updatedAt")
SELECT 'himg_' || f.id, h.id, f."userId", f."imageUrl",
       row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id),
       s.payload ->> 'imageDescription', f."createdAt", f."updatedAt"
FROM hospital_facility_images f
JOIN hospitals h ON h."userId" = f."userId"
LEFT JOIN iamvet_rollback_stash s ON s.kind = 'hospital_images' AND s.key = f.id;

ALTER TABLE hospital_images ADD CONSTRAINT hospital_images_pkey PRIMARY KEY (id);
ALTER TABLE hospital_images ADD CONSTRAINT "hospital_images_hospitalId_imageOrder_key" UNIQUE ("hospitalId", "imageOrder");
CREATE INDEX "hospital_images_userId_idx" ON hospital_images ("userId");
ALTER TABLE hospital_images ADD CONSTRAINT "hospital_images_hospitalId_fkey"
    FOREIGN KEY ("hospitalId") REFERENCES hospitals (id) ON UPDATE CASCADE ON DELETE CASCADE;
ALTER TABLE hospital_images ADD CONSTRAINT "hospital_images_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;
ANALYZE hospital_images;

DELETE FROM iamvet_rollback_stash WHERE kind = 'hospital_images';
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM iamvet_rollback_stash) THEN
        DROP TABLE iamvet_rollback_stash;
    END IF;
END $$;
