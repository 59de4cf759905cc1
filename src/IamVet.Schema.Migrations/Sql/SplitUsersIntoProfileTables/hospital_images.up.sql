SET LOCAL maintenance_work_mem = '512MB';
SET LOCAL work_mem = '256MB';

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
-- From the stash (docs/adr/0002): imageDescription, and the id and exact timestamps a rollback kept.
SELECT coalesce(s.payload ->> 'id', 'himg_' || f.id), h.id, f."userId", f."imageUrl",
       row_number() OVER (PARTITION BY f."userId" ORDER BY f."displayOrder", f."createdAt", f.id),
       s.payload ->> 'imageDescription',
       CASE WHEN f."createdAt" = (s.payload #>> '{legacy,createdAt}')::timestamp THEN (s.payload ->> 'createdAt')::timestamp ELSE f."createdAt" END,
       CASE WHEN f."updatedAt" = (s.payload #>> '{legacy,updatedAt}')::timestamp THEN (s.payload ->> 'updatedAt')::timestamp ELSE f."updatedAt" END
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
