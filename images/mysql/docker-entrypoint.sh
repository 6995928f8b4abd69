#!/bin/bash
# Entrypoint of throwaway's mysql:5.7 stand-in image. The server is Debian's
# MariaDB 10.11; the environment variables, first-start behaviour and
# /docker-entrypoint-initdb.d handling follow the mysql image on Docker Hub so
# that code written against mysql:5.7 runs unchanged. See README.md beside the
# Dockerfile for the full contract and the known differences.
set -eo pipefail
shopt -s nullglob
export LC_ALL=C

# A data directory prepared when the image was built (system tables and time
# zones loaded, only root@localhost). Copying it is much faster than running
# mariadb-install-db on every first start.
TEMPLATE_DIR=/usr/local/share/throwaway-mysql/datadir

note() { printf '%s [Note] [Entrypoint]: %s\n' "$(date '+%F %T%:z')" "$*"; }
warn() { printf '%s [Warn] [Entrypoint]: %s\n' "$(date '+%F %T%:z')" "$*" >&2; }
fail() {
  printf '%s [ERROR] [Entrypoint]: %s\n' "$(date '+%F %T%:z')" "$1" >&2
  shift
  local line
  for line in "$@"; do printf '    %s\n' "$line" >&2; done
  exit 1
}

# VAR may also be given as VAR_FILE=/path (for example a Docker secret).
env_or_file() {
  local var=$1 default=${2:-} file_var="${1}_FILE" value
  if [ -n "${!var:-}" ] && [ -n "${!file_var:-}" ]; then
    fail "both $var and $file_var are set; set only one of them"
  fi
  value=$default
  if [ -n "${!var:-}" ]; then
    value=${!var}
  elif [ -n "${!file_var:-}" ]; then
    value=$(<"${!file_var}")
  fi
  export "$var=$value"
  unset "$file_var"
}

