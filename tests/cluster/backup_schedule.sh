#!/usr/bin/env bash
# One backup schedule per cluster (issue 17): every node is configured with
# the same `[backup]` schedule (every minute) and target (a folder all nodes
# write; on real VMs an S3 bucket, see docs/cluster.md). The node holding the
# `scheduler` lease enqueues one `backup` job per due time; any node's worker
# runs it. The test finds the lease holder (the `leases` table; holders are
# named node-PID-…, and PIDs map to nodes), kills that node's Lectern right
# after a backup, and waits for the next due time's backup: it must run on
# another node, and every due time from then on has exactly one archive.
#
#   tests/cluster/backup_schedule.sh     (root; CLUSTER_ID, CLUSTER_DIR as for cluster.sh)
#   CLUSTER_SHARED=1 ... BACKUP_DIR=...  use the running cluster, whose nodes were
#                                        started with that target and schedule
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/cluster/lib.sh
. tests/cluster/lib.sh

work=$(mktemp -d /tmp/lectern-backup-schedule.XXXXXX)
finish() {
  local rc=$?
  if [ -z "${CLUSTER_SHARED:-}" ]; then rm -rf "$BACKUP_DIR"; fi
  rm -rf "$work"
  if [ -z "${CLUSTER_SHARED:-}" ]; then cluster_end "$rc"; fi
  exit "$rc"
}
trap finish EXIT
if [ -z "${CLUSTER_SHARED:-}" ]; then
  BACKUP_DIR=$(mktemp -d /tmp/lectern-cluster-backups.XXXXXX)
  printf 'LECTERN_BACKUP_TARGET=%s\nLECTERN_BACKUP_SCHEDULE=* * * * *\nLECTERN_BACKUP_KEEP_LAST=1000\nLECTERN_SHUTDOWN_DRAIN_SECS=3\n' \
    "$BACKUP_DIR" >"$work/node.env"
  export CLUSTER_NODE_ENV_FILE="$work/node.env"
  LECTERN_BIN=$(current_binary) cluster_begin
  trap finish EXIT
else
  [ -d "${BACKUP_DIR:-}" ] || fail "CLUSTER_SHARED needs BACKUP_DIR (the nodes' backup target)"
  cluster_begin
fi
dir=${CLUSTER_DIR:-/tmp/lectern-cluster}

# The node (1-3) whose Lectern has PID $1, or "?".
node_of_pid() {
  local n
  for n in 1 2 3; do [ "$(cat "$dir/node$n/lectern.pid" 2>/dev/null)" = "$1" ] && { echo "$n"; return; }; done
  echo "?"
}
holder_pid() { sql "SELECT holder FROM leases WHERE name = 'scheduler'" | sed -n 's/^node-\([0-9]*\)-.*/\1/p'; }
# "due node" per finished backup job, due times as in the dedupe key, oldest first.
done_backups() {
  sql "SELECT substr(dedupe_key, 8), locked_by FROM jobs WHERE kind = 'backup' AND state = 'done' ORDER BY dedupe_key" |
    while IFS='|' read -r due by; do
      echo "$due $(node_of_pid "$(echo "$by" | sed -n 's/^node-\([0-9]*\)-.*/\1/p')")"
    done
}
pending_backups() { sql "SELECT count(*) FROM jobs WHERE kind = 'backup' AND state IN ('queued', 'running')"; }
archives() { find "$BACKUP_DIR" -maxdepth 1 -name 'lectern-*.lbk' -printf '%f\n' | sort; }

# A due time's backup done, nothing pending: the moment to kill the holder.
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
note "waiting for a scheduled backup (schedule: every minute; target $BACKUP_DIR)"
for _ in $(seq 300); do
  last=$(done_backups | tail -n 1 | cut -d' ' -f1)
  if [ -n "$last" ] && [[ "$last" > "$start" || "$last" == "$start" ]] && [ "$(pending_backups)" = 0 ]; then break; fi
  last=""
  sleep 0.5
done
[ -n "$last" ] || fail "no scheduled backup within 150 s: $(done_backups | tr '\n' ';') archives: $(archives | tr '\n' ' ')"
first_due=$last
holder=$(node_of_pid "$(holder_pid)")
[ "$holder" != "?" ] || fail "the scheduler lease is held by no running node: $(sql 'SELECT * FROM leases')"
note "backup due $first_due done; node$holder holds the scheduler lease; killing node$holder"
"$cluster" kill-node "$holder"
killed_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# The next due time's backup, from another node (within two minutes: the
# lease's 45 s to expire plus the next due time plus the scheduler's tick).
after=""
for _ in $(seq 360); do
  after=$(done_backups | awk -v t="$killed_at" '$1 > t' | head -n 1)
  [ -n "$after" ] && break
  sleep 0.5
done
[ -n "$after" ] || fail "no scheduled backup after node$holder was killed: $(done_backups | tr '\n' ';')"
ran_on=${after#* }
[ "$ran_on" != "$holder" ] && [ "$ran_on" != "?" ] || fail "the backup due ${after% *} ran on node$ran_on"
new_holder=$(node_of_pid "$(holder_pid)")
note "backup due ${after% *} ran on node$ran_on with node$holder down; node$new_holder now holds the scheduler lease"
"$cluster" start-node "$holder" >/dev/null 2>&1 || fail "starting node$holder again"

# One archive per due time: as many archives begun since the first due time
# as finished backup jobs due since then, and one job per due time.
for _ in $(seq 20); do [ "$(pending_backups)" = 0 ] && break; sleep 0.5; done
dues=$(done_backups | awk -v t="$first_due" '$1 >= t {print $1}')
n_dues=$(printf '%s\n' "$dues" | sort | uniq | wc -l)
n_jobs=$(printf '%s\n' "$dues" | wc -l)
stamp=$(echo "$first_due" | tr -d ':-' | sed 's/Z$//')
n_archives=$(archives | awk -v s="lectern-$stamp" '$0 >= s' | wc -l)
note "since $first_due: $n_dues due times, $n_jobs finished backup jobs, $n_archives archives"
[ "$n_dues" = "$n_jobs" ] || fail "a due time ran more than once: $(done_backups | tr '\n' ';')"
[ "$n_archives" = "$n_jobs" ] || fail "archives and due times differ: $(archives | tr '\n' ' ') vs $(done_backups | tr '\n' ';')"
note "one backup schedule per cluster: passed"
