#!/usr/bin/env bash
# Builds throwaway's stand-in images (images/<name>/) offline and publishes
# them under their Docker Hub names, for machines that cannot reach Docker Hub.
#
#   images.sh ensure [NAME...]   make every tag present in the daemon and, when
#                                THROWAWAY_REGISTRY is set, in that registry;
#                                builds only what is missing or out of date
#   images.sh build NAME...      rebuild (the root filesystem cache is reused)
#   images.sh status [NAME...]   one line per image
#   images.sh prune [NAME...]    remove replaced stand-ins no container uses
#   images.sh verify [NAME...]   check by digest that the daemon and the registry
#                                hold exactly the stand-ins root recorded
#   images.sh record [NAME...]   record the ids the daemon's stand-ins have now
#                                (their recipe label must match): to adopt images
#                                built before digests were recorded
#   images.sh names              the image folders
#
# Environment:
#   THROWAWAY_REGISTRY   host:port of the local registry that the daemon uses
#                        as its Docker Hub mirror (engine.sh sets 127.0.0.1:5000);
#                        empty: images are only built into the daemon
#   THROWAWAY_CACHE      root filesystem tarballs, .deb downloads, build
#                        contexts and logs (default /var/cache/throwaway-images)
#   THROWAWAY_NO_CACHE=1 rebuild root filesystems instead of reusing the cache
#   THROWAWAY_DIGESTS    root-only folder of the image ids (config digests) root
#                        built and pushed, one file per tag (engine.sh sets
#                        /var/lib/throwaway-registry/digests); empty: no records
#   THROWAWAY_REGISTRY_STORAGE  the registry's storage folder: pushes then go
#                        through a writable registry instance on that storage that
#                        only this run can use (a random password, root-only
#                        files), since the registry itself serves read-only
#
# An image's identity is a hash of its recipe folder (README.md aside; plus the inputs its
# rootfs.sh reports, such as the node binary): it is stored in the label
# dev.throwaway.recipe and compared with what the daemon and registry hold.
# A label proves nothing (anyone can copy it into an image of their own), so
# what root built is also recorded by image id (the config digest, which covers
# every layer's content) and the daemon's and registry's copies must match it.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES_DIR="$ROOT/images"
CACHE=${THROWAWAY_CACHE:-/var/cache/throwaway-images}
REGISTRY=${THROWAWAY_REGISTRY:-}
DIGESTS=${THROWAWAY_DIGESTS:-}
STORAGE=${THROWAWAY_REGISTRY_STORAGE:-}
LOGDIR="$CACHE/logs"
export THROWAWAY_CACHE="$CACHE"

say() { echo "throwaway-images: $*" >&2; }
die() { say "error: $*"; exit 1; }

all_names() {
  local d
  for d in "$IMAGES_DIR"/*/; do
    [ -f "$d/Dockerfile" ] && [ -f "$d/tags" ] && basename "$d"
  done
}

tags_of() { grep -vE '^\s*(#|$)' "$IMAGES_DIR/$1/tags"; }

sha() { sha256sum | cut -c1-64; }

# Inputs beyond the folder itself (e.g. the node binary), as reported by rootfs.sh.
inputs_of() { bash "$IMAGES_DIR/$1/rootfs.sh" key; }

recipe_hash() { # NAME INPUTS
  local name=$1 inputs=$2
  {
    (cd "$IMAGES_DIR/$name" && find . -type f ! -name README.md -print0 | LC_ALL=C sort -z |
      xargs -0 sha256sum)
    sha256sum <"$ROOT/scripts/debian-rootfs.sh"
    echo "$inputs"
  } | sha | cut -c1-24
}

rootfs_hash() { # NAME INPUTS
  { cat "$IMAGES_DIR/$1/rootfs.sh" "$ROOT/scripts/debian-rootfs.sh"; echo "$2"; } | sha | cut -c1-24
}

# --- daemon and registry state ----------------------------------------------

# --- digest records ---------------------------------------------------------------

recorded_id() { # TAG
  [ -n "$DIGESTS" ] || return 0
  cat "$DIGESTS/$1" 2>/dev/null || true
}

record_id() { # TAG ID
  [ -n "$DIGESTS" ] || return 0
  (umask 077 && mkdir -p "$DIGESTS")
  chmod 700 "$DIGESTS"
  (umask 077 && echo "$2" >"$DIGESTS/$1.tmp")
  mv "$DIGESTS/$1.tmp" "$DIGESTS/$1"
}

daemon_id() { docker image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }

# Image id of TAG when it carries recipe HASH and, where root recorded one, is
# the very image root recorded; else nothing.
local_id() { # TAG HASH
  local out rec
  out=$(docker image inspect --format '{{.Id}} {{index .Config.Labels "dev.throwaway.recipe"}}' "$1" 2>/dev/null) || return 0
  [ "${out#* }" = "$2" ] || return 0
  rec=$(recorded_id "$1")
  if [ -n "$DIGESTS" ] && [ "$rec" != "${out%% *}" ]; then return 0; fi
  echo "${out%% *}"
}

registry_repo() { # TAG -> library/busybox
  local repo=${1%%:*}
  case "$repo" in */*) echo "$repo" ;; *) echo "library/$repo" ;; esac
}
tag_part() { echo "${1##*:}"; }

