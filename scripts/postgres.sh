#!/usr/bin/env bash
# Makes sure a PostgreSQL answers on 127.0.0.1:5432 with user postgres and
# trust auth, as Kontor's defaults and tests expect. In order, it:
#   1. uses the one that answers already;
#   2. starts the machine's cluster if there is one (Debian's pg_ctlcluster);
#   3. otherwise installs PostgreSQL with apt-get (when missing) and starts a
#      private cluster under .data/postgres owned by the postgres user.
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=127.0.0.1
PORT=${KONTOR_PG_PORT:-5432}

ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$HOST" -p "$PORT"
  else
    (exec 3<>"/dev/tcp/$HOST/$PORT") 2>/dev/null
  fi
}

wait_ready() {
  for _ in $(seq 1 60); do
    ready && return 0
    sleep 0.5
  done
  echo "postgres.sh: PostgreSQL did not come up on $HOST:$PORT" >&2
  return 1
}

if ready; then
  exit 0
fi

if command -v pg_lsclusters >/dev/null 2>&1 && [ -n "$(pg_lsclusters -h 2>/dev/null)" ]; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "postgres.sh: starting the PostgreSQL $version cluster" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  if wait_ready; then exit 0; fi
fi

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ]; then
  echo "postgres.sh: installing PostgreSQL with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql >/dev/null
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  # The package may have created and started its own cluster.
  if wait_ready 2>/dev/null; then exit 0; fi
fi

data="$PWD/.data/postgres"
run_as() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  useradd --system --home-dir "$data" postgres
fi
mkdir -p "$data"
[ "$(id -u)" = 0 ] && chown -R postgres "$PWD/.data"
if [ ! -f "$data/PG_VERSION" ]; then
  echo "postgres.sh: creating a private cluster in $data" >&2
  run_as "$bindir/initdb -D '$data' -U postgres -A trust -E UTF8 >/dev/null"
fi
echo "postgres.sh: starting the private cluster on $HOST:$PORT" >&2
run_as "$bindir/pg_ctl -D '$data' -l '$data/server.log' -o '-h $HOST -p $PORT -k /tmp' -w start >/dev/null"
wait_ready