# Value of a server option (last one wins), from the option files the server
# reads and then the command-line arguments given to it.
server_option() {
  local name=$1 value="" line key
  shift
  while IFS= read -r line; do
    case "$line" in
    --*=*)
      key=${line%%=*}
      key=${key#--}
      key=${key//_/-}
      key=${key#loose-}
      if [ "$key" = "$name" ]; then value=${line#*=}; fi
      ;;
    esac
  done < <(my_print_defaults --mysqld 2>/dev/null; printf '%s\n' "$@")
  printf '%s' "$value"
}

sql_string() { # a quoted SQL string literal
  local s=${1//\\/\\\\}
  s=${s//\'/\\\'}
  printf "'%s'" "$s"
}
sql_ident() { # a quoted SQL identifier
  printf '`%s`' "${1//\`/\`\`}"
}

# --- temporary server (socket only) -----------------------------------------

temp_pid=""
start_temp_server() { # DATADIR SOCKET SERVER-COMMAND...
  local datadir=$1 socket=$2 i
  shift 2
  rm -f "$socket"
  "$@" --datadir="$datadir" --socket="$socket" --skip-networking \
    --default-time-zone=SYSTEM --skip-log-bin --innodb-buffer-pool-load-at-startup=0 &
  temp_pid=$!
  trap 'stop_temp_server; exit 143' TERM INT
  for ((i = 0; i < 600; i++)); do
    if [ -S "$socket" ] &&
      mariadb --no-defaults --protocol=socket -uroot -hlocalhost --socket="$socket" \
        -e 'SELECT 1' >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$temp_pid" 2>/dev/null; then
      fail "the temporary server stopped during initialisation (see its messages above)"
    fi
    sleep 0.1
  done
  fail "the temporary server did not answer within 60 seconds"
}

stop_temp_server() {
  if [ -n "$temp_pid" ]; then
    kill -TERM "$temp_pid" 2>/dev/null || true
    wait "$temp_pid" || true
    temp_pid=""
  fi
  trap - TERM INT
}

# mariadb-install-db, then only root@localhost (no password) is kept, and the
# time zone tables are filled unless MYSQL_INITDB_SKIP_TZINFO is set.
install_datadir() { # DATADIR SOCKET SERVER-COMMAND...
  local datadir=$1 socket=$2 cli
  shift 2
  local user_args=()
  if [ "$(id -u)" = 0 ]; then user_args=(--user=mysql); fi
  mkdir -p "$datadir"
  mariadb-install-db "${user_args[@]}" --datadir="$datadir" --skip-test-db \
    --auth-root-authentication-method=normal --skip-name-resolve \
    --skip-log-bin "${@:2}" >/dev/null ||
    fail "mariadb-install-db failed"
  start_temp_server "$datadir" "$socket" "$@"
  cli=(mariadb --no-defaults --protocol=socket -uroot -hlocalhost --socket="$socket")
  "${cli[@]}" -N -e "SELECT CONCAT('DROP USER ', QUOTE(User), '@', QUOTE(Host), ';')
      FROM mysql.global_priv
      WHERE NOT (User = 'root' AND Host = 'localhost') AND User <> 'mariadb.sys'" |
    "${cli[@]}"
  if [ -z "${MYSQL_INITDB_SKIP_TZINFO:-}" ]; then
    mariadb-tzinfo-to-sql /usr/share/zoneinfo 2>/dev/null | "${cli[@]}" mysql
  fi
}

# Can the prepared template stand for mariadb-install-db? Not when options
# change the shape of the system tablespace, redo log location or table names.
template_usable() {
  [ -d "$TEMPLATE_DIR/mysql" ] || return 1
  [ "${THROWAWAY_MYSQL_INITDB:-}" != "install" ] || return 1
  local opts
  opts=$({ my_print_defaults --mysqld 2>/dev/null; printf '%s\n' "$@"; } | tr '_' '-')
  if grep -qE -- '--(loose-)?(innodb-(page-size|data-file-path|data-home-dir|log-group-home-dir|undo-directory|undo-tablespaces|checksum-algorithm|encrypt|default-encryption)|lower-case-table-names|plugin-load|file-key-management|encrypt)' <<<"$opts"; then
    return 1
  fi
  return 0
}

# --- first start --------------------------------------------------------------

initialise() { # SERVER-COMMAND...
  env_or_file MYSQL_ROOT_PASSWORD
  env_or_file MYSQL_ROOT_HOST '%'
  env_or_file MYSQL_DATABASE
  env_or_file MYSQL_USER
  env_or_file MYSQL_PASSWORD

  if [ -z "$MYSQL_ROOT_PASSWORD" ] && [ -z "${MYSQL_ALLOW_EMPTY_PASSWORD:-}" ] &&
    [ -z "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ]; then
    fail "Database is uninitialized and password option is not specified." \
      "Give the container one of these environment variables:" \
      "  MYSQL_ROOT_PASSWORD=<password>     root's password" \
      "  MYSQL_ALLOW_EMPTY_PASSWORD=yes     root without a password (any non-empty value)" \
      "  MYSQL_RANDOM_ROOT_PASSWORD=yes     a generated password, printed once"
  fi
  if [ "$MYSQL_USER" = root ]; then
    fail "MYSQL_USER=\"root\" cannot be used: MYSQL_USER and MYSQL_PASSWORD create an ordinary user." \
      "Remove MYSQL_USER=\"root\"; root's password is set with MYSQL_ROOT_PASSWORD," \
      "MYSQL_ALLOW_EMPTY_PASSWORD or MYSQL_RANDOM_ROOT_PASSWORD."
  fi
  if [ -n "$MYSQL_USER" ] && [ -z "$MYSQL_PASSWORD" ]; then
    warn "MYSQL_USER is set but MYSQL_PASSWORD is not: no user is created"
  elif [ -z "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
    warn "MYSQL_PASSWORD is set but MYSQL_USER is not: no user is created"
  fi

  if [ -n "${MYSQL_RANDOM_ROOT_PASSWORD:-}" ] && [ -z "$MYSQL_ROOT_PASSWORD" ]; then
    MYSQL_ROOT_PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '/+=\n')
    export MYSQL_ROOT_PASSWORD
    echo "GENERATED ROOT PASSWORD: $MYSQL_ROOT_PASSWORD"
  fi

  local datadir=$DATADIR socket=$SOCKET
  if template_usable "${@:2}"; then
    note "Initializing database files (from the prepared template)"
    cp -a "$TEMPLATE_DIR/." "$datadir/"
    if [ "$(id -u)" = 0 ]; then chown -R mysql:mysql "$datadir"; fi
    start_temp_server "$datadir" "$socket" "$@"
  else
    note "Initializing database files (mariadb-install-db)"
    install_datadir "$datadir" "$socket" "$@"
  fi
  note "Temporary server started (socket only, no TCP port)"

  local sql root_pw
  root_pw=$(sql_string "$MYSQL_ROOT_PASSWORD")
  sql="SET @@SESSION.SQL_LOG_BIN = 0;"
  if [ -n "$MYSQL_ROOT_PASSWORD" ]; then
    sql+="ALTER USER 'root'@'localhost' IDENTIFIED BY $root_pw;"
  fi
  if [ -n "$MYSQL_ROOT_HOST" ] && [ "$MYSQL_ROOT_HOST" != localhost ]; then
    local root_host
    root_host=$(sql_string "$MYSQL_ROOT_HOST")
    sql+="CREATE USER 'root'@$root_host IDENTIFIED BY $root_pw;"
    sql+="GRANT ALL ON *.* TO 'root'@$root_host WITH GRANT OPTION;"
  fi
  if [ -n "$MYSQL_DATABASE" ]; then
    note "Creating database $MYSQL_DATABASE"
    sql+="CREATE DATABASE IF NOT EXISTS $(sql_ident "$MYSQL_DATABASE");"
  fi
  if [ -n "$MYSQL_USER" ] && [ -n "$MYSQL_PASSWORD" ]; then
    note "Creating user $MYSQL_USER"
    sql+="CREATE USER $(sql_string "$MYSQL_USER")@'%' IDENTIFIED BY $(sql_string "$MYSQL_PASSWORD");"
    if [ -n "$MYSQL_DATABASE" ]; then
      note "Giving user $MYSQL_USER access to schema $MYSQL_DATABASE"
      sql+="GRANT ALL ON $(sql_ident "$MYSQL_DATABASE").* TO $(sql_string "$MYSQL_USER")@'%';"
    fi
  fi
  mariadb --no-defaults --protocol=socket -uroot -hlocalhost --socket="$socket" <<<"$sql"

  # From here on root has its password. Init scripts may use "${mysql[@]}" or
  # docker_process_sql, as with the upstream image.
  mysql=(mariadb --protocol=socket -uroot -hlocalhost --socket="$socket" --comments)
  if [ -n "$MYSQL_ROOT_PASSWORD" ]; then mysql+=(--password="$MYSQL_ROOT_PASSWORD"); fi
  # shellcheck disable=SC2120 # init scripts may pass client options
  docker_process_sql() {
    "${mysql[@]}" ${MYSQL_DATABASE:+--database="$MYSQL_DATABASE"} "$@"
  }

  local f
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
    *.sh)
      if [ -x "$f" ]; then
        note "$0: running $f"
        "$f"
      else
        note "$0: sourcing $f"
        # shellcheck disable=SC1090
        . "$f"
      fi
      ;;
    *.sql) note "$0: running $f"; docker_process_sql <"$f" ;;
    *.sql.gz) note "$0: running $f"; gunzip -c "$f" | docker_process_sql ;;
    *.sql.xz) note "$0: running $f"; xz -dc "$f" | docker_process_sql ;;
    *.sql.zst) note "$0: running $f"; zstd -dc "$f" | docker_process_sql ;;
    *) note "$0: ignoring $f" ;;
    esac
  done

  if [ -n "${MYSQL_ONETIME_PASSWORD:-}" ] && [ -n "$MYSQL_ROOT_HOST" ] &&
    [ "$MYSQL_ROOT_HOST" != localhost ]; then
    "${mysql[@]}" -e "ALTER USER 'root'@$(sql_string "$MYSQL_ROOT_HOST") PASSWORD EXPIRE;"
  fi

  stop_temp_server
  unset mysql
  note "Temporary server stopped"
  echo
  note "MySQL init process done. Ready for start up."
  echo
}

