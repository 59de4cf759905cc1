#!/usr/bin/env bash
# The one-command demo on a fresh machine: a throwaway PostgreSQL (a Docker engine if one answers,
# else a local throwaway cluster; Debian's postgresql is installed when missing), 100k realistic
# legacy users, then check → backup → migrate up → status → migrate down, each report shown.
# Everything it creates is removed at the end. Exit 0 only if every step and verification passed.
#   DEMO_USERS=N            users to seed (default 100000)
#   IAMVET_DEMO_POSTGRES=…  use this server instead (an admin Npgsql connection string); the demo
#                           creates and drops its own database there
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/lib/pg-throwaway.sh
# Only a cluster this script starts is ever stopped: forget one inherited from a caller (test.sh exports its own).
unset PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION
. scripts/lib/connection.sh

users=${DEMO_USERS:-100000}
workdir=$(mktemp -d /tmp/iamvet-demo.XXXXXX)
database="iamvet_demo_$$"
admin=""
container=""

cleanup() {
  local status=$?
  if [ -n "$admin" ]; then conn_psql "$admin" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true; fi
  [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1 || true
  pg_throwaway_stop
  rm -rf "$workdir"
  if [ $status -eq 0 ]; then echo "demo: every step passed; everything it created is removed."; else echo "demo: FAILED (exit $status); everything it created is removed." >&2; fi
  exit $status
}
trap cleanup EXIT

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

pg_throwaway_ensure_binaries   # psql, pg_dump and pg_restore are needed whichever server is used
if [ -n "${IAMVET_DEMO_POSTGRES:-}" ]; then
  admin=$IAMVET_DEMO_POSTGRES
  step "Using the PostgreSQL server given in IAMVET_DEMO_POSTGRES"
elif command -v docker >/dev/null 2>&1 && timeout 5 docker info >/dev/null 2>&1; then
  step "Starting a throwaway PostgreSQL 17 container"
  password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  container=$(docker run -d --rm -e POSTGRES_PASSWORD="$password" -p 127.0.0.1::5432 postgres:17)
  port=$(docker port "$container" 5432/tcp | head -n1 | sed 's/.*://')
  admin="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres"
  for _ in $(seq 1 60); do conn_psql "$admin" -c 'SELECT 1' >/dev/null 2>&1 && break; sleep 1; done
else
  step "No Docker engine: starting a throwaway local PostgreSQL cluster"
  pg_throwaway_start
  admin=$PGTHROWAWAY_CONNECTION
fi

conn_psql "$admin" -c "CREATE DATABASE \"$database\""
export IAMVET_SCHEMA_CONNECTION
IAMVET_SCHEMA_CONNECTION=$(conn_with_database "$admin" "$database")
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

step "Building the runner"
dotnet build "$root/src/IamVet.Schema.Runner" -c Release -nologo -v quiet -o "$workdir/runner" >/dev/null
runner() { (cd "$workdir" && dotnet "$workdir/runner/iamvet-schema.dll" "$@"); }

step "seed --users $users   (a legacy database like production's)"
runner seed --create-legacy-schema --users "$users" --yes
step "check   (pre-flight and data audit; changes nothing)"
runner check
step "backup   (pg_dump -Fc, read back, sha256, manifest)"
runner backup
step "migrate up   (lock, pre-flight, audit, backup, migrate + verify in one transaction, log)"
runner migrate up --yes
step "status"
runner status
step "migrate down   (every value back in the legacy columns, verified)"
runner migrate down --yes
