#!/usr/bin/env bash
# The test command (README, .ci/run): a real throwaway PostgreSQL, then `dotnet test`.
#   ./scripts/test.sh [--pg MAJOR] [dotnet test arguments…]
# --pg MAJOR (or IAMVET_TEST_PG_MAJOR=MAJOR) starts the throwaway cluster with that PostgreSQL major:
# Debian's when installed (15 here), else the server binaries scripts/lib/pg-throwaway.sh installs
# from npm (17). It prints a leg header line first. Without it: Debian's newest installed server,
# as always.
# When the server is newer than the pg_dump on PATH (the 17 leg: Debian has only pg_dump 15, which
# refuses a newer server), the tests named in scripts/needs-pg-dump-of-server-major.txt cannot pass:
# they are excluded by name, counted and listed, never skipped silently:
#   excluded on PostgreSQL 17: N tests need pg_dump 17, which this machine lacks
# and every other test runs.
# With IAMVET_TEST_POSTGRES already set (an admin connection string), that server is used instead
# and no cluster is started (not combined with --pg). Extra arguments go to `dotnet test` (e.g.
# --filter Name~Hospital, which is combined with the exclusions).
# Ends with one plain line that any CI can read: "tests: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/pg-throwaway.sh
. scripts/lib/pg-throwaway.sh

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
  export IAMVET_TEST_TLS_CA="$PGTHROWAWAY_TLS_CA"   # the CA of the cluster's TLS certificate (the TLS tests)
else
  if [ -n "$major" ]; then
    echo "error: --pg / IAMVET_TEST_PG_MAJOR starts a throwaway cluster; IAMVET_TEST_POSTGRES names a server already: use one or the other" >&2
    exit 2
  fi
  pg_throwaway_ensure_binaries   # pg_dump/pg_restore are needed by the backup tests all the same
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# The tests that need pg_dump/pg_restore of the server's major, when this machine has only older ones.
filter=$user_filter
if [ -n "$major" ]; then
  dump_version=$(pg_dump --version | awk '{print $3}')
  server_version=$("$PGTHROWAWAY_BINDIR/postgres" --version | awk '{print $3}')
  echo "== leg: PostgreSQL $major (server $server_version from $PGTHROWAWAY_BINDIR; pg_dump $dump_version) =="
  if [ "${dump_version%%.*}" -lt "$PGTHROWAWAY_MAJOR" ]; then
    list=scripts/needs-pg-dump-of-server-major.txt
    [ -f "$list" ] || { echo "error: $list is missing" >&2; exit 1; }
    mapfile -t names < <(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e 's/^[[:space:]]*//' "$list" | grep -v '^$' | awk '!seen[$0]++' || true)
    # Count each name against the tests there are (a name may be a test method in several fixtures):
    # a name that matches nothing is an error, so a renamed test cannot leave the list stale unseen.
    available=$(dotnet test IamVet.Schema.sln -c Release --list-tests 2>&1) \
      || { echo "$available" >&2; echo "error: dotnet test --list-tests failed" >&2; exit 1; }
    excluded=0
    lines=()
    exclusion=""
    for name in "${names[@]}"; do
      count=$(grep -cxF "    $name" <<<"$available" || true)
      term="Name!=$name"
      if [ "$count" -eq 0 ]; then
        # A parameterized test method: its cases are listed as name(args); all of them are excluded.
        count=$(grep -cF "    $name(" <<<"$available" || true)
        term="Name!~$name"
      fi
      if [ "$count" -eq 0 ]; then
        echo "error: $list names $name, but no test has that name (renamed or removed? update the list)" >&2
        exit 1
      fi
      excluded=$((excluded + count))
      if [ "$count" -eq 1 ]; then lines+=("  $name"); else lines+=("  $name ($count tests)"); fi
      exclusion+="${exclusion:+&}$term"
    done
    echo "excluded on PostgreSQL $PGTHROWAWAY_MAJOR: $excluded tests need pg_dump $PGTHROWAWAY_MAJOR, which this machine lacks"
    [ ${#lines[@]} -eq 0 ] || printf '%s\n' "${lines[@]}"
    if [ -n "$exclusion" ]; then
      if [ -n "$filter" ]; then filter="($filter)&($exclusion)"; else filter=$exclusion; fi
    fi
  fi
fi
# `timeout` also gives dotnet test (and so every runner process the tests start) the default SIGINT
# handling: a background job of a shell without job control inherits SIGINT ignored, and the
# runner, like any .NET program, then never hears the Ctrl-C that the interruption tests send.
log=$(mktemp /tmp/iamvet-test.XXXXXX.log)
status=0
timeout 85m dotnet test IamVet.Schema.sln -c Release --logger "console;verbosity=normal" ${filter:+--filter "$filter"} "${passthrough[@]}" 2>&1 | tee "$log" || status=$?
passed=$(sed -n 's/^ *Passed: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
failed=$(sed -n 's/^ *Failed: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
total=$(sed -n 's/^ *Total tests: *\([0-9][0-9]*\).*/\1/p' "$log" | tail -n1)
rm -f "$log"
# One plain closing line that any CI can read: "tests: N passed, N failed".
if [ -z "$passed" ] && [ "$status" -eq 0 ]; then
  echo "error: dotnet test reported no executed tests" >&2
  exit 1
fi
# The exclusions must have taken out exactly the tests counted above, no more, no fewer.
if [ -n "${excluded:-}" ] && [ -z "$user_filter" ] && [ -n "$total" ]; then
  expected=$(( $(grep -c '^    ' <<<"$available") - excluded ))
  if [ "$total" -ne "$expected" ]; then
    echo "error: $total tests ran, but $expected should have ($excluded of $(grep -c '^    ' <<<"$available") excluded): the --filter did not do what it should" >&2
    [ "$status" -ne 0 ] || status=1
  fi
fi
[ -z "$major" ] || echo "== leg: PostgreSQL $major: exit $status after $((SECONDS / 60))m$((SECONDS % 60))s =="
echo "tests: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
