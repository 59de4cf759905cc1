-- The legacy iamvet schema (before normalization), as in production.
CREATE TYPE "UserType" AS ENUM ('VETERINARIAN', 'HOSPITAL', 'VETERINARY_STUDENT');
CREATE TYPE "Provider" AS ENUM ('NORMAL', 'GOOGLE', 'KAKAO', 'NAVER');

CREATE TABLE users (
    id                      text          NOT NULL,
    email                   text          NOT NULL,
    phone                   text          NOT NULL,
    "passwordHash"          text,
    "profileImage"          text,
    "userType"              "UserType"    NOT NULL,
    provider                "Provider"    NOT NULL DEFAULT 'NORMAL',
    "isActive"              boolean       NOT NULL DEFAULT true,
    "termsAgreedAt"         timestamp(3)  NOT NULL,
    "privacyAgreedAt"       timestamp(3)  NOT NULL,
    "marketingAgreedAt"     timestamp(3),
    "deletedAt"             timestamp(3),
    "withdrawReason"        text,
    "restoredAt"            timestamp(3),
    "createdAt"             timestamp(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"             timestamp(3)  NOT NULL,
    "realName"              text          NOT NULL,
    "birthDate"             timestamp(3),
    "businessNumber"        text,
    "establishedDate"       timestamp(3),
    "hospitalAddress"       text,
    "hospitalAddressDetail" text,
    "hospitalLogo"          text,
    "hospitalName"          text,
    "hospitalWebsite"       text,
    "lastLoginAt"           timestamp(6),
    "licenseImage"          text,
    "loginId"               varchar(100),
    nickname                varchar(100),
    seq                     serial        NOT NULL,
    "universityEmail"       text,
    CONSTRAINT users_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_phone_key ON users (phone);
CREATE UNIQUE INDEX "users_loginId_key" ON users ("loginId");
CREATE UNIQUE INDEX users_seq_key ON users (seq);
CREATE UNIQUE INDEX "users_businessNumber_key" ON users ("businessNumber");
CREATE UNIQUE INDEX "users_universityEmail_key" ON users ("universityEmail");
CREATE INDEX "users_loginId_idx" ON users ("loginId");
CREATE INDEX users_nickname_idx ON users (nickname);

CREATE TABLE hospital_animals (
    id           text         NOT NULL,
    "userId"     text         NOT NULL,
    "animalType" text         NOT NULL,
    "createdAt"  timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT hospital_animals_pkey PRIMARY KEY (id)
);
CREATE INDEX "hospital_animals_userId_idx" ON hospital_animals ("userId");
ALTER TABLE hospital_animals ADD CONSTRAINT "hospital_animals_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospital_specialties (
    id          text         NOT NULL,
    "userId"    text         NOT NULL,
    specialty   text         NOT NULL,
    "createdAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT hospital_specialties_pkey PRIMARY KEY (id)
);
CREATE INDEX "hospital_specialties_userId_idx" ON hospital_specialties ("userId");
ALTER TABLE hospital_specialties ADD CONSTRAINT "hospital_specialties_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospital_facility_images (
    id             text         NOT NULL,
    "userId"       text         NOT NULL,
    "imageUrl"     text         NOT NULL,
    "displayOrder" integer      NOT NULL DEFAULT 0,
    "createdAt"    timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt"    timestamp(3) NOT NULL,
    CONSTRAINT hospital_facility_images_pkey PRIMARY KEY (id)
);
CREATE INDEX "hospital_facility_images_userId_idx" ON hospital_facility_images ("userId");
-- In production this key points at detailed_hospital_profiles("userId"), a table we do not manage;
-- no migration depends on where it points.
ALTER TABLE hospital_facility_images ADD CONSTRAINT "hospital_facility_images_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE hospital_business_licenses (
    id           text         NOT NULL,
    "userId"     text         NOT NULL,
    "fileName"   text         NOT NULL,
    "fileUrl"    text         NOT NULL,
    "fileType"   text         NOT NULL,
    "uploadedAt" timestamp(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "fileSize"   integer,
    CONSTRAINT hospital_business_licenses_pkey PRIMARY KEY (id)
);
CREATE INDEX "hospital_business_licenses_userId_idx" ON hospital_business_licenses ("userId");
ALTER TABLE hospital_business_licenses ADD CONSTRAINT "hospital_business_licenses_userId_fkey"
    FOREIGN KEY ("userId") REFERENCES users (id) ON UPDATE CASCADE ON DELETE CASCADE;

CREATE TABLE migration_log (
    id             serial       NOT NULL,
    migration_name varchar(255) NOT NULL,
    executed_at    timestamp(6) DEFAULT CURRENT_TIMESTAMP,
    description    text,
    CONSTRAINT migration_log_pkey PRIMARY KEY (id)
);
