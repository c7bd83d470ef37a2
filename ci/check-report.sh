#!/usr/bin/env bash
# The CI gate for one report.json: fails when any cell failed, and when a
# probe that must run on this OS has an inconclusive cell (an inconclusive
# cell is never green). Other inconclusive cells are listed, not fatal.
#
#   ci/check-report.sh REPORT.json [REQUIRED_PROBES]
#
# REQUIRED_PROBES: comma-separated (default: $BELTCHECK_REQUIRED_PROBES, else
# none). On macOS runners the workflow requires pty,sem,keychain: those
# exist on every macOS release, so "inconclusive" there means the harness
# or the runner is broken (e.g. a nested sandbox), not that the OS lacks it.
set -euo pipefail

report="${1:?usage: ci/check-report.sh REPORT.json [REQUIRED_PROBES]}"
required="${2:-${BELTCHECK_REQUIRED_PROBES:-}}"
[ -f "$report" ] || { echo "check-report: $report: no such file" >&2; exit 2; }
jq -e '.schema == 1 or .schema == 2' "$report" >/dev/null || { echo "check-report: $report: not a schema-1 or schema-2 beltcheck report" >&2; exit 2; }

summary=$(jq -r '.summary | "\(.pass) pass, \(.fail) fail, \(.inconclusive) inconclusive"' "$report")
echo "check-report: $report: $summary"
status=0

fail=$(jq '.summary.fail' "$report")
if [ "$fail" -ne 0 ]; then
  echo "check-report: $fail failed cells:" >&2
  jq -r '.cells[] | select(.status == "fail") | "  \(.probe) \(.config | tostring): \(.reason)"' "$report" | head -50 >&2
  status=1
fi

if [ -n "$required" ]; then
  bad=$(jq -r --arg req "$required" '
    ($req | split(",")) as $r
    | [.cells[] | select(.status == "inconclusive" and (.probe as $p | $r | index($p)))]
    | .[] | "  \(.probe) \(.config | tostring): \(.reason)"' "$report")
  if [ -n "$bad" ]; then
    echo "check-report: inconclusive cells of required probes ($required):" >&2
    echo "$bad" | head -50 >&2
    status=1
  fi
fi

others=$(jq '[.cells[] | select(.status == "inconclusive")] | length' "$report")
if [ "$others" -ne 0 ]; then
  echo "check-report: $others inconclusive cells in all (not green; see report.md):"
  jq -r '[.cells[] | select(.status == "inconclusive") | "\(.probe): \(.reason)"] | group_by(.) | .[] | "  \(length) x \(.[0])"' "$report" | head -30
fi
exit "$status"
