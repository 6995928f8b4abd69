#!/usr/bin/env bash
# Makes sure a Docker engine is there for throwaway's tests, demo and bench.
#
#   engine.sh ensure   (default) idempotent; silent when all is already well
#   engine.sh status   what is running and which images are present
#   engine.sh stop     stops the registry and the dockerd this script started
#
#   engine.sh ensure NAME   provisions one more engine (scripts/engines/) beside
#                           the main one and prints on stdout only the lines that
#                           point a client at it (DOCKER_HOST=..., and for TLS
#                           DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH=...):
#                           eval "$(bash scripts/engine.sh ensure podman)"
#   engine.sh stop NAME     stops that engine (its files and packages stay)
#   NAME: podman | podman-rootless | docker-rootless | remote-tls | remote-ssh
#
# ensure:
#  1. Uses the engine that answers (DOCKER_HOST, else /var/run/docker.sock,
#     else the docker CLI's current context).
#  2. Else, as root on Debian/Ubuntu: installs docker.io (and the tools below)
#     with apt, clears a stale /var/run/docker.pid and starts dockerd detached,
#     logging to /var/log/throwaway-dockerd.log.
#  3. When Docker Hub cannot be reached (or THROWAWAY_OFFLINE=1): runs Debian's
#     docker-registry on 127.0.0.1:5000 as a plain host process, makes it the
#     daemon's registry mirror (/etc/docker/daemon.json, merged) and builds the
#     stand-in images of images/ into it (scripts/images.sh), so that
#     `docker pull mysql:5.7` etc. work unchanged, offline. The registry is
#     read-only (images.sh pushes through a writable instance of its own that
#     only root can use) and the stand-ins are checked against the image ids
#     root recorded in $REG_DIR/digests (root-only), not by their labels.
#     When Docker Hub answers, the real images are pulled instead.
#  4. Runs a tiny container to prove the engine works (restarting dockerd once
#     if the default bridge is missing), and checks that the images
#     busybox:latest, mysql:5.7 and node:20-bookworm-slim are present.
#
# Environment:
#   THROWAWAY_OFFLINE=1|0        force the local mirror on / off (default: probe)
#   THROWAWAY_REGISTRY_PORT      default 5000
#   THROWAWAY_REGISTRY_DIR       default /var/lib/throwaway-registry
#   THROWAWAY_CACHE              default /var/cache/throwaway-images
#   THROWAWAY_ENGINE_WAIT        seconds to wait for dockerd, default 90
#   THROWAWAY_ENGINE_ONLY=1      only steps 1-2 (no mirror, images or test container)
#   THROWAWAY_VERBOSE=1          say what is checked
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Every daemon this script starts inherits its working directory: from a checkout that is later deleted (a git
# worktree, a CI clone), Podman's conmon then fails every container start ("Failed to get working directory").
cd /
CONTRACT_IMAGES=(busybox:latest mysql:5.7 node:20-bookworm-slim)
# The engine this script manages (overridable only to test this script).
LOCAL_SOCKET=${THROWAWAY_DOCKER_SOCKET:-/var/run/docker.sock}
DOCKER_PIDFILE=${THROWAWAY_DOCKER_PIDFILE:-/var/run/docker.pid}
DOCKERD_LOG=${THROWAWAY_DOCKERD_LOG:-/var/log/throwaway-dockerd.log}
STARTED_MARK=${DOCKER_PIDFILE%/*}/throwaway-dockerd.pid
CONTAINERD_PIDFILE=/var/run/docker/containerd/containerd.pid
DAEMON_JSON=${THROWAWAY_DAEMON_JSON:-/etc/docker/daemon.json}
REG_PORT=${THROWAWAY_REGISTRY_PORT:-5000}
REG_ADDR=127.0.0.1:$REG_PORT
MIRROR_URL=http://$REG_ADDR
REG_DIR=${THROWAWAY_REGISTRY_DIR:-/var/lib/throwaway-registry}
REG_LOG=/var/log/throwaway-registry.log
REG_PIDFILE=/var/run/throwaway-registry-$REG_PORT.pid
OFFLINE_MARK=$REG_DIR/offline
# Root-only: the image id of every stand-in tag root built and pushed.
DIGESTS_DIR=$REG_DIR/digests
WAIT=${THROWAWAY_ENGINE_WAIT:-90}
ENGINE_PACKAGES=(docker.io curl ca-certificates)
MIRROR_PACKAGES=(docker-registry debootstrap curl ca-certificates apache2-utils iproute2)
# Beside the engine, the test suite runs a real registry (push/pull tests) with htpasswd auth, and compares the
# compose loader with what docker-compose 1.29 (`docker-compose config`, `ps`) says of the same files.
TEST_PACKAGES=(docker-registry apache2-utils docker-compose)

did=() # what this run changed, for the one-line summary

say() { echo "throwaway-engine: $*" >&2; }
verbose() { if [ "${THROWAWAY_VERBOSE:-}" = 1 ]; then say "$*"; fi; }
die() {
  say "error: $1"
  shift
  local line
  for line in "$@"; do echo "  $line" >&2; done
  exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }
is_debian() { [ -f /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; }
have() { command -v "$1" >/dev/null 2>&1; }

# The engine we manage is the local one at $LOCAL_SOCKET.
socket_path() {
  local host=${DOCKER_HOST:-unix://$LOCAL_SOCKET}
  case "$host" in
  unix://*) echo "${host#unix://}" ;;
  /*) echo "$host" ;;
  *) echo "" ;;
  esac
}
local_engine() { [ "$(socket_path)" = "$LOCAL_SOCKET" ]; }

engine_answers() {
  local sock
  sock=$(socket_path)
  if [ -n "$sock" ] && [ -S "$sock" ] && have curl; then
    [ "$(curl -sS -m 3 --unix-socket "$sock" http://localhost/_ping 2>/dev/null)" = OK ]
    return
  fi
  # No socket there (or no curl): the docker CLI may know better (contexts).
  have docker && timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

# --- packages -------------------------------------------------------------------

apt_install() { # PACKAGE...
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  is_root && is_debian || return 1
  say "installing ${missing[*]} with apt-get"
  # Maintainer scripts must not start services (docker, the stock registry on
  # :5000): this script starts what it needs, its own way.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
  fi
  local rc=0 log=/var/log/throwaway-apt.log
  export DEBIAN_FRONTEND=noninteractive
  local opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends)
  # apt-get update only when the package lists are missing or stale.
  if ! apt-get install "${opts[@]}" "${missing[@]}" >"$log" 2>&1; then
    apt-get update -q >>"$log" 2>&1 || true
    apt-get install "${opts[@]}" "${missing[@]}" >>"$log" 2>&1 || rc=$?
  fi
  if [ "$added_policy" = 1 ]; then rm -f "$policy"; fi
  if [ "$rc" != 0 ]; then
    tail -n 20 "$log" >&2
    die "apt-get install ${missing[*]} failed (full log: $log)"
  fi
  did+=("installed ${missing[*]}")
}

# --- dockerd ----------------------------------------------------------------------

# pid of a live (not zombie) process named NAME in PIDFILE, else nothing
live_pid() { # PIDFILE NAME
  local pid state
  [ -s "$1" ] || return 0
  pid=$(tr -dc '0-9' <"$1")
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 0
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  if [ "$state" != Z ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then echo "$pid"; fi
}
live_dockerd_pid() { live_pid "$DOCKER_PIDFILE" dockerd; }

# After an unclean stop the pid files may name a dead process, a zombie or
# an unrelated one; dockerd (and its containerd supervisor) would then refuse
# to start or wait on a process that never answers.
clear_stale_pidfile() {
  if [ -e "$DOCKER_PIDFILE" ] && [ -z "$(live_dockerd_pid)" ]; then
    say "removing stale $DOCKER_PIDFILE (pid $(cat "$DOCKER_PIDFILE" 2>/dev/null) is not a running dockerd)"
    rm -f "$DOCKER_PIDFILE"
  fi
  if [ "$DOCKER_PIDFILE" = /var/run/docker.pid ] && [ -e "$CONTAINERD_PIDFILE" ] &&
    [ -z "$(live_pid "$CONTAINERD_PIDFILE" containerd)" ]; then
    verbose "removing stale $CONTAINERD_PIDFILE"
    rm -f "$CONTAINERD_PIDFILE"
  fi
}

wait_for_engine() { # PID: 0 once the engine answers, 1 if PID died or time ran out
  local deadline=$((SECONDS + WAIT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    engine_answers && return 0
    if [ -n "${1:-}" ]; then
      kill -0 "$1" 2>/dev/null || return 1
      [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ] || return 1
    fi
    sleep 0.2
  done
  return 1
}

engine_failed() {
  tail -n 25 "$DOCKERD_LOG" >&2 2>/dev/null || true
  die "dockerd did not answer on $LOCAL_SOCKET within ${WAIT}s (log: $DOCKERD_LOG)"
}

start_dockerd() {
  local pid
  pid=$(live_dockerd_pid)
  if [ -n "$pid" ]; then
    # Running but not answering: starting up or shutting down, or hung.
    say "dockerd $pid is running but does not answer yet; waiting up to ${WAIT}s"
    wait_for_engine "$pid" && return 0
    if [ -n "$(live_dockerd_pid)" ]; then
      say "dockerd $pid still does not answer: stopping it"
      stop_dockerd
    fi
  fi
  clear_stale_pidfile
  if have systemctl && [ -d /run/systemd/system ] && [ "$LOCAL_SOCKET" = /var/run/docker.sock ]; then
    if systemctl start docker >/dev/null 2>&1; then
      wait_for_engine "" || engine_failed
      did+=("started docker.service")
      return 0
    fi
  fi
  have dockerd || die "dockerd is not installed"
  mkdir -p "$(dirname "$DOCKERD_LOG")"
  echo "--- $(date '+%F %T') started by throwaway engine.sh" >>"$DOCKERD_LOG"
  local args=()
  if [ "$DOCKER_PIDFILE" != /var/run/docker.pid ]; then args+=(--pidfile "$DOCKER_PIDFILE"); fi
  if [ "$LOCAL_SOCKET" != /var/run/docker.sock ]; then args+=(-H "unix://$LOCAL_SOCKET"); fi
  setsid nohup dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  echo "$pid" >"$STARTED_MARK"
  wait_for_engine "$pid" || engine_failed
  did+=("started dockerd")
}

stop_dockerd() {
  local pid i
  if have systemctl && [ -d /run/systemd/system ] && [ "$LOCAL_SOCKET" = /var/run/docker.sock ] &&
    systemctl is-active --quiet docker 2>/dev/null; then
    systemctl stop docker docker.socket >/dev/null 2>&1 || true
    return 0
  fi
  pid=$(live_dockerd_pid)
  [ -n "$pid" ] || { clear_stale_pidfile; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    [ -n "$(live_dockerd_pid)" ] || break
    sleep 0.2
  done
  if [ -n "$(live_dockerd_pid)" ]; then kill -KILL "$pid" 2>/dev/null || true; sleep 1; fi
  clear_stale_pidfile
}

restart_dockerd() {
  say "restarting dockerd ($1)"
  stop_dockerd
  start_dockerd
  did+=("restarted dockerd")
}

# --- Docker Hub or the local mirror --------------------------------------------------

offline_state=""
offline() {
  if [ -z "$offline_state" ]; then
    if probe_offline; then offline_state=yes; else offline_state=no; fi
  fi
  [ "$offline_state" = yes ]
}

probe_offline() {
  case "${THROWAWAY_OFFLINE:-}" in
  1 | true | yes) return 0 ;;
  0 | false | no) return 1 ;;
  esac
  # Decided on an earlier run of this machine.
  [ -f "$OFFLINE_MARK" ] && return 0
  if ! timeout 3 getent hosts registry-1.docker.io >/dev/null 2>&1; then
    verbose "registry-1.docker.io does not resolve: using the local mirror"
    return 0
  fi
  if have curl; then
    local code
    code=$(curl -sS -m 3 -o /dev/null -w '%{http_code}' https://registry-1.docker.io/v2/ 2>/dev/null || true)
    case "$code" in
    2* | 401) return 1 ;;
    *) verbose "Docker Hub did not answer (HTTP '$code'): using the local mirror"; return 0 ;;
    esac
  fi
  # No curl yet (fresh machine): a bounded TCP connect says enough.
  if timeout 3 bash -c 'exec 3<>/dev/tcp/registry-1.docker.io/443' 2>/dev/null; then return 1; fi
  verbose "Docker Hub did not answer on port 443: using the local mirror"
  return 0
}

# The mirror's registry configuration: a read-only instance on ADDR (root's
# pushes go through scripts/images.sh's push route).
mirror_config() { # ADDR
  cat <<EOF
# Written by throwaway scripts/engine.sh: the local Docker Hub mirror, read-only.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
  cache:
    blobdescriptor: inmemory
  maintenance:
    readonly:
      enabled: true
http:
  addr: $1
  headers:
    X-Content-Type-Options: [nosniff]
EOF
}

registry_answers() { curl -fsS -m 3 "http://$REG_ADDR/v2/" >/dev/null 2>&1; }

start_registry() {
  have docker-registry || die "docker-registry is not installed"
  mkdir -p "$REG_DIR/data" "$(dirname "$REG_LOG")"
  # Read-only: root pushes through images.sh's own writable instance, so no
  # local user can plant an image that root's dockerd would serve for Hub pulls.
  local conf changed=0
  conf=$(mirror_config "$REG_ADDR")
  if [ "$(cat "$REG_DIR/config.yml" 2>/dev/null)" != "$conf" ]; then
    printf '%s\n' "$conf" >"$REG_DIR/config.yml.tmp"
    mv "$REG_DIR/config.yml.tmp" "$REG_DIR/config.yml"
    changed=1
  fi
  local old i
  old=$(cat "$REG_PIDFILE" 2>/dev/null || true)
  if [ -n "$old" ] && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = docker-registry ]; then
    if [ "$changed" = 0 ] && registry_answers; then return 0; fi
    kill "$old" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$old" 2>/dev/null || break; sleep 0.1; done
  elif registry_answers; then
    die "something else answers on $REG_ADDR (not the registry of $REG_PIDFILE)"
  fi
  setsid nohup docker-registry serve "$REG_DIR/config.yml" >>"$REG_LOG" 2>&1 </dev/null 9>&- &
  local pid=$!
  echo "$pid" >"$REG_PIDFILE"
  for ((i = 0; i < 100; i++)); do
    registry_answers && { did+=("started the read-only registry on $REG_ADDR"); return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 10 "$REG_LOG" >&2 || true
  die "the local registry did not start on $REG_ADDR (log: $REG_LOG)"
}

stop_registry() {
  local pid
  pid=$(cat "$REG_PIDFILE" 2>/dev/null || true)
  if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = docker-registry ]; then
    kill "$pid"
  fi
  rm -f "$REG_PIDFILE"
}

json_tool() {
  if have node; then echo node; elif have python3; then echo python3; else die "neither node nor python3 found to edit $DAEMON_JSON"; fi
}

# Adds MIRROR_URL to registry-mirrors in daemon.json, keeping every other key.
# Prints "changed" when the file was rewritten.
merge_daemon_json() {
  mkdir -p "$(dirname "$DAEMON_JSON")"
  if [ "$(json_tool)" = node ]; then
    node - "$DAEMON_JSON" "$MIRROR_URL" <<'EOF'
const fs = require("fs");
const [file, url] = process.argv.slice(2);
let cfg = {};
try {
  const text = fs.readFileSync(file, "utf8");
  if (text.trim()) cfg = JSON.parse(text);
} catch (e) {
  if (e.code !== "ENOENT") { console.error(`cannot read ${file}: ${e.message}`); process.exit(1); }
}
const mirrors = Array.isArray(cfg["registry-mirrors"]) ? cfg["registry-mirrors"] : [];
if (!mirrors.map((m) => m.replace(/\/+$/, "")).includes(url)) {
  cfg["registry-mirrors"] = [url, ...mirrors];
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(cfg, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
  console.log("changed");
}
EOF
  else
    python3 - "$DAEMON_JSON" "$MIRROR_URL" <<'EOF'
import json, os, sys
path, url = sys.argv[1:3]
cfg = {}
if os.path.exists(path):
    with open(path) as f:
        text = f.read()
    if text.strip():
        cfg = json.loads(text)
mirrors = cfg.get("registry-mirrors") or []
if url not in [m.rstrip("/") for m in mirrors]:
    cfg["registry-mirrors"] = [url] + list(mirrors)
    with open(path + ".tmp", "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("changed")
EOF
  fi
}

daemon_mirrors() { docker info --format '{{json .RegistryConfig.Mirrors}}' 2>/dev/null || true; }

daemon_uses_mirror() { daemon_mirrors | grep -qF "\"$MIRROR_URL/\"" || daemon_mirrors | grep -qF "\"$MIRROR_URL\""; }

ensure_mirror_config() {
  local changed
  changed=$(merge_daemon_json) || die "could not update $DAEMON_JSON"
  if [ "$changed" = changed ]; then did+=("set registry-mirrors in $DAEMON_JSON"); fi
}

reload_mirror() {
  daemon_uses_mirror && return 0
  local pid i
  pid=$(live_dockerd_pid)
  if [ -n "$pid" ]; then
    kill -HUP "$pid"
    for ((i = 0; i < 50; i++)); do
      daemon_uses_mirror && { did+=("reloaded dockerd"); return 0; }
      sleep 0.2
    done
  fi
  restart_dockerd "to load registry-mirrors"
  daemon_uses_mirror || die "dockerd does not show $MIRROR_URL under Registry Mirrors (docker info)" \
    "check $DAEMON_JSON and $DOCKERD_LOG"
}

# --- checks ----------------------------------------------------------------------

smoke_test() {
  local name out
  name="throwaway-engine-check-$$"
  out=$(timeout 120 docker run --rm --name "$name" --label dev.throwaway.engine-check=1 \
    --network bridge busybox:latest true 2>&1) && return 0
  docker rm -f "$name" >/dev/null 2>&1 || true
  echo "$out"
  return 1
}

# Another dockerd on the host's network namespace (a test engine started
# without "bridge": "none") deletes docker0 when it stops; the running dockerd
# then fails every start with "could not find bridge docker0". Putting the
# bridge back as the daemon describes it heals that without a restart, which
# would stop every container on the engine.
restore_docker0() {
  local cfg subnet gateway
  ip link show docker0 >/dev/null 2>&1 && return 1
  cfg=$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' 2>/dev/null) || return 1
  subnet=${cfg%% *} gateway=${cfg#* }
  [ -n "$subnet" ] && [ -n "$gateway" ] && [ "$subnet" != "$cfg" ] || return 1
  ip link add docker0 type bridge &&
    ip addr add "$gateway/${subnet#*/}" dev docker0 &&
    ip link set docker0 up || return 1
  say "docker0 had vanished (another dockerd on this network namespace?): put it back as $gateway/${subnet#*/}"
  did+=("restored docker0")
}

