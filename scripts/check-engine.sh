#!/usr/bin/env bash
# Exercises engine.sh's dockerd start-up logic without touching the real
# engine: a fake `dockerd` (a tiny HTTP server on its own unix socket, with its
# own pid file, refusing to start while its pid file names a live process, as
# dockerd does) stands in, and engine.sh is pointed at it through
# THROWAWAY_DOCKER_SOCKET / THROWAWAY_DOCKER_PIDFILE. Needs root, python3.
#   bash scripts/check-engine.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=$(mktemp -d /tmp/throwaway-check-engine.XXXXXX)
PASS=0
FAIL=0
started=()
cleanup() {
  local p
  for p in "${started[@]}" $(cat "$dir"/docker.pid 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

mkdir -p "$dir/bin"
# A direct interpreter path (not env) so that the process is named dockerd.
py=$(PATH=/usr/bin:/bin type -P python3)
{ echo "#!$py"; cat; } >"$dir/bin/dockerd" <<'EOF'
# Fake dockerd for check-engine.sh.
import http.server, os, socket, socketserver, sys, time
args = sys.argv[1:]
pidfile, sock = "/var/run/docker.pid", "/var/run/docker.sock"
for i, a in enumerate(args):
    if a == "--pidfile": pidfile = args[i + 1]
    if a == "-H": sock = args[i + 1].replace("unix://", "")
if os.path.exists(pidfile):
    try:
        os.kill(int(open(pidfile).read().strip()), 0)
        print(f"pid file found, ensure docker is not running or delete {pidfile}", file=sys.stderr)
        sys.exit(1)
    except (ProcessLookupError, ValueError):
        pass
open(pidfile, "w").write(str(os.getpid()))
hang = os.path.exists(os.path.join(os.path.dirname(sock), "hang"))
time.sleep(0.5)  # start-up takes a moment
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if hang: time.sleep(30); return
        body = b"OK" if self.path.endswith("/_ping") else b"{}"
        self.send_response(200 if self.path.endswith("/_ping") else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    do_HEAD = do_GET
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    def get_request(self):
        req, _ = self.socket.accept(); return req, ("local", 0)
if os.path.exists(sock): os.unlink(sock)
S(sock, H).serve_forever()
EOF
chmod +x "$dir/bin/dockerd"

export PATH="$dir/bin:$PATH"
export THROWAWAY_DOCKER_SOCKET="$dir/docker.sock" THROWAWAY_DOCKER_PIDFILE="$dir/docker.pid"
export THROWAWAY_DOCKERD_LOG="$dir/dockerd.log" THROWAWAY_ENGINE_WAIT=5 THROWAWAY_ENGINE_ONLY=1
export THROWAWAY_REGISTRY_PORT=5999 DOCKER_HOST="unix://$dir/docker.sock"
# The daemon.json of the engine under test, never the machine's: a check that reached the real one left a dead
# mirror (127.0.0.1:5999) in the main engine's registry-mirrors.
export THROWAWAY_DAEMON_JSON="$dir/daemon.json"

ok() { PASS=$((PASS + 1)); echo "ok    $*"; }
bad() { FAIL=$((FAIL + 1)); echo "FAIL  $*"; sed 's/^/      /' "$dir/out" | tail -n 12; }
answers() { [ "$(curl -sS -m 2 --unix-socket "$dir/docker.sock" http://localhost/_ping 2>/dev/null)" = OK ]; }
ensure() { (cd "$ROOT" && timeout 120 bash scripts/engine.sh ensure) >"$dir/out" 2>&1; }
fake_pid() { cat "$dir/docker.pid" 2>/dev/null; }

# 1. Nothing running: ensure starts dockerd detached and waits for it.
if ensure && answers; then ok "starts dockerd when none answers"; else bad "starts dockerd when none answers"; fi
first=$(fake_pid)

# 2. Already answering: nothing is done, nothing printed.
if ensure && [ ! -s "$dir/out" ] && [ "$(fake_pid)" = "$first" ]; then ok "quiet no-op when the engine answers"; else bad "quiet no-op when the engine answers"; fi

# 3. Unclean stop (SIGKILL): the pid file stays; ensure clears it and restarts.
kill -9 "$first"
sleep 0.3
if ensure && answers && [ "$(fake_pid)" != "$first" ] && grep -q "removing stale" "$dir/out"; then
  ok "SIGKILLed dockerd: stale pid file cleared, restarted"
else bad "SIGKILLed dockerd: stale pid file cleared, restarted"; fi
kill -9 "$(fake_pid)"
sleep 0.3

# 4. The pid file names a zombie called dockerd (what an unreaped dockerd leaves).
mkdir -p "$dir/z" && ln -sf "$(type -P true)" "$dir/z/dockerd"
bash -c "(sleep 0.3; exec '$dir/z/dockerd') & exec sleep 60" &
started+=($!)
disown
sleep 0.8
zpid=$(pgrep -P "${started[-1]}" || true)
if [ -n "$zpid" ] && [ "$(awk '{print $3}' "/proc/$zpid/stat")" = Z ]; then
  echo "$zpid" >"$dir/docker.pid"
  if ensure && answers && [ "$(fake_pid)" != "$zpid" ]; then ok "pid file naming a zombie dockerd: cleared, started"; else bad "pid file naming a zombie dockerd: cleared, started"; fi
  kill -9 "$(fake_pid)"
  sleep 0.3
else
  echo "skip  could not make a zombie"
fi

# 5. The pid file names some other live process (pid reused).
sleep 60 &
started+=($!)
disown
echo "${started[-1]}" >"$dir/docker.pid"
if ensure && answers && [ "$(fake_pid)" != "${started[-1]}" ]; then ok "pid file naming an unrelated process: cleared, started"; else bad "pid file naming an unrelated process: cleared, started"; fi
kill -9 "$(fake_pid)"
sleep 0.3

# 6. A live dockerd that never answers is stopped and replaced.
touch "$dir/hang"
rm -f "$dir/docker.pid"
setsid "$dir/bin/dockerd" -H "unix://$dir/docker.sock" --pidfile "$dir/docker.pid" </dev/null >/dev/null 2>&1 &
disown
sleep 1
hung=$(fake_pid)
rm -f "$dir/hang"
if ensure && answers && [ "$(fake_pid)" != "$hung" ] && grep -q "does not answer" "$dir/out"; then ok "hung dockerd: stopped and replaced"; else bad "hung dockerd: stopped and replaced"; fi

# 7. stop: only the dockerd this script started.
if (cd "$ROOT" && bash scripts/engine.sh stop) >"$dir/out" 2>&1 && ! answers; then ok "stop stops the dockerd it started"; else bad "stop stops the dockerd it started"; fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