# Config digest (= image id) of TAG in the registry, or nothing.
registry_id() { # TAG
  [ -n "$REGISTRY" ] || return 0
  curl -fsS -m 10 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/$(registry_repo "$1")/manifests/$(tag_part "$1")" 2>/dev/null |
    tr -d ' \n' | grep -oE '"config":\{[^}]*\}' | grep -oE 'sha256:[0-9a-f]{64}' | head -n1 || true
}

# Does the registry's image for TAG carry recipe HASH, and is it the image root
# recorded for TAG (with no record, nothing the registry holds is trusted)?
registry_has_recipe() { # TAG DIGEST HASH
  [ -n "$(recorded_id "$1")" ] && [ "$(recorded_id "$1")" = "$2" ] || return 1
  curl -fsS -m 10 "http://$REGISTRY/v2/$(registry_repo "$1")/blobs/$2" 2>/dev/null |
    tr -d ' \n' | grep -qF "\"dev.throwaway.recipe\":\"$3\""
}

# --- root's push route ---------------------------------------------------------------

PUSH_REGISTRY="" PUSH_DIR="" PUSH_PID=""

# The registry serves its storage read-only; root pushes through a second,
# writable instance on the same storage that exists only for this run, on a
# free loopback port, behind a random password kept in a root-only folder.
open_push_route() {
  [ -z "$PUSH_REGISTRY" ] || return 0
  if [ -z "$STORAGE" ]; then PUSH_REGISTRY=$REGISTRY; return 0; fi
  command -v htpasswd >/dev/null || die "htpasswd (apache2-utils) is needed for the registry's push route"
  PUSH_DIR=$(mktemp -d /run/throwaway-push.XXXXXX)
  trap close_push_route EXIT
  local password port
  password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  htpasswd -Bbn root "$password" >"$PUSH_DIR/htpasswd" 2>/dev/null
  for port in $(shuf -i 20000-60000 -n 20); do
    ss -Hltn "sport = :$port" | grep -q . || break
  done
  PUSH_REGISTRY=127.0.0.1:$port
  cat >"$PUSH_DIR/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STORAGE
  delete:
    enabled: true
auth:
  htpasswd:
    realm: throwaway-push
    path: $PUSH_DIR/htpasswd
http:
  addr: $PUSH_REGISTRY
EOF
  setsid docker-registry serve "$PUSH_DIR/config.yml" >>"$LOGDIR/push-registry.log" 2>&1 </dev/null 9>&- &
  PUSH_PID=$!
  local i code=""
  for ((i = 0; i < 100; i++)); do
    code=$(curl -sS -m 2 -o /dev/null -w '%{http_code}' "http://$PUSH_REGISTRY/v2/" 2>/dev/null || true)
    [ "$code" = 401 ] && break
    kill -0 "$PUSH_PID" 2>/dev/null || break
    sleep 0.1
  done
  [ "$code" = 401 ] || die "the push route's registry did not start on $PUSH_REGISTRY (log: $LOGDIR/push-registry.log)"
  echo "$password" | DOCKER_CONFIG=$PUSH_DIR/docker docker login -u root --password-stdin "$PUSH_REGISTRY" >/dev/null 2>&1 ||
    die "docker login to the push route failed"
}

close_push_route() {
  if [ -n "$PUSH_PID" ]; then kill "$PUSH_PID" 2>/dev/null || true; wait "$PUSH_PID" 2>/dev/null || true; fi
  if [ -n "$PUSH_DIR" ]; then rm -rf "$PUSH_DIR"; fi
  PUSH_PID="" PUSH_DIR="" PUSH_REGISTRY=""
}

