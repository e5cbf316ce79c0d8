#!/usr/bin/env bash
# Usage: cluster/members.sh [target_id]
#
# For each node of the cluster started by cluster/start.sh: its URL, pid, node id, readiness
# (GET /health/ready) and the members it sees (GET /v1/admin/cluster). Then the nodes' leases as
# PostgreSQL keeps them. With a target_id (a bridge or webhook subscription id), also which node owns
# that target by the members each node sees, and which holds it in PostgreSQL.
#
# Needs curl and jq, or python3 when jq is not installed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

help_requested "$@"
[[ $# -le 1 ]] || die "usage: cluster/members.sh [target_id]"
target=${1:-}

load_settings
require_json_tool
token=$(<"$RUN_DIR/admin.token")

# Reads the JSON of GET /v1/admin/cluster and prints tab-separated rows:
#   node_id <id> | member <id> <address> <self> | lease <id> <http_url> <lease_valid> <targets_held> <lease_expires_at>
#   | target <owner> <holder node id or -> <holder epoch or ->
cluster_rows() {
  if command -v jq >/dev/null 2>&1; then
    jq -r '
      ["node_id", .node_id],
      (.members[]? | ["member", .node_id, (.address // "-"), (.self | tostring)]),
      (.nodes[]? | ["lease", .node_id, (.http_url // "-"), (.lease_valid | tostring), (.targets_held // 0 | tostring),
                    (.lease_expires_at // "-")]),
      (if has("target") then ["target", (.target.owner // "-"), (.target.holder.node_id // "-"),
                              (.target.holder.epoch // "-" | tostring)] else empty end)
      | map(tostring) | @tsv'
  else
    python3 -c '
import json, sys
d = json.load(sys.stdin)
def row(*cells):
    print("\t".join("-" if c is None else (json.dumps(c) if isinstance(c, bool) else str(c)) for c in cells))
row("node_id", d.get("node_id"))
for m in d.get("members") or []:
    row("member", m.get("node_id"), m.get("address"), bool(m.get("self")))
for n in d.get("nodes") or []:
    row("lease", n.get("node_id"), n.get("http_url"), bool(n.get("lease_valid")), n.get("targets_held", 0), n.get("lease_expires_at"))
if "target" in d:
    t = d["target"]
    h = t.get("holder") or {}
    row("target", t.get("owner"), h.get("node_id"), h.get("epoch"))
'
  fi
}

# port_label HOST:PORT BASE: "node <i>" when it is 127.0.0.1 and port BASE+i-1 of this cluster, else "?".
port_label() {
  local hostport=${1#http://} port
  port=${hostport##*:}
  if [[ ${hostport%:*} == "$CLUSTER_HOST" && $port =~ ^[0-9]+$ ]] && ((port >= $2 && port < $2 + CLUSTER_NODES)); then
    echo "node $((port - $2 + 1))"
  else
    echo "?"
  fi
}

# The "node <i>" of a node id, by the members in ROWS.
id_label() {
  local address
  address=$(awk -F'\t' -v id="$1" '$1 == "member" && $2 == id { print $3 }' <<<"$2")
  if [[ -n $address ]]; then port_label "$address" "$CLUSTER_HZ_BASE"; else echo "not a member"; fi
}

leases=""
for ((i = 1; i <= CLUSTER_NODES; i++)); do
  url=$(node_url "$i")
  if ! pid=$(node_pid "$i"); then
    echo "node $i  $url  not running"
    continue
  fi
  IFS="|" read -r code status _ <<<"$(node_health "$i")"
  if [[ $code == 000 ]]; then
    echo "node $i  $url  pid $pid  not answering (starting or stopping?)"
    continue
  fi
  args=(-s -m 3 -H "Authorization: Bearer $token" "$url/v1/admin/cluster")
  [[ -z $target ]] || args+=(--get --data-urlencode "target_id=$target")
  body=$(curl "${args[@]}" -w '\n%{http_code}' 2>/dev/null) || true
  admin_code=${body##*$'\n'}
  body=${body%$'\n'*}
  if [[ $admin_code != 200 ]]; then
    echo "node $i  $url  pid $pid  ready: $code ${status:-?}  (GET /v1/admin/cluster answered $admin_code: ${body:0:200})"
    continue
  fi
  rows=$(cluster_rows <<<"$body")
  node_id=$(awk -F'\t' '$1 == "node_id" { print $2 }' <<<"$rows")
  readiness=$([[ $code == 200 ]] && echo "ready" || echo "NOT ready ($code, status ${status:-?})")
  echo "node $i  $url  pid $pid  node id $node_id  $readiness"
  count=$(awk -F'\t' '$1 == "member"' <<<"$rows" | wc -l | tr -d ' ')
  echo "  sees $count member(s):"
  while IFS=$'\t' read -r kind id address self; do
    [[ $kind == member ]] || continue
    mark=""
    [[ $self != true ]] || mark=", self"
    printf '    %-38s %-16s %s%s\n' "$id" "$address" "$(port_label "$address" "$CLUSTER_HZ_BASE")" "$mark"
  done <<<"$rows"
  if [[ -n $target ]]; then
    while IFS=$'\t' read -r kind owner holder epoch; do
      [[ $kind == target ]] || continue
      if [[ $holder == - ]]; then
        holder_text="no holder in PostgreSQL"
      else
        holder_text="held by $holder ($(id_label "$holder" "$rows"), epoch $epoch)"
      fi
      echo "  target $target: owner $owner ($(id_label "$owner" "$rows")), $holder_text"
    done <<<"$rows"
  fi
  [[ -n $leases ]] || leases=$(awk -F'\t' '$1 == "lease"' <<<"$rows")
done

if [[ -n $leases ]]; then
  echo "node leases in PostgreSQL (relay_nodes):"
  while IFS=$'\t' read -r _ id http_url valid held expires; do
    state="valid until"
    [[ $valid == true ]] || state="expired at "
    printf '  %-38s %-22s %-9s lease %s %s, targets held %s\n' "$id" "$http_url" \
      "($(port_label "$http_url" "$CLUSTER_HTTP_BASE"))" "$state" "$expires" "$held"
  done <<<"$leases"
fi
