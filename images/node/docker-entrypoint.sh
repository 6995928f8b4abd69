#!/bin/sh
# Entrypoint of throwaway's node stand-in: `docker run IMAGE -e "..."` or
# `docker run IMAGE app.js` run node; any other command runs as given.
set -e
case "$1" in
-*) exec node "$@" ;;
esac
if [ -n "$1" ] && ! command -v -- "$1" >/dev/null 2>&1; then
  exec node "$@"
fi
if [ -f "$1" ] && [ ! -x "$1" ]; then
  exec node "$@"
fi
exec "$@"
