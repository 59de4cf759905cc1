#!/usr/bin/env bash
# The benchmark (not part of CI; see docs/performance.md).
#   bench/run.sh [USERS] [ROUNDS]        defaults: 1000000 users, 3 rounds
# Seeds USERS legacy users once into a template database, then in each round copies it three times
# (CREATE DATABASE … TEMPLATE) and times, alternating, (a) the plain-SQL baseline
# (bench/baseline-up.sql) and (b) `migrate up --no-backup`; (c) gets baseline-up.sql untimed. Then
# (a) baseline-down.sql on a's copy (minimal and lossy: users columns only), (b) `migrate down
# --no-backup` on b's and (c) baseline-down-lossless.sql on c's (also carries the side-table writes
# back, as the runner's Downs do; see bench/check-lossless-baseline.sh). Then a bare `pg_dump -Fc`
# against the runner's `backup`, and the runner's peak RSS at 10k users. Prints medians and ratios.
# Then as many more rounds of the same ups and downs, untimed for the ratios, with bench/AvailabilityProbe
# reading and writing one users row every 20 ms during each: the longest read and write outage
# (docs/performance.md). The probe runs in a round of its own because its load is not the same on
# both sides: its reads succeed (a new backend every 20 ms) while the runner's up runs, and wait
# while the baseline holds users.
# Uses IAMVET_BENCH_POSTGRES (an admin Npgsql connection string) or a throwaway local cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/pg-throwaway.sh
# Only a cluster this script starts is ever stopped: forget one inherited from a caller (test.sh exports its own).
unset PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION
. scripts/lib/connection.sh

users=${1:-1000000}
rounds=${2:-3}
work=$(mktemp -d /tmp/iamvet-bench.XXXXXX)
results="$work/results.tsv"
: > "$results"
probe_pid=
trap '[ -z "$probe_pid" ] || kill -TERM "$probe_pid" 2>/dev/null; pg_throwaway_stop; rm -rf "$work"' EXIT

pg_throwaway_ensure_binaries
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
if [ -n "${IAMVET_BENCH_POSTGRES:-}" ]; then admin=$IAMVET_BENCH_POSTGRES; else pg_throwaway_start; admin=$PGTHROWAWAY_CONNECTION; fi

echo "publishing the runner (Release, ReadyToRun)…" >&2
dotnet publish src/IamVet.Schema.Runner -c Release -r linux-x64 --self-contained false -nologo -v quiet -o "$work/runner" >/dev/null  # as docs/runbook.md installs it (ReadyToRun)
echo "building the availability probe (Release)…" >&2
dotnet build bench/AvailabilityProbe -c Release -nologo -v quiet -o "$work/probe" >/dev/null
runner_in() { local db=$1; shift; (cd "$work" && IAMVET_SCHEMA_CONNECTION=$(conn_with_database "$admin" "$db") dotnet "$work/runner/iamvet-schema.dll" "$@"); }
sql() { conn_psql "$admin" -At "$@"; }
now_ms() { date +%s%3N; }
record() { printf '%s\t%s\n' "$1" "$2" >> "$results"; }
json_field() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }

seed_template() {  # name users
  sql -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  runner_in "$1" seed --create-legacy-schema --users "$2" --yes --json > "$work/seed.json"
  sql -d "$1" -c "CHECKPOINT" >/dev/null
  echo "seeded $2 users into $1 in $(json_field "$work/seed.json" "d['durationMs']/1000") s; size $(sql -c "SELECT pg_size_pretty(pg_database_size('$1'))")" >&2
}

probe_start() {  # db -> starts the availability probe on db (users read and write), returns once both have succeeded
  rm -f "$work/probe.json" "$work/probe.out"
  # Through the throwaway cluster's Unix socket (trust auth) when this script started it: a probe is a
  # fresh connection every 20 ms per loop, and SCRAM over TCP costs client and server a PBKDF2 each
  # time, which alone took most of a core and slowed every measured run (the baselines too) ~1.7x.
  local probe_connection
  probe_connection=$(conn_with_database "$admin" "$1")
  if [ -n "${PGTHROWAWAY_DIR:-}" ]; then probe_connection="$probe_connection;Host=$PGTHROWAWAY_DIR"; fi
  dotnet "$work/probe/availability-probe.dll" --connection "$probe_connection" --out "$work/probe.json" \
    > "$work/probe.out" 2> "$work/probe.err" &
  probe_pid=$!
  local polls=0
  until grep -qx ready "$work/probe.out" 2>/dev/null; do
    kill -0 "$probe_pid" 2>/dev/null || { echo "availability probe exited early" >&2; cat "$work/probe.err" >&2; exit 1; }
    [ $((polls += 1)) -lt 1500 ] || { echo "availability probe: no read and write succeeded within 30 s" >&2; exit 1; }
    sleep 0.02
  done
}