# --- building -----------------------------------------------------------------

# Root filesystem tarball for NAME, from the cache or freshly built. Prints its path.
rootfs_tar() { # NAME INPUTS
  local name=$1 key tar dir
  key=$(rootfs_hash "$name" "$2")
  tar="$CACHE/rootfs/$name-$key.tar"
  if [ -s "$tar" ] && [ "${THROWAWAY_NO_CACHE:-}" != 1 ]; then
    echo "$tar"
    return 0
  fi
  mkdir -p "$CACHE/rootfs" "$CACHE/work"
  dir="$CACHE/work/$name.rootfs"
  rm -rf "$dir" "$dir".debootstrap.log
  say "$name: building root filesystem (log: $LOGDIR/$name.rootfs.log)"
  if ! bash "$IMAGES_DIR/$name/rootfs.sh" build "$dir" >"$LOGDIR/$name.rootfs.log" 2>&1; then
    tail -n 40 "$LOGDIR/$name.rootfs.log" >&2
    die "$name: root filesystem build failed"
  fi
  tar -C "$dir" --numeric-owner --xattrs -cf "$tar.tmp" .
  rm -rf "$dir"
  find "$CACHE/rootfs" -name "$name-*.tar" ! -name "$name-$key.tar" -delete
  mv "$tar.tmp" "$tar"
  echo "$tar"
}

docker_build() { # NAME HASH INPUTS TAR
  local name=$1 hash=$2 inputs=$3 tar=$4 ctx t args=()
  ctx="$CACHE/context/$name"
  rm -rf "$ctx"
  mkdir -p "$ctx"
  cp -a "$IMAGES_DIR/$name/." "$ctx/"
  ln "$tar" "$ctx/rootfs.tar" 2>/dev/null || cp "$tar" "$ctx/rootfs.tar"
  printf 'rootfs.sh\nREADME.md\ntags\n' >"$ctx/.dockerignore"
  local old=()
  for t in $(tags_of "$name"); do
    args+=(-t "$t")
    old+=("$(docker image inspect --format '{{.Id}}' "$t" 2>/dev/null || true)")
  done
  say "$name: docker build (log: $LOGDIR/$name.build.log)"
  if ! DOCKER_BUILDKIT=0 docker build --network=none --force-rm \
    --label "dev.throwaway.recipe=$hash" --label "dev.throwaway.inputs=$inputs" \
    "${args[@]}" "$ctx" >"$LOGDIR/$name.build.log" 2>&1; then
    tail -n 40 "$LOGDIR/$name.build.log" >&2
    die "$name: docker build failed"
  fi
  rm -rf "$ctx"
  # The image this build replaced, unless a container or another tag uses it.
  local id new
  new=$(docker image inspect --format '{{.Id}}' "$(tags_of "$name" | head -n1)")
  for id in $(printf '%s\n' "${old[@]}" | sort -u); do
    if [ "$id" != "$new" ]; then docker rmi "$id" >/dev/null 2>&1 || true; fi
  done
}

push_tag() { # TAG
  local remote
  open_push_route
  remote="$PUSH_REGISTRY/$(registry_repo "$1"):$(tag_part "$1")"
  docker tag "$1" "$remote"
  if ! DOCKER_CONFIG=${PUSH_DIR:+$PUSH_DIR/docker} docker push "$remote" >>"$LOGDIR/push.log" 2>&1; then
    docker rmi "$remote" >/dev/null 2>&1 || true
    tail -n 20 "$LOGDIR/push.log" >&2
    die "push of $remote failed"
  fi
  docker rmi "$remote" >/dev/null 2>&1 || true
}

# Pull TAG by its Docker Hub name (the daemon resolves it through the mirror).
pull_tag() { # TAG
  docker pull "$1" >>"$LOGDIR/pull.log" 2>&1
}

# Proves that TAG is served by the mirror: untag, pull by name, check the id.
# A hold tag keeps the layers so nothing is downloaded or lost on failure.
check_pull() { # TAG ID
  local hold
  hold="throwaway-hold/${1%%:*}:$(tag_part "$1")"
  docker tag "$2" "$hold"
  docker rmi "$1" >/dev/null
  if pull_tag "$1" && [ "$(docker image inspect --format '{{.Id}}' "$1" 2>/dev/null)" = "$2" ]; then
    docker rmi "$hold" >/dev/null
    return 0
  fi
  docker tag "$2" "$1"
  docker rmi "$hold" >/dev/null
  tail -n 20 "$LOGDIR/pull.log" >&2
  die "docker pull $1 through the mirror did not give back image $2"
}

