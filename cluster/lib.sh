# shellcheck shell=bash
# cluster/lib.sh: code shared by the cluster scripts (start.sh, start-node.sh, stop.sh, kill.sh,
# members.sh). It is sourced by them, not run:  . "$(dirname "$0")/lib.sh"
#
# Everything a local cluster keeps is in cluster/.run/ (private to the user, umask 077):
#   admin.token, master.key    generated once by start.sh, reused by every later start
#   cluster.env                the settings of the last start.sh (node count, ports, PostgreSQL URL),
#                              read by start-node.sh, members.sh and stop.sh
#   postgres.pid, postgres.log the PostgreSQL started by start.sh (none when RELAY_PG_URL was given)
#   pg-data/                   its data directory (pg.password in it)
#   node<i>/, node<i>.log, node<i>.pid   node i's data directory, output and process id

CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT_DIR=$(dirname "$CLUSTER_DIR")
RUN_DIR=$CLUSTER_DIR/.run
JAR=$ROOT_DIR/target/scairelay.jar
SETTINGS_FILE=$RUN_DIR/cluster.env
CLUSTER_HOST=127.0.0.1

umask 077

# Prints the comment at the top of the running script (its usage), without the "# ".
print_usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

# -h or --help as the first argument: the usage, then exit.
help_requested() {
  case "${1:-}" in
    -h | --help)
      print_usage
      exit 0
      ;;
  esac
}

