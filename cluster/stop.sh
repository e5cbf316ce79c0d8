#!/usr/bin/env bash
# Usage: cluster/stop.sh [i]
#
# Stops node i of the cluster started by cluster/start.sh, or, without an argument, every node and
# then the PostgreSQL start.sh started (a PostgreSQL given by RELAY_PG_URL is left alone). Each gets
# SIGTERM (a node drains and leaves the cluster); what is still running after the bound gets SIGKILL,
# with a message.
#
# Environment: CLUSTER_STOP_SECONDS (60)  how long to wait after SIGTERM before SIGKILL
set -euo pipefail
. "$(dirname "$0")/lib.sh"

help_requested "$@"
[[ $# -le 1 ]] || die "usage: cluster/stop.sh [i]"
timeout=${CLUSTER_STOP_SECONDS:-60}
[[ $timeout =~ ^[0-9]+$ ]] || die "CLUSTER_STOP_SECONDS must be a number of seconds, not '$timeout'"

if [[ $# -eq 1 ]]; then
  i=$1
  [[ $i =~ ^[1-9][0-9]*$ ]] || die "i must be a node number (1, 2, ...), not '$i'"
  if ! pid=$(node_pid "$i"); then
    echo "node $i is not running"
    rm -f "$(node_pid_file "$i")"
    exit 0
  fi
  echo "Stopping node $i (pid $pid) ..."
  began=$SECONDS
  terminate "$timeout" "node $i" "$pid"
  rm -f "$(node_pid_file "$i")"
  echo "node $i stopped in $((SECONDS - began)) s (PostgreSQL and the other nodes are left running)"
  exit 0
fi

nodes=()
pids=()
for n in $(known_nodes); do
  if pid=$(node_pid "$n"); then
    nodes+=("$n")
    pids+=("$pid")
  else
    rm -f "$(node_pid_file "$n")"
  fi
done
if [[ ${#pids[@]} -gt 0 ]]; then
  echo "Stopping node(s) ${nodes[*]} (pid ${pids[*]}) ..."
  began=$SECONDS
  terminate "$timeout" "node(s) ${nodes[*]}" "${pids[@]}"
  for n in "${nodes[@]}"; do rm -f "$(node_pid_file "$n")"; done
  echo "node(s) stopped in $((SECONDS - began)) s"
else
  echo "no node is running"
fi

if pg_pid=$(running_pid "$RUN_DIR/postgres.pid"); then
  echo "Stopping PostgreSQL (pid $pg_pid) ..."
  terminate "$timeout" "PostgreSQL" "$pg_pid"
  echo "PostgreSQL stopped (its data stays in $RUN_DIR/pg-data)"
elif [[ -f $SETTINGS_FILE ]] && grep -q '^CLUSTER_PG_STARTED=no$' "$SETTINGS_FILE"; then
  echo "PostgreSQL: given by RELAY_PG_URL, not started here; left running"
fi
rm -f "$RUN_DIR/postgres.pid"