# --- commands -----------------------------------------------------------------

# Sets globals for NAME: H (recipe hash), IN (inputs), STATE (ok|push|pull|build), ID.
inspect_image() { # NAME
  local name=$1 t id rid first=""
  IN=$(inputs_of "$name")
  H=$(recipe_hash "$name" "$IN")
  ID=""
  STATE=ok
  for t in $(tags_of "$name"); do
    id=$(local_id "$t" "$H")
    if [ -z "$id" ] || { [ -n "$first" ] && [ "$id" != "$first" ]; }; then
      STATE=missing
      break
    fi
    first=$id
  done
  ID=$first
  if [ "$STATE" = ok ]; then
    [ -n "$REGISTRY" ] || return 0
    for t in $(tags_of "$name"); do
      if [ "$(registry_id "$t")" != "$ID" ]; then STATE=push; return 0; fi
    done
    return 0
  fi
  # Not (all) in the daemon: can the mirror give it back?
  ID=""
  if [ -n "$REGISTRY" ]; then
    STATE=pull
    for t in $(tags_of "$name"); do
      rid=$(registry_id "$t")
      if [ -z "$rid" ] || ! registry_has_recipe "$t" "$rid" "$H"; then STATE=build; break; fi
    done
  else
    STATE=build
  fi
}

# Every tag of NAME...: the daemon's image and the registry's are the ones root
# recorded. Mismatches are reported on stderr; fails when there is any.
cmd_verify() { # NAME...
  [ -n "$DIGESTS" ] || die "verify needs THROWAWAY_DIGESTS (the folder of recorded image ids)"
  local name t rec got bad=0
  for name in "$@"; do
    for t in $(tags_of "$name"); do
      rec=$(recorded_id "$t")
      if [ -z "$rec" ]; then say "$t: no recorded digest in $DIGESTS"; bad=1; continue; fi
      got=$(daemon_id "$t")
      if [ "$got" != "$rec" ]; then say "$t: the daemon holds ${got:-nothing}, root recorded $rec"; bad=1; fi
      if [ -n "$REGISTRY" ]; then
        got=$(registry_id "$t")
        if [ "$got" != "$rec" ]; then say "$t: the registry $REGISTRY serves ${got:-nothing}, root recorded $rec"; bad=1; fi
      fi
    done
  done
  return "$bad"
}

cmd_record() { # NAME...
  [ -n "$DIGESTS" ] || die "record needs THROWAWAY_DIGESTS"
  local name t label
  for name in "$@"; do
    IN=$(inputs_of "$name")
    H=$(recipe_hash "$name" "$IN")
    for t in $(tags_of "$name"); do
      label=$(docker image inspect --format '{{index .Config.Labels "dev.throwaway.recipe"}}' "$t" 2>/dev/null || true)
      [ "$label" = "$H" ] || die "$t in the daemon is not built from the current recipe ($name); run: images.sh build $name"
      record_id "$t" "$(daemon_id "$t")"
    done
  done
}

cmd_status() {
  local name
  for name in "$@"; do
    inspect_image "$name"
    printf '%-8s %-6s recipe=%s %s\n' "$name" "$STATE" "$H" "$(tags_of "$name" | tr '\n' ' ')"
  done
}

