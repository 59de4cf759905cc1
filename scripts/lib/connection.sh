#!/usr/bin/env bash
# Helpers for Npgsql-style connection strings ("Host=…;Port=…;Username=…;Password=…;Database=…").

# conn_get "<connection string>" Key  -> the value of Key (case-insensitive), empty if absent
conn_get() {
  local IFS=';' part key
  for part in $1; do
    key=${part%%=*}
    if [ "${key,,}" = "${2,,}" ]; then printf '%s' "${part#*=}"; return 0; fi
  done
}

# conn_with_database "<connection string>" NAME -> the same connection string for database NAME
conn_with_database() {
  local IFS=';' part out=""
  for part in $1; do
    [ -z "$part" ] && continue
    case "${part%%=*}" in [Dd]atabase) ;; *) out+="$part;" ;; esac
  done
  printf '%sDatabase=%s' "$out" "$2"
}

# conn_psql "<connection string>" psql-args… -> runs psql against it (password via the environment only)
conn_psql() {
  local c=$1; shift
  PGPASSWORD=$(conn_get "$c" Password) psql -X -q -v ON_ERROR_STOP=1 \
    -h "$(conn_get "$c" Host)" -p "$(conn_get "$c" Port)" -U "$(conn_get "$c" Username)" -d "$(conn_get "$c" Database)" "$@"
}

# free_loopback_port -> a TCP port on 127.0.0.1 that nothing listens on now (a random one of
# 20000-39999; 50 tries), for the throwaway cluster and PgBouncer
free_loopback_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 20000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  return 1
}
