#!/usr/bin/env bash
# One box to cluster (issue 17), the sequence of docs/cluster.md ("Moving a
# one-box site to a cluster"): a SQLite site on one box (the demo course, a
# learner who answered a problem), `lectern backup create` there, `lectern
# restore` into the cluster through the database URL cluster.sh prints, and
# the learner signs in through the proxy and sees the same progress.
#
#   tests/cluster/onebox.sh          (root; CLUSTER_ID, CLUSTER_DIR as for cluster.sh)
#   CLUSTER_SHARED=1 ...             restore into the running cluster (with --force:
#                                    it holds another site's data)
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=tests/cluster/lib.sh
. tests/cluster/lib.sh

work=$(mktemp -d /tmp/lectern-onebox.XXXXXX)
box_pid=""
finish() {
  local rc=$?
  [ -n "$box_pid" ] && kill "$box_pid" 2>/dev/null
  rm -rf "$work"
  if [ -z "${CLUSTER_SHARED:-}" ]; then cluster_end "$rc"; fi
  exit "$rc"
}
trap finish EXIT
bin=$(current_binary)
course="course-v1:OpenedX+DemoX+DemoCourse"
problem="block-v1:OpenedX+DemoX+DemoCourse+type@problem+block@870b16e640d541af94a308caac834d2e"
box() { env -u LECTERN_BIN "$bin" "$@"; }

# --- the box: a SQLite site with a learner's progress -------------------------
box import --data "$work/box" tests/fixtures/olx/openedx-demo-course.tar.gz >"$work/box.log" 2>&1 \
  || { cat "$work/box.log" >&2; fail "import on the box"; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# Not through `box`: a backgrounded function is a subshell, and killing it
# would leave the server it started running (it did, after CI's runs).
env -u LECTERN_BIN "$bin" serve --data "$work/box" --listen "127.0.0.1:$port" >>"$work/box.log" 2>&1 &
box_pid=$!
for _ in $(seq 120); do [ "$(code "http://127.0.0.1:$port/health/ready")" = 200 ] && break; sleep 0.5; done
python3 tests/cluster/onebox_client.py box "http://127.0.0.1:$port" "$course" "$problem" "$work/seen.json" \
  || fail "the learner on the box"
kill -TERM "$box_pid"; wait "$box_pid" || true; box_pid=""

# --- the documented sequence ------------------------------------------------
archive=$(box backup create --data "$work/box" 2>>"$work/box.log" | tail -n 1)
[ -f "$archive" ] || fail "backup create printed no archive: $archive"
note "box backed up: $archive ($(du -h "$archive" | cut -f1))"
if [ -z "${CLUSTER_SHARED:-}" ]; then LECTERN_BIN=$bin cluster_begin; trap finish EXIT; else cluster_begin; fi
force=()
[ -n "${CLUSTER_SHARED:-}" ] && force=(--force)   # the shared cluster holds the other tests' site
restore_start=$(date +%s)
lectern_on_cluster "$bin" restore "${force[@]}" "$archive" >"$work/restore.log" 2>&1 \
  || { cat "$work/restore.log" >&2; fail "restore into the cluster"; }
note "restored into the cluster in $(( $(date +%s) - restore_start ))s: $(tail -n 1 "$work/restore.log")"

# --- the learner, through the proxy ------------------------------------------
python3 tests/cluster/onebox_client.py cluster "$proxy" "$course" "$problem" "$work/seen.json" \
  || fail "the learner on the cluster"
note "one box to cluster: passed"
