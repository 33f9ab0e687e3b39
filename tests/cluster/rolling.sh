#!/usr/bin/env bash
# Rolling update (issue 17): a cluster running the previous commit's binary
# (HEAD~1, built by tests/cluster/previous_binary.sh) has its three nodes
# replaced by this checkout's binary one at a time, as a deploy script would:
# node1 and node2 with a graceful stop (`cluster.sh stop-node`: SIGTERM,
# readiness off, drain), node3 with SIGKILL (a crash or an impatient
# deployer), each then started on the new binary. Meanwhile a client
# (roll_client.py) that tries the next node when one fails keeps checking
# answers with Idempotency-Key and reading pages through the node URLs.
#
# Passes when: no request failed on all three nodes; every node ended on
# the new binary; every acknowledged answer is in the submissions exactly
# once and no key was applied twice; each learner's attempts count equals
# their submissions (a retry never cost a second attempt).
#
#   tests/cluster/rolling.sh       (root; CLUSTER_ID, CLUSTER_DIR as for cluster.sh)
#   CLUSTER_SHARED=1 ...           use the running cluster (it must run HEAD~1's binary)
#   CLUSTER_KEEP=1 ...             leave a failed cluster up for a look
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/cluster/lib.sh
. tests/cluster/lib.sh

work=$(mktemp -d /tmp/lectern-rolling.XXXXXX)
client_pid=""
finish() {
  local rc=$?
  [ -n "$client_pid" ] && kill "$client_pid" 2>/dev/null
  rm -rf "$work"
  if [ -z "${CLUSTER_SHARED:-}" ]; then cluster_end "$rc"; fi
  exit "$rc"
}
trap finish EXIT

prev=$(tests/cluster/previous_binary.sh)
prev=$(realpath "$prev")
new=$(current_binary)
note "previous binary $prev; new binary $new"
if [ -z "${CLUSTER_SHARED:-}" ]; then
  echo "LECTERN_SHUTDOWN_DRAIN_SECS=3" >"$work/node.env"
  export CLUSTER_NODE_ENV_FILE="$work/node.env"
  LECTERN_BIN=$prev cluster_begin
  trap finish EXIT
else
  cluster_begin
fi
for n in 1 2 3; do
  [ "$(node_exe "$n")" = "$prev" ] || fail "node$n runs $(node_exe "$n"), not the previous binary $prev"
done
note "three nodes on the previous binary; migrations applied: $(sql 'SELECT max(version) FROM _sqlx_migrations')"

course="course-v1:OpenedX+DemoX+DemoCourse"
problem="block-v1:OpenedX+DemoX+DemoCourse+type@problem+block@870b16e640d541af94a308caac834d2e"
if [ "$(sql "SELECT count(*) FROM courses WHERE course_key = '$course'")" = 0 ]; then
  lectern_on_cluster "$prev" import tests/fixtures/olx/openedx-demo-course.tar.gz >"$work/import.log" 2>&1 \
    || { cat "$work/import.log" >&2; fail "importing the demo course into the cluster"; }
fi

prefix="roll$(date +%s)x"
python3 tests/cluster/roll_client.py --nodes "$node1,$node2,$node3" --course "$course" \
  --problem "$problem" --prefix "$prefix" --out "$work/client.json" --stop-file "$work/stop" &
client_pid=$!
for _ in $(seq 240); do
  [ -f "$work/client.json.ready" ] && break
  kill -0 "$client_pid" 2>/dev/null || fail "the client stopped during its setup"
  sleep 0.5
done
[ -f "$work/client.json.ready" ] || fail "the client was not ready within 120 s"
note "client running: 3 learners checking answers, 1 reading pages"
sleep 3

roll_start=$(date +%s)
for n in 1 2 3; do
  if [ "$n" = 3 ]; then
    "$cluster" kill-node "$n"
  else
    "$cluster" stop-node "$n"
  fi
  LECTERN_BIN=$new "$cluster" start-node "$n"
  for _ in $(seq 120); do [ "$(code "$(eval echo "\$node$n")/health/ready")" = 200 ] && break; sleep 0.5; done
  [ "$(node_exe "$n")" = "$new" ] || fail "node$n runs $(node_exe "$n") after its restart, not $new"
  note "node$n on the new binary"
  sleep 3
done
note "rolled three nodes in $(( $(date +%s) - roll_start ))s; migrations now: $(sql 'SELECT max(version) FROM _sqlx_migrations')"
sleep 2
touch "$work/stop"
client_status=0
wait "$client_pid" || client_status=$?
client_pid=""
[ "$client_status" = 0 ] || fail "the client saw a request fail on every node (above)"

# Every acknowledged answer once; nothing applied twice; attempts = submissions.
python3 - "$work/client.json" "$prefix" "$db" <<'PY' || fail "acknowledged answers lost or doubled"
import json, subprocess, sys
stats = json.load(open(sys.argv[1])); prefix, db = sys.argv[2], sys.argv[3]
def sql(q):
    out = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-F", " ", db, "-c", q],
                         check=True, capture_output=True, text=True).stdout
    return [line.split(" ") for line in out.splitlines() if line]
rows = sql(f"SELECT idempotency_key, count(*) FROM submissions WHERE idempotency_key LIKE '{prefix}-%' GROUP BY 1")
have = {k: int(c) for k, c in rows}
acked = stats["acknowledged"]
missing = [k for k in acked if k not in have]
doubled = {k: c for k, c in have.items() if c != 1}
print(f"{len(acked)} acknowledged checks; {len(have)} keyed submissions in the database")
attempts = sql("SELECT u.username, s.attempts, (SELECT count(*) FROM submissions x WHERE x.user_id = s.user_id "
               "AND x.usage_key = s.usage_key) FROM problem_states s JOIN users u ON u.id = s.user_id "
               f"WHERE u.username LIKE '{prefix}%'")
off = [r for r in attempts if r[1] != r[2]]
for what, bad in (("missing", missing), ("applied more than once", doubled), ("attempts != submissions", off)):
    if bad:
        print(what + ":", bad)
sys.exit(1 if missing or doubled or off or len(acked) < 10 else 0)
PY
note "rolling update passed"
