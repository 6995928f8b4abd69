#!/usr/bin/env bash
# Checks that the images behave as the stand-ins promise (images/*/README.md):
#   bash scripts/check-images.sh [busybox|node|mysql|pull]...
# Every container it starts carries the label dev.throwaway.check=1 and is
# removed (with its volumes) on exit. Needs only docker: clients run inside
# the containers, over their own loopback.
set -euo pipefail

PASS=0
FAIL=0
work=$(mktemp -d)
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do docker rm -fv "$c" >/dev/null 2>&1 || true; done
  rm -rf "$work"
}
trap cleanup EXIT

ok() { PASS=$((PASS + 1)); echo "ok    $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL  $*"; }
check() { # DESCRIPTION COMMAND...
  local d=$1
  shift
  if "$@" >"$work/out" 2>&1; then ok "$d"; else bad "$d"; sed 's/^/      /' "$work/out" | tail -n 15; fi
}
run() { docker run --rm --label dev.throwaway.check=1 "$@"; }

# --- busybox --------------------------------------------------------------------
check_busybox() {
  check "busybox: sh, sleep, applet count" run busybox:latest sh -c \
    'sleep 0.1 && test "$(ls /bin | wc -l)" -ge 250 && test -L /bin/wget'
  check "busybox: users root and nobody (65534), /tmp 1777" run busybox:latest sh -c \
    'grep -q "^root:x:0:0:" /etc/passwd && grep -q "^nobody:x:65534:65534:" /etc/passwd && test "$(stat -c %a /tmp)" = 1777'
  check "busybox: httpd serves, wget and nc fetch" run busybox:latest sh -c \
    'mkdir -p /www && echo hello > /www/index.html && httpd -p 127.0.0.1:8080 -h /www &&
     sleep 0.2 && test "$(wget -qO- http://127.0.0.1:8080/)" = hello &&
     printf "GET / HTTP/1.0\r\n\r\n" | nc 127.0.0.1 8080 | grep -q hello'
  check "busybox: default command is sh" sh -c \
    'test "$(docker image inspect --format "{{json .Config.Cmd}}" busybox:latest)" = "[\"sh\"]"'
  check "busybox: 1.36 tag is the same image" sh -c \
    'test "$(docker image inspect -f {{.Id}} busybox:1.36)" = "$(docker image inspect -f {{.Id}} busybox:latest)"'
}

# --- node -----------------------------------------------------------------------
check_node() {
  check "node: node -e prints v20" sh -c \
    'run() { docker run --rm --label dev.throwaway.check=1 "$@"; }; run node:20-bookworm-slim node -e "console.log(process.version)" | grep -q "^v20\."'
  check "node: options alone go to node" sh -c \
    'docker run --rm --label dev.throwaway.check=1 node:20-bookworm-slim -p "1+1" | grep -qx 2'
  check "node: user node is uid 1000" sh -c \
    'docker run --rm --label dev.throwaway.check=1 --user node node:20-bookworm-slim id | grep -q "uid=1000(node) gid=1000(node)"'
}

# --- mysql ----------------------------------------------------------------------
wait_ready() { # CONTAINER: the final server (a TCP port) says ready
  local i
  for ((i = 0; i < 300; i++)); do
    if docker logs "$1" 2>&1 | grep -q "ready for connections.*" &&
      docker logs "$1" 2>&1 | grep -qE "port: 3306"; then
      return 0
    fi
    [ "$(docker inspect -f '{{.State.Running}}' "$1")" = true ] || { docker logs "$1" 2>&1 | tail -n 20; return 1; }
    sleep 0.1
  done
  return 1
}

sqlq() { # CONTAINER USER PASSWORD SQL [DB]: query over TCP inside the container
  docker exec "$1" mariadb -h127.0.0.1 -P3306 --protocol=tcp -u"$2" ${3:+-p"$3"} -N -B -e "$4" ${5:-}
}

expect_refusal() { # DESCRIPTION PATTERN ENV...
  local d=$1 pattern=$2 out rc=0
  shift 2
  out=$(timeout 60 docker run --rm --label dev.throwaway.check=1 "$@" mysql:5.7 2>&1) || rc=$?
  if [ "$rc" != 0 ] && grep -qiE "$pattern" <<<"$out"; then ok "$d"; else bad "$d (rc=$rc)"; echo "$out" | tail -n 5 | sed 's/^/      /'; fi
}

check_mysql() {
  expect_refusal "mysql: refuses to start without a root password option" \
    "password option is not specified"
  expect_refusal "mysql: refuses MYSQL_USER=root" 'MYSQL_USER="?root"? cannot be used' \
    -e MYSQL_ROOT_PASSWORD=x -e MYSQL_USER=root -e MYSQL_PASSWORD=y

  # Empty root password, published port on loopback only.
  local c
  c=$(docker create --label dev.throwaway.check=1 -e MYSQL_ALLOW_EMPTY_PASSWORD=yes mysql:5.7)
  containers+=("$c")
  local t0=$SECONDS
  docker start "$c" >/dev/null
  check "mysql: empty root password, ready" wait_ready "$c"
  echo "      first start to ready: $((SECONDS - t0)) s"
  check "mysql: root@% without password over TCP" sqlq "$c" root "" "SELECT 1"
  check "mysql: 'ready for connections' twice (temporary + final server)" sh -c \
    "test \$(docker logs $c 2>&1 | grep -c 'ready for connections') -ge 2"
  check "mysql: server runs as mysql" sh -c "docker exec $c sh -c 'ps -o user= -C mariadbd 2>/dev/null || stat -c %U /proc/1' | grep -q mysql"
  check "mysql: bash exists" docker exec "$c" bash -c 'echo $BASH_VERSION'
  check "mysql: mysql_native_password for root@%" sh -c \
    "docker exec $c mariadb -uroot -N -e \"SELECT plugin FROM mysql.user WHERE user='root' AND host='%'\" | grep -qx mysql_native_password"

  # Everything at once: password, database, user, init scripts, conf.d, args.
  mkdir -p "$work/initdb" "$work/conf.d"
  cat >"$work/initdb/01-schema.sql" <<'EOF'
CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40));
INSERT INTO items VALUES (1, 'one');
EOF
  printf "INSERT INTO items VALUES (2, 'two');\n" | gzip >"$work/initdb/02-more.sql.gz"
  cat >"$work/initdb/03-sourced.sh" <<'EOF'