die() {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# The pid in a pid file if that process is alive and runs this checkout's jar; nothing (status 1)
# otherwise, so a stale pid file, or a pid reused by another program, is never signalled.
running_pid() {
  local file=$1 pid args
  [[ -f $file ]] || return 1
  pid=$(<"$file")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  args=$(ps -o args= -p "$pid" 2>/dev/null) || return 1
  [[ $args == *"-jar $JAR "* ]] || return 1
  echo "$pid"
}

# After "nohup java ... &" and writing $! to PIDFILE: waits (at most 5 s) until that process has become
# java (before its exec it is still a copy of this shell, which running_pid does not recognise) or has
# exited, so that the checks that follow see either a node or a dead process.
await_exec() {
  local pid t
  pid=$(<"$1")
  for ((t = 0; t < 50; t++)); do
    running_pid "$1" >/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
}

node_pid_file() { echo "$RUN_DIR/node$1.pid"; }
node_log() { echo "$RUN_DIR/node$1.log"; }
node_http_port() { echo $((CLUSTER_HTTP_BASE + $1 - 1)); }
node_hz_port() { echo $((CLUSTER_HZ_BASE + $1 - 1)); }
node_url() { echo "http://$CLUSTER_HOST:$(node_http_port "$1")"; }
node_pid() { running_pid "$(node_pid_file "$1")"; }

# host:port of the Hazelcast side of nodes 1..CLUSTER_NODES, comma-separated.
member_list() {
  local i list=""
  for ((i = 1; i <= CLUSTER_NODES; i++)); do
    list+="${list:+,}$CLUSTER_HOST:$(node_hz_port "$i")"
  done
  echo "$list"
}

# Numbers of the nodes that have a pid file in cluster/.run (running or not), in order.
known_nodes() {
  local f n
  for f in "$RUN_DIR"/node*.pid; do
    [[ -e $f ]] || continue
    n=${f##*/node}
    n=${n%.pid}
    [[ $n =~ ^[0-9]+$ ]] && echo "$n"
  done | sort -n
}

# Numbers of the nodes whose process is alive.
running_nodes() {
  local n
  for n in $(known_nodes); do
    node_pid "$n" >/dev/null && echo "$n"
  done
  return 0
}

# Variables a script sets for save_settings look unused to shellcheck.
# shellcheck disable=SC2034
save_settings() {
  {
    echo "# Written by cluster/start.sh on $(date '+%Y-%m-%d %H:%M:%S'); read by start-node.sh, members.sh, stop.sh."
    local var
    for var in CLUSTER_NODES CLUSTER_HTTP_BASE CLUSTER_HZ_BASE CLUSTER_NAME CLUSTER_JAVA_OPTS \
      CLUSTER_ALLOW_LOOPBACK CLUSTER_PG_URL CLUSTER_PG_STARTED; do
      printf '%s=%q\n' "$var" "${!var}"
    done
  } >"$SETTINGS_FILE.tmp"
  mv "$SETTINGS_FILE.tmp" "$SETTINGS_FILE"
}

load_settings() {
  [[ -f $SETTINGS_FILE ]] || die "no cluster has been started from $RUN_DIR (no cluster.env); run cluster/start.sh first"
  # shellcheck source=/dev/null
  . "$SETTINGS_FILE"
}

# Reads JSON on stdin and prints the value at a dotted path of object keys (cluster.members); nothing
# when it is absent, null, or the input is not JSON. Strings come out raw, anything else as JSON.
json_get() {
  if command -v jq >/dev/null 2>&1; then
    jq -r --arg p "$1" 'getpath($p | split(".")) | if . == null then empty else . end' 2>/dev/null || true
  else
    python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError:
    sys.exit(0)
for k in sys.argv[1].split("."):
    d = d.get(k) if isinstance(d, dict) else None
if d is not None:
    print(d if isinstance(d, str) else json.dumps(d))
' "$1"
  fi
}

require_json_tool() {
  command -v jq >/dev/null 2>&1 || command -v python3 >/dev/null 2>&1 ||
    die "needs jq or python3 to read the nodes' JSON answers"
}

# Prints "<http status>|<readiness status>|<members>" of node i's GET /health/ready ("000||" when it
# does not answer).
node_health() {
  local out code body
  out=$(curl -s -m 2 -w '\n%{http_code}' "$(node_url "$1")/health/ready" 2>/dev/null) || true
  code=${out##*$'\n'}
  body=${out%$'\n'*}
  [[ -n $code && $code != 000 ]] || {
    echo "000||"
    return
  }
  echo "$code|$(json_get status <<<"$body")|$(json_get cluster.members <<<"$body")"
}

# The lines node i's log got since it was last started.
last_start_log() {
  awk '/^=== .* cluster scripts: starting node / { n = 0 } { line[n++] = $0 } END { for (i = 0; i < n; i++) print line[i] }' \
    "$(node_log "$1")"
}

# Starts node i in the background with the settings loaded (load_settings or start.sh) and writes its
# pid file. Output is appended to node<i>.log, after a line that says when and how it was started.
start_node() {
  local i=$1 log admin_token master_key java_opts
  log=$(node_log "$i")
  admin_token=$(<"$RUN_DIR/admin.token")
  master_key=$(<"$RUN_DIR/master.key")
  read -r -a java_opts <<<"$CLUSTER_JAVA_OPTS"
  mkdir -p "$RUN_DIR/node$i"
  echo "=== $(date '+%Y-%m-%d %H:%M:%S') cluster scripts: starting node $i (http $(node_http_port "$i"), hazelcast $(node_hz_port "$i"))" >>"$log"
  RELAY_PG_URL=$CLUSTER_PG_URL \
    RELAY_HTTP_PORT=$(node_http_port "$i") \
    RELAY_ADMIN_TOKEN=$admin_token \
    RELAY_SECRETS_MASTER_KEY=$master_key \
    RELAY_CLUSTER_NAME=$CLUSTER_NAME \
    RELAY_CLUSTER_HOST=$CLUSTER_HOST \
    RELAY_CLUSTER_PORT=$(node_hz_port "$i") \
    RELAY_CLUSTER_MEMBERS=$(member_list) \
    RELAY_DATA_DIR=$RUN_DIR/node$i \
    RELAY_OUTBOUND_ALLOW_LOOPBACK=$CLUSTER_ALLOW_LOOPBACK \
    nohup java "${java_opts[@]}" -jar "$JAR" run --cluster </dev/null >>"$log" 2>&1 &
  echo $! >"$(node_pid_file "$i")"
  await_exec "$(node_pid_file "$i")"
}

# wait_ready SECONDS MEMBERS NODE...: waits, at most SECONDS, until every NODE answers /health/ready
# with 200 and sees MEMBERS members, showing one progress line. Fails at once, with the end of its log,
# if a node's process exits.
wait_ready() {
  local timeout=$1 want=$2 start now i code status members line ready progress tty=false
  shift 2
  [[ -t 1 ]] && tty=true
  start=$SECONDS
  while true; do
    ready=0
    progress=""
    for i in "$@"; do
      if ! node_pid "$i" >/dev/null; then
        if $tty; then echo; fi
        echo "node $i exited while starting; the end of $(node_log "$i"):" >&2
        last_start_log "$i" | tail -n 20 | sed 's/^/    /' >&2
        return 1
      fi
      IFS='|' read -r code status members <<<"$(node_health "$i")"
      if [[ $code == 200 && $members == "$want" ]]; then
        ready=$((ready + 1))
        progress+=" node$i:ready"
      elif [[ $code == 000 ]]; then
        progress+=" node$i:starting"
      else
        progress+=" node$i:${status:-$code}(${members:-?} members)"
      fi
    done
    now=$((SECONDS - start))
    line="waiting for $# node(s) to be ready and see $want member(s), ${now}s:$progress"
    if $tty; then
      printf '\r%-120s' "$line"
    elif ((now % 10 == 0 || ready == $#)); then
      echo "$line"
    fi
    if ((ready == $#)); then
      if $tty; then echo; fi
      return 0
    fi
    if ((now >= timeout)); then
      if $tty; then echo; fi
      echo "not ready after ${timeout}s; see the logs in $RUN_DIR/node<i>.log" >&2
      return 1
    fi
    sleep 1
  done
}

# Whether something listens on 127.0.0.1:PORT.
port_in_use() {
  (exec 3<>"/dev/tcp/$CLUSTER_HOST/$1") 2>/dev/null
}

# Sends SIGTERM to the given pids and waits for them to exit, at most $1 seconds; SIGKILLs, with a
# message, any still alive after that. $2 names what is stopped, for the messages.
terminate() {
  local timeout=$1 what=$2 pid deadline alive t left
  shift 2
  [[ $# -gt 0 ]] || return 0
  kill -TERM "$@" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while true; do
    alive=()
    for pid in "$@"; do
      if kill -0 "$pid" 2>/dev/null; then alive+=("$pid"); fi
    done
    ((${#alive[@]} > 0)) || return 0
    if ((SECONDS >= deadline)); then
      echo "$what: still running ${timeout}s after SIGTERM (pid ${alive[*]}); sending SIGKILL" >&2
      kill -KILL "${alive[@]}" 2>/dev/null || true
      for ((t = 0; t < 50; t++)); do # wait (5 s at most) until they are gone and their ports free
        left=0
        for pid in "${alive[@]}"; do
          if kill -0 "$pid" 2>/dev/null; then left=$((left + 1)); fi
        done
        ((left > 0)) || return 0
        sleep 0.1
      done
      return 0
    fi
    sleep 0.5
  done
}
