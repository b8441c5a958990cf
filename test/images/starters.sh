#!/usr/bin/env bash
# Local stand-ins for the starter templates' public images, which are large and cannot be pulled
# here (server/src/templates/starters.ts; tests name them in KNOT_STARTER_IMAGES). Each keeps the
# part of its original's layout that the starter's job relies on:
#   shell        knot-test/busybox itself: `sleep infinity` keeps it up, as in ubuntu:24.04
#   code-server  knot-test/starter-code-server: ENTRYPOINT /usr/bin/entrypoint.sh passing the
#                job's command to /usr/bin/code-server (a node stand-in answering /healthz on
#                the last --bind-addr), as codercom/code-server does
#   desktop      knot-test/starter-desktop: ENTRYPOINT /init serving port 3000 behind Basic auth
#                with CUSTOM_USER/PASSWORD, as lscr.io/linuxserver/webtop does
# Built on knot-test/node and knot-test/busybox (build.sh) by copying files into a container and
# committing it, so nothing is pulled. Kept when present unless --force.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
force=false
[ "${1:-}" = --force ] && force=true

commit_with() {
  local base=$1 image=$2 entrypoint=$3; shift 3
  if ! $force && docker image inspect "$image" >/dev/null 2>&1; then echo "[test/images] $image present"; return; fi
  echo "[test/images] building $image"
  local c
  c=$(docker create "$base" true)
  trap 'docker rm -f "$c" >/dev/null 2>&1 || true' RETURN
  while [ $# -gt 0 ]; do docker cp "$1" "$c:$2" >/dev/null; shift 2; done
  docker commit --change "ENTRYPOINT $entrypoint" --change 'CMD []' "$c" "$image" >/dev/null
}

commit_with knot-test/node:latest knot-test/starter-code-server:latest '["/usr/bin/entrypoint.sh", "--bind-addr", "0.0.0.0:8080", "."]' \
  "$here/starters/code-server.mjs" /usr/bin/code-server \
  "$here/starters/code-server-entrypoint.sh" /usr/bin/entrypoint.sh
commit_with knot-test/busybox:latest knot-test/starter-desktop:latest '["/init"]' \
  "$here/starters/desktop-init.sh" /init
