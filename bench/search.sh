#!/usr/bin/env bash
# Search: the index over the demo course plus 10,000 generated posts
# (rebuild time, posts written to the database and indexed by the post sync
# (a tenth a commit each, the rest in one sync), a rebuild of course and
# posts, course searches per second and
# p50/p99 by an enrolled learner from 4 tasks, index size, process RSS),
# then `lectern serve`'s idle RSS with the demo course indexed, and with
# search switched off for comparison.
#
#   bash bench/search.sh [POSTS] [SECONDS] [TASKS]
#
# Builds the benchmark example in release; uses the release binary for the
# server ($BENCH_LECTERN_BIN, else target/release/lectern: cargo build --release -p lectern).
# Measures and prints; never fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BENCH_LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
COURSE_TAR=${COURSE_TAR:-$ROOT/tests/fixtures/olx/openedx-demo-course.tar.gz}
POSTS=${1:-10000}
SECONDS_=${2:-10}
TASKS=${3:-4}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }

echo "== machine: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')"

(cd "$ROOT" && cargo run --quiet --release -p lectern-search --example search_bench -- "$COURSE_TAR" "$POSTS" "$SECONDS_" "$TASKS")

DATA=$(mktemp -d /tmp/lectern-bench-search.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT
rss() { awk -v f="$2:" '$1==f {print $2}' "/proc/$1/status"; }

printf 'bench-admin-password-1\n' | "$BIN" user create --data "$DATA" --admin --username admin --email admin@example.com --password-file - >/dev/null 2>"$DATA/user.log" || { cat "$DATA/user.log"; exit 1; }
"$BIN" import --data "$DATA" --owner admin "$COURSE_TAR" >/dev/null 2>"$DATA/import.log" || { cat "$DATA/import.log"; exit 1; }

for enabled in true false; do
  LECTERN_SEARCH_ENABLED=$enabled "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve-$enabled.log" 2>&1 &
  PID=$!
  python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; benchlib.wait_ready('$BASE')"
  sleep 5
  echo "server idle 5 s after start, demo course, [search] enabled=$enabled: RSS $(rss $PID VmRSS) KiB (VmHWM $(rss $PID VmHWM) KiB)"
  grep -o 'search index rebuilt.*' "$DATA/serve-$enabled.log" | head -1 || true
  kill -TERM "$PID"; wait "$PID" || true; PID=
done
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
