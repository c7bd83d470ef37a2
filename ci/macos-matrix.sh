#!/usr/bin/env bash
# One macOS runner's job: build, (cargo test), the matrix, the gate.
# The report is written even when tests fail, so it can be uploaded.
#
#   ci/macos-matrix.sh OUT_DIR
#
# Everything else comes through the environment (the reusable workflow sets
# it from its inputs; nothing from an input is ever pasted into a command):
#   BELTCHECK_PROFILE         SBPL profile to check (empty: beltcheck's builder)
#   BELTCHECK_EXPECT          expectations file (required with a profile;
#                             empty: the built-in spec)
#   BELTCHECK_DEFINES         profile parameters, one KEY=VALUE per line
#   BELTCHECK_CARGO_TEST      "run" (default) or "skip"
#   BELTCHECK_REQUIRED_PROBES comma-separated probes whose inconclusive cells
#                             fail the job (default pty,sem,keychain with the
#                             built-in spec, none with a profile)
#   BELTCHECK                 the beltcheck binary (default target/release/beltcheck)
#
# Exit 1 when cargo test failed, a cell failed, or a required probe is
# inconclusive; 2 on bad input.
set -euo pipefail

out="${1:?usage: ci/macos-matrix.sh OUT_DIR}"
here="$(cd "$(dirname "$0")" && pwd)"
profile="${BELTCHECK_PROFILE:-}"
expect="${BELTCHECK_EXPECT:-}"
cargo_test="${BELTCHECK_CARGO_TEST:-run}"
bin="${BELTCHECK:-target/release/beltcheck}"

bad() { echo "macos-matrix: $*" >&2; exit 2; }
case "$cargo_test" in run | skip) ;; *) bad "BELTCHECK_CARGO_TEST=\"$cargo_test\": expected run or skip" ;; esac
[ -z "$profile" ] || [ -f "$profile" ] || bad "profile \"$profile\": no such file"
[ -z "$expect" ] || [ -f "$expect" ] || bad "expect \"$expect\": no such file"
[ -z "$profile" ] || [ -n "$expect" ] || bad "a profile needs an expectations file (expect)"

args=(matrix --out "$out" --quiet)
[ -z "$profile" ] || args+=(--profile "$profile")
[ -z "$expect" ] || args+=(--expect "$expect")
while IFS= read -r define || [ -n "$define" ]; do
  define="${define#"${define%%[![:space:]]*}"}"
  [ -n "$define" ] || continue
  [[ "$define" == *=* ]] || bad "defines: \"$define\" is not KEY=VALUE"
  args+=(-D "$define")
done <<<"${BELTCHECK_DEFINES:-}"

if [ -n "$profile" ]; then
  export BELTCHECK_REQUIRED_PROBES="${BELTCHECK_REQUIRED_PROBES:-}"
else
  export BELTCHECK_REQUIRED_PROBES="${BELTCHECK_REQUIRED_PROBES:-pty,sem,keychain}"
fi
export BELTCHECK_GIT_REV="${BELTCHECK_GIT_REV:-$(git -C "$here/.." rev-parse HEAD 2>/dev/null || echo unknown)}"
status=0

[ -n "${BELTCHECK:-}" ] || cargo build --release --workspace --bins
if [ "$cargo_test" = run ]; then
  cargo test --workspace || { echo "macos-matrix: cargo test failed" >&2; status=1; }
fi

matrix_rc=0
"$bin" "${args[@]}" || matrix_rc=$?
case "$matrix_rc" in
  0) ;;
  1) echo "macos-matrix: the matrix has failed cells" >&2; status=1 ;;
  *) echo "macos-matrix: beltcheck matrix could not run (exit $matrix_rc)" >&2; exit "$matrix_rc" ;;
esac

"$here/check-report.sh" "$out/report.json" || status=1
exit "$status"
