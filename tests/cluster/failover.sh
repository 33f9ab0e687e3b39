#!/usr/bin/env bash
# Failover under load (issue 17): a client that, like a browser with
# round-robin DNS, tries the next node when one fails keeps answering a
# problem (every answer with an Idempotency-Key) and reading the course while
#   (a) one Lectern node is killed and started again,
#   (b) the primary's node dies (Patroni and PostgreSQL SIGKILLed),
#   (c) the primary's node is cut off, and healed some 35 s later.
# During (c) a client inside each node's namespace also writes to that
# node's own Lectern and straight to its own PostgreSQL, so the cut-off old
# primary gets every chance to acknowledge a write a split brain would lose.
# 30 s after the heal, failover_check.py checks that every acknowledged
# answer and SQL write is there once, that attempts add up and that no read
# failed, and prints the longest time without an acknowledged answer per fault.
#
#   tests/cluster/failover.sh   (root; CLUSTER_ID, CLUSTER_DIR, LECTERN_BIN as for
#                                scripts/cluster.sh; FAILOVER_KEEP=1 keeps a failed
#                                cluster and the client's records for a look)
set -euo pipefail
cd "$(dirname "$0")/../.."

export CLUSTER_ID=${CLUSTER_ID:-0}
export CLUSTER_DIR=${CLUSTER_DIR:-/tmp/lectern-cluster}
cluster=scripts/cluster.sh
bin=$(realpath "${LECTERN_BIN:-target/debug/lectern}")
# cluster.sh remembers the binary at `up`; the binary itself refuses
# LECTERN_ variables it does not know, so this one goes.
unset LECTERN_BIN
here=tests/cluster
suite_start=$(date +%s)
state=$(mktemp -d /tmp/lectern-failover.XXXXXX)
chmod 755 "$state"
client_pids=()

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '[%3ss] %s\n' "$(( $(date +%s) - suite_start ))" "$*"; }
cleanup() {
  local rc=$? pid
  touch "$state/stop"
  for pid in "${client_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${client_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$rc" != 0 ] && [ -n "${FAILOVER_KEEP:-}" ]; then
    echo "cluster and records left for a look: $state; remove with: CLUSTER_ID=$CLUSTER_ID CLUSTER_DIR=$CLUSTER_DIR $cluster down" >&2
  else
    "$cluster" down >/dev/null 2>&1 || echo "cluster down failed" >&2
    rm -rf "$state"
  fi
}
trap cleanup EXIT

# One line of phases.jsonl: mark PHASE EVENT [NODE WHAT [TIME]], EVENT one of
# start (the fault), recover (its repair begins), end; TIME defaults to now.
mark() {
  printf '{"phase":"%s","event":"%s","t":%s,"node":"%s","what":"%s"}\n' \
    "$1" "$2" "${5:-$(date +%s.%N)}" "${3:-}" "${4:-}" >>"$state/phases.jsonl"
}
primary() { "$cluster" status 2>/dev/null | awk '$1 == "primary" {print $2}'; }
primary_is_not() { local p; p=$(primary); [ -n "$p" ] && [ "$p" != none ] && [ "$p" != "$1" ]; }
# Polls COMMAND until it succeeds; fails after LIMIT s.
until_ok() {
  local limit=$1 what=$2 start; shift 2
  start=$(date +%s%N)
  until "$@"; do
    [ $(( ($(date +%s%N) - start) / 1000000000 )) -lt "$limit" ] || fail "$what: not within ${limit}s"
    sleep 0.5
  done
  note "$what after $(( ($(date +%s%N) - start) / 1000000 )) ms"
}

# --- the cluster, a course, learners -------------------------------------------
[ "$(id -u)" = 0 ] || fail "run as root (scripts/cluster.sh needs network namespaces)"
"$cluster" down >/dev/null 2>&1 || true
out=$(LECTERN_BIN=$bin "$cluster" up) || fail "cluster.sh up failed"
url() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k {print $2}'; }
nodes="$(url node1),$(url node2),$(url node3)"
db=$(url database)
note "cluster up: $nodes"

