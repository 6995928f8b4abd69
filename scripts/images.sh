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
#   images.sh names              the image folders
#
# Environment:
#   THROWAWAY_REGISTRY   host:port of the local registry that the daemon uses
#                        as its Docker Hub mirror (engine.sh sets 127.0.0.1:5000);
#                        empty: images are only built into the daemon
#   THROWAWAY_CACHE      root filesystem tarballs, .deb downloads, build
#                        contexts and logs (default /var/cache/throwaway-images)
#   THROWAWAY_NO_CACHE=1 rebuild root filesystems instead of reusing the cache
#
# An image's identity is a hash of its recipe folder (README.md aside; plus the inputs its
# rootfs.sh reports, such as the node binary): it is stored in the label
# dev.throwaway.recipe and compared with what the daemon and registry hold.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
IMAGES_DIR="$ROOT/images"
CACHE=${THROWAWAY_CACHE:-/var/cache/throwaway-images}
REGISTRY=${THROWAWAY_REGISTRY:-}
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

# Image id of TAG when it carries recipe HASH, else nothing.
local_id() { # TAG HASH
  local out
  out=$(docker image inspect --format '{{.Id}} {{index .Config.Labels "dev.throwaway.recipe"}}' "$1" 2>/dev/null) || return 0
  if [ "${out#* }" = "$2" ]; then echo "${out%% *}"; fi
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

# Does the registry's image for TAG carry recipe HASH?
registry_has_recipe() { # TAG DIGEST HASH
  curl -fsS -m 10 "http://$REGISTRY/v2/$(registry_repo "$1")/blobs/$2" 2>/dev/null |
    tr -d ' \n' | grep -qF "\"dev.throwaway.recipe\":\"$3\""
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
  remote="$REGISTRY/$(registry_repo "$1"):$(tag_part "$1")"
  docker tag "$1" "$remote"
  if ! docker push "$remote" >>"$LOGDIR/push.log" 2>&1; then
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
  case "$cmd" in ensure | build) lock ;; esac
  case "$cmd" in
  ensure) cmd_ensure "${force[@]}" "${names[@]}" ;;
  build) cmd_ensure --force "${names[@]}" ;;
  status) cmd_status "${names[@]}" ;;
  prune) prune_replaced "${names[@]}" ;;
  names) printf '%s\n' "${names[@]}" ;;
  *) die "unknown command $cmd (ensure | build | status | names)" ;;
  esac
}

main "$@"
