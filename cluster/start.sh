#!/usr/bin/env bash
# Usage: cluster/start.sh [N]
#
# Starts a local ScaiRelay cluster of N nodes (default 3) on 127.0.0.1 and waits until every node is
# ready and sees N members. State, logs and secrets are kept in cluster/.run/ (see cluster/README.md).
#
#   node i:   HTTP on port CLUSTER_HTTP_BASE+i-1 (8081, 8082, ...), Hazelcast on CLUSTER_HZ_BASE+i-1
#             (5701, 5702, ...), data in cluster/.run/node<i>, output in cluster/.run/node<i>.log
#   database: RELAY_PG_URL if set, otherwise a PostgreSQL started here (java -jar scairelay.jar postgres)
#             on port CLUSTER_PG_PORT (15432), data in cluster/.run/pg-data
#
# Environment (all optional):
#   CLUSTER_HTTP_BASE (8081)  CLUSTER_HZ_BASE (5701)  CLUSTER_PG_PORT (15432)
#   CLUSTER_JAVA_OPTS (-Xmx512m)     JVM options of each node
#   CLUSTER_WAIT_SECONDS (90)        how long to wait for the nodes to be ready
#   RELAY_PG_URL                     use this PostgreSQL instead of starting one
#   RELAY_CLUSTER_NAME (scairelay-local)
#   RELAY_OUTBOUND_ALLOW_LOOPBACK (true)  nodes may deliver to endpoints on 127.0.0.1
# Other RELAY_* variables reach the nodes as they are.
#
# Refuses to start if a node or the PostgreSQL of cluster/.run is still running.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