# sourced: sees the entrypoint's helpers
echo "INSERT INTO items VALUES (3, 'three');" | docker_process_sql
if grep -qiE ':0CEA [0-9A-F:]+ 0A' /proc/net/tcp /proc/net/tcp6 2>/dev/null; then
  echo "port 3306 is open during init" >&2; exit 1
fi
echo "INSERT INTO items VALUES (4, 'port-closed');" | docker_process_sql
EOF
  cat >"$work/initdb/04-executable.sh" <<'EOF'
#!/bin/bash
set -e
mariadb -uroot -p"$MYSQL_ROOT_PASSWORD" "$MYSQL_DATABASE" -e "INSERT INTO items VALUES (5, 'exec')"
EOF
  chmod +x "$work/initdb/04-executable.sh"
  printf '[mysqld]\nmax_connections = 77\n' >"$work/conf.d/custom.cnf"
  c=$(docker create --label dev.throwaway.check=1 \
    -e MYSQL_ROOT_PASSWORD="r00t'pw" -e MYSQL_DATABASE=app -e MYSQL_USER=appuser -e MYSQL_PASSWORD=apppw \
    mysql:5.7 --max-allowed-packet=33554432)
  containers+=("$c")
  docker cp "$work/initdb/." "$c:/docker-entrypoint-initdb.d/"
  docker cp "$work/conf.d/custom.cnf" "$c:/etc/mysql/conf.d/custom.cnf"
  docker start "$c" >/dev/null
  check "mysql: full environment, ready" wait_ready "$c"
  check "mysql: root password (with a quote) over TCP" sqlq "$c" root "r00t'pw" "SELECT 1"
  check "mysql: wrong root password refused" sh -c "! docker exec $c mariadb -h127.0.0.1 -uroot -pnope -e 'SELECT 1'"
  check "mysql: user sees its database and the init rows" sh -c \
    "test \"\$(docker exec $c mariadb -h127.0.0.1 -uappuser -papppw app -N -e 'SELECT GROUP_CONCAT(name ORDER BY id) FROM items')\" = one,two,three,port-closed,exec"
  check "mysql: port 3306 closed while init scripts ran" sh -c \
    "docker exec $c mariadb -h127.0.0.1 -uappuser -papppw app -N -e \"SELECT name FROM items WHERE id=4\" | grep -qx port-closed"
  check "mysql: conf.d file read (max_connections=77)" sh -c \
    "test \"\$(docker exec $c mariadb -h127.0.0.1 -uroot -p\"r00t'pw\" -N -e 'SELECT @@max_connections')\" = 77"
  check "mysql: server arguments applied (max_allowed_packet)" sh -c \
    "test \"\$(docker exec $c mariadb -h127.0.0.1 -uroot -p\"r00t'pw\" -N -e 'SELECT @@max_allowed_packet')\" = 33554432"
  check "mysql: user has no access to other schemas" sh -c \
    "! docker exec $c mariadb -h127.0.0.1 -uappuser -papppw -e 'CREATE DATABASE other' 2>/dev/null"
  check "mysql: restart keeps data (no second init)" sh -c \
    "docker restart $c >/dev/null && for i in \$(seq 100); do docker exec $c mariadb -h127.0.0.1 -uappuser -papppw app -N -e 'SELECT COUNT(*) FROM items' 2>/dev/null | grep -qx 5 && exit 0; sleep 0.2; done; exit 1"

  # Random root password.
  c=$(docker run -d --label dev.throwaway.check=1 -e MYSQL_RANDOM_ROOT_PASSWORD=1 mysql:5.7)
  containers+=("$c")
  check "mysql: random root password, ready" wait_ready "$c"
  local pw
  pw=$(docker logs "$c" 2>/dev/null | sed -n 's/^GENERATED ROOT PASSWORD: //p')
  check "mysql: GENERATED ROOT PASSWORD printed and works" sh -c "test -n '$pw' && docker exec $c mariadb -h127.0.0.1 -uroot -p'$pw' -e 'SELECT 1'"

  check "mysql: non-server command runs as given" sh -c \
    "docker run --rm --label dev.throwaway.check=1 mysql:5.7 mysqld --version | grep -q MariaDB"
}

# --- pull through the mirror ---------------------------------------------------------
check_pull() {
  local img id
  for img in busybox:latest mysql:5.7 node:20-bookworm-slim; do
    id=$(docker image inspect -f '{{.Id}}' "$img")
    docker tag "$img" "throwaway-hold/check:${img//[:\/]/-}"
    docker rmi "$img" >/dev/null
    check "pull: docker pull $img (through the mirror)" docker pull -q "$img"
    if [ "$(docker image inspect -f '{{.Id}}' "$img" 2>/dev/null)" != "$id" ]; then docker tag "$id" "$img"; fi
    docker rmi "throwaway-hold/check:${img//[:\/]/-}" >/dev/null
  done
}

what=("$@")
[ ${#what[@]} -gt 0 ] || what=(busybox node mysql)
for w in "${what[@]}"; do "check_$w"; done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
