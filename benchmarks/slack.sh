#!/usr/bin/env bash
# Slack pacing with one command (issue 13): builds the node and the harness, starts a node in dev mode (its own
# embedded PostgreSQL in benchmarks/work/slack-<date>/), plays a Slack-like Web API on loopback that refuses any
# post to a channel sooner than the pace after the previous one, posts one busy room's messages faster than Slack
# takes them, and writes benchmarks/results/<date>-slack/ (results.md, results.json). About 1 min to send, then
# the backlog drains at Slack's pace. Flags: --messages=240 --rate=8 --burst=4 --senders=3 --pace-ms=1000
# --drain-seconds=240.
set -euo pipefail
cd "$(dirname "$0")/.."
source benchmarks/lib.sh
build_node_and_harness
stamp=$(date -u +%Y-%m-%dT%H%MZ)
# Bounded: every wait of the harness is bounded; this is the last resort.
timeout --signal=TERM --kill-after=30 900 \
  java -Xmx512m -cp benchmarks/target/scairelay-bench.jar com.scairelay.bench.SlackBench --repo=. --stamp="$stamp" "$@"
