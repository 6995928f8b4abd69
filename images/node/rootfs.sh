#!/usr/bin/env bash
# Builds the root filesystem of the node:20-bookworm-slim stand-in into DIR, on
# the host: Debian bookworm minbase plus this machine's own Node.js binary
# (and any shared library it needs that minbase lacks), and a `node` user.
#   rootfs.sh key        prints the inputs that identify the result
#   rootfs.sh build DIR
# THROWAWAY_NODE_BINARY overrides which node binary is copied.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

node_bin=${THROWAWAY_NODE_BINARY:-$(command -v node || true)}
if [ -z "$node_bin" ]; then
  echo "node-image: no node binary on this machine (set THROWAWAY_NODE_BINARY)" >&2
  exit 1
fi
node_bin=$(readlink -f "$node_bin")

case "${1:-}" in
key)
  echo "debian ${THROWAWAY_DEBIAN_SUITE:-bookworm} minbase + node $("$node_bin" --version) ($node_bin $(stat -c "%s %Y" "$node_bin"))"
  exit 0
  ;;
build) target=$2 ;;
*) echo "usage: $0 key | build DIR" >&2; exit 2 ;;
esac

version=$("$node_bin" --version)
case "$version" in
v20.*) ;;
*) echo "node-image: warning: $node_bin is $version, not Node 20; the image is still tagged node:20-bookworm-slim" >&2 ;;
esac

bash "$here/../../scripts/debian-rootfs.sh" "$target"

install -D -m 0755 "$node_bin" "$target/usr/local/bin/node"
# Copy any library the binary links against that the rootfs does not have.
ldd "$node_bin" | awk '/=> \// {print $3} /^\t\// {print $1}' | while read -r lib; do
  if [ ! -e "$target$lib" ] && [ ! -e "$target/usr$lib" ]; then
    echo "node-image: adding $lib from the host" >&2
    install -D -m 0644 "$(readlink -f "$lib")" "$target/usr$lib"
  fi
done

chroot "$target" groupadd --gid 1000 node
chroot "$target" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# The binary must run inside the rootfs exactly as it will in a container.
chroot "$target" /usr/local/bin/node -e 'process.exit(0)'
echo "$version" > "$target/usr/local/share/throwaway-node-version"
