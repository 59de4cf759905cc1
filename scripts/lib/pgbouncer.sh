#!/usr/bin/env bash
# A throwaway PgBouncer in front of a PostgreSQL server, for tests of how the runner behaves behind a
# connection pooler (issue #10: Neon's pooled endpoint is PgBouncer in TRANSACTION mode). Source this
# file (it sources connection.sh beside it), then:
#   pgbouncer_start [--pool-mode transaction|session|statement] [--ignore-options] [--set KEY=VALUE]… [UPSTREAM]
#       UPSTREAM is an Npgsql connection string of the server (default: $PGTHROWAWAY_CONNECTION);
#       its Host, Port, Username, Password and Database are used. Starts PgBouncer (default pool
#       mode: transaction) on a free loopback port and exports PGBOUNCER_DIR, PGBOUNCER_PORT and
#       PGBOUNCER_CONNECTION (the same connection string, through the pooler).
#       --ignore-options: ignore_startup_parameters also lists `options`, so a client that sends
#       Options=… (as the runner does for its timeouts) is accepted and its options silently dropped,
#       like a pooler configured that way; without it PgBouncer refuses such a client
#       ("unsupported startup parameter: options").
#       --set KEY=VALUE: one more [pgbouncer] setting, e.g. --set server_round_robin=1 (FIFO reuse of
#       idle server connections instead of the default LIFO) or --set min_pool_size=5.
#   pgbouncer_stop -> stops it and removes the directory (safe to call twice)
# Auth: clients authenticate to PgBouncer with SCRAM-SHA-256 against an auth_file that holds the
# upstream password in plain text; PgBouncer uses that password to log in to the server, so it works
# with the throwaway cluster's scram-sha-256 host auth. PgBouncer refuses to run as root: as root it
# runs as the `postgres` OS user. Installs Debian's `pgbouncer` package when it is missing.

# shellcheck source=connection.sh
source "$(dirname "${BASH_SOURCE[0]}")/connection.sh"

pgbouncer_ensure_binary() {
  command -v pgbouncer >/dev/null && return 0
  echo "pgbouncer not found: installing Debian's pgbouncer package…" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to apt-get install pgbouncer (or install it yourself)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The package enables a systemd unit of its own (default config, port 6432); we do not use it.
  apt-get update -qq >&2 && apt-get install -y -qq pgbouncer >&2 || return 1
  command -v pgbouncer >/dev/null
}

pgbouncer_start() {
  local pool_mode=transaction ignore=extra_float_digits upstream="" extra=""
  if [ -n "${PGBOUNCER_DIR:-}" ] && [ -d "$PGBOUNCER_DIR" ]; then
    echo "pgbouncer_start: one is already running ($PGBOUNCER_DIR): pgbouncer_stop first" >&2
    return 2
  fi
  while [ $# -gt 0 ]; do
    case "$1" in
      --pool-mode|--set) [ $# -ge 2 ] || { echo "pgbouncer_start: $1 needs a value" >&2; return 2; } ;;&
      --pool-mode) pool_mode=$2; shift 2 ;;
      --pool-mode=*) pool_mode=${1#*=}; shift ;;
      --ignore-options) ignore="extra_float_digits,options"; shift ;;
      --set) [[ $2 == ?*=* ]] || { echo "pgbouncer_start: --set KEY=VALUE" >&2; return 2; }
             extra+="${2%%=*} = ${2#*=}"$'\n'; shift 2 ;;
      -*) echo "pgbouncer_start: unknown option $1" >&2; return 2 ;;
      *) upstream=$1; shift ;;
    esac
  done
  upstream=${upstream:-${PGTHROWAWAY_CONNECTION:-}}
  if [ -z "$upstream" ]; then
    echo "pgbouncer_start: no upstream connection string (pass one, or pg_throwaway_start first)" >&2
    return 2
  fi
  case "$pool_mode" in transaction|session|statement) ;; *)
    echo "pgbouncer_start: pool mode must be transaction, session or statement" >&2; return 2 ;;
  esac
  pgbouncer_ensure_binary || return 1

  local host port user password database
  host=$(conn_get "$upstream" Host); port=$(conn_get "$upstream" Port)
  user=$(conn_get "$upstream" Username); password=$(conn_get "$upstream" Password)
  database=$(conn_get "$upstream" Database)
  host=${host:-127.0.0.1}; port=${port:-5432}; user=${user:-postgres}; database=${database:-postgres}

  PGBOUNCER_DIR=$(mktemp -d /tmp/iamvet-pgbouncer.XXXXXX)
  chmod 0700 "$PGBOUNCER_DIR"
  local run_as=()
  if [ "$(id -u)" -eq 0 ]; then run_as=(runuser -u postgres --); fi

  # auth_file lines: "user" "password", a double quote inside doubled.
  printf '"%s" "%s"\n' "${user//\"/\"\"}" "${password//\"/\"\"}" > "$PGBOUNCER_DIR/userlist.txt"

  local listen
  for _ in 1 2 3; do
    listen=$(free_loopback_port) || return 1
    cat > "$PGBOUNCER_DIR/pgbouncer.ini" <<EOF
