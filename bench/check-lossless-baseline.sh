#!/usr/bin/env bash
# Checks that bench/baseline-down-lossless.sql leaves the five legacy tables (users,
# hospital_facility_images, hospital_animals, hospital_specialties, hospital_business_licenses)
# exactly as the runner's `migrate down` does, after the same application writes.
#   bench/check-lossless-baseline.sh [USERS]        default 20000 users
# On a throwaway local cluster of its own (scripts/lib/pg-throwaway.sh, stopped at the end):
# seed USERS legacy users with the dirty rows (`seed --dirty`; the one HOSPITAL without
# hospitalName, which blocks the up, gets a name), `migrate up --no-backup`, then two copies;
# the same deterministic application-style writes on both (below: profile edits in all three
# profile tables, exchanged universityEmails and businessNumbers, new and cleared licence files,
# images deleted in the middle and at the end, re-URLed, reordered and added, animals and
# specialties removed and added, values with no legacy column); then `migrate down --no-backup`
# on one and `psql --single-transaction -f bench/baseline-down-lossless.sql` on the other.
# Compares count and md5(string_agg(row::text ORDER BY row::text)) of each legacy table (all
# columns, users included); the "writes reached it" column compares the runner's result with the
# same table right after the up, to show the writes reached every table. The stash
# (iamvet_rollback_stash, which the baseline does not keep) is listed, not compared.
# Exit 0 only if all five tables are equal.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/pg-throwaway.sh
# Only a cluster this script starts is ever stopped: forget one inherited from a caller.
unset PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION
. scripts/lib/connection.sh

users=${1:-20000}
work=$(mktemp -d /tmp/iamvet-lossless-check.XXXXXX)
trap 'pg_throwaway_stop; rm -rf "$work"' EXIT
legacy_tables="users hospital_facility_images hospital_animals hospital_specialties hospital_business_licenses"

pg_throwaway_start
admin=$PGTHROWAWAY_CONNECTION
echo "building the runner (Release)…" >&2
dotnet build src/IamVet.Schema.Runner -c Release -nologo -v quiet -o "$work/runner" >/dev/null
runner_in() { local db=$1; shift; (cd "$work" && IAMVET_SCHEMA_CONNECTION=$(conn_with_database "$admin" "$db") dotnet "$work/runner/iamvet-schema.dll" "$@"); }
sql() { conn_psql "$admin" -At "$@"; }
sql_in() { local db=$1; shift; conn_psql "$(conn_with_database "$admin" "$db")" -At "$@"; }
fingerprint() { sql_in "$1" -c "SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '-') FROM $2 t"; }

echo "seeding $users users (with the dirty rows), migrate up…" >&2
sql -c "CREATE DATABASE chk_src"
runner_in chk_src seed --create-legacy-schema --users "$users" --dirty --yes --json >/dev/null
sql_in chk_src -c "UPDATE users SET \"hospitalName\" = '이름생김동물병원' WHERE id = 'dirty_hospital_no_name'" >/dev/null
runner_in chk_src migrate up --no-backup --yes --json > "$work/up.json" || { cat "$work/up.json" >&2; exit 1; }
for t in $legacy_tables; do fingerprint chk_src "$t" > "$work/after-up.$t"; done
sql -c "CREATE DATABASE chk_runner TEMPLATE chk_src" -c "CREATE DATABASE chk_baseline TEMPLATE chk_src"

cat > "$work/app-writes.sql" <<'SQL'
-- Veterinarians: edit every column the down carries back; clear some nicknames.
UPDATE veterinarians SET "realName" = "realName" || ' (개명)', "birthDate" = timestamp '1988-03-04 05:06:07.891234',
       nickname = CASE WHEN nickname IS NULL THEN 'newnick_' || id END,
       "licenseImage" = 'https://cdn.iamvet.kr/licenses/new/' || id || '.png', "updatedAt" = timestamp '2026-01-02 03:04:05.678901'
WHERE abs(hashtext(id)) % 40 = 0;
-- Students: edit names and nicknames, give some a new universityEmail, clear some, exchange two.
UPDATE veterinary_students SET "realName" = "realName" || '2', nickname = 'stud_' || id, "birthDate" = NULL,
       "universityEmail" = CASE WHEN abs(hashtext(id)) % 3 = 0 THEN NULL ELSE 'new_' || id || '@snu.ac.kr' END
