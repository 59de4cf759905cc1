#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and the demo: initdb into a temp dir as the `postgres`
# OS user (initdb refuses root), a free loopback port, settings tuned for speed (a throwaway cluster
# needs no durability), password auth over TCP. Source this file, then:
#   pg_throwaway_start   -> exports PGTHROWAWAY_DIR, PGTHROWAWAY_PORT and PGTHROWAWAY_CONNECTION
#   pg_throwaway_stop    -> stops the server and removes the directory (safe to call twice)
# Installs Debian's `postgresql` package when no server binaries are found.

pg_throwaway_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

pg_throwaway_ensure_binaries() {
  if pg_throwaway_bindir >/dev/null && command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; then
    return 0
  fi
  echo "PostgreSQL server binaries not found: installing Debian's postgresql package…" >&2
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: need root to apt-get install postgresql (or install it yourself, or set IAMVET_TEST_POSTGRES)" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql postgresql-client >&2 || return 1
  # Debian's package starts a cluster of its own on 5432; we do not use it.
  pg_throwaway_bindir >/dev/null
}

pg_throwaway_free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}

pg_throwaway_start() {
  pg_throwaway_ensure_binaries || return 1
  local bindir; bindir=$(pg_throwaway_bindir) || return 1
  PGTHROWAWAY_DIR=$(mktemp -d /tmp/iamvet-pg.XXXXXX)
  chmod 0755 "$PGTHROWAWAY_DIR"
  local password; password=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  local run_as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$PGTHROWAWAY_DIR"
    run_as=(runuser -u postgres --)
  fi
  local pwfile="$PGTHROWAWAY_DIR/pwfile"
  printf '%s\n' "$password" > "$pwfile"
  [ "$(id -u)" -eq 0 ] && chown postgres "$pwfile"
  chmod 0600 "$pwfile"
  "${run_as[@]}" "$bindir/initdb" -D "$PGTHROWAWAY_DIR/data" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PGTHROWAWAY_DIR/initdb.log" 2>&1 \
    || { cat "$PGTHROWAWAY_DIR/initdb.log" >&2; return 1; }
  rm -f "$pwfile"
  local port
  for _ in 1 2 3; do
    port=$(pg_throwaway_free_port) || return 1
    if "${run_as[@]}" "$bindir/pg_ctl" -D "$PGTHROWAWAY_DIR/data" -l "$PGTHROWAWAY_DIR/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGTHROWAWAY_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min" \
        start >/dev/null; then
      PGTHROWAWAY_PORT=$port
      PGTHROWAWAY_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres"
      export PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION
      echo "throwaway PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PGTHROWAWAY_DIR)" >&2
      return 0
    fi
  done
  cat "$PGTHROWAWAY_DIR/server.log" >&2
  return 1
}

pg_throwaway_stop() {
  [ -n "${PGTHROWAWAY_DIR:-}" ] && [ -d "$PGTHROWAWAY_DIR" ] || return 0
  local bindir; bindir=$(pg_throwaway_bindir)
  if [ -f "$PGTHROWAWAY_DIR/data/postmaster.pid" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      runuser -u postgres -- "$bindir/pg_ctl" -D "$PGTHROWAWAY_DIR/data" -m immediate -w stop >/dev/null 2>&1
    else
      "$bindir/pg_ctl" -D "$PGTHROWAWAY_DIR/data" -m immediate -w stop >/dev/null 2>&1
    fi
  fi
  rm -rf "$PGTHROWAWAY_DIR"
  unset PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION
}
