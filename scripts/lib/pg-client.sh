#!/usr/bin/env bash
# PostgreSQL client programs (pg_dump, pg_restore, psql) of a given major, for a server newer than
# the pg_dump this machine has. Source this file, then:
#   pg_client_bindir MAJOR       -> prints a directory holding pg_dump, pg_restore and psql of MAJOR
#   pg_client_put_first MAJOR    -> puts that directory first on PATH (exported), unless the pg_dump
#                                   already first on PATH is of MAJOR or newer
# Debian's /usr/lib/postgresql/MAJOR/bin when postgresql-client-MAJOR is installed; else the
# client of Debian's own archive (the suite pinned below, e.g. Debian 13 "trixie" for 17), installed
# once into IAMVET_EMBEDDED_POSTGRES_ROOT (default /opt/iamvet-schema)/pg-client-MAJOR:
# - its .deb files and those of the libraries it links (glibc included: Debian 13's programs need
#   glibc 2.38, Debian 12 has 2.36) come from the Debian mirror this machine's apt sources already
#   use, through an apt configuration of its own (sources, lists and cache in a temporary folder,
#   never the system's), and are unpacked with `dpkg -x`: nothing is installed over the system's
#   packages;
# - the programs' ELF interpreter and library path are set to that folder's own dynamic loader and
#   libraries (with patchelf, from this machine's own Debian release, unpacked likewise), and
#   bin/pg_dump, bin/pg_restore and bin/psql are symbolic links to them: the processes are the real
#   programs, their arguments and environment (PGPASSWORD, PGSSLMODE, …) untouched; they run as
#   root and as the `postgres` user alike;
# - every library the programs load must resolve inside that folder, or the install fails naming it.
# Idempotent (a marker with the package version); concurrent callers wait for one install (flock).

# The Debian suite whose postgresql-client-MAJOR is taken, for each major that may be asked for.
pg_client_debian_suite() {
  case "$1" in
    17) echo trixie ;;
    *) return 1 ;;
  esac
}

# The packages unpacked into the private folder: the client, libpq, glibc and what they link.
pg_client_packages() {
  echo "postgresql-client-$1 libpq5 libc6 libssl3t64 libgssapi-krb5-2 libkrb5-3 libk5crypto3 libkrb5support0" \
    "libcom-err2 libkeyutils1 libldap2 libsasl2-2 libxxhash0 libzstd1 liblz4-1 zlib1g libreadline8t64 libtinfo6"
}

pg_client_programs=(pg_dump pg_restore psql)

# Runs "$@" as the `postgres` OS user when we are root (the server's user must run them too).
pg_client_as_postgres() {
  if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then runuser -u postgres -- "$@"; else "$@"; fi
}

# True when DIR ($1) holds pg_dump, pg_restore and psql of major $2 that run as us and as `postgres`.
pg_client_ok() {
  local program version
  for program in "${pg_client_programs[@]}"; do
    [ -x "$1/$program" ] || return 1
    version=$("$1/$program" --version 2>/dev/null) || return 1
    [[ "$version" == *"(PostgreSQL) $2."* ]] || return 1
    version=$(pg_client_as_postgres "$1/$program" --version 2>/dev/null) || return 1
    [[ "$version" == *"(PostgreSQL) $2."* ]] || return 1
  done
}

# The Debian mirror of this machine's apt sources: the URI that serves its own release's suite.
pg_client_debian_mirror() {
  local codename lists mirror
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  [ -n "$codename" ] || return 1
  lists=$(mktemp -d) || return 1
  mkdir -p "$lists/partial"
  mirror=$(apt-get update --print-uris -o Dir::State::Lists="$lists" 2>/dev/null \
    | sed -n "s|^'\(.*\)/dists/$codename/InRelease'.*|\1|p" | head -n1)
  rm -rf "$lists"
  [ -n "$mirror" ] && echo "$mirror"
}

# What the marker says after the version: the layout of the folder (an older layout is reinstalled).
pg_client_layout="interpreter and rpath set with patchelf"

