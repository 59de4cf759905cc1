#!/usr/bin/env bash
# TLS for the throwaway cluster (sourced by pg-throwaway.sh): a throwaway CA and a server
# certificate it signed, for 127.0.0.1 and localhost (in the subject alternative names, so that
# sslmode=verify-full holds for either), made with openssl into the cluster's directory. The server
# then accepts TLS and plain connections alike (ssl=on does not force TLS; pg_hba's "host" lines
# take both), so nothing that connects without TLS changes.
#   pg_tls_prepare DIR -> writes DIR/tls/{ca.crt,server.crt,server.key} (ca.key is deleted once used),
#                         exports PGTHROWAWAY_TLS_CA (the CA's certificate) and sets
#                         PGTHROWAWAY_TLS_OPTIONS, the server's options (-c ssl=on -c ssl_cert_file=…)
# Nothing here is a secret worth keeping: the cluster and its certificates go with pg_throwaway_stop.

pg_tls_prepare() {
  local dir=$1/tls
  if ! command -v openssl >/dev/null; then
    echo "error: openssl is needed to make the throwaway cluster's TLS certificates (apt-get install openssl)" >&2
    return 1
  fi
  mkdir -p "$dir" || return 1
  (
    set -e
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -subj "/CN=iamvet-schema throwaway test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -keyout ca.key -out ca.crt
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=127.0.0.1" -keyout server.key -out server.csr
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -sha256 -extfile server.ext -out server.crt
    rm -f ca.key ca.srl server.csr server.ext
  ) >"$1/tls.log" 2>&1 || { cat "$1/tls.log" >&2; echo "error: could not make the throwaway cluster's TLS certificates" >&2; return 1; }
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$dir"; fi
  chmod 0755 "$dir" && chmod 0644 "$dir/ca.crt" "$dir/server.crt" && chmod 0600 "$dir/server.key"
  PGTHROWAWAY_TLS_CA=$dir/ca.crt
  export PGTHROWAWAY_TLS_CA
  PGTHROWAWAY_TLS_OPTIONS="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
}
