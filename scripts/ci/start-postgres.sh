#!/usr/bin/env bash
# Starts the Debian PostgreSQL 15 cluster (installed but stopped on CI machines) and gives
# the postgres user the password 'postgres', because Debian's pg_hba.conf wants a password
# over TCP. Tests connect with postgres://postgres:postgres@127.0.0.1:5432/postgres.
set -euo pipefail

VERSION=15
CLUSTER=main
PASSWORD=${KNOT_TEST_PG_PASSWORD:-postgres}
TIMEOUT=${PG_TIMEOUT:-30}

if ! pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { found = 1 } END { exit !found }'; then
  echo "[postgres] creating cluster $VERSION/$CLUSTER"
  pg_createcluster "$VERSION" "$CLUSTER"
fi

if pg_ctlcluster "$VERSION" "$CLUSTER" status >/dev/null 2>&1; then
  echo "[postgres] cluster $VERSION/$CLUSTER running"
else
  echo "[postgres] starting cluster $VERSION/$CLUSTER"
  pg_ctlcluster "$VERSION" "$CLUSTER" start
fi

port=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')
for _ in $(seq 1 "$TIMEOUT"); do
  pg_isready -q -h 127.0.0.1 -p "$port" && break
  sleep 1
done
pg_isready -q -h 127.0.0.1 -p "$port" || { echo "start-postgres.sh: PostgreSQL not ready on port $port" >&2; exit 1; }

# Idempotent: setting the same password again is harmless. Over the local socket, where
# Debian trusts the postgres OS user (peer auth); from / because psql complains when the
# postgres user cannot enter the caller's directory.
cd /
runuser -u postgres -- psql -q -p "$port" -v ON_ERROR_STOP=1 \
  -c "ALTER USER postgres PASSWORD '$PASSWORD'" </dev/null
PGPASSWORD=$PASSWORD psql -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc 'select 1' </dev/null >/dev/null
echo "[postgres] ready: postgres://postgres:$PASSWORD@127.0.0.1:$port/postgres"
