#!/usr/bin/env bash
# One macOS runner's job: build, cargo test, the matrix, the gate.
# The report is written even when tests fail, so it can be uploaded.
#
#   ci/macos-matrix.sh OUT_DIR
#
# Exit 1 when cargo test failed, a cell failed, or a required probe
# (BELTCHECK_REQUIRED_PROBES, default pty,sem,keychain) is inconclusive.
set -euo pipefail

out="${1:?usage: ci/macos-matrix.sh OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
export BELTCHECK_REQUIRED_PROBES="${BELTCHECK_REQUIRED_PROBES:-pty,sem,keychain}"
export BELTCHECK_GIT_REV="${GITHUB_SHA:-$(git -C "$here/.." rev-parse HEAD 2>/dev/null || echo unknown)}"
status=0

cargo build --release --workspace --bins
cargo test --workspace || { echo "macos-matrix: cargo test failed" >&2; status=1; }

matrix_rc=0
"${BELTCHECK:-target/release/beltcheck}" matrix --out "$out" --quiet || matrix_rc=$?
case "$matrix_rc" in
  0) ;;
  1) echo "macos-matrix: the matrix has failed cells" >&2; status=1 ;;
  *) echo "macos-matrix: beltcheck matrix could not run (exit $matrix_rc)" >&2; exit "$matrix_rc" ;;
esac

"$here/check-report.sh" "$out/report.json" || status=1
exit "$status"
