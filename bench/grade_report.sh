#!/usr/bin/env bash
# Issue 21's report benchmark: the grade report (and any other kinds named
# in KINDS, e.g. KINDS=grade,problem_grade) for LEARNERS generated learners
# of the demo course, on SQLite, from the click to the ready CSV; the
# server's RSS and peak RSS.
#
#   bash bench/grade_report.sh [LEARNERS]
#
# Release binary as bench/memory.sh finds it. Measures and prints; never
# fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
COURSE_TAR=${COURSE_TAR:-$ROOT/tests/fixtures/olx/openedx-demo-course.tar.gz}
LEARNERS=${1:-10000}
KINDS=${KINDS:-grade}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }
unset LECTERN_BIN  # the binary refuses LECTERN_ variables it does not know

DATA=$(mktemp -d /tmp/lectern-bench-reports.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

echo "== machine: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')), SQLite"

printf 'bench-admin-password-1\n' | "$BIN" user create --data "$DATA" --admin --username admin --email admin@example.com --password-file - >/dev/null 2>"$DATA/user.log" || { cat "$DATA/user.log"; exit 1; }
"$BIN" import --data "$DATA" --owner admin "$COURSE_TAR" >"$DATA/import.out" 2>"$DATA/import.log" || { cat "$DATA/import.log"; exit 1; }
COURSE=$(grep -o 'course-v1:[^ ]*' "$DATA/import.out" | head -1)

"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
PID=$!
python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; benchlib.wait_ready('$BASE')"
echo "== course $COURSE, $LEARNERS learners, reports: $KINDS"
python3 "$ROOT/bench/grade_report.py" --base "$BASE" --pid "$PID" --db "$DATA/lectern.db" --course "$COURSE" --learners "$LEARNERS" --kinds "$KINDS"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