help_requested "$@"
[[ $# -le 1 ]] || die "usage: cluster/start.sh [N]   (--help for more)"
CLUSTER_NODES=${1:-3}
[[ $CLUSTER_NODES =~ ^[1-9][0-9]*$ ]] || die "N must be a number of nodes (1 or more), not '$CLUSTER_NODES'"

CLUSTER_HTTP_BASE=${CLUSTER_HTTP_BASE:-8081}
CLUSTER_HZ_BASE=${CLUSTER_HZ_BASE:-5701}
CLUSTER_PG_PORT=${CLUSTER_PG_PORT:-15432}
CLUSTER_JAVA_OPTS=${CLUSTER_JAVA_OPTS:--Xmx512m}
CLUSTER_WAIT_SECONDS=${CLUSTER_WAIT_SECONDS:-90}
CLUSTER_NAME=${RELAY_CLUSTER_NAME:-scairelay-local}
CLUSTER_ALLOW_LOOPBACK=${RELAY_OUTBOUND_ALLOW_LOOPBACK:-true}
for var in CLUSTER_HTTP_BASE CLUSTER_HZ_BASE CLUSTER_PG_PORT CLUSTER_WAIT_SECONDS; do
  [[ ${!var} =~ ^[0-9]+$ ]] || die "$var must be a number, not '${!var}'"
done
((CLUSTER_HTTP_BASE + CLUSTER_NODES - 1 <= 65535 && CLUSTER_HZ_BASE + CLUSTER_NODES - 1 <= 65535)) ||
  die "the ports of $CLUSTER_NODES nodes do not fit below 65536"

command -v java >/dev/null 2>&1 || die "java (17 or later) is not on the PATH"
command -v curl >/dev/null 2>&1 || die "curl is not on the PATH"
require_json_tool

mkdir -p "$RUN_DIR"

# --- Nothing of an earlier cluster may still run ---------------------------------------------------
running=$(running_nodes | tr '\n' ' ')
pg_pid=$(running_pid "$RUN_DIR/postgres.pid" || true)
if [[ -n $running || -n $pg_pid ]]; then
  echo "start.sh: a cluster from $RUN_DIR is already running:" >&2
  [[ -z $running ]] || echo "  node(s) ${running% }" >&2
  [[ -z $pg_pid ]] || echo "  its PostgreSQL (pid $pg_pid)" >&2
  echo "cluster/members.sh shows it, cluster/stop.sh stops it, cluster/start-node.sh <i> restarts a stopped node." >&2
  exit 1
fi

for ((i = 1; i <= CLUSTER_NODES; i++)); do
  for port in "$(node_http_port "$i")" "$(node_hz_port "$i")"; do
    ! port_in_use "$port" || die "port $port (node $i) is in use by another program; choose other ports with CLUSTER_HTTP_BASE / CLUSTER_HZ_BASE"
  done
done

# --- The jar ---------------------------------------------------------------------------------------
if [[ ! -f $JAR ]]; then
  echo "Building $JAR (mvn -q package -DskipTests) ..."
  command -v mvn >/dev/null 2>&1 || die "$JAR is missing and mvn is not on the PATH to build it"
  (cd "$ROOT_DIR" && mvn -q package -DskipTests)
  [[ -f $JAR ]] || die "the build did not produce $JAR"
fi

# --- Credentials, made once (mode 600: umask 077 in lib.sh) ----------------------------------------
if [[ ! -s $RUN_DIR/admin.token ]]; then
  printf 'adm_%s\n' "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >"$RUN_DIR/admin.token.tmp"
  mv "$RUN_DIR/admin.token.tmp" "$RUN_DIR/admin.token"
  echo "Generated the admin token in $RUN_DIR/admin.token"
fi
if [[ ! -s $RUN_DIR/master.key ]]; then
  head -c 32 /dev/urandom | base64 | tr -d '\n' >"$RUN_DIR/master.key.tmp"
  echo >>"$RUN_DIR/master.key.tmp"
  mv "$RUN_DIR/master.key.tmp" "$RUN_DIR/master.key"
  echo "Generated the secrets master key in $RUN_DIR/master.key"
fi

# --- PostgreSQL --------------------------------------------------------------------------------------
if [[ -n ${RELAY_PG_URL:-} ]]; then
  CLUSTER_PG_URL=$RELAY_PG_URL
  CLUSTER_PG_STARTED=no
  echo "PostgreSQL: RELAY_PG_URL (not started here)"
else
  [[ $CLUSTER_PG_PORT -ge 1 && $CLUSTER_PG_PORT -le 65535 ]] || die "CLUSTER_PG_PORT must be a port, not '$CLUSTER_PG_PORT'"
  if port_in_use "$CLUSTER_PG_PORT"; then
    # A postmaster left on our data directory (its java process was SIGKILLed) is shut down by the jar.
    pgrep -f -- "-D ${RUN_DIR//./\\.}/pg-data/pg( |\$)" >/dev/null ||
      die "port $CLUSTER_PG_PORT (PostgreSQL) is in use; choose another with CLUSTER_PG_PORT"
    echo "A PostgreSQL left from an earlier run still holds $RUN_DIR/pg-data; it is shut down first."
  fi
  echo "Starting PostgreSQL on 127.0.0.1:$CLUSTER_PG_PORT (data in $RUN_DIR/pg-data) ..."
  pg_log=$RUN_DIR/postgres.log
  : >"$pg_log"
  RELAY_DATA_DIR=$RUN_DIR/pg-data RELAY_PG_EMBEDDED_PORT=$CLUSTER_PG_PORT \
    nohup java -Xmx128m -jar "$JAR" postgres </dev/null >>"$pg_log" 2>&1 &
  echo $! >"$RUN_DIR/postgres.pid"
  await_exec "$RUN_DIR/postgres.pid"
  line=""
  for ((t = 0; t < 120; t++)); do # 60 s
    line=$(grep -m1 '^PostgreSQL for ScaiRelay nodes: ' "$pg_log" || true)
    [[ -z $line ]] || break
    if ! running_pid "$RUN_DIR/postgres.pid" >/dev/null; then
      echo "start.sh: PostgreSQL exited while starting; $pg_log says:" >&2
      tail -n 20 "$pg_log" | sed 's/^/    /' >&2
      exit 1
    fi
    sleep 0.5
  done
  [[ -n $line ]] || die "PostgreSQL did not say it was ready within 60 s; see $pg_log (cluster/stop.sh stops it)"
  # "PostgreSQL for ScaiRelay nodes: postgresql://postgres@127.0.0.1:<port>/scairelay (password in <file>)"
  pg_url=${line#PostgreSQL for ScaiRelay nodes: }
  pg_url=${pg_url%% *}
  pw_file=${line##*(password in }
  pw_file=${pw_file%)}
  [[ -s $pw_file ]] || die "cannot read the PostgreSQL password from '$pw_file' (line: $line)"
  CLUSTER_PG_URL=postgresql://postgres:$(<"$pw_file")@${pg_url#postgresql://postgres@}
  CLUSTER_PG_STARTED=yes
  echo "PostgreSQL: $pg_url (password in $pw_file)"
fi

save_settings

# --- The nodes ---------------------------------------------------------------------------------------
# Node 1 first: it applies the schema and becomes the oldest Hazelcast member; then the others together.
began=$SECONDS
echo "Starting node 1 of $CLUSTER_NODES ($(node_url 1)) ..."
start_node 1
if ! wait_ready "$CLUSTER_WAIT_SECONDS" 1 1; then
  echo "start.sh: node 1 did not start; cluster/stop.sh stops what is left" >&2
  exit 1
fi
if ((CLUSTER_NODES > 1)); then
  echo "Starting nodes 2 to $CLUSTER_NODES ..."
  for ((i = 2; i <= CLUSTER_NODES; i++)); do
    start_node "$i"
  done
  # shellcheck disable=SC2046 # the node numbers, one word each
  if ! wait_ready $((CLUSTER_WAIT_SECONDS - (SECONDS - began))) "$CLUSTER_NODES" $(seq 1 "$CLUSTER_NODES"); then
    echo "start.sh: the cluster is not complete; the nodes still running are left as they are (cluster/members.sh," >&2
    echo "cluster/stop.sh)" >&2
    exit 1
  fi
fi

echo
echo "ScaiRelay cluster '$CLUSTER_NAME': $CLUSTER_NODES node(s) ready in $((SECONDS - began)) s"
for ((i = 1; i <= CLUSTER_NODES; i++)); do
  printf '  node %d  %s  (hazelcast %s:%d, pid %s, log %s)\n' "$i" "$(node_url "$i")" "$CLUSTER_HOST" \
    "$(node_hz_port "$i")" "$(node_pid "$i")" "$(node_log "$i")"
done
if [[ $CLUSTER_PG_STARTED == yes ]]; then
  echo "PostgreSQL: $pg_url (pid $(running_pid "$RUN_DIR/postgres.pid" || echo '?'), log $RUN_DIR/postgres.log)"
else
  echo "PostgreSQL: RELAY_PG_URL"
fi
echo "Admin token: in $RUN_DIR/admin.token (mode 600)"
echo "Try:"
echo "  curl -H \"Authorization: Bearer \$(cat '$RUN_DIR/admin.token')\" $(node_url 1)/v1/admin/cluster"
echo "  cluster/members.sh       cluster/kill.sh 2       cluster/start-node.sh 2       cluster/stop.sh"
