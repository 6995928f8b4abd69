#!/usr/bin/env bash
# Builds the root filesystem of the mysql:5.7 stand-in (Debian bookworm +
# MariaDB 10.11) into DIR, on the host. The Dockerfile adds the entrypoint
# and configuration on top.
#   rootfs.sh key        prints the inputs that identify the result
#   rootfs.sh build DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
packages=(mariadb-server mariadb-client)

case "${1:-}" in
key) echo "debian ${THROWAWAY_DEBIAN_SUITE:-bookworm} minbase + ${packages[*]}"; exit 0 ;;
build) target=$2 ;;
*) echo "usage: $0 key | build DIR" >&2; exit 2 ;;
esac

bash "$here/../../scripts/debian-rootfs.sh" "$target" "${packages[@]}"

cd "$target"
# Debian's package initialised a datadir and wrote its own server config
# (bind 127.0.0.1, utf8mb4, galera, maintenance user): none of it belongs here.
rm -rf var/lib/mysql/* etc/mysql/debian.cnf etc/mysql/debian-start \
  etc/mysql/mariadb.conf.d etc/mysql/my.cnf etc/mysql/my.cnf.fallback \
  etc/alternatives/my.cnf
# uid/gid 999 for mysql, as in the upstream image (bind mounts chowned for it work).
old_uid=$(chroot . id -u mysql) old_gid=$(chroot . id -g mysql)
if [ "$old_uid" != 999 ]; then
  chroot . groupmod -g 999 mysql
  chroot . usermod -u 999 -g 999 mysql
  find . -xdev -uid "$old_uid" -exec chown -h 999 {} +
  find . -xdev -gid "$old_gid" -exec chgrp -h 999 {} +
fi

mkdir -p etc/mysql/conf.d etc/mysql/mysql.conf.d docker-entrypoint-initdb.d \
  run/mysqld var/lib/mysql var/lib/mysql-files
chown 999:999 run/mysqld var/lib/mysql var/lib/mysql-files
chmod 1777 run/mysqld
chmod 750 var/lib/mysql-files
