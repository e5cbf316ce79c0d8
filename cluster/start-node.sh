#!/usr/bin/env bash
# Usage: cluster/start-node.sh i
#
# Starts node i of the cluster started by cluster/start.sh again, after cluster/stop.sh i or
# cluster/kill.sh i, with the same settings (cluster/.run/cluster.env), and waits until it is ready
# and sees as many members as there are running nodes.
#
# Environment: CLUSTER_WAIT_SECONDS (90)  how long to wait for the node to be ready
set -euo pipefail
. "$(dirname "$0")/lib.sh"

help_requested "$@"
[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ ]] || die "usage: cluster/start-node.sh i   (i: the node number, 1, 2, ...)"
i=$1
wait_seconds=${CLUSTER_WAIT_SECONDS:-90}
[[ $wait_seconds =~ ^[0-9]+$ ]] || die "CLUSTER_WAIT_SECONDS must be a number of seconds, not '$wait_seconds'"
load_settings
require_json_tool
((i <= CLUSTER_NODES)) || die "the cluster in $RUN_DIR has nodes 1 to $CLUSTER_NODES (cluster/start.sh $i makes a larger one)"
if pid=$(node_pid "$i"); then
  die "node $i is already running (pid $pid)"
fi
[[ -f $JAR ]] || die "$JAR is missing; build it with mvn -q package -DskipTests"
if [[ $CLUSTER_PG_STARTED == yes ]] && ! running_pid "$RUN_DIR/postgres.pid" >/dev/null; then
  die "the PostgreSQL of $RUN_DIR is not running; cluster/stop.sh, then cluster/start.sh, starts everything again"
fi
for port in "$(node_http_port "$i")" "$(node_hz_port "$i")"; do
  ! port_in_use "$port" || die "port $port of node $i is in use by another program"
done

echo "Starting node $i ($(node_url "$i"), hazelcast $CLUSTER_HOST:$(node_hz_port "$i")) ..."
start_node "$i"
running=$(running_nodes | wc -l | tr -d ' ')
began=$SECONDS
if ! wait_ready "$wait_seconds" "$running" "$i"; then
  echo "start-node.sh: node $i is not ready; cluster/stop.sh $i stops it" >&2
  exit 1
fi
echo "node $i ready in $((SECONDS - began)) s: $(node_url "$i") (pid $(node_pid "$i"), log $(node_log "$i"))"