cmd_ensure() { # [--force] NAME...
  local force=0 name t
  if [ "${1:-}" = --force ]; then force=1; shift; fi
  mkdir -p "$LOGDIR"
  local -A hash inputs state ids
  local to_build=() to_publish=()
  for name in "$@"; do
    inspect_image "$name"
    [ "$force" = 1 ] && STATE=build
    hash[$name]=$H inputs[$name]=$IN state[$name]=$STATE ids[$name]=$ID
    case "$STATE" in
    build) to_build+=("$name") ;;
    push) to_publish+=("$name") ;;
    pull)
      say "$name: pulling from the local mirror"
      for t in $(tags_of "$name"); do
        if ! pull_tag "$t"; then state[$name]=build; fi
      done
      if [ "${state[$name]}" = build ] || [ -z "$(local_id "$(tags_of "$name" | head -n1)" "$H")" ]; then
        to_build+=("$name")
      fi
      ;;
    esac
  done
  [ ${#to_build[@]} -gt 0 ] || [ ${#to_publish[@]} -gt 0 ] || return 0

  # Root filesystems in parallel (debootstrap is mostly waiting on I/O).
  local pids=() start=$SECONDS
  for name in "${to_build[@]}"; do
    rootfs_tar "$name" "${inputs[$name]}" >"$LOGDIR/$name.tarpath" &
    pids+=($!)
  done
  local failed=0 p
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ "$failed" = 0 ] || die "building root filesystems failed (logs in $LOGDIR)"

  for name in "${to_build[@]}"; do
    docker_build "$name" "${hash[$name]}" "${inputs[$name]}" "$(cat "$LOGDIR/$name.tarpath")"
    for t in $(tags_of "$name"); do record_id "$t" "$(daemon_id "$t")"; done
    to_publish+=("$name")
  done

  if [ -n "$REGISTRY" ]; then
    for name in "${to_publish[@]}"; do
      say "$name: pushing to $REGISTRY"
      for t in $(tags_of "$name"); do push_tag "$t"; done
      ids[$name]=$(local_id "$(tags_of "$name" | head -n1)" "${hash[$name]}")
      for t in $(tags_of "$name"); do check_pull "$t" "${ids[$name]}"; done
    done
  fi
  prune_replaced "$@"
  if [ ${#to_build[@]} -gt 0 ]; then
    say "built ${to_build[*]} in $((SECONDS - start)) s"
  fi
}

# Earlier stand-ins that lost their tags (still listed as e.g. `mysql <none>`
# after a pull): removed unless a container still uses them.
prune_replaced() { # NAME...
  local repos=() name t id repo ref
  for name in "$@"; do
    for t in $(tags_of "$name"); do repos+=("${t%%:*}"); done
  done
  docker images --filter dangling=true --filter label=dev.throwaway.recipe \
    --format '{{.ID}} {{.Repository}}' 2>/dev/null | while read -r id repo; do
    for t in "${repos[@]}"; do
      if [ "$repo" = "$t" ]; then
        # By digest reference first: an id known under two names (mysql and
        # mariadb) cannot be removed by id without force.
        for ref in $(docker image inspect --format '{{range .RepoDigests}}{{.}} {{end}}' "$id" 2>/dev/null); do
          docker rmi "$ref" >/dev/null 2>&1 || true
        done
        docker rmi "$id" >/dev/null 2>&1 || true
        break
      fi
    done
  done
}

# One provisioning at a time per machine (engine.sh holds the same lock and
# sets THROWAWAY_LOCKED for us).
lock() {
  [ "${THROWAWAY_LOCKED:-}" != 1 ] || return 0
  have_flock=$(command -v flock || true)
  [ -n "$have_flock" ] || return 0
  local f=/var/lock/throwaway-engine-ensure.lock
  [ "$(id -u)" = 0 ] || f=${TMPDIR:-/tmp}/throwaway-engine-$(id -u).lock
  exec 9>"$f"
  if ! flock -n 9; then
    say "another provisioning run holds $f; waiting"
    flock -w 3600 9 || die "gave up waiting for $f"
  fi
  export THROWAWAY_LOCKED=1
}

main() {
  local cmd=${1:-ensure}
  shift || true
  local names=("$@") force=()
  if [ "${names[0]:-}" = --force ]; then force=(--force); names=("${names[@]:1}"); fi
  if [ ${#names[@]} -eq 0 ]; then mapfile -t names < <(all_names); fi
  for n in "${names[@]}"; do
    [ -f "$IMAGES_DIR/$n/Dockerfile" ] || die "no image recipe images/$n"
  done
  case "$cmd" in ensure | build | record) lock ;; esac
  case "$cmd" in
  ensure) cmd_ensure "${force[@]}" "${names[@]}" ;;
  build) cmd_ensure --force "${names[@]}" ;;
  status) cmd_status "${names[@]}" ;;
  prune) prune_replaced "${names[@]}" ;;
  verify) cmd_verify "${names[@]}" ;;
  record) cmd_record "${names[@]}" ;;
  names) printf '%s\n' "${names[@]}" ;;
  *) die "unknown command $cmd (ensure | build | status | verify | record | prune | names)" ;;
  esac
}

main "$@"
