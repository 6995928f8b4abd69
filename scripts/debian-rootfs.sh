#!/usr/bin/env bash
# Builds a minimal Debian root filesystem with debootstrap (minbase), on the
# host, so that no image recipe ever needs network access inside a container.
#
#   debian-rootfs.sh TARGET [PACKAGE...]
#
# Environment:
#   THROWAWAY_DEBIAN_SUITE    default bookworm
#   THROWAWAY_DEBIAN_MIRROR   default: the host's first deb.debian.org-style
#                             source, else http://deb.debian.org/debian
#   THROWAWAY_CACHE           where downloaded .debs are kept between runs
#                             (default /var/cache/throwaway-images)
set -euo pipefail

target=${1:?usage: debian-rootfs.sh TARGET [PACKAGE...]}
shift
suite=${THROWAWAY_DEBIAN_SUITE:-bookworm}
cache=${THROWAWAY_CACHE:-/var/cache/throwaway-images}

mirror=${THROWAWAY_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
  # Reuse the host's own Debian mirror (first main archive URI), if any.
  mirror=$(grep -hsoE '(URIs:|deb)[[:space:]]+https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null \
    | awk '{print $2}' | head -n1 || true)
  mirror=${mirror:-http://deb.debian.org/debian}
fi

include=""
if [ $# -gt 0 ]; then include="--include=$(IFS=,; echo "$*")"; fi

# Per-target .deb cache so that parallel runs never write the same file.
debs="$cache/debs/$(basename "$target")"
mkdir -p "$debs" "$target"

log() { echo "[debian-rootfs $(basename "$target")] $*" >&2; }

cleanup_mounts() {
  local m
  for m in proc sys dev/pts dev; do
    if mountpoint -q "$target/$m" 2>/dev/null; then umount -l "$target/$m" 2>/dev/null || true; fi
  done
}
trap cleanup_mounts EXIT

log "debootstrap (first stage) from $mirror"
debootstrap --variant=minbase --foreign $include --cache-dir="$debs" \
  "$suite" "$target" "$mirror" >"$target.debootstrap.log" 2>&1 || {
  tail -n 30 "$target.debootstrap.log" >&2; exit 1; }

# No maintainer script may start a service inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$target/usr/sbin/policy-rc.d"
chmod 755 "$target/usr/sbin/policy-rc.d"

log "debootstrap (second stage)"
chroot "$target" /debootstrap/debootstrap --second-stage >>"$target.debootstrap.log" 2>&1 || {
  tail -n 30 "$target.debootstrap.log" >&2
  tail -n 30 "$target/debootstrap/debootstrap.log" >&2 2>/dev/null || true
  exit 1; }
cleanup_mounts

# Trim: no package caches, lists, manuals or docs (copyright files stay).
rm -f "$target/usr/sbin/policy-rc.d"
rm -rf "$target"/var/cache/apt/archives/*.deb "$target"/var/cache/apt/*.bin \
  "$target"/var/lib/apt/lists/* "$target"/var/log/* "$target"/tmp/* "$target"/var/tmp/* \
  "$target"/usr/share/man/* "$target"/usr/share/info/* "$target"/usr/share/lintian/* \
  "$target"/usr/share/linda/* "$target"/debootstrap
find "$target/usr/share/doc" -type f ! -name copyright -delete 2>/dev/null || true
find "$target/usr/share/doc" -type d -empty -delete 2>/dev/null || true
find "$target/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
printf 'deb %s %s main\n' "$mirror" "$suite" > "$target/etc/apt/sources.list"
: > "$target/etc/resolv.conf"
echo localhost > "$target/etc/hostname"
rm -f "$target.debootstrap.log"
log "done"
