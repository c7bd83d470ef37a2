#!/usr/bin/env bash
# Short fuzz runs for CI. cargo-fuzz needs nightly flags; on a stable toolchain
# RUSTC_BOOTSTRAP=1 unlocks them (users with rustup: `cargo +nightly fuzz run`).
#   ci/fuzz-smoke.sh [SECONDS] [TARGET...]   default: 60 sbpl_escape
set -euo pipefail
seconds="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(sbpl_escape)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$(dirname "$0")/../fuzz"
for t in "${targets[@]}"; do
  # Fuzz a scratch copy of the committed seeds: libFuzzer adds files to the
  # corpus dir it is given, and CI must not dirty the checkout.
  work=$(mktemp -d)
  cp -r "corpus/$t/." "$work/" 2>/dev/null || true
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$t" "$work" -- -max_total_time="$seconds"
  rm -rf "$work"
done