probe_stop() {  # [label] -> stops the running probe (SIGTERM); with a label, records its outages and counts
  local pid=$probe_pid
  probe_pid=
  kill -TERM "$pid"
  wait "$pid" || { echo "availability probe failed" >&2; cat "$work/probe.err" >&2; exit 1; }
  [ -n "${1:-}" ] || return 0
  sed "s/^/availability probe, $1: /" "$work/probe.err" >&2   # its stretches of 100 ms or more
  record "$1.read_outage_ms" "$(json_field "$work/probe.json" "d['readOutageMs']")"
  record "$1.write_outage_ms" "$(json_field "$work/probe.json" "d['writeOutageMs']")"
  record "$1.probe_reads" "$(json_field "$work/probe.json" "d['reads']")"
  record "$1.probe_read_failures" "$(json_field "$work/probe.json" "d['readFailures']")"
  record "$1.probe_writes" "$(json_field "$work/probe.json" "d['writes']")"
  record "$1.probe_write_failures" "$(json_field "$work/probe.json" "d['writeFailures']")"
  record "$1.probe_skipped" "$(json_field "$work/probe.json" "d['readsSkipped'] + d['writesSkipped']")"
  record "$1.probe_read_latency_median_ms" "$(json_field "$work/probe.json" "-1 if d['readLatencyMedianMs'] is None else d['readLatencyMedianMs']")"
  record "$1.probe_read_latency_max_ms" "$(json_field "$work/probe.json" "-1 if d['readLatencyMaxMs'] is None else d['readLatencyMaxMs']")"
}

copy_of() { sql -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" -c "CREATE DATABASE $2 TEMPLATE $1"; sql -d "$2" -c "CHECKPOINT" >/dev/null; }

timed_runner() {  # label db args… -> records wall ms, stage ms, peak RSS (and stops a probe_start-ed probe as the runner exits)
  local label=$1 db=$2; shift 2
  local start end
  start=$(now_ms)
  (cd "$work" && IAMVET_SCHEMA_CONNECTION=$(conn_with_database "$admin" "$db") \
     /usr/bin/time -v -o "$work/time.txt" dotnet "$work/runner/iamvet-schema.dll" "$@" --json > "$work/run.json") \
     || { echo "runner failed: $label" >&2; cat "$work/run.json" >&2
          [ -z "$probe_pid" ] || { probe_stop; echo "availability probe during it: $(cat "$work/probe.json")" >&2; cat "$work/probe.err" >&2; }; exit 1; }
  end=$(now_ms)
  [ -z "$probe_pid" ] || probe_stop "$label"
  record "$label" $((end - start))
  record "$label.migrate" "$(json_field "$work/run.json" "sum(s['durationMs'] for s in d['stages'] if s['stage']=='Migrate')")"
  record "$label.reads_blocked" "$(json_field "$work/run.json" "(d.get('availability') or {}).get('usersReadsBlockedMs', -1)")"
  record "$label.writes_blocked" "$(json_field "$work/run.json" "(d.get('availability') or {}).get('writesBlockedMs', -1)")"
  record "$label.verify" "$(json_field "$work/run.json" "sum(s['durationMs'] for s in d['stages'] if s['stage']=='Verify')")"
  record "$label.backup" "$(json_field "$work/run.json" "sum(s['durationMs'] for s in d['stages'] if s['stage']=='Backup')")"
  record "$label.rss_kb" "$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")"
}

timed_sql() {  # label db file (stops a probe_start-ed probe as psql exits)
  local start end
  start=$(now_ms)
  conn_psql "$(conn_with_database "$admin" "$2")" --single-transaction -f "$3" >/dev/null
  end=$(now_ms)
  [ -z "$probe_pid" ] || probe_stop "$1"
  record "$1" $((end - start))
}

