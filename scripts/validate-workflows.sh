#!/usr/bin/env bash
# Validates GitHub Actions workflow files against GitHub's workflow schema (action-validator, offline).
#   scripts/validate-workflows.sh              the runner's CI and the documented examples
#   scripts/validate-workflows.sh FILE…        just these files
# Exit 0 when every file is valid; otherwise each invalid file's errors are printed and the exit is 1.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/action-validator.sh
. scripts/lib/action-validator.sh

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(.github/workflows/*.yml docs/examples/*.yml)
fi
validator=$(action_validator_path)
status=0
for file in "${files[@]}"; do
  if "$validator" "$file"; then
    echo "valid: $file"
  else
    echo "INVALID: $file" >&2
    status=1
  fi
done
exit "$status"
