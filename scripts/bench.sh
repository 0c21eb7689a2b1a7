#!/usr/bin/env bash
# make bench: starts bin/kontor on a fresh database, runs ledgerbench
# (../shared/tools/ledgerbench) for each workload at each concurrency, with
# every ledger feature on, and prints a table. Knobs (environment):
#   BENCH_WORKLOADS  (default "world-to-users hot-account users-to-users numscript reads")
#   BENCH_CONCURRENCY (default "1 32 64"), BENCH_DURATION (default 10s)
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared}
WORKLOADS=${BENCH_WORKLOADS:-"world-to-users hot-account users-to-users numscript reads"}
CONCURRENCY=${BENCH_CONCURRENCY:-"1 32 64"}
DURATION=${BENCH_DURATION:-10s}
PORT=${BENCH_PORT:-18180}
DB=kontor_bench
ADMIN="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
URI="postgres://postgres@127.0.0.1:5432/$DB?sslmode=disable"
out=$(mktemp -d)

command -v psql >/dev/null || { echo "bench: psql is required" >&2; exit 1; }
(cd "$SHARED/tools/ledgerbench" && go build -o "$out/ledgerbench" .)
psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"

./bin/kontor serve --postgres-uri "$URI" --bind "127.0.0.1:$PORT" --bus none --log-level warn 2>"$out/kontor.log" &
kontor=$!
trap 'kill $kontor 2>/dev/null; wait $kontor 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/versions" >/dev/null && break
  sleep 0.1
done

features='{"features":{"MOVES_HISTORY":"ON","MOVES_HISTORY_POST_COMMIT_EFFECTIVE_VOLUMES":"SYNC","HASH_LOGS":"SYNC","ACCOUNT_METADATA_HISTORY":"SYNC","TRANSACTION_METADATA_HISTORY":"SYNC"}}'
printf '%-16s %4s %10s %9s %9s %9s %7s %8s\n' workload c "ops/s" "p50 ms" "p99 ms" "max ms" errors verify
for w in $WORKLOADS; do
  for c in $CONCURRENCY; do
    "$out/ledgerbench" -url "http://127.0.0.1:$PORT" -prefix /api/ledger -ledger "bench-$w-$c" \
      -ledger-config "$features" -workload "$w" -c "$c" -d "$DURATION" -warmup 2s >"$out/run.txt" 2>&1 || true
    line=$(tail -n 1 "$out/run.txt")
    if ! echo "$line" | grep -q '"tool":"ledgerbench"'; then
      printf '%-16s %4s  failed: %s\n' "$w" "$c" "$(tail -n 3 "$out/run.txt" | tr '\n' ' ')"
      continue
    fi
    echo "$line" | python3 -c '
import json, sys
r = json.load(sys.stdin)
print("%-16s %4d %10.1f %9.2f %9.2f %9.2f %7d %8s" % (r["workload"], r["concurrency"], r["tps"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["errors"], r["verify"]))'
  done
done