ups_and_downs() {  # label prefix, probe (yes/no): the ups and downs of one round on three fresh copies
  local p=$1 probe=$2
  copy_of bench_tpl bench_a; copy_of bench_tpl bench_b; copy_of bench_tpl bench_c
  [ "$probe" = no ] || probe_start bench_a; timed_sql "${p}baseline_up" bench_a bench/baseline-up.sql
  [ "$probe" = no ] || probe_start bench_b; timed_runner "${p}runner_up" bench_b migrate up --no-backup --yes
  conn_psql "$(conn_with_database "$admin" bench_c)" --single-transaction -f bench/baseline-up.sql >/dev/null   # untimed
  [ "$probe" = no ] || probe_start bench_a; timed_sql "${p}baseline_down" bench_a bench/baseline-down.sql
  [ "$probe" = no ] || probe_start bench_b; timed_runner "${p}runner_down" bench_b migrate down --no-backup --yes
  [ "$probe" = no ] || probe_start bench_c; timed_sql "${p}baseline_down_lossless" bench_c bench/baseline-down-lossless.sql
}

seed_template bench_tpl "$users"
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  ups_and_downs "" no
  # backup: a bare pg_dump -Fc against the runner's backup command, same database, alternating
  start=$(now_ms)
  PGPASSWORD=$(conn_get "$admin" Password) pg_dump -Fc -h "$(conn_get "$admin" Host)" -p "$(conn_get "$admin" Port)" \
    -U "$(conn_get "$admin" Username)" -d bench_tpl -f "$work/bare.dump"
  record bare_pg_dump $(( $(now_ms) - start ))
  rm -f "$work/bare.dump"
  timed_runner runner_backup bench_tpl backup --backup-dir "$work/backups"
  rm -rf "$work/backups"
done
# As many availability rounds as timed ones (medians): on two cores the probe's fresh connection
# every 20 ms per loop is itself slowed by the run it measures, so one round's longest stretch is noisy.
for round in $(seq 1 "$rounds"); do
  echo "availability round $round/$rounds (the probe during each up and down)" >&2
  ups_and_downs avail_ yes
done
sql -c "DROP DATABASE IF EXISTS bench_a WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_b WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_c WITH (FORCE)"

echo "memory comparison at 10,000 users…" >&2
seed_template bench_small 10000
timed_runner small_up bench_small migrate up --no-backup --yes
sql -c "DROP DATABASE IF EXISTS bench_small WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_tpl WITH (FORCE)"

python3 - "$results" "$users" "$rounds" <<'PY'
import sys, statistics, collections
values = collections.defaultdict(list)
for line in open(sys.argv[1]):
    key, value = line.rstrip("\n").split("\t")
    values[key].append(float(value))
med = {k: statistics.median(v) for k, v in values.items()}
def s(ms): return f"{ms/1000:.2f} s"
users, rounds = int(sys.argv[2]), int(sys.argv[3])
print(f"\nIamVet.Schema benchmark: {users:,} users, {rounds} round(s), medians")
rows = [
    ("baseline up (plain SQL, bulk-load order)", s(med['baseline_up']), "", ""),
    ("migrate up --no-backup", s(med['runner_up']), "", ""),
    ("ratio migrate up / baseline", f"{med['runner_up']/med['baseline_up']:.2f}", "<= 1.15", med['runner_up']/med['baseline_up'] <= 1.15),
    ("verification share of migrate up", f"{med['runner_up.verify']/med['runner_up']*100:.1f} %", "<= 20 %", med['runner_up.verify']/med['runner_up'] <= 0.20),
    ("baseline down (plain SQL)", s(med['baseline_down']), "", ""),
    ("lossless baseline down (plain SQL)", s(med['baseline_down_lossless']), "", ""),
    ("migrate down --no-backup", s(med['runner_down']), "", ""),
    ("ratio migrate down / baseline down (lossy: users columns only)", f"{med['runner_down']/med['baseline_down']:.2f}", "<= 1.20", med['runner_down']/med['baseline_down'] <= 1.20),
    ("ratio migrate down / lossless baseline down", f"{med['runner_down']/med['baseline_down_lossless']:.2f}", "<= 1.20", med['runner_down']/med['baseline_down_lossless'] <= 1.20),
    ("bare pg_dump -Fc", s(med['bare_pg_dump']), "", ""),
    ("runner backup stage", s(med['runner_backup.backup']), "", ""),
    ("ratio backup stage / pg_dump", f"{med['runner_backup.backup']/med['bare_pg_dump']:.2f}", "<= 1.10", med['runner_backup.backup']/med['bare_pg_dump'] <= 1.10),
    ("runner peak RSS, migrate up", f"{med['runner_up.rss_kb']/1024:.0f} MB", "<= 150 MB", med['runner_up.rss_kb']/1024 <= 150),
    ("runner peak RSS at 10k users", f"{med['small_up.rss_kb']/1024:.0f} MB", "", ""),
    ("RSS vs 10k users", f"{(med['runner_up.rss_kb']/med['small_up.rss_kb']-1)*100:+.1f} %", "within 10 %", abs(med['runner_up.rss_kb']/med['small_up.rss_kb']-1) <= 0.10),
]
width = max(44, max(len(row[0]) for row in rows) + 2)
print(f"{'measure':<{width}}{'value':>14}{'target':>14}  ok")
for name, value, target, ok in rows:
    mark = "" if ok == "" else ("yes" if ok else "NO")
    print(f"{name:<{width}}{value:>14}{target:>14}  {mark}")
