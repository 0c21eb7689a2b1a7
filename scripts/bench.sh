#!/usr/bin/env bash
# make bench: starts bin/kontor on a fresh database, runs ledgerbench
# (../shared/tools/ledgerbench) for each workload at each concurrency, with
# every ledger feature on, and prints a table. Then, for each bus transport,
# starts Kontor publishing on it, runs ledgerbench world-to-users at c=32 with
# cmd/busbench consuming the events, and prints a second table: events per
# second, lag from commit to consumer and from the log's date to consumer,
# events lost (see cmd/busbench). The ledger table's last column is the
# share of the machine's CPU time the hypervisor gave other guests during the
# run (steal, from /proc/stat): above a few percent, the host is busy and the
# run reads low. Knobs (environment):
#   BENCH_WORKLOADS  (default "world-to-users hot-account users-to-users numscript reads")
#   BENCH_CONCURRENCY (default "1 32 64"), BENCH_DURATION (default 10s)
#   BENCH_BUS (default 1; 0 skips the bus table)
#   BENCH_BUS_TRANSPORTS (default "none postgres postgres@100ms kafka": a
#     transport, optionally @ the postgres consumer's poll interval; none is
#     the baseline without events; kafka runs an in-process kfake broker
#     inside busbench)
set -euo pipefail
cd "$(dirname "$0")/.."

SHARED=${SHARED:-../shared}
WORKLOADS=${BENCH_WORKLOADS:-"world-to-users hot-account users-to-users numscript reads"}
CONCURRENCY=${BENCH_CONCURRENCY:-"1 32 64"}
DURATION=${BENCH_DURATION:-10s}
PORT=${BENCH_PORT:-18180}
BUS=${BENCH_BUS:-1}
TRANSPORTS=${BENCH_BUS_TRANSPORTS:-"none postgres postgres@100ms kafka"}
KAFKA_PORT=$((PORT + 1))
ADMIN="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
out=$(mktemp -d)
pids=()

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# fresh_db NAME: drops and creates database NAME, prints its URI.
fresh_db() {
  PGOPTIONS=--client-min-messages=warning psql -q "$ADMIN" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >&2
  echo "postgres://postgres@127.0.0.1:5432/$1?sslmode=disable"
}

# start_kontor URI ARGS...: serves Kontor on PORT and waits until it answers.
start_kontor() {
  local uri=$1
  shift
  ./bin/kontor serve --postgres-uri "$uri" --bind "127.0.0.1:$PORT" --log-level warn "$@" 2>"$out/kontor.log" &
  kontor=$!
  pids+=("$kontor")
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/versions" >/dev/null && return 0
    sleep 0.1
  done
  echo "bench: kontor did not start: $(tail -n 3 "$out/kontor.log")" >&2
  return 1
}

stop_kontor() {
  kill "$kontor" 2>/dev/null || true
  wait "$kontor" 2>/dev/null || true
}

# cpu_ticks: the machine's stolen and total CPU ticks so far (/proc/stat).
cpu_ticks() { awk '/^cpu /{t=0; for (i = 2; i <= NF; i++) t += $i; print $9, t}' /proc/stat; }

# run_ledgerbench ARGS...: one ledgerbench run; its JSON result line goes to
# stdout, or nothing when it failed (its output is in $out/run.txt).
run_ledgerbench() {
  "$out/ledgerbench" -url "http://127.0.0.1:$PORT" -prefix /api/ledger -ledger-config "$features" \
    -d "$DURATION" -warmup 2s "$@" >"$out/run.txt" 2>&1 || true
  tail -n 1 "$out/run.txt" | grep '"tool":"ledgerbench"' || true
}

command -v psql >/dev/null || { echo "bench: psql is required" >&2; exit 1; }
(cd "$SHARED/tools/ledgerbench" && go build -o "$out/ledgerbench" .)
go build -o "$out/busbench" ./cmd/busbench

features='{"features":{"MOVES_HISTORY":"ON","MOVES_HISTORY_POST_COMMIT_EFFECTIVE_VOLUMES":"SYNC","HASH_LOGS":"SYNC","ACCOUNT_METADATA_HISTORY":"SYNC","TRANSACTION_METADATA_HISTORY":"SYNC"}}'

