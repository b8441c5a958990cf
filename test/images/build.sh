#!/usr/bin/env bash
# Builds the images the integration tests run, from files on this host, because
# nothing can be pulled from a public registry here:
#   knot-test/busybox:latest                 busybox rootfs (sh, sleep, nc, httpd, ...)
#   knot-test/node:latest                    the host's node binary + its libraries + busybox;
#                                            the knot agent runs in it
#   knot-test/glibc:latest                   busybox + the host's bash and the glibc it links
#                                            (a Debian-family image without Node.js)
#   knot-test/musl:latest                    busybox + musl's loader and libc (Debian's musl
#                                            package), standing in for Alpine; no Node.js
#   127.0.0.1:5000/knot-test/busybox:latest  a copy pushed to the local registry and untagged
#                                            locally, so image-pull tests really pull
#   knot-test/starter-*:latest               stand-ins for the starter templates' images (starters.sh)
# An image that already exists is kept (fast second run) unless --force is given.
# The node image is also rebuilt when the host's node version changes. Built images are
# smoke-run (sh in busybox, node in node); --verify smoke-runs kept ones too.
#
# Needs: a running Docker engine (scripts/ci/start-docker.sh), /bin/busybox
# (busybox-static), /lib/ld-musl-x86_64.so.1 (musl) and, for the pushed copy, the registry (scripts/ci/start-registry.sh).
# KNOT_TEST_REGISTRY overrides the registry address; set it empty to skip the push.
set -euo pipefail

force=false
verify=false
for arg in "$@"; do
  case "$arg" in
    --force) force=true; verify=true ;;
    --verify) verify=true ;;
    -h|--help) awk 'NR == 1 { next } /^#/ { sub(/^# ?/, ""); print; next } { exit }' "$0"; exit 0 ;;
    *) echo "build.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

BUSYBOX_IMAGE=knot-test/busybox:latest
NODE_IMAGE=knot-test/node:latest
GLIBC_IMAGE=knot-test/glibc:latest
MUSL_IMAGE=knot-test/musl:latest
MUSL_LOADER=${MUSL_LOADER:-/lib/ld-musl-x86_64.so.1}
REGISTRY=${KNOT_TEST_REGISTRY-127.0.0.1:5000}
BUSYBOX=${BUSYBOX:-/bin/busybox}
IMPORT_CHANGES=(--change 'ENV PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin'
                --change 'WORKDIR /'
                --change 'CMD ["sh"]')

log() { echo "[test/images] $*"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# The busybox-static binary must not need a loader, or the busybox image would not run.
check_busybox() {
  if [ ! -x "$BUSYBOX" ]; then
    echo "build.sh: $BUSYBOX not found; apt-get install busybox-static" >&2
    exit 1
  fi
  if ldd "$BUSYBOX" >/dev/null 2>&1; then
    echo "build.sh: $BUSYBOX is dynamically linked; install busybox-static" >&2
    exit 1
  fi
}

# A merged-/usr skeleton (bin -> usr/bin, like Debian 12) holding busybox with a symlink for
# every applet it has, so both /bin/sh and /usr/bin/env work.
make_busybox_rootfs() {
  local root=$1
  mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib "$root"/usr/lib64 "$root"/usr/local/bin \
           "$root"/etc "$root"/root "$root"/tmp "$root"/var/tmp "$root"/home "$root"/proc \
           "$root"/sys "$root"/dev
  ln -s usr/bin "$root/bin"
  ln -s usr/sbin "$root/sbin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  cp "$BUSYBOX" "$root/usr/bin/busybox"
  local applet
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] && continue
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
  done
  cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
  cat > "$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
  # /etc/hosts first, so names Docker adds there (host.docker.internal) resolve.
  echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
}