ensure_works() {
  docker image inspect busybox:latest >/dev/null 2>&1 || return 0
  local out
  out=$(smoke_test) && return 0
  if is_root && local_engine && grep -q 'could not find bridge docker0' <<<"$out" && restore_docker0; then
    out=$(smoke_test) && return 0
  fi
  if is_root && local_engine && grep -qiE 'docker0|bridge|network|veth|endpoint|iptables' <<<"$out"; then
    restart_dockerd "a test container failed: $(head -n1 <<<"$out")"
    out=$(smoke_test) && return 0
  fi
  die "the engine answers but cannot run a container:" "$out"
}

present() { docker image inspect "$1" >/dev/null 2>&1; }

images_sh() { # COMMAND [NAME...]
  THROWAWAY_REGISTRY=$REG_ADDR THROWAWAY_DIGESTS=$DIGESTS_DIR THROWAWAY_REGISTRY_STORAGE=$REG_DIR/data \
    bash "$ROOT/scripts/images.sh" "$@"
}

# Machines provisioned before digests were recorded: the stand-ins the engine
# holds now (built here from the current recipes) become the record, once.
adopt_digests() {
  [ ! -d "$DIGESTS_DIR" ] || return 0
  local img
  for img in "${CONTRACT_IMAGES[@]}"; do present "$img" || return 0; done
  if images_sh record 2>/dev/null; then
    did+=("recorded the stand-ins' digests in $DIGESTS_DIR")
  else
    rm -rf "$DIGESTS_DIR"
  fi
}

