#!/usr/bin/env bash
# The server's user-space instructions per answer check, counted by
# callgrind: repeatable for the same binary whatever else the machine is
# doing, where checks/s on a shared machine moves by ±15 % between runs
# (issue 18, tenth pass). Kernel work (system calls, the network, fsync) is
# not counted, so compare binaries with it; judge the target with checks.sh.
# Valgrind's virtual CPU has no SHA extensions, so hashing (sha2) costs
# several times its real share here: confirm a gain there with perf.
#
#   bash bench/check_instructions.sh [BINARY]   # default target/release/lectern
#
# Imports the demo course into a temp folder, runs `lectern serve` under
# valgrind's callgrind, drives it with bench/checks.py (8 learners, its own
# client), zeroes the counters once the learners are checking, counts
# submissions before and after 30 s, and prints instructions per check.
# CALLGRIND_OUT=FILE keeps the dump for callgrind_annotate --inclusive=yes.
# Needs valgrind (installed with apt-get if missing). Prints; never fails on
# a figure.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/target/release/lectern}
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null
DIR=$(mktemp -d /tmp/lectern-bench-instructions.XXXXXX)
SERVER=""
CLIENT=""
cleanup() {
  [ -n "$CLIENT" ] && kill "$CLIENT" 2>/dev/null
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  rm -rf "$DIR"
}
trap cleanup EXIT

export LECTERN_REGISTRATIONS_PER_ADDRESS=100000 LECTERN_LOGIN_ATTEMPTS_PER_ADDRESS=100000
"$BIN" import --data "$DIR/data" "$ROOT/tests/fixtures/olx/openedx-demo-course.tar.gz" >/dev/null 2>&1
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$DIR/callgrind.%p" \
  "$BIN" serve --data "$DIR/data" --listen "127.0.0.1:$PORT" >"$DIR/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/health/live" >/dev/null && break; sleep 1; done
python3 "$ROOT/bench/checks.py" --base "http://127.0.0.1:$PORT" --levels 8 --seconds 60 --warmup 20 \
  --bare-commits 1 >"$DIR/client.txt" 2>&1 &
CLIENT=$!
for _ in $(seq 300); do grep -q registered "$DIR/client.txt" && break; sleep 1; done
sleep 12
submissions() {
  python3 -c "import sqlite3, sys; print(sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True).execute('SELECT count(*) FROM submissions').fetchone()[0])" "$DIR/data/lectern.db"
}
callgrind_control -z "$SERVER" >/dev/null
BEFORE=$(submissions)
sleep 30
AFTER=$(submissions)
callgrind_control -d "$SERVER" >/dev/null
sleep 2
DUMP=$(ls -S "$DIR"/callgrind.*.1 2>/dev/null | head -n 1)
INSTRUCTIONS=$(callgrind_annotate "$DUMP" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
CHECKS=$((AFTER - BEFORE))
[ -n "${CALLGRIND_OUT:-}" ] && cp "$DUMP" "$CALLGRIND_OUT"
echo "binary: $BIN"
echo "checks counted: $CHECKS; server instructions: $INSTRUCTIONS"
python3 -c "import sys; print(f'instructions per check: {int(sys.argv[1]) / max(1, int(sys.argv[2])):,.0f}')" "$INSTRUCTIONS" "$CHECKS"