# Sets the ELF interpreter and library path of the programs under DIR/root ($1) to those of the
# folder at FINAL ($3) with PATCHELF ($4), and links them from DIR/bin.
pg_client_patch() {
  local dir=$1 major=$2 final=$3 patchelf=$4 program
  mkdir -p "$dir/bin"
  for program in "${pg_client_programs[@]}"; do
    # shellcheck disable=SC2016
    "$patchelf" --set-interpreter "$final/root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
      --force-rpath --set-rpath '$ORIGIN/../../../x86_64-linux-gnu' \
      "$dir/root/usr/lib/postgresql/$major/bin/$program" || return 1
    ln -s "../root/usr/lib/postgresql/$major/bin/$program" "$dir/bin/$program" || return 1
  done
}

# Installs postgresql-client-MAJOR from Debian's archive into DIR ($2); run under the lock.
pg_client_install() {
  local major=$1 dir=$2 root suite codename mirror tmp apt_options version program outside
  root=$(dirname "$dir")
  suite=$(pg_client_debian_suite "$major") || return 1
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "error: PostgreSQL $major client: Debian's packages are taken for x86_64 Linux, this is $(uname -s)-$(uname -m)" >&2; return 1
  fi
  if ! command -v apt-get >/dev/null || ! command -v dpkg >/dev/null; then
    echo "error: PostgreSQL $major client: apt-get and dpkg are needed to fetch Debian's postgresql-client-$major (or install pg_dump $major yourself and put it first on PATH)" >&2; return 1
  fi
  mirror=$(pg_client_debian_mirror) \
    || { echo "error: PostgreSQL $major client: no Debian mirror found in this machine's apt sources (the suite of /etc/os-release's VERSION_CODENAME)" >&2; return 1; }
  local keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  [ -r "$keyring" ] || { echo "error: PostgreSQL $major client: $keyring is missing (apt-get install debian-archive-keyring)" >&2; return 1; }
  tmp=$(mktemp -d "$root/.pg-client-$major.XXXXXX") || return 1
  (
    trap 'rm -rf "$tmp"' EXIT
    mkdir -p "$tmp/apt/lists/partial" "$tmp/apt/cache/archives/partial" "$tmp/apt/none" "$tmp/debs"
    codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
    printf 'deb [signed-by=%s] %s %s main\n' "$keyring" "$mirror" "$suite" "$keyring" "$mirror" "$codename" > "$tmp/apt/sources.list"
    apt_options=(-q -o Dir::Etc::sourcelist="$tmp/apt/sources.list" -o Dir::Etc::sourceparts=-
      -o Dir::Etc::preferences="$tmp/apt/preferences" -o Dir::Etc::preferencesparts="$tmp/apt/none"
      -o Dir::State::Lists="$tmp/apt/lists" -o Dir::Cache="$tmp/apt/cache"
      -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false -o APT::Sandbox::User="$(id -un)")
    echo "PostgreSQL $major client: fetching Debian $suite's postgresql-client-$major from $mirror into $dir…" >&2
    apt-get "${apt_options[@]}" update >&2 \
      || { echo "error: PostgreSQL $major client: apt-get update of $mirror $suite failed" >&2; exit 1; }
    # shellcheck disable=SC2046
    (cd "$tmp/debs" && apt-get "${apt_options[@]}" download $(pg_client_packages "$major") "patchelf/$codename") >&2 \
      || { echo "error: PostgreSQL $major client: apt-get download from $mirror $suite failed" >&2; exit 1; }
    for deb in "$tmp"/debs/*.deb; do
      case "$deb" in */patchelf_*) target="$tmp/tools" ;; *) target="$tmp/root" ;; esac
      dpkg -x "$deb" "$target" || { echo "error: PostgreSQL $major client: dpkg -x $deb failed" >&2; exit 1; }
    done
    version=$(dpkg-deb -f "$tmp"/debs/postgresql-client-"$major"_*.deb Version)
    pg_client_patch "$tmp" "$major" "$dir" "$tmp/tools/usr/bin/patchelf" \
      || { echo "error: PostgreSQL $major client: patchelf failed" >&2; exit 1; }
    rm -rf "$tmp/apt" "$tmp/debs" "$tmp/tools"
    chmod 0755 "$tmp" && chmod -R a+rX "$tmp"
    echo "postgresql-client-$major $version (Debian $suite; $pg_client_layout)" > "$tmp/installed"
    # The interpreter is the folder's final path: check there, and remove what does not run.
    rm -rf "$dir" && mv "$tmp" "$dir" || exit 1
    trap 'rm -rf "$dir"' EXIT
    # Every library must come from the folder: one from the system's older release may not work.
    for program in "${pg_client_programs[@]}"; do
      outside=$(LD_TRACE_LOADED_OBJECTS=1 "$dir/bin/$program" | grep '=>' | grep -vF "=> $dir/root/") || true
      if [ -n "$outside" ]; then
        echo "error: PostgreSQL $major client: $program links libraries not among the packages in pg_client_packages (scripts/lib/pg-client.sh):" >&2
        echo "$outside" >&2; exit 1
      fi
    done
    if ! pg_client_ok "$dir/bin" "$major"; then
      echo "error: PostgreSQL $major client: unpacked, but pg_dump does not run (as $(id -un) and as postgres):" >&2
      "$dir/bin/pg_dump" --version >&2; exit 1
    fi
    trap - EXIT
  )
}