WHERE abs(hashtext(id)) % 40 = 1;
CREATE TEMP TABLE swap_s AS
SELECT id, "universityEmail" AS e, row_number() OVER (ORDER BY id) AS rn
FROM (SELECT id, "universityEmail" FROM veterinary_students WHERE "universityEmail" LIKE 'stu%' ORDER BY id LIMIT 2) x;
UPDATE veterinary_students SET "universityEmail" = 'swap-tmp' WHERE id = (SELECT id FROM swap_s WHERE rn = 1);
UPDATE veterinary_students SET "universityEmail" = (SELECT e FROM swap_s WHERE rn = 1) WHERE id = (SELECT id FROM swap_s WHERE rn = 2);
UPDATE veterinary_students SET "universityEmail" = (SELECT e FROM swap_s WHERE rn = 2) WHERE id = (SELECT id FROM swap_s WHERE rn = 1);
-- Hospitals: edit the moved columns, set the columns that have no legacy home (stash), exchange two
-- business numbers, give one a new number.
UPDATE hospitals SET "hospitalName" = "hospitalName" || ' 2호점', "representativeName" = '새원장' || right(id, 3),
       "establishedDate" = timestamp '2010-10-10 10:10:10.101010', "hospitalAddress" = '세종특별자치시 한누리대로 ' || right(id, 2),
       "hospitalAddressDetail" = NULL, "hospitalLogo" = 'https://cdn.iamvet.kr/logos/new/' || id || '.png',
       "hospitalWebsite" = 'https://new-' || id || '.co.kr', "postalCode" = '30100', latitude = 36.48, longitude = 127.26,
       "hospitalDescription" = '설명 ' || id, "updatedAt" = timestamp '2026-02-03 04:05:06.789012'
WHERE abs(hashtext(id)) % 20 = 2;
CREATE TEMP TABLE swap_h AS
SELECT id, "businessNumber" AS b, row_number() OVER (ORDER BY id) AS rn
FROM (SELECT id, "businessNumber" FROM hospitals WHERE "businessNumber" IS NOT NULL AND id LIKE 'hosp_usr_%' ORDER BY id LIMIT 3) x;
UPDATE hospitals SET "businessNumber" = 'swap-tmp' WHERE id = (SELECT id FROM swap_h WHERE rn = 1);
UPDATE hospitals SET "businessNumber" = (SELECT b FROM swap_h WHERE rn = 1) WHERE id = (SELECT id FROM swap_h WHERE rn = 2);
UPDATE hospitals SET "businessNumber" = (SELECT b FROM swap_h WHERE rn = 2) WHERE id = (SELECT id FROM swap_h WHERE rn = 1);
UPDATE hospitals SET "businessNumber" = '777-77-' || right(id, 5) WHERE id = (SELECT id FROM swap_h WHERE rn = 3);
-- businessLicenseFile: new files (with and without an earlier licence, one without an extension),
-- one set back to the file it already has (no new row), one cleared.
UPDATE hospitals SET "businessLicenseFile" = 'https://cdn.iamvet.kr/licenses/business/new/' || id || '.PDF',
       "updatedAt" = timestamp '2026-03-04 05:06:07.891234'
WHERE abs(hashtext(id)) % 20 = 3;
UPDATE hospitals SET "businessLicenseFile" = 'https://cdn.iamvet.kr/licenses/business/new/' || id || '/scan',
       "updatedAt" = timestamp '2020-01-01 00:00:00'
WHERE abs(hashtext(id)) % 20 = 4;
UPDATE hospitals SET "businessLicenseFile" = "businessLicenseFile" || ''
WHERE id = (SELECT min(id) FROM hospitals WHERE "businessLicenseFile" IS NOT NULL AND abs(hashtext(id)) % 20 = 5);
UPDATE hospitals SET "businessLicenseFile" = NULL
WHERE id = (SELECT max(id) FROM hospitals WHERE "businessLicenseFile" IS NOT NULL AND abs(hashtext(id)) % 20 = 5);
-- Images: delete a middle image (a gap in imageOrder) and a last one, re-URL, reorder, add (also to
-- hospitals with none), describe (stash).
DELETE FROM hospital_images i USING hospitals h
WHERE h.id = i."hospitalId" AND abs(hashtext(h.id)) % 10 = 0 AND i."imageOrder" = 2
  AND EXISTS (SELECT FROM hospital_images j WHERE j."hospitalId" = i."hospitalId" AND j."imageOrder" = 3);
DELETE FROM hospital_images i USING hospitals h
WHERE h.id = i."hospitalId" AND abs(hashtext(h.id)) % 10 = 1
  AND i."imageOrder" = (SELECT max("imageOrder") FROM hospital_images j WHERE j."hospitalId" = i."hospitalId");
UPDATE hospital_images SET "imageUrl" = "imageUrl" || '?v=2', "updatedAt" = timestamp '2026-04-05 06:07:08.912345'
WHERE abs(hashtext(id)) % 25 = 0;
UPDATE hospital_images SET "imageDescription" = '대기실 ' || id WHERE abs(hashtext(id)) % 25 = 1;
CREATE TEMP TABLE reorder AS
SELECT h.id FROM hospitals h
WHERE (abs(hashtext(h.id)) % 10 = 2 OR h.id = 'hosp_dirty_hospital_duplicates')
  AND (SELECT count(*) FROM hospital_images j WHERE j."hospitalId" = h.id) >= 2;
