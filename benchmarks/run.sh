#!/usr/bin/env bash
# Measures ScaiRelay on this machine with one command. Builds the node and the harness, starts a node
# (dev mode on its private PostgreSQL, or --pg-url=postgresql://…), runs the scenarios, stops
# everything and writes benchmarks/results/<date>/ (results.json, results.md, throughput.png, latency.png).
# Flags (all --name=value): --duration=15 --connections=128 --rate=10000 --e2e-rate=5000 --e2e-pairs=100
#   --bridges=100000 --active=10000 --pg-seconds=8 --scenarios=ceilings,wrk,inbound,ordered,e2e,fanout,many,faulty
#   --wrk-threads=1 --wrk-connections=64 --wrk-requests=200000 --pg-url=… --node-jvm="-XX:+UseParallelGC"
# (benchmarks/README.md lists them all.)
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
started=$(date +%s)

install_missing "for the database ceiling" postgresql-client pgbench psql
install_missing "for the max-rate runs" wrk wrk

build_node_and_harness

status=0
java -Xmx2g -cp benchmarks/target/scairelay-bench.jar com.scairelay.bench.Bench --repo=. "$@" || status=$?
elapsed=$(( $(date +%s) - started ))
printf 'run.sh elapsed: %d min %02d s (build included)\n' $((elapsed / 60)) $((elapsed % 60))
exit $status
