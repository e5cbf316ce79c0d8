#!/usr/bin/env bash
# Usage: cluster/kill.sh i
#
# Sends SIGKILL to node i of the cluster started by cluster/start.sh: no draining, no goodbye to
# the others, its lease in PostgreSQL left to expire. For trying failover; watch it with
# cluster/members.sh, bring the node back with cluster/start-node.sh i.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

help_requested "$@"
[[ $# -eq 1 && $1 =~ ^[1-9][0-9]*$ ]] || die "usage: cluster/kill.sh i   (i: the node number, 1, 2, ...)"
i=$1
pid=$(node_pid "$i") || die "node $i is not running"
kill -KILL "$pid"
for ((t = 0; t < 50; t++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
! kill -0 "$pid" 2>/dev/null || die "node $i (pid $pid) is still there 5 s after SIGKILL"
rm -f "$(node_pid_file "$i")"
echo "node $i (pid $pid) killed with SIGKILL"
echo "The others drop it once its heartbeats stop (cluster.failure_timeout_seconds, 5 s by default):"
echo "cluster/members.sh shows it; cluster/start-node.sh $i starts it again."
