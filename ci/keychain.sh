#!/usr/bin/env bash
# A temporary keychain for the keychain cells on a CI runner, and the
# runner's own keychain settings put back afterwards.
#
#   ci/keychain.sh setup STATE_DIR     before the matrix
#   ci/keychain.sh restore STATE_DIR   afterwards, in an always-run step
#
# Why: SecItemAdd against a hosted runner's login keychain answers -25308
# (errSecInteractionNotAllowed) or hangs, so the unsandboxed control run
# fails and every keychain cell is inconclusive. A fresh keychain, unlocked
# and made the user's default, takes the probe's items instead. Self-hosted
# runners keep their state between jobs, so `restore` puts the previous
# search list and default keychain back and deletes the temporary one.
#
# setup records the previous settings in STATE_DIR before changing anything;
# restore works from whatever setup recorded (a setup that failed half-way is
# still undone) and does nothing when setup never ran.
#
# Env: BELTCHECK_SECURITY  the security(1) binary (default /usr/bin/security;
#                          tests put a fake here)
#      RUNNER_TEMP         where the keychain file goes (default: STATE_DIR)
set -euo pipefail

security="${BELTCHECK_SECURITY:-/usr/bin/security}"
usage="usage: ci/keychain.sh setup|restore STATE_DIR"
action="${1:?$usage}"
state="${2:?$usage}"

# `security list-keychains` / `default-keychain` print one quoted path per
# line, indented: keep the path only.
unquote() { sed -E 's/^[[:space:]]*"(.*)"[[:space:]]*$/\1/' | grep -v '^[[:space:]]*$' || true; }

setup() {
  mkdir -p "$state"
  [ ! -e "$state/keychain" ] || { echo "keychain.sh: $state already holds a setup; restore it first" >&2; exit 2; }
  "$security" list-keychains -d user | unquote >"$state/search-list"
  "$security" default-keychain -d user | unquote >"$state/default"
  local keychain password
  keychain="${RUNNER_TEMP:-$state}/beltcheck-$$.keychain-db"
  # Never printed, never stored: only this step unlocks the keychain.
  password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  echo "$keychain" >"$state/keychain"
  "$security" create-keychain -p "$password" "$keychain"
  # No options: no lock on sleep and no lock after a timeout (a new
  # keychain locks after 5 minutes idle, and a matrix runs longer).
  "$security" set-keychain-settings "$keychain"
  "$security" unlock-keychain -p "$password" "$keychain"
  local -a list=("$keychain")
  mapfile -t -O 1 list <"$state/search-list"
  "$security" list-keychains -d user -s "${list[@]}"
  "$security" default-keychain -d user -s "$keychain"
  echo "keychain.sh: default keychain for this job: $keychain (previous: $(cat "$state/default"))"
}

restore() {
  if [ ! -e "$state/keychain" ]; then
    echo "keychain.sh: nothing to restore in $state (setup did not run)"
    return 0
  fi
  local status=0 keychain
  keychain=$(cat "$state/keychain")
  local -a list=()
  mapfile -t list <"$state/search-list"
  if [ "${#list[@]}" -gt 0 ]; then
    "$security" list-keychains -d user -s "${list[@]}" || status=1
  fi
  if [ -s "$state/default" ]; then
    "$security" default-keychain -d user -s "$(cat "$state/default")" || status=1
  fi
  if [ -e "$keychain" ]; then
    "$security" delete-keychain "$keychain" || status=1
  fi
  rm -f "$state/keychain" "$state/search-list" "$state/default"
  echo "keychain.sh: restored the previous keychain settings; removed $keychain"
  return "$status"
}

case "$action" in
  setup) setup ;;
  restore) restore ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
