# Helpers shared by the engines of scripts/engines/ (sourced by engine.sh,
# after its own functions: say, die, have, apt_install, live_pid, ...).

# The lines that point a client at an engine: stdout is theirs alone.
emit() { printf '%s\n' "$@"; }

# Writes stdin to FILE (mode MODE) when its content differs; 0 when it wrote.
write_if_changed() { # FILE MODE
  local new
  new=$(cat)
  if [ -f "$1" ] && [ "$(cat "$1")" = "$new" ]; then
    chmod "$2" "$1"
    return 1
  fi
  mkdir -p "$(dirname "$1")"
  printf '%s\n' "$new" >"$1.tmp"
  chmod "$2" "$1.tmp"
  mv "$1.tmp" "$1"
  return 0
}

http_ok() { curl -fsS -m 3 -o /dev/null "$1" 2>/dev/null; }

unix_ping() { # SOCKET
  [ -S "$1" ] && [ "$(curl -sS -m 3 --unix-socket "$1" http://localhost/_ping 2>/dev/null)" = OK ]
}

# Runs CMD... until it succeeds, for at most SECONDS; fails early when PID dies.
wait_until() { # SECONDS PID CMD...
  local deadline=$((SECONDS + $1)) pid=$2
  shift 2
  while [ "$SECONDS" -lt "$deadline" ]; do
    "$@" && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.2
  done
  "$@"
}

# Starts CMD... detached (own session, no terminal, log appended), records its pid.
start_detached() { # LOG PIDFILE CMD...
  local log=$1 pidfile=$2
  shift 2
  mkdir -p "$(dirname "$log")" "$(dirname "$pidfile")"
  echo "--- $(date '+%F %T') started by throwaway engine.sh: $*" >>"$log"
  setsid nohup "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$pidfile"
}

# Stops the process named COMM whose pid PIDFILE holds (TERM, then KILL after 15 s).
stop_pidfile() { # PIDFILE COMM
  local pid i
  pid=$(live_pid "$1" "$2")
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 75; i++)); do
      [ -n "$(live_pid "$1" "$2")" ] || break
      sleep 0.2
    done
    if [ -n "$(live_pid "$1" "$2")" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$1"
}

# Proves an engine through the docker CLI: a container with a published port
# answers on it, exec works, and the container stops and is removed. HOST is
# where published ports are reached from here.
prove_engine() { # HOST (docker env already exported)
  local name="throwaway-engine-check-$$" port out
  docker rm -f "$name" >/dev/null 2>&1 || true
  docker run -d --name "$name" --label dev.throwaway.engine-check=1 -p 80 busybox:latest \
    sh -c 'echo throwaway-ok >/tmp/index.html && exec httpd -f -p 80 -h /tmp' >/dev/null ||
    return 1
  port=$(docker port "$name" 80/tcp | head -n1 | sed 's/.*://')
  out=""
  local i
  for ((i = 0; i < 50; i++)); do
    out=$(curl -fsS -m 2 "http://$1:$port/index.html" 2>/dev/null || true)
    [ "$out" = throwaway-ok ] && break
    sleep 0.1
  done
  local rc=0
  [ "$out" = throwaway-ok ] || { say "published port $1:$port did not answer"; rc=1; }
  [ "$(docker exec "$name" cat /tmp/index.html 2>&1)" = throwaway-ok ] || { say "exec failed"; rc=1; }
  docker stop -t 2 "$name" >/dev/null || rc=1
  docker rm "$name" >/dev/null || rc=1
  return "$rc"
}

# A read-only instance of the local mirror on ADDR (host:port), serving the same
# storage as 127.0.0.1:5000: engines that cannot reach the host's loopback pull
# through it, and nothing can be pushed to it.
start_mirror_instance() { # ADDR NAME
  local addr=$1 name=$2 conf="$REG_DIR/config-$2.yml" pidfile="/run/throwaway-registry-$2.pid" changed=0
  mirror_config "$addr" | write_if_changed "$conf" 600 && changed=1
  if [ "$changed" = 0 ] && [ -n "$(live_pid "$pidfile" docker-registry)" ] &&
    http_ok "http://$addr/v2/"; then
    return 0
  fi
  stop_pidfile "$pidfile" docker-registry
  start_detached "/var/log/throwaway-registry-$name.log" "$pidfile" docker-registry serve "$conf"
  wait_until 10 "$(cat "$pidfile")" http_ok "http://$addr/v2/" ||
    die "the read-only mirror did not start on $addr (log: /var/log/throwaway-registry-$name.log)"
}

# The first free 65536-id range above every range in FILE (/etc/subuid or
# /etc/subgid), as FROM-TO: for users whose useradd gave them none.
next_sub_range() { # FILE
  local top
  top=$(awk -F: 'BEGIN { m = 100000 } { e = $2 + $3; if (e > m) m = e } END { print m }' "$1")
  echo "$top-$((top + 65535))"
}

# The stand-ins an engine already holds (it pulls them through the mirror) must
# be the images root recorded, by id: a tag holding anything else is removed
# from that engine, so that its next pull gets root's image. Uses the docker
# environment of the caller (DOCKER_HOST etc.).
check_engine_images() { # ENGINE-NAME
  [ -d "$DIGESTS_DIR" ] || return 0
  local ref id tag rec bad=()
  while read -r ref id; do
    tag=${ref#docker.io/}
    tag=${tag#library/}
    [ -f "$DIGESTS_DIR/$tag" ] || continue
    rec=$(cat "$DIGESTS_DIR/$tag")
    if [ "$id" != "$rec" ]; then bad+=("$tag"); say "$1: $tag is $id, not the image root recorded ($rec): removing that tag"; fi
  done < <(docker images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>/dev/null | sort -u)
  [ ${#bad[@]} -gt 0 ] || return 0
  docker rmi "${bad[@]}" >/dev/null || die "$1: could not remove ${bad[*]} (a container uses it?)"
}
