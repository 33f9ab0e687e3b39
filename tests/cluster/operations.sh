#!/usr/bin/env bash
# The cluster operations of issue 17 on one cluster bring-up (it saves two):
# builds the previous commit's binary, brings a cluster up on it with every
# node configured for a backup every minute into a shared folder, then runs
#   tests/cluster/rolling.sh          rolling update HEAD~1 -> this checkout
#   tests/cluster/backup_schedule.sh  one backup schedule, lease holder killed
#   tests/cluster/onebox.sh           a SQLite site restored into the cluster
# with CLUSTER_SHARED=1, and takes the cluster down. Prints each part's
# duration. Root; CLUSTER_ID and CLUSTER_DIR as for scripts/cluster.sh.
#   CLUSTER_KEEP=1 tests/cluster/operations.sh   leave a failed cluster up
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/cluster/lib.sh
. tests/cluster/lib.sh

work=$(mktemp -d /tmp/lectern-operations.XXXXXX)
export BACKUP_DIR=$work/backups
mkdir -p "$BACKUP_DIR"
finish() {
  local rc=$?
  cluster_end "$rc" || true
  rm -rf "$work"
  exit "$rc"
}
part_start=$(date +%s)
part() { printf -- '-- %s took %ss\n' "$1" "$(( $(date +%s) - part_start ))"; part_start=$(date +%s); }

prev=$(tests/cluster/previous_binary.sh)
prev=$(realpath "$prev")
current_binary >/dev/null
part "previous commit's binary (and this checkout's)"

printf 'LECTERN_BACKUP_TARGET=%s\nLECTERN_BACKUP_SCHEDULE=* * * * *\nLECTERN_BACKUP_KEEP_LAST=1000\nLECTERN_SHUTDOWN_DRAIN_SECS=3\n' \
  "$BACKUP_DIR" >"$work/node.env"
"$cluster" down >/dev/null 2>&1 || true
trap finish EXIT
CLUSTER_NODE_ENV_FILE=$work/node.env LECTERN_BIN=$prev "$cluster" up >/dev/null
part "cluster up on the previous binary"

export CLUSTER_SHARED=1
bash tests/cluster/rolling.sh
part "rolling update"
bash tests/cluster/backup_schedule.sh
part "one backup schedule"
bash tests/cluster/onebox.sh
part "one box to cluster"
"$cluster" down >/dev/null 2>&1
trap - EXIT
rm -rf "$work"
part "cluster down"
