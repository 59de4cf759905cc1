#!/usr/bin/env bash
# The test command (README, .ci/run): a real throwaway PostgreSQL, then `dotnet test`.
#   ./scripts/test.sh [--pg MAJOR] [dotnet test arguments…]
# --pg MAJOR (or IAMVET_TEST_PG_MAJOR=MAJOR) starts the throwaway cluster with that PostgreSQL major:
# Debian's when installed (15 here), else the server binaries scripts/lib/pg-throwaway.sh installs
# from npm (17). It prints a leg header line first. Without it: Debian's newest installed server,
# as always.
# The tests (and the runner processes they start) find pg_dump, pg_restore and psql on PATH, as an
# operator's runner does. When the pg_dump there is older than the throwaway server (the 17 leg:
# Debian 12 has pg_dump 15, which refuses a newer server), scripts/lib/pg-client.sh puts the client
# of the server's major first on PATH, fetched once from Debian's own archive (Debian 13's
# postgresql-client-17 with its own glibc, unpacked into /opt/iamvet-schema/pg-client-17). So every
# leg runs every test; the leg's closing header says how many ran.
# With IAMVET_TEST_POSTGRES already set (an admin connection string), that server is used instead
# and no cluster is started (not combined with --pg). Extra arguments go to `dotnet test` (e.g.
# --filter Name~Hospital).
# Ends with one plain line that any CI can read: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/pg-throwaway.sh
. scripts/lib/pg-throwaway.sh
# shellcheck source=lib/pg-client.sh
. scripts/lib/pg-client.sh

major=${IAMVET_TEST_PG_MAJOR:-}
user_filter=""
passthrough=()
while [ $# -gt 0 ]; do
  case "$1" in
    --pg) [ $# -ge 2 ] || { echo "error: --pg needs a PostgreSQL major (15, 17)" >&2; exit 2; }
          major=$2; shift 2 ;;
    --pg=*) major=${1#--pg=}; shift ;;
    --filter) [ $# -ge 2 ] || { echo "error: --filter needs an expression" >&2; exit 2; }
              user_filter=$2; shift 2 ;;
    --filter=*) user_filter=${1#--filter=}; shift ;;
    *) passthrough+=("$1"); shift ;;
  esac
done
if [ -n "$major" ] && ! [[ "$major" =~ ^[0-9]+$ ]]; then
  echo "error: --pg / IAMVET_TEST_PG_MAJOR is a PostgreSQL major (15, 17), not '$major'" >&2; exit 2
fi

if [ -z "${IAMVET_TEST_POSTGRES:-}" ]; then
  trap pg_throwaway_stop EXIT
  pg_throwaway_start ${major:+"$major"}
  export IAMVET_TEST_POSTGRES="$PGTHROWAWAY_CONNECTION"
  pg_client_put_first "$PGTHROWAWAY_MAJOR"   # pg_dump/pg_restore/psql of the server's major first on PATH
  export IAMVET_TEST_TLS_CA="$PGTHROWAWAY_TLS_CA"   # the CA of the cluster's TLS certificate (the TLS tests)
else
  if [ -n "$major" ]; then
    echo "error: --pg / IAMVET_TEST_PG_MAJOR starts a throwaway cluster; IAMVET_TEST_POSTGRES names a server already: use one or the other" >&2
    exit 2
  fi
  pg_throwaway_ensure_binaries   # pg_dump/pg_restore are needed by the backup tests all the same
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if [ -n "$major" ]; then
  server_version=$("$PGTHROWAWAY_BINDIR/postgres" --version | awk '{print $3}')
  echo "== leg: PostgreSQL $major (server $server_version from $PGTHROWAWAY_BINDIR; pg_dump $(pg_dump --version | awk '{print $3}') from $(dirname "$(command -v pg_dump)")) =="
fi
# `timeout` also gives dotnet test (and so every runner process the tests start) the default SIGINT
# handling: a background job of a shell without job control inherits SIGINT ignored, and the
# runner, like any .NET program, then never hears the Ctrl-C that the interruption tests send.
log=$(mktemp /tmp/iamvet-test.XXXXXX.log)
status=0
timeout 85m dotnet test IamVet.Schema.sln -c Release --logger "console;verbosity=normal" ${user_filter:+--filter "$user_filter"} "${passthrough[@]}" 2>&1 | tee "$log" || status=$?
passed=$(sed -n 's/^ *Passed: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
failed=$(sed -n 's/^ *Failed: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
total=$(sed -n 's/^ *Total tests: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
rm -f "$log"
# One plain closing line that any CI can read: "tests: N passed, N failed".
if [ -z "$passed" ] && [ "$status" -eq 0 ]; then
  echo "error: dotnet test reported no executed tests" >&2
  exit 1
fi
[ -z "$major" ] || echo "== leg: PostgreSQL $major: exit $status after $((SECONDS / 60))m$((SECONDS % 60))s, ${total:-0} tests run, none excluded =="
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
