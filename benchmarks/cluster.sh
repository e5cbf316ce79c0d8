#!/usr/bin/env bash
# The cluster benchmark with one command: builds the node and the harness, starts one embedded PostgreSQL
# (java -jar target/scairelay.jar postgres) in benchmarks/work/cluster-<date>/, measures one node with and
# without --cluster (alternating), then three clustered nodes whose busiest owner is killed (SIGKILL) and
# restarted, stops everything it started and writes benchmarks/results/<date>-cluster/ (results.md, results.json).
# About 4-5 min on 2 cores. Flags (all --name=value, benchmarks/README.md lists them): --quick (short runs, a
# smoke test) --ab-runs=2 --duration=5 --node-warmup=8 --relay-pairs=100 --kills=3 --rate=200 --scenarios=ab,failover
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
started=$(date +%s)

install_missing "to read what the nodes stored" postgresql-client psql
install_missing "for the max-rate runs" wrk wrk

build_node_and_harness

stamp=$(date -u +%Y-%m-%dT%H%MZ)
work="$PWD/benchmarks/work/cluster-$stamp"

# The harness stops what it started; should it itself be killed, this stops what is left of this run: the pids it
# wrote to $work/pids, and only those whose command line still names this run's directory (no pid reuse).
leftovers() {
  [ -f "$work/pids" ] || return 0
  local pids=() pid
  while IFS=$'\t' read -r pid _; do
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF "$work"; then
      pids+=("$pid")
    fi
  done < "$work/pids"
  [ ${#pids[@]} -eq 0 ] && return 0
  echo "stopping processes the harness left behind: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 30); do
    local alive=()
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive+=("$pid"); done
    [ ${#alive[@]} -eq 0 ] && return 0
    sleep 1
  done
  kill -KILL "${alive[@]}" 2>/dev/null || true
}
trap leftovers EXIT

status=0
# Bounded: the harness's own waits are bounded; this is the last resort (the harness stops its processes on SIGTERM).
timeout --signal=TERM --kill-after=90 1200 \
  java -Xmx1g -cp benchmarks/target/scairelay-bench.jar com.scairelay.bench.ClusterBench --repo=. --stamp="$stamp" "$@" || status=$?
elapsed=$(( $(date +%s) - started ))
printf 'cluster.sh elapsed: %d min %02d s (build included)\n' $((elapsed / 60)) $((elapsed % 60))
exit $status