UPDATE hospital_images SET "imageOrder" = -1 WHERE "imageOrder" = 1 AND "hospitalId" IN (SELECT id FROM reorder);
UPDATE hospital_images SET "imageOrder" = 1 WHERE "imageOrder" = 2 AND "hospitalId" IN (SELECT id FROM reorder);
UPDATE hospital_images SET "imageOrder" = 2 WHERE "imageOrder" = -1 AND "hospitalId" IN (SELECT id FROM reorder);
INSERT INTO hospital_images (id, "hospitalId", "userId", "imageUrl", "imageOrder", "imageDescription", "createdAt", "updatedAt")
SELECT 'app_img_' || h.id, h.id, h."userId", 'https://cdn.iamvet.kr/facilities/app/' || h.id || '.jpg',
       coalesce((SELECT max("imageOrder") FROM hospital_images j WHERE j."hospitalId" = h.id), 0) + 1,
       CASE WHEN abs(hashtext(h.id)) % 2 = 0 THEN '새 사진' END,
       timestamp '2026-05-06 07:08:09.123456', timestamp '2026-05-06 07:08:09.123456'
FROM hospitals h WHERE abs(hashtext(h.id)) % 10 IN (3, 0);
-- Animals and specialties: remove some (also a legacy duplicate pair), add new ones, remove and
-- re-add one under a new id.
DELETE FROM hospital_treatment_animals WHERE abs(hashtext(id)) % 15 = 0 OR (id = 'hta_dirty_ani_1');
INSERT INTO hospital_treatment_animals (id, "hospitalId", "userId", "animalType", "createdAt")
SELECT 'app_hta_' || h.id, h.id, h."userId", '특수동물', timestamp '2026-06-07 08:09:10.234567'
FROM hospitals h WHERE abs(hashtext(h.id)) % 12 = 0;
UPDATE hospital_treatment_animals SET id = 'app_re_' || id, "createdAt" = timestamp '2026-06-07 08:09:10.5'
WHERE abs(hashtext(id)) % 15 = 1;
DELETE FROM hospital_treatment_specialties WHERE abs(hashtext(id)) % 15 = 0 OR (id = 'hts_dirty_spc_1');
INSERT INTO hospital_treatment_specialties (id, "hospitalId", "userId", specialty, "createdAt")
SELECT 'app_hts_' || h.id, h.id, h."userId", '한방과', timestamp '2026-06-07 08:09:10.345678'
FROM hospitals h WHERE abs(hashtext(h.id)) % 12 = 1;
SQL
echo "the same application writes on both copies…" >&2
sql_in chk_runner --single-transaction -f "$work/app-writes.sql"
sql_in chk_baseline --single-transaction -f "$work/app-writes.sql"

echo "migrate down on chk_runner, baseline-down-lossless.sql on chk_baseline…" >&2
runner_in chk_runner migrate down --no-backup --yes --json > "$work/down.json" || { cat "$work/down.json" >&2; exit 1; }
sql_in chk_baseline --single-transaction -f bench/baseline-down-lossless.sql
# VersionInfo is bookkeeping (baseline-down.sql leaves it too): forget the up, as a runner down does. Not compared.
sql_in chk_baseline -c "DELETE FROM \"VersionInfo\" WHERE \"Version\" > 202509290000" >/dev/null

status=0
printf '\n%-28s%-10s%-10s%-20s%s\n' "legacy table" "rows" "equal" "writes reached it" "md5 (runner / baseline)"
for t in $legacy_tables; do
  read -r n_runner md5_runner <<< "$(fingerprint chk_runner "$t")"
  read -r n_base md5_base <<< "$(fingerprint chk_baseline "$t")"
  read -r _ md5_up < "$work/after-up.$t"
  equal=yes; [ "$n_runner $md5_runner" = "$n_base $md5_base" ] || { equal=NO; status=1; }
  reached=yes; [ "$md5_runner" != "$md5_up" ] || reached=no
  printf '%-28s%-10s%-10s%-20s%s / %s\n' "$t" "$n_runner" "$equal" "$reached" "$md5_runner" "$md5_base"
done
echo
echo "kept by the runner only (iamvet_rollback_stash, not compared): $(sql_in chk_runner -c \
  "SELECT coalesce(string_agg(kind || ' ' || n, ', '), 'nothing') FROM (SELECT kind, count(*) AS n FROM iamvet_rollback_stash GROUP BY kind ORDER BY kind) s" 2>/dev/null || echo nothing)"
if [ $status -eq 0 ]; then echo "OK: baseline-down-lossless.sql leaves the legacy tables as migrate down does"; else echo "FAILED: the legacy tables differ" >&2; fi
exit $status
