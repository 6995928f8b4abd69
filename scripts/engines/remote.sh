# Engines `remote-tls` and `remote-ssh`: one more dockerd standing in for
# another machine. It lives in a network namespace of its own (created here,
# reached through a veth pair with private addresses), with its own data and
# exec roots, pid file, containerd, cgroup parent and bridge, started with
# `nsenter --net` (`ip netns exec` remounts /sys, and dockerd then finds no
# cgroups). It listens on tcp://ADDR:2376 with TLS client verification and on
# a unix socket of its own, which the ssh route uses: sshd runs in the same
# namespace, and `ssh USER@ADDR docker system dial-stdio` reaches this dockerd.
# Images come from the local mirror, served read-only on the host's end of the
# veth pair.
source "$ROOT/scripts/engines/lib.sh"

REMOTE_NETNS=throwaway-remote
REMOTE_NETNS_PATH=/var/run/netns/$REMOTE_NETNS
REMOTE_HOST_IF=tw-remote-h
REMOTE_NS_IF=tw-remote-n
REMOTE_NET=10.213.0.0/30
REMOTE_HOST_ADDR=10.213.0.1
REMOTE_ADDR=10.213.0.2
REMOTE_ETC=/etc/throwaway/remote
REMOTE_CLIENT=$REMOTE_ETC/client
REMOTE_DATA=/var/lib/throwaway-remote
REMOTE_RUN=/run/throwaway-remote
REMOTE_SOCK=$REMOTE_RUN/docker.sock
REMOTE_PIDFILE=$REMOTE_RUN/docker.pid
REMOTE_LOG=/var/log/throwaway-remote-dockerd.log
REMOTE_GROUP=throwaway-remote
REMOTE_MIRROR=$REMOTE_HOST_ADDR:$REG_PORT

# The ssh route.
SSH_USER=throwaway-remote
SSH_PORT=22
SSH_ETC=$REMOTE_ETC/sshd
SSH_PIDFILE=$REMOTE_RUN/sshd.pid
SSH_LOG=/var/log/throwaway-remote-sshd.log
SSH_CLIENT_KEY=/root/.ssh/throwaway-remote
SSH_PACKAGES=(openssh-server openssh-client)

in_netns() { nsenter "--net=$REMOTE_NETNS_PATH" "$@"; }

# --- the "machine": namespace and veth pair -----------------------------------------

netns_ready() {
  [ -e "$REMOTE_NETNS_PATH" ] &&
    ip -n "$REMOTE_NETNS" -4 addr show dev "$REMOTE_NS_IF" 2>/dev/null | grep -qF " $REMOTE_ADDR/30" &&
    ip -4 addr show dev "$REMOTE_HOST_IF" 2>/dev/null | grep -qF " $REMOTE_HOST_ADDR/30" &&
    ip link show dev "$REMOTE_HOST_IF" 2>/dev/null | grep -q 'state UP'
}

ensure_netns() {
  netns_ready && return 0
  # The addresses must be ours alone: refuse when the host already routes them elsewhere.
  local route
  route=$(ip -4 route show to match "$REMOTE_HOST_ADDR" | grep -v '^default' | grep -v "dev $REMOTE_HOST_IF" || true)
  if [ -n "$route" ]; then die "$REMOTE_NET is already routed on this machine ($route); cannot make the remote engine's link"; fi
  [ -e "$REMOTE_NETNS_PATH" ] || ip netns add "$REMOTE_NETNS"
  ip link del "$REMOTE_HOST_IF" 2>/dev/null || true
  ip link add "$REMOTE_HOST_IF" type veth peer name "$REMOTE_NS_IF" netns "$REMOTE_NETNS"
  ip addr add "$REMOTE_HOST_ADDR/30" dev "$REMOTE_HOST_IF"
  ip link set "$REMOTE_HOST_IF" up
  ip -n "$REMOTE_NETNS" link set lo up
  ip -n "$REMOTE_NETNS" addr add "$REMOTE_ADDR/30" dev "$REMOTE_NS_IF"
  ip -n "$REMOTE_NETNS" link set "$REMOTE_NS_IF" up
  did+=("made network namespace $REMOTE_NETNS ($REMOTE_ADDR, host end $REMOTE_HOST_ADDR)")
}

# --- TLS material ------------------------------------------------------------------

cert_ok() { # CERT: issued by our CA and not expiring within a day
  [ -s "$1" ] && openssl verify -CAfile "$REMOTE_ETC/ca.pem" "$1" >/dev/null 2>&1 &&
    openssl x509 -checkend 86400 -noout -in "$1" >/dev/null 2>&1
}

