#!/usr/bin/env bash
# Builds the root filesystem of the busybox stand-in into $1 (an empty folder).
# Host side only: the binary is Debian's busybox-static, fetched with apt.
#   rootfs.sh key      prints the inputs that identify the result (cache key)
#   rootfs.sh build DIR
set -euo pipefail

case "${1:-}" in
key)
  # Cheap on purpose (it runs on every ensure): the Debian release, not the
  # exact package version.
  echo "busybox-static from Debian $(cut -d. -f1 /etc/debian_version 2>/dev/null || echo ?)"
  exit 0
  ;;
build) target=$2 ;;
*) echo "usage: $0 key | build DIR" >&2; exit 2 ;;
esac

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q busybox-static >/dev/null 2>&1) || {
  apt-get update -qq >/dev/null 2>&1 || true
  (cd "$work" && apt-get download -q busybox-static >/dev/null)
}
dpkg-deb -x "$work"/busybox-static_*.deb "$work/x"

mkdir -p "$target"
cd "$target"
mkdir -p bin etc root home tmp var/spool/mail var/www usr/sbin
chmod 1777 tmp
chmod 700 root
install -m 0755 "$work/x/bin/busybox" bin/busybox
# One symlink per applet, all in /bin like the upstream image.
for applet in $(bin/busybox --list); do
  [ "$applet" = busybox ] && continue
  ln -sf busybox "bin/$applet"
done

cat > etc/passwd <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
bin:x:2:2:bin:/bin:/bin/false
sys:x:3:3:sys:/dev:/bin/false
sync:x:4:100:sync:/bin:/bin/sync
mail:x:8:8:mail:/var/spool/mail:/bin/false
www-data:x:33:33:www-data:/var/www:/bin/false
operator:x:37:37:Operator:/var:/bin/false
nobody:x:65534:65534:nobody:/home:/bin/false
P
cat > etc/group <<'G'
root:x:0:
daemon:x:1:
bin:x:2:
sys:x:3:
adm:x:4:
tty:x:5:
disk:x:6:
wheel:x:10:root
mail:x:8:
www-data:x:33:
operator:x:37:
staff:x:50:
users:x:100:
nogroup:x:65533:
nobody:x:65534:
G
cat > etc/shadow <<'S'
root:*::0:::::
daemon:*::0:::::
bin:*::0:::::
sys:*::0:::::
sync:*::0:::::
mail:*::0:::::
www-data:*::0:::::
operator:*::0:::::
nobody:*::0:::::
S
chmod 640 etc/shadow
echo "localhost" > etc/hostname