# The same pairs round by round (each round times both sides back to back, alternating): how far
# this machine's noise moves a ratio. The targets above stay on the medians.
print("per round: migrate up / baseline " + ", ".join(f"{r / b:.2f}" for r, b in zip(values['runner_up'], values['baseline_up']))
      + "; migrate down / lossless baseline " + ", ".join(f"{r / b:.2f}" for r, b in zip(values['runner_down'], values['baseline_down_lossless'])))

# bench/AvailabilityProbe: the longest stretch in which no read (write) of one users row succeeded,
# an attempt started every 20 ms on a fresh connection with lock_timeout 100 ms (attempts overlap, so
# a slow connect is not an outage). Targets from issue #11.
print("\navailability of users during each up and down of the availability rounds (longest stretch without a successful read / write, medians)")
rows = []
for run, what in [("baseline_up", "baseline up (plain SQL)"), ("runner_up", "migrate up"),
                  ("baseline_down", "baseline down (lossy)"), ("baseline_down_lossless", "lossless baseline down"),
                  ("runner_down", "migrate down")]:
    run = "avail_" + run
    read, write = med[f"{run}.read_outage_ms"], med[f"{run}.write_outage_ms"]
    if run.startswith("avail_runner"):
        # Writes wait only while the migration transaction holds the tables it reads (from before its
        # first migration to COMMIT: the runner's availability.writesBlockedMs); the probe's resolution
        # adds up to a period and a connect on either side (0.1 s). Nothing before it (pre-flight,
        # audit, backup) may add waiting.
        held = med[f"{run}.writes_blocked"]
        rows.append((f"read outage, {what}", s(read), "<= 0.20 s", read <= 200))
        rows.append((f"  {what}: users unreadable, as the runner reports it", s(med[f"{run}.reads_blocked"]), "", ""))
        rows.append((f"write outage, {what}", s(write), f"<= {s(held + 100)}", write <= held + 100))
        rows.append((f"  {what}: the migration transaction's hold on writers", s(held), "", ""))
        rows.append((f"  {what}: Migrate stage (the migrations' own time)", s(med[f"{run}.migrate"]), "", ""))
        rows.append((f"  {what}: Verify stage (same transaction)", s(med[f"{run}.verify"]), "", ""))
    else:
        rows.append((f"read outage, {what}", s(read), "", ""))
        rows.append((f"write outage, {what}", s(write), "", ""))
for name, value, target, ok in rows:
    mark = "" if ok == "" else ("yes" if ok else "NO")
    print(f"{name:<{width}}{value:>14}{target:>14}  {mark}")
print("probes (medians): " + "; ".join(
    f"{run}: reads {med[run + '.probe_reads']:.0f} ({med[run + '.probe_read_failures']:.0f} failed), "
    f"writes {med[run + '.probe_writes']:.0f} ({med[run + '.probe_write_failures']:.0f} failed), "
    f"{med[run + '.probe_skipped']:.0f} ticks skipped (16 attempts in flight), "
    f"read latency median {med[run + '.probe_read_latency_median_ms']:.0f} ms, longest {med[run + '.probe_read_latency_max_ms']:.0f} ms"
    for run in ["avail_baseline_up", "avail_runner_up", "avail_baseline_down", "avail_baseline_down_lossless", "avail_runner_down"]))
PY
