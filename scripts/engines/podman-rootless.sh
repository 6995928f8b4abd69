# Engine `podman-rootless`: Debian's Podman as an unprivileged user made for the
# purpose (user namespaces from /etc/subuid, slirp4netns for networking,
# fuse-overlayfs for storage), its API service on a socket in that user's
# runtime folder, which root (the tests) can use.
source "$ROOT/scripts/engines/lib.sh"
source "$ROOT/scripts/engines/podman.sh"

RL_USER=throwaway-podman
RL_PACKAGES=(podman uidmap slirp4netns fuse-overlayfs catatonit procps util-linux)
RL_LOG=/var/log/throwaway-podman-rootless.log
RL_PIDFILE=/run/throwaway-podman-rootless.pid

rl_uid() { id -u "$RL_USER"; }
rl_runtime() { echo "/run/user/$(rl_uid)"; }
rl_sock() { echo "$(rl_runtime)/podman/podman.sock"; }
rl_home() { getent passwd "$RL_USER" | cut -d: -f6; }

as_rl() { # CMD...: as the user, with the environment a login would give it
  runuser -u "$RL_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$(rl_home)" USER="$RL_USER" \
    LOGNAME="$RL_USER" XDG_RUNTIME_DIR="$(rl_runtime)" "$@"
}

rl_setup() { # sets RL_CHANGED=1 when something the service reads changed
  # A regular (not --system) user: useradd gives it subordinate id ranges.
  if ! id "$RL_USER" >/dev/null 2>&1; then
    useradd --create-home --shell /bin/sh "$RL_USER"
    did+=("made user $RL_USER")
  fi
  usermod -p '*' "$RL_USER" 2>/dev/null || true
  local u
  for u in subuid subgid; do
    grep -q "^$RL_USER:" "/etc/$u" || usermod "--add-sub${u#sub}s" "$(next_sub_range "/etc/$u")" "$RL_USER"
  done
  # slirp4netns opens /dev/net/tun as the user (the device node is reset at boot).
  [ -c /dev/net/tun ] || { mkdir -p /dev/net && mknod /dev/net/tun c 10 200; }
  [ "$(stat -c %a /dev/net/tun)" = 666 ] || chmod 666 /dev/net/tun
  # No logind here: the runtime folder is made as a login would.
  install -d -m 700 -o "$RL_USER" -g "$RL_USER" "$(rl_runtime)" "$(rl_runtime)/podman"
  local cfg
  cfg="$(rl_home)/.config/containers"
  install -d -m 755 -o "$RL_USER" -g "$RL_USER" "$(rl_home)/.config" "$cfg"
  RL_CHANGED=0
  # No systemd: cgroupfs (cgroup v1 gives a rootless user no controllers, so no
  # limits) and events to a file. Storage: the kernel's own overlayfs, which
  # unprivileged users may mount since Linux 5.13; fuse-overlayfs only on older
  # kernels (it needs /dev/fuse, root-only here).
  if write_if_changed "$cfg/containers.conf" 644 <<EOF; then RL_CHANGED=1; fi
# Written by throwaway scripts/engine.sh (engine podman-rootless).
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
  local mount_program=""
  if ! kernel_at_least 5 13; then mount_program='mount_program = "/usr/bin/fuse-overlayfs"'; fi
  if write_if_changed "$cfg/storage.conf" 644 <<EOF; then RL_CHANGED=1; fi
# Written by throwaway scripts/engine.sh (engine podman-rootless).
[storage]
driver = "overlay"
[storage.options.overlay]
$mount_program
EOF
  chown -R "$RL_USER:$RL_USER" "$cfg"
}

kernel_at_least() { # MAJOR MINOR
  local v
  v=$(uname -r)
  local major=${v%%.*} rest=${v#*.}
  local minor=${rest%%[!0-9]*}
  [ "$major" -gt "$1" ] || { [ "$major" = "$1" ] && [ "$minor" -ge "$2" ]; }
}


engine_ensure() { # NAME
  ensure_base
  apt_install "${PODMAN_PACKAGES[@]}" "${RL_PACKAGES[@]}"
  local changed pid sock
  changed=$(podman_config)
  rl_setup
  sock=$(rl_sock)
  pid=$(live_pid "$RL_PIDFILE" podman)
  if [ -n "$changed" ] || [ "$RL_CHANGED" = 1 ] || [ -z "$pid" ] || ! unix_ping "$sock"; then
    stop_pidfile "$RL_PIDFILE" podman
    rm -f "$sock"
    # Storage made under another configuration would not be read back.
    if [ "$RL_CHANGED" = 1 ]; then as_rl podman system migrate >>"$RL_LOG" 2>&1 || true; fi
    echo "--- $(date '+%F %T') started by throwaway engine.sh as $RL_USER" >>"$RL_LOG"
    setsid nohup runuser -u "$RL_USER" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$(rl_home)" \
      USER="$RL_USER" LOGNAME="$RL_USER" XDG_RUNTIME_DIR="$(rl_runtime)" \
      podman system service --time=0 "unix://$sock" >>"$RL_LOG" 2>&1 </dev/null 9>&- &
    local launcher=$!
    if ! wait_until 60 "$launcher" unix_ping "$sock"; then
      tail -n 20 "$RL_LOG" >&2 || true
      die "rootless podman did not answer on $sock (log: $RL_LOG)"
    fi
    # runuser forks: the service is its child.
    pid=$(pgrep -P "$launcher" -x podman | head -n1)
    echo "${pid:-$launcher}" >"$RL_PIDFILE"
    DOCKER_HOST=unix://$sock prove_engine 127.0.0.1 ||
      die "rootless podman answers on $sock but cannot run a container with a published port (log: $RL_LOG)"
    did+=("rootless podman API service ${pid:-$launcher} on $sock")
  fi
  DOCKER_HOST=unix://$sock check_engine_images "$1"
  if [ ${#did[@]} -gt 0 ]; then say "$1: $(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"; fi
  emit "DOCKER_HOST=unix://$sock"
}

engine_stop() { # NAME
  stop_pidfile "$RL_PIDFILE" podman
  if id "$RL_USER" >/dev/null 2>&1; then rm -f "$(rl_sock)"; fi
  say "$1: stopped"
}

engine_status() { # NAME
  local pid
  pid=$(live_pid "$RL_PIDFILE" podman)
  if [ -n "$pid" ] && unix_ping "$(rl_sock)"; then
    echo "podman-rootless: podman $pid as $RL_USER answers on unix://$(rl_sock) (log $RL_LOG)"
  else
    echo "podman-rootless: not running"
  fi
}