# Run at image build time: fill $TEMPLATE_DIR.
prepare_template() {
  rm -rf "$TEMPLATE_DIR"
  install_datadir "$TEMPLATE_DIR" /tmp/template.sock /usr/sbin/mariadbd
  stop_temp_server
  rm -f "$TEMPLATE_DIR"/ib_buffer_pool "$TEMPLATE_DIR"/*.pid "$TEMPLATE_DIR"/*.err
  chown -R mysql:mysql "$TEMPLATE_DIR"
}

# --- main ---------------------------------------------------------------------

if [ "${1:-}" = throwaway-prepare-template ]; then
  prepare_template
  exit 0
fi

# `docker run mysql:5.7 --max-connections=50`: options go to the server.
if [ "${1#-}" != "${1:-}" ]; then
  set -- mysqld "$@"
fi

case "${1:-}" in
mysqld | mariadbd | /usr/sbin/mysqld | /usr/sbin/mariadbd) ;;
*) exec "$@" ;;
esac
shift
set -- /usr/sbin/mariadbd "$@"

for arg in "${@:2}"; do
  case "$arg" in
  -'?' | --help | -V | --version) exec "$@" ;;
  esac
done

note "Entrypoint script for the mysql:5.7 stand-in ($(mariadbd --version | sed 's/^.*Ver //')) started."

DATADIR=$(server_option datadir "${@:2}")
DATADIR=${DATADIR:-/var/lib/mysql}
SOCKET=$(server_option socket "${@:2}")
SOCKET=${SOCKET:-/run/mysqld/mysqld.sock}

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$DATADIR" "$(dirname "$SOCKET")"
  chown mysql:mysql "$(dirname "$SOCKET")"
  find "$DATADIR" \! -user mysql -exec chown mysql:mysql '{}' +
fi

if [ ! -d "$DATADIR/mysql" ]; then
  initialise "$@"
fi

exec "$@"
