#!/usr/bin/env bash
# The GitHub Actions security gate: zizmor (pinned) over every workflow and
# every action.yml in the repository, offline, failing on any finding of
# medium severity or higher. Suppressions do not count: an inline
# `zizmor: ignore` comment fails the gate by itself, and zizmor runs with
# --no-config so no zizmor.yml can switch an audit off.
#
#   ci/zizmor.sh
#
# Env: BELTCHECK_ZIZMOR  a zizmor binary to use instead of installing one
#      CARGO_TARGET_DIR  the pinned zizmor is installed under it (default target)
set -euo pipefail
cd "$(dirname "$0")/.."

version=1.33.1

zizmor="${BELTCHECK_ZIZMOR:-}"
if [ -z "$zizmor" ]; then
  dir="${CARGO_TARGET_DIR:-target}/ci-tools/zizmor-$version"
  zizmor="$dir/bin/zizmor"
  if ! [ -x "$zizmor" ]; then
    rm -rf "$dir"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --target "$dir" "zizmor==$version"
  fi
fi
"$zizmor" --version

mapfile -t files < <(git ls-files '.github/workflows/*.yml' '.github/workflows/*.yaml' \
  '*action.yml' '*action.yaml' | sort -u)
[ "${#files[@]}" -gt 0 ] || { echo "zizmor.sh: no workflow or action.yml found" >&2; exit 2; }

if grep -n 'zizmor: *ignore' "${files[@]}"; then
  echo "zizmor.sh: suppression comments are not allowed; fix the finding instead" >&2
  exit 1
fi

"$zizmor" --offline --no-config --no-progress --min-severity medium "${files[@]}"
echo "zizmor.sh: no finding of medium or higher in ${#files[@]} files"