# A one-problem course: a numerical answer (3.14 within 0.01), no attempt limit.
course=$state/course
mkdir -p "$course/course" "$course/policies/R"
echo '<course url_name="R" org="Failover" course="F1"/>' >"$course/course.xml"
cat >"$course/course/R.xml" <<'EOF'
<course display_name="Failover drill"><chapter url_name="c1" display_name="Week 1"><sequential url_name="s1" display_name="Drill"><vertical url_name="u1" display_name="Unit one"><problem url_name="pi" display_name="Pi to two places"><numericalresponse answer="3.14"><label>Pi to two places</label><responseparam type="tolerance" default="0.01"/><formulaequationinput/></numericalresponse></problem></vertical></sequential></chapter></course>
EOF
echo '{"course/R": {}}' >"$course/policies/R/policy.json"
echo '{"GRADER": [], "GRADE_CUTOFFS": {"Pass": 0.5}}' >"$course/policies/R/grading_policy.json"
printf 'an administrator password for the drill\n' >"$state/admin-password"
cli() { env LECTERN_DATABASE_URL="$db" "$bin" --data "$state/cli" "$@" >>"$state/cli.log" 2>&1; }
cli user create --admin --username drill-admin --email drill-admin@example.org \
  --password-file "$state/admin-password" || { cat "$state/cli.log"; fail "lectern user create"; }
cli import --owner drill-admin "$course" || { cat "$state/cli.log"; fail "lectern import"; }
python3 "$here/failover_client.py" setup --nodes "$nodes" --state "$state" --db "$db" --learners 4

# --- load, and the faults one after the other ---------------------------------------
python3 "$here/failover_client.py" load --nodes "$nodes" --state "$state" --db "$db" \
  >"$state/load.log" 2>&1 &
client_pids+=($!)
note "load running (4 learners answering, 2 readers, SQL probes)"
sleep 5

# (a) one Lectern node killed, then started again.
victim=${FAILOVER_KILL_NODE:-2}
mark a start "node$victim" "one Lectern node killed (node$victim)"
"$cluster" kill-node "$victim"
sleep 10
mark a recover
"$cluster" start-node "$victim"
sleep 3
mark a end
note "(a) node$victim's Lectern killed for 10 s and started again"

# (b) the primary's node dies; the old primary comes back as a replica.
t=$(date +%s.%N)
old=$("$cluster" kill-primary)
mark b start "$old" "the primary's node dies ($old)" "$t"
note "(b) killed the primary ($old)"
until_ok 60 "a new primary" primary_is_not "$old"
sleep 5
mark b recover
"$cluster" start-all
mark b end
note "(b) start-all: $old back"
sleep 5

# (c) the primary's node is cut off, then healed. A client inside every
# namespace writes to that node's Lectern and PostgreSQL throughout.
for n in 1 2 3; do
  ip netns exec "lc$CLUSTER_ID-n$n" python3 "$here/failover_client.py" isolated --node "$(url "node$n")" \
    --name "node$n" --state "$state" --db "$db" >"$state/isolated-node$n.log" 2>&1 &
  client_pids+=($!)
done
# Cut only once every one of them has had an answer and the primary's one an
# SQL write acknowledged (starting takes seconds on a busy machine).
isolated_writing() {
  python3 - "$state" <<'PY'
import glob, json, sys
recs = [json.load(open(f)) for f in glob.glob(sys.argv[1] + "/isolated-node*.json")]
ok = len(recs) == 3 and all(r["acks"] for r in recs) and any(r["sql_acks"] for r in recs)
sys.exit(0 if ok else 1)
PY
}
until_ok 45 "a client in every namespace writing" isolated_writing
t=$(date +%s.%N)
cut=$("$cluster" partition-primary)
mark c start "$cut" "the primary's node cut off ($cut) and healed" "$t"
mark c down
note "(c) cut off the primary ($cut)"
until_ok 60 "a new primary" primary_is_not "$cut"
sleep 10
mark c recover
"$cluster" heal-all
heal=$(date +%s)
note "(c) healed"
"$cluster" start-all
mark c end
# CLUSTER-NOTES: a split brain shows a few seconds after the heal; check 30 s on.
while [ "$(date +%s)" -lt $((heal + 30)) ]; do sleep 1; done
touch "$state/stop"
for pid in "${client_pids[@]}"; do wait "$pid" || fail "a client exited with an error (see $state/*.log)"; done
client_pids=()
note "clients stopped 30 s after the heal; checking"
"$cluster" status

# --- the promises --------------------------------------------------------------
python3 "$here/failover_check.py" --nodes "$nodes" --state "$state" --db "$db" \
  || fail "failover check (records in $state)"
note "failover test passed"
