#!/usr/bin/env bash
# Merges per-release reports into one table across releases.
#
#   ci/merge-reports.sh OUT_DIR REPORT.json...
#
# Env: BELTCHECK  the beltcheck binary (default target/release/beltcheck).
# Writes OUT_DIR/merged.{json,md,html}; exit 1 when any input report has a
# failed cell (the merge is still written), 2 on bad input.
set -euo pipefail

out="${1:?usage: ci/merge-reports.sh OUT_DIR REPORT.json...}"
shift
[ "$#" -gt 0 ] || { echo "merge-reports: no reports given" >&2; exit 2; }
bin="${BELTCHECK:-target/release/beltcheck}"

"$bin" report merge "$@" --out "$out"

status=0
for r in "$@"; do
  fail=$(jq '.summary.fail' "$r")
  if [ "$fail" -ne 0 ]; then
    echo "merge-reports: $r has $fail failed cells" >&2
    status=1
  fi
done
echo "merge-reports: $(jq '.changed' "$out/merged.json") rows change between releases; see $out/merged.md"
exit "$status"