start_kontor "$(fresh_db kontor_bench)" --bus none
printf '%-16s %4s %10s %9s %9s %9s %7s %8s %7s\n' workload c "ops/s" "p50 ms" "p99 ms" "max ms" errors verify "steal %"
for w in $WORKLOADS; do
  for c in $CONCURRENCY; do
    read -r steal0 total0 < <(cpu_ticks)
    line=$(run_ledgerbench -ledger "bench-$w-$c" -workload "$w" -c "$c")
    read -r steal1 total1 < <(cpu_ticks)
    steal=$(( (steal1 - steal0) * 100 / (total1 - total0 + 1) ))
    if [ -z "$line" ]; then
      printf '%-16s %4s  failed: %s\n' "$w" "$c" "$(tail -n 3 "$out/run.txt" | tr '\n' ' ')"
      continue
    fi
    echo "$line" | STEAL=$steal python3 -c '
import json, os, sys
r = json.load(sys.stdin)
print("%-16s %4d %10.1f %9.2f %9.2f %9.2f %7d %8s %7s" % (r["workload"], r["concurrency"], r["tps"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["errors"], r["verify"], os.environ["STEAL"]))'
  done
done
stop_kontor

if [ "$BUS" = 0 ]; then exit 0; fi
# Each transport gets a fresh database, so the relay publishes only the logs
# of this run. busbench starts first: with kafka it is the broker.
echo
printf '%-16s %11s %9s %11s %11s %12s %12s %14s\n' transport "ledger tx/s" "events/s" "lag p50 ms" "lag p99 ms" "date p50 ms" "date p99 ms" "lost/expected"
for t in $TRANSPORTS; do
  bus=${t%@*}
  uri=$(fresh_db kontor_bench_bus)
  if [ "$bus" = none ]; then
    # The baseline: the same load with nothing published.
    start_kontor "$uri" --bus none
    line=$(run_ledgerbench -ledger bus -workload world-to-users -c 32)
    stop_kontor
    if [ -z "$line" ]; then
      printf '%-16s  failed: %s\n' "$t" "$(tail -n 2 "$out/run.txt" | tr '\n' ' ')"
    else
      echo "$line" | python3 -c 'import json, sys; print("%-16s %11.1f %9s" % ("none", json.load(sys.stdin)["tps"], "-"))'
    fi
    continue
  fi
  bench_args=(-bus "$bus" -ledger bus -postgres-uri "$uri")
  kontor_args=(--bus "$bus")
  if [ "$bus" = kafka ]; then
    bench_args+=(-kfake-port "$KAFKA_PORT")
    kontor_args+=(--kafka-brokers "127.0.0.1:$KAFKA_PORT")
  fi
  if [ "$t" != "$bus" ]; then
    bench_args+=(-poll-interval "${t#*@}")
  fi
  "$out/busbench" "${bench_args[@]}" >"$out/busbench.json" 2>"$out/busbench.log" &
  busbench=$!
  pids+=("$busbench")
  for _ in $(seq 1 100); do
    grep -q ready "$out/busbench.log" && break
    sleep 0.1
  done
  if ! start_kontor "$uri" "${kontor_args[@]}"; then
    printf '%-16s  failed: kontor did not start\n' "$t"
    kill "$busbench" 2>/dev/null || true
    continue
  fi
  line=$(run_ledgerbench -ledger bus -workload world-to-users -c 32)
  kill -INT "$busbench" 2>/dev/null || true
  wait "$busbench" 2>/dev/null || true
  stop_kontor
  if [ -z "$line" ] || ! grep -q '"tool":"busbench"' "$out/busbench.json"; then
    printf '%-16s  failed: %s %s\n' "$t" "$(tail -n 2 "$out/run.txt" | tr '\n' ' ')" "$(tail -n 2 "$out/busbench.log" | tr '\n' ' ')"
    continue
  fi
  python3 - "$t" "$line" "$out/busbench.json" <<'EOF'
import json, sys
l, b = json.loads(sys.argv[2]), json.load(open(sys.argv[3]))
print("%-16s %11.1f %9.1f %11.1f %11.1f %12.1f %12.1f %14s" % (sys.argv[1], l["tps"], b["events_per_s"], b["lag_p50_ms"],
      b["lag_p99_ms"], b["date_lag_p50_ms"], b["date_lag_p99_ms"], "%d/%d" % (b["lost"], b["expected"])))
EOF
done