[databases]
; any database name the client asks for, on the upstream server
* = host=$host port=$port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $listen
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PGBOUNCER_DIR/userlist.txt
admin_users = $user
stats_users = $user
pool_mode = $pool_mode
ignore_startup_parameters = $ignore
; defaults made explicit: LIFO server connection reuse, reset only in session mode
server_round_robin = 0
server_reset_query = DISCARD ALL
server_reset_query_always = 0
default_pool_size = 20
max_client_conn = 200
logfile = $PGBOUNCER_DIR/pgbouncer.log
pidfile = $PGBOUNCER_DIR/pgbouncer.pid
log_connections = 1
log_disconnections = 1
; --set (a key given twice: the last one wins)
$extra
EOF
    if [ ${#run_as[@]} -gt 0 ]; then chown -R postgres:postgres "$PGBOUNCER_DIR"; fi
    chmod 0600 "$PGBOUNCER_DIR/userlist.txt" "$PGBOUNCER_DIR/pgbouncer.ini"
    : > "$PGBOUNCER_DIR/pgbouncer.log"
    if [ ${#run_as[@]} -gt 0 ]; then chown postgres:postgres "$PGBOUNCER_DIR/pgbouncer.log"; fi
    if "${run_as[@]}" pgbouncer -d -q "$PGBOUNCER_DIR/pgbouncer.ini" 2>>"$PGBOUNCER_DIR/pgbouncer.log"; then
      # -d returns once the config is read; wait until it listens (or gives up on the port).
      local up=""
      for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$listen") 2>/dev/null; then up=1; break; fi
        [ -f "$PGBOUNCER_DIR/pgbouncer.pid" ] && ! kill -0 "$(cat "$PGBOUNCER_DIR/pgbouncer.pid")" 2>/dev/null && break
        sleep 0.1
      done
      if [ -n "$up" ]; then
        PGBOUNCER_PORT=$listen
        PGBOUNCER_CONNECTION="Host=127.0.0.1;Port=$listen;Username=$user;Password=$password;Database=$database"
        export PGBOUNCER_DIR PGBOUNCER_PORT PGBOUNCER_CONNECTION
        echo "PgBouncer $(pgbouncer --version | awk 'NR==1{print $2}') ($pool_mode mode, ignore_startup_parameters = $ignore${extra:+, }$(printf '%s' "$extra" | paste -sd, -)) on 127.0.0.1:$listen -> $host:$port ($PGBOUNCER_DIR)" >&2
        return 0
      fi
      pgbouncer_kill_pid
    fi
  done
  cat "$PGBOUNCER_DIR/pgbouncer.log" >&2
  rm -rf "$PGBOUNCER_DIR"; unset PGBOUNCER_DIR
  return 1
}

# Stops the PgBouncer of $PGBOUNCER_DIR by its pidfile (never by name: other engineers' may run).
pgbouncer_kill_pid() {
  local pidfile="$PGBOUNCER_DIR/pgbouncer.pid" pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  return 0
}

pgbouncer_stop() {
  [ -n "${PGBOUNCER_DIR:-}" ] && [ -d "$PGBOUNCER_DIR" ] || return 0
  pgbouncer_kill_pid
  rm -rf "$PGBOUNCER_DIR"
  unset PGBOUNCER_DIR PGBOUNCER_PORT PGBOUNCER_CONNECTION
}

# Run as a program rather than sourced (test fixtures, which cannot keep a shell's exports):
#   bash scripts/lib/pgbouncer.sh start [pgbouncer_start's arguments…]
#       -> PGBOUNCER_DIR=…, PGBOUNCER_PORT=… and PGBOUNCER_CONNECTION=… lines on stdout; PgBouncer keeps running
#   bash scripts/lib/pgbouncer.sh stop DIR   -> stops the PgBouncer started in DIR and removes DIR
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  case "${1:-}" in
    start)
      shift
      # PgBouncer inherits stdout: not the caller's pipe, which would then never close.
      pgbouncer_start "$@" >/dev/null
      printf 'PGBOUNCER_DIR=%s\nPGBOUNCER_PORT=%s\nPGBOUNCER_CONNECTION=%s\n' "$PGBOUNCER_DIR" "$PGBOUNCER_PORT" "$PGBOUNCER_CONNECTION"
      ;;
    stop)
      [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
      case "$2" in /tmp/iamvet-pgbouncer.*) ;; *) echo "$0 stop: not a directory of pgbouncer_start: $2" >&2; exit 2 ;; esac
      PGBOUNCER_DIR=$2
      pgbouncer_stop
      ;;
    *) echo "usage: $0 start [--pool-mode MODE] [--ignore-options] [--set KEY=VALUE]… [UPSTREAM] | stop DIR" >&2; exit 2 ;;
  esac
fi
