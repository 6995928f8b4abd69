# Engine `podman`: Debian's Podman (4.3) as a Docker-compatible API service on
# unix:///run/podman/podman.sock, rootful, pulling Docker Hub names through the
# local mirror. Health checks never run (Podman schedules them with systemd
# timers, and there is no systemd here).
source "$ROOT/scripts/engines/lib.sh"

PODMAN_SOCK=/run/podman/podman.sock
PODMAN_PIDFILE=/run/throwaway-podman.pid
PODMAN_LOG=/var/log/throwaway-podman.log
PODMAN_PACKAGES=(podman netavark aardvark-dns catatonit)

# Drop-ins, so that Debian's own files stay untouched. The ulimits: without them
# every container fails with "error setting rlimit type 7/6" (Podman's defaults
# exceed this machine's hard limits). netavark: network aliases need it, and it
# silences the leftover CNI config that Debian's package ships.
podman_config() { # prints "changed" when a file changed
  {
    echo "# Written by throwaway scripts/engine.sh (engine podman)."
    echo "[containers]"
    echo "default_ulimits = [\"nofile=$(ulimit -Hn):$(ulimit -Hn)\", \"nproc=4096:4096\"]"
    echo "[network]"
    echo 'network_backend = "netavark"'
  } | write_if_changed /etc/containers/containers.conf.d/50-throwaway.conf 644 && echo changed
  write_if_changed /etc/containers/registries.conf.d/50-throwaway-mirror.conf 644 <<EOC && echo changed
# Written by throwaway scripts/engine.sh: Docker Hub names come from the local mirror.
[[registry]]
prefix = "docker.io"
location = "docker.io"
[[registry.mirror]]
location = "$REG_ADDR"
insecure = true
EOC
  true
}

engine_ensure() { # NAME
  ensure_base
  apt_install "${PODMAN_PACKAGES[@]}"
  local changed pid
  changed=$(podman_config)
  pid=$(live_pid "$PODMAN_PIDFILE" podman)
  if [ -n "$changed" ] || [ -z "$pid" ] || ! unix_ping "$PODMAN_SOCK"; then
    [ -z "$changed" ] || say "podman: configuration changed"
    stop_pidfile "$PODMAN_PIDFILE" podman
    rm -f "$PODMAN_SOCK"
    start_detached "$PODMAN_LOG" "$PODMAN_PIDFILE" podman system service --time=0 "unix://$PODMAN_SOCK"
    pid=$(cat "$PODMAN_PIDFILE")
    if ! wait_until 30 "$pid" unix_ping "$PODMAN_SOCK"; then
      tail -n 20 "$PODMAN_LOG" >&2 || true
      die "podman system service did not answer on $PODMAN_SOCK (log: $PODMAN_LOG)"
    fi
    DOCKER_HOST=unix://$PODMAN_SOCK prove_engine 127.0.0.1 ||
      die "podman answers on $PODMAN_SOCK but cannot run a container with a published port (log: $PODMAN_LOG)"
    say "podman: API service $pid on $PODMAN_SOCK (log $PODMAN_LOG)"
  fi
  DOCKER_HOST=unix://$PODMAN_SOCK check_engine_images podman
  emit "DOCKER_HOST=unix://$PODMAN_SOCK"
}

engine_stop() { # NAME
  stop_pidfile "$PODMAN_PIDFILE" podman
  rm -f "$PODMAN_SOCK"
  say "podman: stopped"
}

engine_status() { # NAME
  local pid
  pid=$(live_pid "$PODMAN_PIDFILE" podman)
  if [ -n "$pid" ] && unix_ping "$PODMAN_SOCK"; then
    echo "podman: pid $pid answers on unix://$PODMAN_SOCK (log $PODMAN_LOG)"
  else
    echo "podman: not running"
  fi
}
