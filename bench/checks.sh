#!/usr/bin/env bash
# Issue 18's check benchmark: answer checks per second against the disk's
# rate of bare durable one-row commits, measured in the same run, on SQLite
# and on PostgreSQL, with the server's RSS idle and under the load.
#
#   bash bench/checks.sh [SECONDS_PER_LEVEL] [LEVELS]     # defaults: 10, 1,16,64
#
# First the bare commit rates (bench/bare_commits.sh: SQLite with WAL and
# synchronous=FULL, PostgreSQL on a throwaway --durable server), then
# `bench/checks.py --wrk` (wrk drives the checks: one connection and one
# learner per wrk thread, right and wrong answers alternating) once on a
# SQLite data folder and once on a fresh database of that PostgreSQL. Each
# level's checks/s is printed with its ratio to SQLite's bare commit rate
# (issue 18's target: at least 1 at 64 learners). $LECTERN_BIN picks the
# binary (default target/release/lectern); PERF_OUT=FILE samples the server
# with `perf record -g` during the last level of the SQLite run. Prints;
# never fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_LEVEL=${1:-10}
LEVELS=${2:-1,16,64}
command -v wrk >/dev/null || { apt-get install -y wrk >/dev/null; }

PG_DIR=$(mktemp -d /tmp/lectern-bench-checks-pg.XXXXXX)
cleanup() {
  bash "$ROOT/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT
ADMIN_URL=$(bash "$ROOT/scripts/postgres.sh" start "$PG_DIR" --durable)
. "$ROOT/bench/bare_commits.sh"

echo "== binary: ${LECTERN_BIN:-$ROOT/target/release/lectern}; commit $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
BARE=$(bare_commits "$PG_DIR" "$ADMIN_URL")
echo "$BARE"
SQLITE_RATE=$(echo "$BARE" | awk '/^sqlite:/ {print $2}')

export LECTERN_REGISTRATIONS_PER_ADDRESS=100000 LECTERN_LOGIN_ATTEMPTS_PER_ADDRESS=100000
for backend in sqlite postgres; do
  echo
  echo "==================== $backend ===================="
  if [ "$backend" = postgres ]; then
    psql -q "$ADMIN_URL" -c "CREATE DATABASE bench_checks" >/dev/null
    export LECTERN_DATABASE_URL="${ADMIN_URL%/postgres}/bench_checks"
    unset PERF_OUT
  fi
  python3 "$ROOT/bench/checks.py" --wrk --levels "$LEVELS" --seconds "$SECONDS_PER_LEVEL" \
    --bare-commits "$SQLITE_RATE"
done
