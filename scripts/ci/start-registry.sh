#!/usr/bin/env bash
# Runs Debian's docker-registry on 127.0.0.1:5000 so image-pull tests have a registry to
# pull from (nothing can be pulled from Docker Hub here). The packaged config asks for
# htpasswd auth and listens on all interfaces, so ours replaces it. Without systemd the
# binary runs in the background the way the package's init script does it (same pid file
# and user), so `/etc/init.d/docker-registry stop` also stops it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
CONFIG=/etc/docker/registry/config.yml
ADDR=127.0.0.1:5000
PIDFILE=/var/run/docker-registry.pid
LOG=/var/log/docker-registry.log
TIMEOUT=${REGISTRY_TIMEOUT:-30}

answers() { curl -fs -o /dev/null --max-time 2 "http://$ADDR/v2/"; }

command -v docker-registry >/dev/null || { echo "start-registry.sh: install docker-registry" >&2; exit 1; }

config_changed=false
if ! cmp -s "$here/registry-config.yml" "$CONFIG"; then
  mkdir -p "$(dirname "$CONFIG")"
  install -m 0644 "$here/registry-config.yml" "$CONFIG"
  config_changed=true
  echo "[registry] wrote $CONFIG"
fi

if [ -d /run/systemd/system ]; then
  if $config_changed; then systemctl restart docker-registry; else systemctl start docker-registry; fi
else
  running=false
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then running=true; fi
  if $running && $config_changed; then
    echo "[registry] restarting for the new config"
    start-stop-daemon --stop --quiet --pidfile "$PIDFILE" --retry 10
    running=false
  fi
  if ! $running && answers; then
    echo "[registry] something not started by us already answers on $ADDR; using it"
    exit 0
  fi
  if ! $running; then
    echo "[registry] starting docker-registry on $ADDR (log: $LOG)"
    rm -f "$PIDFILE"
    start-stop-daemon --start --background --no-close --chuid docker-registry \
      --exec /usr/bin/docker-registry --pidfile "$PIDFILE" --make-pidfile \
      -- serve "$CONFIG" >>"$LOG" 2>&1 </dev/null
  fi
fi

for _ in $(seq 1 "$TIMEOUT"); do
  if answers; then
    echo "[registry] ready at http://$ADDR"
    exit 0
  fi
  sleep 1
done
echo "start-registry.sh: registry did not answer on $ADDR within ${TIMEOUT}s; last lines of $LOG:" >&2
tail -n 30 "$LOG" >&2 || true
exit 1
