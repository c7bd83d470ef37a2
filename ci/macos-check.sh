#!/usr/bin/env bash
# macOS type-check lane, runnable on Linux.
#
# Code behind cfg(target_os = "macos") never compiles on a Linux host, so this
# lane type-checks the whole workspace for the Apple targets with
# `cargo check -Zbuild-std`. rustup cannot fetch Apple std here, but Debian's
# rustc-web packages ship the standard library *sources*, which is all
# build-std needs. Nothing is linked or run: this proves the macOS code
# type-checks, not that it works (the macOS matrix workflow does that).
#
#   ci/macos-check.sh [TARGET...]   default: aarch64-apple-darwin x86_64-apple-darwin
#
# Env: BELTCHECK_MACOS_TOOLCHAIN  unpack dir (default ~/.cache/beltcheck-macos-rustc)
set -euo pipefail

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(aarch64-apple-darwin x86_64-apple-darwin)

home_dir="${BELTCHECK_MACOS_TOOLCHAIN:-$HOME/.cache/beltcheck-macos-rustc}"
sysroot="$home_dir/root"

fetch_toolchain() {
  echo "ci/macos-check: fetching Debian's rustc-web into $home_dir" >&2
  mkdir -p "$home_dir/debs" "$sysroot"
  apt-cache policy rustc-web 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -qq >/dev/null
  local version series llvm_pkg
  version=$(apt-cache policy rustc-web | awk '$1 == "Candidate:" {print $2}')
  series=$(sed -E 's/^([0-9]+\.[0-9]+).*/\1/' <<<"$version")
  llvm_pkg=$(apt-cache depends "libstd-rust-web-$series=$version" | awk '$1 == "Depends:" && $2 ~ /^libllvm/ {print $2; exit}')
  # apt-get download runs as the _apt user: the folder must be writable by it.
  chmod 777 "$home_dir/debs"
  (cd "$home_dir/debs" && apt-get download -qq "rustc-web=$version" "rust-web-src=$version" \
      "libstd-rust-web-$series=$version" "libstd-rust-web-dev=$version" "$llvm_pkg" >/dev/null)
  local deb
  for deb in "$home_dir"/debs/*.deb; do dpkg-deb -x "$deb" "$sysroot"; done
}

[ -x "$sysroot/usr/bin/rustc" ] && [ -d "$sysroot/usr/src" ] || fetch_toolchain

lib_path="$sysroot/usr/lib/x86_64-linux-gnu"
for llvm_lib in "$sysroot"/usr/lib/llvm-*/lib; do lib_path="$lib_path:$llvm_lib"; done
export LD_LIBRARY_PATH="$lib_path${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export RUSTC="$sysroot/usr/bin/rustc"
# build-std is a nightly feature; Debian's stable rustc accepts it with this.
export RUSTC_BOOTSTRAP=1
# Artifacts from a different compiler must not mix with the main target dir.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/macos-check"
unset RUSTC_WRAPPER RUSTFLAGS

for target in "${targets[@]}"; do
  echo "ci/macos-check: $("$RUSTC" --version) -> $target" >&2
  cargo check --workspace --all-targets -Zbuild-std=std,panic_abort,test --target "$target"
done
echo "ci/macos-check: all targets type-check" >&2
