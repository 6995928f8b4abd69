#!/usr/bin/env bash
# The engine matrix: `npm run test:engines` (the portable suite in test/engines) against each named engine in turn,
# each provisioned and pointed at by `scripts/engine.sh ensure NAME`, with the time each took. Each run's global setup
# fails it when anything of its session is left on that engine.
#
#   test-engines.sh [NAME...]    default: podman remote-tls remote-ssh
#
# NAME: podman, remote-tls, remote-ssh, podman-rootless, docker-rootless (as engine.sh knows them).
#
# Environment:
#   THROWAWAY_ENGINES_READY_DIR   read NAME.env (the lines `engine.sh ensure NAME` prints) from this folder instead
#                                 of running engine.sh: for engines someone else provisions
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ $# -gt 0 ] || set -- podman remote-tls remote-ssh

say() { echo "throwaway-engines: $*" >&2; }

env_lines() {
  if [ -n "${THROWAWAY_ENGINES_READY_DIR:-}" ]; then
    cat "$THROWAWAY_ENGINES_READY_DIR/$1.env"
  else
    bash scripts/engine.sh ensure "$1"
  fi
}

[ -f dist/index.js ] || npm run build >&2
failed=()
summary=()
for name in "$@"; do
  lines=$(env_lines "$name") || {
    say "$name: could not be provisioned"
    failed+=("$name")
    continue
  }
  started=$(date +%s)
  set +e
  # Only the engine's own variables: the main engine's DOCKER_* must not leak into this run.
  (
    unset DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_CERT_PATH DOCKER_CONTEXT
    while IFS= read -r line; do
      case $line in
        DOCKER_*=*) export "${line?}" ;;
      esac
    done <<<"$lines"
    say "$name: $(printf '%s ' $lines)"
    npx vitest run --config vitest.engines.config.ts
  )
  rc=$?
  set -e
  took=$(($(date +%s) - started))
  summary+=("$name: $([ $rc -eq 0 ] && echo passed || echo FAILED) in ${took} s")
  [ $rc -eq 0 ] || failed+=("$name")
done
for line in "${summary[@]}"; do say "$line"; done
if [ ${#failed[@]} -gt 0 ]; then
  say "failed on: ${failed[*]}"
  exit 1
fi
