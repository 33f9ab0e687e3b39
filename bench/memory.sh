#!/usr/bin/env bash
# Memory of `lectern serve`: RSS after start (empty data folder plus the demo
# course), and after 1,000 unit page views by one signed-in learner.
#
#   bash bench/memory.sh [VIEWS]
#
# Uses the release binary: $LECTERN_BIN, else $CARGO_TARGET_DIR/release/lectern,
# else target/release/lectern (build it first: cargo build --release -p lectern).
# Measures and prints; never fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
COURSE_TAR=${COURSE_TAR:-$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/olx/openedx-demo-course.tar.gz}
VIEWS=${1:-1000}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }
unset LECTERN_BIN  # the binary refuses LECTERN_ variables it does not know

DATA=$(mktemp -d /tmp/lectern-bench-mem.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap cleanup EXIT

rss() { awk -v f="$2:" '$1==f {print $2}' "/proc/$1/status"; }

echo "== machine: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc=$(nproc), $(free -g | awk '/^Mem:/ {print "free -g total=" $2 " GiB"}'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"

# 1. Server on the empty data folder: RSS right after it is ready.
"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve-empty.log" 2>&1 &
PID=$!
python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; benchlib.wait_ready('$BASE')"
sleep 1
echo "RSS after start, empty database:      $(rss $PID VmRSS) KiB (VmHWM $(rss $PID VmHWM) KiB)"
kill -TERM "$PID"; wait "$PID" || true; PID=

# 2. Admin and the demo course, with the server stopped (the CLI opens the same SQLite file).
printf 'bench-admin-password-1\n' | "$BIN" user create --data "$DATA" --admin --username admin --email admin@example.com --password-file - >/dev/null 2>"$DATA/user.log" || { cat "$DATA/user.log"; exit 1; }
start=$(date +%s.%N)
"$BIN" import --data "$DATA" --owner admin "$COURSE_TAR" 2>"$DATA/import.log" | sed -n 1,2p || { cat "$DATA/import.log"; exit 1; }
echo "import took $(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')") s"

# 3. Server again, with the course: RSS after start, then after the page views.
"$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
PID=$!
python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; benchlib.wait_ready('$BASE')"
sleep 1
echo "RSS after start, demo course imported: $(rss $PID VmRSS) KiB (VmHWM $(rss $PID VmHWM) KiB)"
python3 "$ROOT/bench/pageviews.py" --base "$BASE" --pid "$PID" --views "$VIEWS"
sleep 1
echo "RSS 1 s after the views:               $(rss $PID VmRSS) KiB (VmHWM $(rss $PID VmHWM) KiB)"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