# Prints the directory of pg_dump, pg_restore and psql of MAJOR, installing them first when needed.
pg_client_bindir() {
  local major=$1 root dir marker
  if [ -x "/usr/lib/postgresql/$major/bin/pg_dump" ] && pg_client_ok "/usr/lib/postgresql/$major/bin" "$major"; then
    echo "/usr/lib/postgresql/$major/bin"; return 0
  fi
  pg_client_debian_suite "$major" >/dev/null \
    || { echo "error: no pg_dump $major: postgresql-client-$major is not installed (/usr/lib/postgresql/$major/bin) and no Debian suite is pinned for it in scripts/lib/pg-client.sh" >&2; return 1; }
  root=${IAMVET_EMBEDDED_POSTGRES_ROOT:-/opt/iamvet-schema}
  dir="$root/pg-client-$major"
  marker="$dir/installed"
  if grep -qF "$pg_client_layout" "$marker" 2>/dev/null && pg_client_ok "$dir/bin" "$major"; then
    echo "$dir/bin"; return 0
  fi
  mkdir -p "$root" && chmod 0755 "$root" 2>/dev/null
  if [ ! -w "$root" ]; then
    echo "error: PostgreSQL $major client: cannot write $root (run as root, or set IAMVET_EMBEDDED_POSTGRES_ROOT)" >&2; return 1
  fi
  (
    flock 9
    # Another run may have installed it while we waited.
    if grep -qF "$pg_client_layout" "$marker" 2>/dev/null && pg_client_ok "$dir/bin" "$major"; then exit 0; fi
    pg_client_install "$major" "$dir"
  ) 9>"$root/.pg-client-$major.lock" || return 1
  pg_client_ok "$dir/bin" "$major" \
    || { echo "error: PostgreSQL $major client: $dir/bin/pg_dump does not run after installing it" >&2; return 1; }
  echo "$dir/bin"
}

# The major of the pg_dump first on PATH (0 when there is none).
pg_client_path_major() {
  local version
  version=$(pg_dump --version 2>/dev/null | awk '{print $3}') || true
  echo "${version%%.*}" | grep -E '^[0-9]+$' || echo 0
}

# Puts pg_dump, pg_restore and psql of MAJOR first on PATH, unless the pg_dump there is new enough.
pg_client_put_first() {
  local major=$1 dir
  [ "$(pg_client_path_major)" -lt "$major" ] || return 0
  dir=$(pg_client_bindir "$major") || return 1
  PATH="$dir:$PATH"
  export PATH
}