pull_real_images() {
  local img
  for img in "${CONTRACT_IMAGES[@]}"; do
    present "$img" && continue
    say "pulling $img"
    if timeout 900 docker pull -q "$img" >/dev/null 2>&1; then did+=("pulled $img"); else say "warning: docker pull $img failed"; fi
  done
}

no_engine_help() {
  die "no Docker engine answers (tried ${DOCKER_HOST:-$LOCAL_SOCKET} and the docker CLI's context)" "$@" \
    "Get one of:" \
    "  - Docker Desktop / OrbStack / Colima running (macOS, Windows, Linux desktops)" \
    "  - DOCKER_HOST pointing at a reachable engine (e.g. unix:///run/user/1000/docker.sock)" \
    "  - on Debian/Ubuntu, run this script as root once: sudo bash scripts/engine.sh ensure" \
    "    (it installs docker.io with apt-get and starts dockerd)"
}

# --- commands ----------------------------------------------------------------------

cmd_ensure() {
  local start=$SECONDS
  # 1-2: an engine
  if ! engine_answers; then
    if ! is_root; then no_engine_help "not root, so dockerd cannot be installed or started here"; fi
    if ! is_debian; then no_engine_help "not Debian/Ubuntu, so docker.io cannot be installed with apt-get"; fi
    if ! local_engine; then no_engine_help "DOCKER_HOST=$DOCKER_HOST does not answer; unset it to use a local dockerd"; fi
    # One apt-get run for everything this machine will need.
    local pkgs=(curl ca-certificates)
    have dockerd || pkgs+=("${ENGINE_PACKAGES[@]}")
    # dockerd needs apparmor_parser when the kernel enforces AppArmor.
    if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ]; then pkgs+=(apparmor); fi
    if offline; then pkgs+=("${MIRROR_PACKAGES[@]}"); fi
    apt_install "${pkgs[@]}"
    if offline; then ensure_mirror_config; fi
    start_dockerd
  fi

  if [ "${THROWAWAY_ENGINE_ONLY:-}" = 1 ]; then
    if [ ${#did[@]} -gt 0 ]; then say "engine ready in $((SECONDS - start)) s ($(IFS=';'; echo "${did[*]}" | sed 's/;/; /g'))"; fi
    return 0
  fi

  if is_root && is_debian; then apt_install "${TEST_PACKAGES[@]}"; fi

  # 3: images
  if offline; then
    if ! is_root || ! local_engine; then
      local img missing=()
      for img in "${CONTRACT_IMAGES[@]}"; do present "$img" || missing+=("$img"); done
      if [ ${#missing[@]} -gt 0 ]; then
        die "Docker Hub is unreachable and ${missing[*]} are missing from the engine" \
          "the local mirror and stand-in images need root and the local dockerd:" \
          "run once: sudo bash scripts/engine.sh ensure"
      fi
    else
      apt_install "${MIRROR_PACKAGES[@]}"
      mkdir -p "$REG_DIR"
      [ -f "$OFFLINE_MARK" ] || [ -n "${THROWAWAY_OFFLINE:-}" ] || echo "Docker Hub was unreachable on $(date '+%F %T'); remove this file (or set THROWAWAY_OFFLINE=0) to probe again" >"$OFFLINE_MARK"
      start_registry
      ensure_mirror_config
      reload_mirror
      adopt_digests
      images_sh ensure
      images_sh verify || die "the stand-in images differ from the ones root recorded (above)" \
        "remove the named tags from the engine and run this script again"
    fi
  else
    pull_real_images
  fi

  # 4: the engine runs containers; the images are there
  ensure_works
  if offline; then
    local img
    for img in "${CONTRACT_IMAGES[@]}"; do
      present "$img" || die "$img is not in the engine after provisioning"
    done
  fi
  if [ ${#did[@]} -gt 0 ]; then
    say "ready in $((SECONDS - start)) s ($(IFS=';'; echo "${did[*]}" | sed 's/;/; /g'))"
  fi
}

cmd_status() {
  local sock
  sock=$(socket_path)
  if engine_answers; then
    echo "engine:   $(docker version --format 'server {{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null) at ${DOCKER_HOST:-unix://$LOCAL_SOCKET}"
  else
    echo "engine:   not answering at ${DOCKER_HOST:-unix://$sock}"
  fi
  echo "dockerd:  pid $(live_dockerd_pid || true) (log $DOCKERD_LOG)"
  if registry_answers; then echo "registry: $REG_ADDR answers (pid $(cat "$REG_PIDFILE" 2>/dev/null || echo ?), data $REG_DIR/data)"; else echo "registry: not running on $REG_ADDR"; fi
  echo "mirrors:  $(daemon_mirrors)"
  if offline; then echo "hub:      offline (local mirror used)"; else echo "hub:      reachable"; fi
  local img
  for img in "${CONTRACT_IMAGES[@]}"; do
    if present "$img"; then
      echo "image:    $img $(docker image inspect --format '{{slice .Id 7 19}} {{index .Config.Labels "dev.throwaway.stand-in"}}' "$img")"
    else
      echo "image:    $img missing"
    fi
  done
  if engine_answers && registry_answers; then
    images_sh status
    if images_sh verify 2>/dev/null; then echo "digests:  every stand-in matches root's record ($DIGESTS_DIR)"; else echo "digests:  MISMATCH (run: THROWAWAY_DIGESTS=$DIGESTS_DIR bash scripts/images.sh verify)"; fi
  fi
}

cmd_stop() {
  stop_registry
  local pid
  pid=$(live_dockerd_pid)
  if [ -n "$pid" ] && [ "$pid" = "$(cat "$STARTED_MARK" 2>/dev/null || true)" ]; then
    stop_dockerd
    rm -f "$STARTED_MARK"
    say "stopped the registry and dockerd $pid"
  else
    say "stopped the registry; dockerd was not started by this script, left running"
  fi
}

with_lock() {
  local lock=/var/lock/throwaway-engine-ensure.lock
  is_root || lock=${TMPDIR:-/tmp}/throwaway-engine-$(id -u).lock
  if [ "${THROWAWAY_LOCKED:-}" != 1 ] && have flock; then
    export THROWAWAY_LOCKED=1
    exec 9>"$lock"
    if ! flock -n 9; then
      say "another engine.sh is running; waiting for it"
      flock -w 3600 9 || die "gave up waiting for $lock"
    fi
  fi
  "$@"
}

# Sourcing the script (to test its functions) runs nothing.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

# The file of scripts/engines/ that provisions engine NAME.
engine_file() { # NAME
  case "$1" in
  podman | podman-rootless | docker-rootless) echo "$ROOT/scripts/engines/$1.sh" ;;
  remote-tls | remote-ssh) echo "$ROOT/scripts/engines/remote.sh" ;;
  *) die "unknown engine '$1' (podman | podman-rootless | docker-rootless | remote-tls | remote-ssh)" ;;
  esac
}
NAMED_ENGINES=(podman podman-rootless docker-rootless remote-tls remote-ssh)

cmd_named() { # ensure|stop|status NAME
  local file
  file=$(engine_file "$2")
  # shellcheck source=/dev/null
  source "$file"
  "engine_$1" "$2"
}

# The main engine and its mirror, which every named engine pulls through; its
# stdout belongs to the named engine's lines.
ensure_base() {
  (
    unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
    cmd_ensure
  ) >&2 || exit 1
}

case "${1:-ensure}" in
ensure) if [ -n "${2:-}" ]; then with_lock cmd_named ensure "$2"; else with_lock cmd_ensure; fi ;;
status)
  if [ -n "${2:-}" ]; then cmd_named status "$2"; else
    cmd_status
    for n in "${NAMED_ENGINES[@]}"; do cmd_named status "$n" || true; done
  fi
  ;;
stop) if [ -n "${2:-}" ]; then with_lock cmd_named stop "$2"; else with_lock cmd_stop; fi ;;
-h | --help | help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) die "unknown command '$1' (ensure | status | stop, each optionally with an engine name)" ;;
esac
