#!/usr/bin/env bash
# action-validator (npm @action-validator/cli: GitHub's workflow JSON schema, compiled to WebAssembly,
# runs offline) installed once into a cache folder, since CI machines start clean. Source this file, then:
#   action_validator_path   -> prints the path of the installed action-validator (installs it if needed)
# IAMVET_TOOLS_CACHE overrides the cache folder (default ~/.cache/iamvet-schema).
ACTION_VALIDATOR_VERSION=0.6.0

action_validator_path() {
  local cache=${IAMVET_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iamvet-schema}
  local prefix="$cache/action-validator-$ACTION_VALIDATOR_VERSION"
  local bin="$prefix/node_modules/.bin/action-validator"
  if [ ! -x "$bin" ]; then
    if ! command -v npm >/dev/null; then
      echo "error: npm is needed to install action-validator (apt-get install npm, or install Node.js)" >&2
      return 1
    fi
    mkdir -p "$prefix"
    # A private prefix: nothing global changes; a second run finds the binary and skips this.
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "@action-validator/cli@$ACTION_VALIDATOR_VERSION" >&2 || return 1
  fi
  echo "$bin"
}