# Imports root as image; the image it replaces is removed unless a container still uses it,
# so --force does not pile up dangling 100 MB images.
import_rootfs() {
  local root=$1 image=$2 old new; shift 2
  old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  new=$(tar --numeric-owner -C "$root" -c . | docker import "${IMPORT_CHANGES[@]}" "$@" - "$image")
  if [ -n "$old" ] && [ "$old" != "$new" ]; then
    docker rmi "$old" >/dev/null 2>&1 || true
  fi
}

build_busybox() {
  check_busybox
  local root=$work/busybox
  make_busybox_rootfs "$root"
  import_rootfs "$root" "$BUSYBOX_IMAGE"
}

# Node plus exactly the shared objects ldd resolves for it, at the same paths, and the
# dynamic loader (the line of ldd's output without "=>").
build_node() {
  check_busybox
  local root=$work/node node lib
  node=$(readlink -f "$(command -v node)")
  make_busybox_rootfs "$root"
  cp "$node" "$root/usr/bin/node"
  for lib in $(ldd "$node" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    copy_path "$lib" "$root"
  done
  # TLS to public hosts is not a test need, but without the bundle node's https fails oddly.
  if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
    copy_path /etc/ssl/certs/ca-certificates.crt "$root"
  fi
  import_rootfs "$root" "$NODE_IMAGE" --change "LABEL knot.test.node-version=$(node --version)"
}

# A glibc image with no Node.js: bash and exactly the libraries ldd resolves for it.
build_glibc() {
  check_busybox
  local root=$work/glibc bash lib
  bash=$(readlink -f "$(command -v bash)")
  make_busybox_rootfs "$root"
  rm -f "$root/usr/bin/bash"
  cp "$bash" "$root/usr/bin/bash"
  for lib in $(ldd "$bash" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    copy_path "$lib" "$root"
  done
  printf 'PRETTY_NAME="knot-test glibc (busybox + bash, no Node.js)"\nID=knot-test-glibc\n' > "$root/etc/os-release"
  import_rootfs "$root" "$GLIBC_IMAGE"
}

# A musl image like Alpine's base: musl's loader (which is its libc too) at Alpine's path.
build_musl() {
  check_busybox
  if [ ! -e "$MUSL_LOADER" ]; then
    echo "build.sh: $MUSL_LOADER not found; apt-get install musl" >&2
    exit 1
  fi
  local root=$work/musl
  make_busybox_rootfs "$root"
  mkdir -p "$root/usr/lib"
  cp -L "$MUSL_LOADER" "$root/usr/lib/ld-musl-x86_64.so.1"
  ln -s ld-musl-x86_64.so.1 "$root/usr/lib/libc.musl-x86_64.so.1"
  printf 'PRETTY_NAME="knot-test musl (busybox + musl libc, standing in for Alpine)"\nID=knot-test-musl\n' > "$root/etc/os-release"
  import_rootfs "$root" "$MUSL_IMAGE"
}

# Copies a file to the same path under root. The host is merged-/usr too, so /lib/... and
# /lib64/... land under usr/ through the rootfs' own symlinks.
copy_path() {
  local src=$1 root=$2 dest
  dest=$root$(canonical_usr_path "$src")
  mkdir -p "$(dirname "$dest")"
  cp -L "$src" "$dest"
  # Keep the name the caller asked for reachable (e.g. /lib64/ld-linux-x86-64.so.2).
  local wanted=$root$src
  if [ ! -e "$wanted" ]; then
    mkdir -p "$(dirname "$wanted")"
    ln -s "$(canonical_usr_path "$src")" "$wanted"
  fi
}

canonical_usr_path() {
  case "$1" in
    /lib/*|/bin/*|/sbin/*) echo "/usr$1" ;;
    /lib64/*) echo "/usr$1" ;;
    *) echo "$1" ;;
  esac
}

node_image_current() {
  image_exists "$NODE_IMAGE" || return 1
  local label
  label=$(docker image inspect -f '{{ index .Config.Labels "knot.test.node-version" }}' "$NODE_IMAGE" 2>/dev/null || true)
  [ "$label" = "$(node --version)" ]
}

registry_answers() { curl -fs -o /dev/null --max-time 3 "http://$REGISTRY/v2/"; }

registry_has_busybox() {
  curl -fs -o /dev/null --max-time 3 \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REGISTRY/v2/knot-test/busybox/manifests/latest"
}

push_busybox() {
  local remote=$REGISTRY/knot-test/busybox:latest
  docker tag "$BUSYBOX_IMAGE" "$remote"
  docker push "$remote" >/dev/null
  # Untag so a test that asks for the registry name has to pull it.
  docker rmi "$remote" >/dev/null
}

command -v docker >/dev/null || { echo "build.sh: docker CLI not found" >&2; exit 1; }
docker info >/dev/null 2>&1 || { echo "build.sh: Docker engine does not answer; run scripts/ci/start-docker.sh" >&2; exit 1; }

busybox_rebuilt=false
if $force || ! image_exists "$BUSYBOX_IMAGE"; then
  log "building $BUSYBOX_IMAGE"
  build_busybox
  busybox_rebuilt=true
  verify=true
else
  log "$BUSYBOX_IMAGE present"
fi

if $force || ! node_image_current; then
  log "building $NODE_IMAGE"
  build_node
  verify=true
else
  log "$NODE_IMAGE present"
fi

for variant in glibc musl; do
  image=knot-test/$variant:latest
  if $force || ! image_exists "$image"; then
    log "building $image"
    "build_$variant"
    verify=true
  else
    log "$image present"
  fi
done

if [ -n "$REGISTRY" ]; then
  if ! registry_answers; then
    echo "build.sh: no registry at http://$REGISTRY; run scripts/ci/start-registry.sh (or set KNOT_TEST_REGISTRY= to skip the push)" >&2
    exit 1
  fi
  if $busybox_rebuilt || ! registry_has_busybox; then
    log "pushing $REGISTRY/knot-test/busybox:latest"
    push_busybox
  else
    log "$REGISTRY/knot-test/busybox:latest present in the registry"
  fi
  # A leftover local tag from an interrupted run would let pull tests pass without pulling.
  docker rmi "$REGISTRY/knot-test/busybox:latest" >/dev/null 2>&1 || true
fi

# Catches a broken image here rather than as a confusing failure deep in the suite. About
# 1 s per image, so skipped when nothing was built.
if $verify; then
  [ "$(docker run --rm --init "$BUSYBOX_IMAGE" sh -c 'echo ok')" = ok ] \
    || { echo "build.sh: $BUSYBOX_IMAGE does not run sh" >&2; exit 1; }
  [ "$(docker run --rm --init "$NODE_IMAGE" node -e 'console.log(1+1)')" = 2 ] \
    || { echo "build.sh: $NODE_IMAGE does not run node" >&2; exit 1; }
  [ "$(docker run --rm --init "$GLIBC_IMAGE" bash -c 'echo ok')" = ok ] \
    || { echo "build.sh: $GLIBC_IMAGE does not run bash" >&2; exit 1; }
  [ "$(docker run --rm --init "$MUSL_IMAGE" /lib/ld-musl-x86_64.so.1 --version 2>&1 | head -1)" = 'musl libc (x86_64)' ] \
    || { echo "build.sh: $MUSL_IMAGE has no working musl loader" >&2; exit 1; }
  if docker run --rm --init "$GLIBC_IMAGE" sh -c 'command -v node' >/dev/null || docker run --rm --init "$MUSL_IMAGE" sh -c 'command -v node' >/dev/null; then
    echo "build.sh: an image meant to have no Node.js has one" >&2; exit 1
  fi
  log "smoke-ran the images"
fi
# The starter templates' stand-ins (see starters.sh for which image stands for which).
if $force; then bash "$(dirname "$0")/starters.sh" --force; else bash "$(dirname "$0")/starters.sh"; fi
log "images ready"
