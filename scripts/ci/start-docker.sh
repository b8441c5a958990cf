#!/usr/bin/env bash
# Makes sure a Docker engine answers. CI machines have no systemd, so when the socket is
# silent dockerd is started in its own session in the background (log: /var/log/dockerd.log)
# and we wait, bounded, until `docker info` works.
set -euo pipefail

LOG=${DOCKERD_LOG:-/var/log/dockerd.log}
TIMEOUT=${DOCKERD_TIMEOUT:-60}

if docker info >/dev/null 2>&1; then
  echo "[docker] engine answers"
  exit 0
fi

command -v dockerd >/dev/null || { echo "start-docker.sh: dockerd not found; install docker.io" >&2; exit 1; }

if [ -d /run/systemd/system ]; then
  systemctl start docker
else
  pidfile=/var/run/docker.pid
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "[docker] dockerd (pid $(cat "$pidfile")) is running but not answering yet; waiting"
  else
    # A pid file left by a killed dockerd makes the next one refuse to start.
    rm -f "$pidfile"
    echo "[docker] starting dockerd (log: $LOG)"
    setsid -f dockerd >>"$LOG" 2>&1 </dev/null
  fi
fi

for _ in $(seq 1 "$TIMEOUT"); do
  if docker info >/dev/null 2>&1; then
    echo "[docker] engine answers"
    exit 0
  fi
  sleep 1
done
echo "start-docker.sh: Docker engine did not answer within ${TIMEOUT}s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
