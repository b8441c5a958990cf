#!/usr/bin/env bash
# Installs the Debian packages the test suite needs on a fresh Debian 12 machine (as root,
# no stdin): PostgreSQL 15, the Docker engine, a static busybox and musl for the test images,
# Chromium for the browser tests, and Debian's docker-registry for image-pull tests.
# Touches apt only when something is missing, so a second run costs nothing.
set -euo pipefail

PACKAGES=(postgresql-15 docker.io busybox-static chromium docker-registry curl musl)

missing=()
for pkg in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f '${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "[packages] all present: ${PACKAGES[*]}"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "install-packages.sh: missing ${missing[*]}; run as root to install them" >&2
  exit 1
fi

echo "[packages] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# confold/confdef: an upgrade must never stop to ask about a config file we rewrote
# (start-registry.sh owns /etc/docker/registry/config.yml).
apt-get install -y -q \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
  "${missing[@]}" </dev/null
