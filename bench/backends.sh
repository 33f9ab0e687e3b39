#!/usr/bin/env bash
# Page views and problem checks on SQLite and on PostgreSQL, with the same
# commands: `bench/memory.sh` (1,000 unit page views on one connection) and
# `bench/checks.py` (checks/s at 1, 16 and 64 concurrent learners), once on
# the default SQLite data folder and once with LECTERN_DATABASE_URL naming a
# fresh database on a throwaway PostgreSQL (scripts/postgres.sh --durable:
# fsync on, as in production) on the same machine.
#
#   bash bench/backends.sh [SECONDS_PER_LEVEL]
#
# Uses the release binary (cargo build --release -p lectern). Prints; never
# fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECONDS_PER_LEVEL=${1:-20}

PG_DIR=$(mktemp -d /tmp/lectern-bench-pg.XXXXXX)
cleanup() {
  bash "$ROOT/scripts/postgres.sh" stop "$PG_DIR" || true
  rm -rf "$PG_DIR"
}
trap cleanup EXIT
ADMIN_URL=$(bash "$ROOT/scripts/postgres.sh" start "$PG_DIR" --durable)

# bare_commits DIR ADMIN_URL: the disk's rate of bare durable commits.
. "$ROOT/bench/bare_commits.sh"

fresh_db() {
  local name=$1
  psql -q "$ADMIN_URL" -c "CREATE DATABASE $name" >/dev/null
  echo "${ADMIN_URL%/postgres}/$name"
}

# The benchmark clients sign up and sign in dozens of learners from one
# address: lift the per-address budgets that protect a real site.
export LECTERN_REGISTRATIONS_PER_ADDRESS=100000 LECTERN_LOGIN_ATTEMPTS_PER_ADDRESS=100000

bare_commits "$PG_DIR" "$ADMIN_URL"

for backend in sqlite postgres; do
  if [ "$backend" = postgres ]; then
    export LECTERN_DATABASE_URL
  fi
  echo
  echo "==================== $backend ===================="
  [ "$backend" = postgres ] && LECTERN_DATABASE_URL=$(fresh_db bench_pages)
  bash "$ROOT/bench/memory.sh" 1000
  [ "$backend" = postgres ] && LECTERN_DATABASE_URL=$(fresh_db bench_checks)
  python3 "$ROOT/bench/checks.py" --seconds "$SECONDS_PER_LEVEL"
done
