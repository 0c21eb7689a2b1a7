#!/usr/bin/env bash
# Installs what the test suite needs beyond PostgreSQL (scripts/postgres.sh):
# the ClickHouse server, which the clickhouse exporter's tests start on
# their own ports (Debian's clickhouse-server package).
set -euo pipefail
if command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ]; then
  exit 0
fi
if [ -n "${KONTOR_TEST_CLICKHOUSE_URL:-}" ]; then
  exit 0
fi
echo "test-deps.sh: installing clickhouse-server with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends clickhouse-server >/dev/null
