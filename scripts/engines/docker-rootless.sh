# Engine `docker-rootless`: Docker's rootless mode as an unprivileged user made
# for the purpose, with the dockerd-rootless.sh that Debian's docker.io ships
# (under /usr/share/docker.io/contrib) and Debian's rootlesskit and slirp4netns.
# Its socket is $XDG_RUNTIME_DIR/docker.sock of that user; root can use it.
#
# Pulls: rootlesskit runs dockerd in a network namespace of its own with
# --disable-host-loopback (hard-wired in dockerd-rootless.sh), so the host's
# 127.0.0.1:5000 is out of reach; the read-only mirror on the host end of the
# remote engine's veth pair (10.213.0.1:5000, made by remote.sh) is not loopback
# and slirp4netns reaches it.
source "$ROOT/scripts/engines/lib.sh"
source "$ROOT/scripts/engines/remote.sh"

DR_USER=throwaway-docker
DR_CONTRIB=/usr/share/docker.io/contrib
DR_PACKAGES=(docker.io rootlesskit slirp4netns uidmap procps util-linux iproute2)
DR_LOG=/var/log/throwaway-docker-rootless.log
DR_PIDFILE=/run/throwaway-docker-rootless.pid

dr_uid() { id -u "$DR_USER"; }
dr_runtime() { echo "/run/user/$(dr_uid)"; }
dr_sock() { echo "$(dr_runtime)/docker.sock"; }
dr_home() { getent passwd "$DR_USER" | cut -d: -f6; }

dr_setup() { # sets DR_CHANGED=1 when the daemon's configuration changed
  if ! id "$DR_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$DR_USER"
    did+=("made user $DR_USER")
  fi
  usermod -p '*' "$DR_USER" 2>/dev/null || true
  grep -q "^$DR_USER:" /etc/subuid || usermod --add-subuids "$(next_sub_range /etc/subuid)" "$DR_USER"
  grep -q "^$DR_USER:" /etc/subgid || usermod --add-subgids "$(next_sub_range /etc/subgid)" "$DR_USER"
  [ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
  [ "$(stat -c %a /dev/net/tun)" = 666 ] || chmod 666 /dev/net/tun
  install -d -m 700 -o "$DR_USER" -g "$DR_USER" "$(dr_runtime)"
  install -d -m 755 -o "$DR_USER" -g "$DR_USER" "$(dr_home)/.config" "$(dr_home)/.config/docker"
  DR_CHANGED=0
  if write_if_changed "$(dr_home)/.config/docker/daemon.json" 644 <<EOF; then DR_CHANGED=1; fi
{
  "registry-mirrors": ["http://$REMOTE_MIRROR"],
  "insecure-registries": ["$REMOTE_MIRROR"]
}
EOF
  chown "$DR_USER:$DR_USER" "$(dr_home)/.config/docker/daemon.json"
}

dr_answers() { unix_ping "$(dr_sock)"; }

engine_ensure() { # NAME
  ensure_base
  apt_install "${DR_PACKAGES[@]}"
  [ -x "$DR_CONTRIB/dockerd-rootless.sh" ] || die "$DR_CONTRIB/dockerd-rootless.sh is missing (docker.io ships it)"
  ensure_netns
  start_mirror_instance "$REMOTE_MIRROR" remote
  dr_setup
  local pid sock
  sock=$(dr_sock)
  pid=$(live_pid "$DR_PIDFILE" rootlesskit)
  if [ "$DR_CHANGED" = 1 ] || [ -z "$pid" ] || ! dr_answers; then
    stop_pidfile "$DR_PIDFILE" rootlesskit
    rm -f "$sock"
    echo "--- $(date '+%F %T') started by throwaway engine.sh as $DR_USER" >>"$DR_LOG"
    setsid nohup runuser -u "$DR_USER" -- env -i PATH="$DR_CONTRIB:/usr/sbin:/usr/bin:/sbin:/bin" \
      HOME="$(dr_home)" USER="$DR_USER" LOGNAME="$DR_USER" XDG_RUNTIME_DIR="$(dr_runtime)" \
      dockerd-rootless.sh >>"$DR_LOG" 2>&1 </dev/null 9>&- &
    local launcher=$!
    if ! wait_until 60 "$launcher" dr_answers; then
      tail -n 20 "$DR_LOG" >&2 || true
      die "rootless dockerd did not answer on $sock (log: $DR_LOG)"
    fi
    # runuser forks; dockerd-rootless.sh execs rootlesskit, the parent of everything else.
    pid=$(pgrep -P "$launcher" -x rootlesskit | head -n1)
    echo "${pid:-$launcher}" >"$DR_PIDFILE"
    DOCKER_HOST=unix://$sock prove_engine 127.0.0.1 ||
      die "rootless dockerd answers on $sock but cannot run a container with a published port (log: $DR_LOG)"
    did+=("rootless dockerd (rootlesskit ${pid:-$launcher}) on $sock")
  fi
  DOCKER_HOST=unix://$sock check_engine_images "$1"
  if [ ${#did[@]} -gt 0 ]; then say "$1: $(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"; fi
  emit "DOCKER_HOST=unix://$sock"
}

engine_stop() { # NAME
  stop_pidfile "$DR_PIDFILE" rootlesskit
  say "$1: stopped"
}

engine_status() { # NAME
  if id "$DR_USER" >/dev/null 2>&1 && dr_answers; then
    echo "docker-rootless: dockerd (rootlesskit $(live_pid "$DR_PIDFILE" rootlesskit)) as $DR_USER on unix://$(dr_sock) (log $DR_LOG)"
  else
    echo "docker-rootless: not running"
  fi
}