issue_cert() { # NAME SUBJECT EXTENSIONS -> $REMOTE_ETC/NAME-{key,cert}.pem
  local d=$REMOTE_ETC
  openssl ecparam -genkey -name prime256v1 -noout -out "$d/$1-key.pem" 2>/dev/null
  chmod 600 "$d/$1-key.pem"
  openssl req -new -key "$d/$1-key.pem" -subj "$2" -out "$d/$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$d/$1.ext"
  openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca-key.pem" -CAcreateserial \
    -days 825 -sha256 -extfile "$d/$1.ext" -out "$d/$1-cert.pem" 2>/dev/null
  rm -f "$d/$1.csr" "$d/$1.ext"
}

# A CA, a server certificate for ADDR and a client certificate, root-only.
ensure_certs() {
  install -d -m 700 "$REMOTE_ETC" "$REMOTE_CLIENT"
  local new=0
  if ! [ -s "$REMOTE_ETC/ca.pem" ] || ! openssl x509 -checkend 604800 -noout -in "$REMOTE_ETC/ca.pem" >/dev/null 2>&1; then
    openssl ecparam -genkey -name prime256v1 -noout -out "$REMOTE_ETC/ca-key.pem" 2>/dev/null
    chmod 600 "$REMOTE_ETC/ca-key.pem"
    openssl req -x509 -new -key "$REMOTE_ETC/ca-key.pem" -sha256 -days 3650 \
      -subj "/CN=throwaway remote engine CA" -out "$REMOTE_ETC/ca.pem" 2>/dev/null
    new=1
  fi
  if [ "$new" = 1 ] || ! cert_ok "$REMOTE_ETC/server-cert.pem" ||
    ! openssl x509 -noout -ext subjectAltName -in "$REMOTE_ETC/server-cert.pem" 2>/dev/null | grep -qF "IP Address:$REMOTE_ADDR"; then
    issue_cert server "/CN=$REMOTE_ADDR" "subjectAltName=IP:$REMOTE_ADDR
extendedKeyUsage=serverAuth
keyUsage=digitalSignature,keyEncipherment"
    new=1
  fi
  if [ "$new" = 1 ] || ! cert_ok "$REMOTE_CLIENT/cert.pem"; then
    issue_cert client "/CN=throwaway remote client" "extendedKeyUsage=clientAuth
keyUsage=digitalSignature"
    mv "$REMOTE_ETC/client-key.pem" "$REMOTE_CLIENT/key.pem"
    mv "$REMOTE_ETC/client-cert.pem" "$REMOTE_CLIENT/cert.pem"
    new=1
  fi
  cp "$REMOTE_ETC/ca.pem" "$REMOTE_CLIENT/ca.pem"
  chmod 600 "$REMOTE_CLIENT"/*.pem "$REMOTE_ETC"/*.pem
  if [ "$new" = 1 ]; then did+=("made TLS certificates in $REMOTE_ETC"); REMOTE_CHANGED=1; fi
}

# --- the remote dockerd ----------------------------------------------------------------

remote_daemon_json() {
  cat <<EOF
{
  "data-root": "$REMOTE_DATA/docker",
  "exec-root": "$REMOTE_RUN/exec",
  "pidfile": "$REMOTE_PIDFILE",
  "hosts": ["tcp://$REMOTE_ADDR:2376", "unix://$REMOTE_SOCK"],
  "group": "$REMOTE_GROUP",
  "tlsverify": true,
  "tlscacert": "$REMOTE_ETC/ca.pem",
  "tlscert": "$REMOTE_ETC/server-cert.pem",
  "tlskey": "$REMOTE_ETC/server-key.pem",
  "cgroup-parent": "/throwaway-remote",
  "bip": "172.30.0.1/24",
  "registry-mirrors": ["http://$REMOTE_MIRROR"],
  "insecure-registries": ["$REMOTE_MIRROR"]
}
EOF
}

remote_answers() { unix_ping "$REMOTE_SOCK"; }

tls_env() {
  export DOCKER_HOST="tcp://$REMOTE_ADDR:2376" DOCKER_TLS_VERIFY=1 DOCKER_CERT_PATH="$REMOTE_CLIENT"
}

ensure_remote_dockerd() { # restarts it when REMOTE_CHANGED (certificates or configuration)
  local pid
  pid=$(live_pid "$REMOTE_PIDFILE" dockerd)
  if [ "$REMOTE_CHANGED" = 0 ] && [ -n "$pid" ] && remote_answers; then return 0; fi
  stop_pidfile "$REMOTE_PIDFILE" dockerd
  mkdir -p "$REMOTE_DATA" "$REMOTE_RUN"
  # dockerd refuses to start over a pid file naming a live process; ours is gone now.
  rm -f "$REMOTE_SOCK"
  echo "--- $(date '+%F %T') started by throwaway engine.sh in netns $REMOTE_NETNS" >>"$REMOTE_LOG"
  setsid nohup nsenter "--net=$REMOTE_NETNS_PATH" dockerd --config-file "$REMOTE_ETC/daemon.json" \
    >>"$REMOTE_LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  if ! wait_until 60 "$pid" remote_answers; then
    tail -n 20 "$REMOTE_LOG" >&2 || true
    die "the remote dockerd did not answer on $REMOTE_SOCK (log: $REMOTE_LOG)"
  fi
  did+=("started the remote dockerd $pid")
  REMOTE_STARTED=1
}

ensure_remote() {
  ensure_base
  apt_install docker.io openssl iproute2 util-linux curl docker-registry
  getent group "$REMOTE_GROUP" >/dev/null || groupadd --system "$REMOTE_GROUP"
  ensure_netns
  start_mirror_instance "$REMOTE_MIRROR" remote
  REMOTE_CHANGED=0 REMOTE_STARTED=0
  ensure_certs
  if remote_daemon_json | write_if_changed "$REMOTE_ETC/daemon.json" 600; then REMOTE_CHANGED=1; fi
  ensure_remote_dockerd
  if [ "$REMOTE_STARTED" = 1 ]; then
    (tls_env && prove_engine "$REMOTE_ADDR") ||
      die "the remote dockerd answers but cannot run a container with a published port (log: $REMOTE_LOG)"
  fi
  DOCKER_HOST=unix://$REMOTE_SOCK check_engine_images remote
}

stop_remote() {
  stop_ssh
  stop_pidfile "$REMOTE_PIDFILE" dockerd
  stop_pidfile /run/throwaway-registry-remote.pid docker-registry
  ip link del "$REMOTE_HOST_IF" 2>/dev/null || true
  if [ -e "$REMOTE_NETNS_PATH" ]; then ip netns delete "$REMOTE_NETNS"; fi
  rm -f "$REMOTE_SOCK"
}

# --- the ssh route --------------------------------------------------------------------

stop_ssh() { stop_pidfile "$SSH_PIDFILE" sshd; }

ssh_answers() { # the host key is known and the user's session reaches the remote dockerd
  timeout 10 ssh -o BatchMode=yes "$SSH_USER@$REMOTE_ADDR" docker version --format '{{.Server.Version}}' >/dev/null 2>&1
}

ensure_ssh_files() {
  id "$SSH_USER" >/dev/null 2>&1 ||
    useradd --system --create-home --home-dir "/home/$SSH_USER" --shell /bin/sh \
      --gid "$REMOTE_GROUP" "$SSH_USER"
  # Its primary group may use the remote dockerd's socket. No password, keys only;
  # "*" rather than useradd's "!", which sshd (without PAM) takes for a locked account.
  [ "$(getent shadow "$SSH_USER" | cut -d: -f2)" = '*' ] || usermod -p '*' "$SSH_USER"
  install -d -m 700 "$SSH_ETC" /root/.ssh
  [ -s "$SSH_ETC/host_ed25519_key" ] ||
    ssh-keygen -q -t ed25519 -N '' -C "throwaway-remote host" -f "$SSH_ETC/host_ed25519_key"
  [ -s "$SSH_CLIENT_KEY" ] || ssh-keygen -q -t ed25519 -N '' -C "throwaway-remote client" -f "$SSH_CLIENT_KEY"
  local home
  home=$(getent passwd "$SSH_USER" | cut -d: -f6)
  install -d -m 700 -o "$SSH_USER" -g "$REMOTE_GROUP" "$home/.ssh"
  install -m 600 -o "$SSH_USER" -g "$REMOTE_GROUP" "$SSH_CLIENT_KEY.pub" "$home/.ssh/authorized_keys"
  # The session's DOCKER_HOST: sshd sets it from the config (SetEnv), so that
  # non-interactive commands (docker system dial-stdio) get it too.
  {
    echo "# Written by throwaway scripts/engine.sh (engine remote-ssh): runs in netns $REMOTE_NETNS."
    echo "Port $SSH_PORT"
    echo "ListenAddress $REMOTE_ADDR"
    echo "HostKey $SSH_ETC/host_ed25519_key"
    echo "PidFile $SSH_PIDFILE"
    echo "AllowUsers $SSH_USER"
    echo "PermitRootLogin no"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "PubkeyAuthentication yes"
    echo "AuthorizedKeysFile .ssh/authorized_keys"
    echo "UsePAM no"
    echo "X11Forwarding no"
    echo "AllowTcpForwarding no"
    echo "PrintMotd no"
    echo "SetEnv DOCKER_HOST=unix://$REMOTE_SOCK"
    echo "Subsystem sftp internal-sftp"
  } | write_if_changed "$SSH_ETC/sshd_config" 600 && SSH_CHANGED=1
  # Root's client side: the host key pinned for ADDR, the key and batch mode selected.
  local known="/root/.ssh/known_hosts" line
  line="$REMOTE_ADDR $(cut -d' ' -f1-2 "$SSH_ETC/host_ed25519_key.pub")"
  if ! grep -qxF "$line" "$known" 2>/dev/null; then
    touch "$known"
    ssh-keygen -q -R "$REMOTE_ADDR" -f "$known" >/dev/null 2>&1 || true
    echo "$line" >>"$known"
    chmod 600 "$known"
  fi
  local cfg=/root/.ssh/config begin="# >>> throwaway remote-ssh" end="# <<< throwaway remote-ssh" block
  block="$begin
Host $REMOTE_ADDR
  User $SSH_USER
  IdentityFile $SSH_CLIENT_KEY
  IdentitiesOnly yes
  BatchMode yes
  StrictHostKeyChecking yes
  UserKnownHostsFile $known
$end"
  touch "$cfg"
  chmod 600 "$cfg"
  if ! grep -qF "$begin" "$cfg" || [ "$(sed -n "/^$begin\$/,/^$end\$/p" "$cfg")" != "$block" ]; then
    { sed "/^$begin\$/,/^$end\$/d" "$cfg"; echo "$block"; } >"$cfg.tmp"
    chmod 600 "$cfg.tmp"
    mv "$cfg.tmp" "$cfg"
  fi
}

ensure_ssh() {
  apt_install "${SSH_PACKAGES[@]}"
  local pid
  SSH_CHANGED=0
  ensure_ssh_files
  pid=$(live_pid "$SSH_PIDFILE" sshd)
  if [ "$SSH_CHANGED" = 0 ] && [ -n "$pid" ] && ssh_answers; then return 0; fi
  stop_ssh
  mkdir -p /run/sshd "$REMOTE_RUN"
  /usr/sbin/sshd -t -f "$SSH_ETC/sshd_config" || die "sshd rejects $SSH_ETC/sshd_config"
  echo "--- $(date '+%F %T') started by throwaway engine.sh in netns $REMOTE_NETNS" >>"$SSH_LOG"
  # -D: stays in the foreground of its own session, so that the pid is sshd's; -e: log to the file.
  setsid nohup nsenter "--net=$REMOTE_NETNS_PATH" /usr/sbin/sshd -D -e -f "$SSH_ETC/sshd_config" \
    >>"$SSH_LOG" 2>&1 </dev/null 9>&- &
  pid=$!
  if ! wait_until 20 "$pid" ssh_answers; then
    tail -n 20 "$SSH_LOG" >&2 || true
    die "ssh $SSH_USER@$REMOTE_ADDR does not reach the remote dockerd (log: $SSH_LOG)"
  fi
  did+=("started sshd $pid in $REMOTE_NETNS")
}

# --- engine.sh's interface ----------------------------------------------------------

engine_ensure() { # NAME
  ensure_remote
  case "$1" in
  remote-tls)
    emit "DOCKER_HOST=tcp://$REMOTE_ADDR:2376" "DOCKER_TLS_VERIFY=1" "DOCKER_CERT_PATH=$REMOTE_CLIENT"
    ;;
  remote-ssh)
    ensure_ssh
    emit "DOCKER_HOST=ssh://$SSH_USER@$REMOTE_ADDR"
    ;;
  esac
  if [ ${#did[@]} -gt 0 ]; then say "$1: $(IFS=';'; echo "${did[*]}" | sed 's/;/; /g')"; fi
}

engine_stop() { # NAME
  case "$1" in
  remote-tls) stop_remote && say "remote-tls: stopped (and with it remote-ssh)" ;;
  remote-ssh) stop_ssh && say "remote-ssh: stopped sshd (the remote dockerd stays)" ;;
  esac
}

engine_status() { # NAME
  case "$1" in
  remote-tls)
    if remote_answers; then
      echo "remote-tls: dockerd $(live_pid "$REMOTE_PIDFILE" dockerd) in netns $REMOTE_NETNS answers on tcp://$REMOTE_ADDR:2376 (TLS) and unix://$REMOTE_SOCK (log $REMOTE_LOG)"
    else
      echo "remote-tls: not running"
    fi
    ;;
  remote-ssh)
    if [ -n "$(live_pid "$SSH_PIDFILE" sshd)" ]; then
      echo "remote-ssh: sshd $(live_pid "$SSH_PIDFILE" sshd) in netns $REMOTE_NETNS: ssh://$SSH_USER@$REMOTE_ADDR (log $SSH_LOG)"
    else
      echo "remote-ssh: not running"
    fi
    ;;
  esac
}
