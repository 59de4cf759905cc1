#!/usr/bin/env bash
# The test command (README, .ci/run): a real throwaway PostgreSQL, then `dotnet test`.
# With IAMVET_TEST_POSTGRES already set (an admin connection string), that server is used instead
# and no cluster is started. Extra arguments go to `dotnet test` (e.g. --filter Name~Hospital).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/pg-throwaway.sh
. scripts/lib/pg-throwaway.sh

if [ -z "${IAMVET_TEST_POSTGRES:-}" ]; then
  trap pg_throwaway_stop EXIT
  pg_throwaway_start
  export IAMVET_TEST_POSTGRES="$PGTHROWAWAY_CONNECTION"
else
  pg_throwaway_ensure_binaries   # pg_dump/pg_restore are needed by the backup tests all the same
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp /tmp/iamvet-test.XXXXXX.log)
status=0
dotnet test IamVet.Schema.sln -c Release --logger "console;verbosity=normal" "$@" 2>&1 | tee "$log" || status=$?
# One plain closing line that any CI can read: "tests: N passed, N failed".
passed=$(sed -n 's/^ *Passed: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
failed=$(sed -n 's/^ *Failed: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
rm -f "$log"
if [ -z "$passed" ] && [ "$status" -eq 0 ]; then
  echo "error: dotnet test reported no executed tests" >&2
  exit 1
fi
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
