#!/usr/bin/env bash
# Run the whole test suite once as an ordinary (non-root) user.
#
# GitHub's macOS runners, and most developers, run the tests as an ordinary
# user; CI here runs as root. A test that silently needs root (setuid, uid
# 65534, a root-owned path) would stay green here and go red there, so this
# lane runs every test binary as an unprivileged user.
#
# The toolchain lives under root's home, which other users cannot enter, so
# the tests are built as root (`cargo test --no-run`) and the built binaries
# are run as the user, each from its package's directory, as cargo would.
# The only thing handed to the user is the tests' scratch directory
# (CARGO_TARGET_TMPDIR, i.e. target/tmp).
#
#   ci/test-as-user.sh [USER]     default user: beltcheck-ci (created if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

user="${1:-beltcheck-ci}"
if [ "$(id -u)" -ne 0 ]; then
  echo "ci/test-as-user.sh: already an ordinary user ($(id -un)); use cargo test --workspace" >&2
  exit 2
fi
if ! id -u "$user" >/dev/null 2>&1; then
  useradd --create-home --shell /bin/sh "$user"
fi
uid=$(id -u "$user")
home=$(getent passwd "$user" | cut -d: -f6)

# The binaries the tests launch (probe, stage, the pty driver example) are
# built here, as root: the tests themselves cannot run cargo as the user.
cargo build --workspace --bins --examples --quiet

# Every test binary with the directory of the package it belongs to.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
cargo test --workspace --no-run --message-format=json 2>/dev/null |
  jq -r 'select(.reason == "compiler-artifact" and .executable != null and .profile.test == true)
         | "\(.manifest_path | sub("/Cargo.toml$"; ""))\t\(.executable)"' >"$list"
[ -s "$list" ] || { echo "ci/test-as-user.sh: no test binaries were built" >&2; exit 1; }

target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
mkdir -p "$target_dir/tmp"
chown -R "$uid" "$target_dir/tmp"

workspace=$PWD
failed=0
while IFS=$'\t' read -r dir exe; do
  echo "--- as $user: ${exe#"$target_dir"/}"
  if ! (cd "$dir" && setpriv --reuid="$uid" --regid="$(id -g "$user")" --init-groups \
          env -i HOME="$home" USER="$user" LOGNAME="$user" PATH=/usr/local/bin:/usr/bin:/bin \
              TMPDIR=/tmp BELTCHECK_TEST_BINS_BUILT=1 \
              INSTA_WORKSPACE_ROOT="$workspace" INSTA_UPDATE=no CI=true "$exe" --quiet); then
    echo "FAILED as $user: $exe" >&2
    failed=1
  fi
done <"$list"
# Hand the scratch directory back so root's own runs keep working.
chown -R 0 "$target_dir/tmp"
exit "$failed"
