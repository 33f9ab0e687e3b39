#!/usr/bin/env bash
# Backup create, verify and restore on a generated site, on SQLite and on
# PostgreSQL: wall time, peak RSS (GNU time) and archive size.
#
#   bash bench/backup.sh [LEARNERS] [SUBMISSIONS_PER_LEARNER]   # default 10000 100
#
# The site: the Open edX demo course (with its files) imported, then
# LEARNERS accounts, their enrolments and course grades, and
# LEARNERS x SUBMISSIONS_PER_LEARNER answer submissions, generated with one
# SQL script that both backends run. PostgreSQL is a throwaway server
# (scripts/postgres.sh --durable). Uses the release binary. Prints; never
# fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
COURSE_TAR=$ROOT/tests/fixtures/olx/openedx-demo-course.tar.gz
LEARNERS=${1:-10000}
PER=${2:-100}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/lectern-bench-backup.XXXXXX)
PG_DIR=$(mktemp -d /tmp/lectern-bench-pg.XXXXXX)
cleanup() {
  bash "$ROOT/scripts/postgres.sh" stop "$PG_DIR" >/dev/null 2>&1 || true
  rm -rf "$WORK" "$PG_DIR"
}
trap cleanup EXIT
ADMIN_URL=$(bash "$ROOT/scripts/postgres.sh" start "$PG_DIR" --durable)

echo "== machine: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc=$(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')); site: $LEARNERS learners, $((LEARNERS * PER)) submissions"

# The rows, in SQL both backends accept (recursive CTEs, `||`, TRUE/FALSE).
generate_sql() {
  local key=course-v1:OpenedX+DemoX+DemoCourse
  local problem="block-v1:OpenedX+DemoX+DemoCourse+type@problem+block@"
  cat <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $LEARNERS)
INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at)
SELECT 'learner' || i, 'learner' || i || '@example.org', 'Learner ' || i,
       '\$argon2id\$v=19\$m=19456,t=2,p=1\$c2FsdHNhbHRzYWx0\$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA', FALSE, FALSE, TRUE, 1700000000000 + i
FROM n;
INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at)
SELECT id, '$key', 'audit', TRUE, created_at FROM users WHERE email LIKE 'learner%';
INSERT INTO course_grades (user_id, course_key, revision, course_version, percent, letter_grade, passed, detail, updated_at)
SELECT id, '$key', 1, 1, 0.5, NULL, FALSE, '{"sections": []}', created_at FROM users WHERE email LIKE 'learner%';
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $((LEARNERS * PER - 1))),
     base(b) AS (SELECT MIN(id) FROM users WHERE email LIKE 'learner%')
INSERT INTO submissions (user_id, course_key, usage_key, attempt, answers, correct_map, earned, possible, created_at)
SELECT b + (i % $LEARNERS), '$key', '$problem' || (i % 50), 1 + i / $LEARNERS,
       '{"input_2_1": "choice_' || (i % 4) || '"}',
       '{"input_2_1": {"correctness": "' || CASE WHEN i % 4 = 0 THEN 'correct' ELSE 'incorrect' END || '", "msg": ""}}',
       CASE WHEN i % 4 = 0 THEN 1.0 ELSE 0.0 END, 1.0, 1700000000000 + i
FROM n, base;
SQL
}

# Runs a command under GNU time; prints "LABEL: S s, peak RSS M MiB".
measure() {
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  read -r secs kib <"$WORK/time"
  printf '  %-34s %7.1f s   peak RSS %5d MiB\n' "$label" "$secs" "$((kib / 1024))"
}

for backend in sqlite postgres; do
  echo
  echo "==================== $backend ===================="
  data=$WORK/$backend-data
  restored=$WORK/$backend-restored
  mkdir -p "$data" "$restored"
  unset LECTERN_DATABASE_URL
  if [ "$backend" = postgres ]; then
    psql -q "$ADMIN_URL" -c "CREATE DATABASE bench_source" -c "CREATE DATABASE bench_restored"
    export LECTERN_DATABASE_URL=${ADMIN_URL%/postgres}/bench_source
  fi
  "$BIN" import --data "$data" "$COURSE_TAR" >/dev/null 2>"$WORK/err" || { cat "$WORK/err"; exit 1; }
  start=$(date +%s.%N)
  if [ "$backend" = postgres ]; then
    generate_sql | psql -q "$LECTERN_DATABASE_URL" >/dev/null
  else
    generate_sql | python3 -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(sys.stdin.read())
db.commit()' "$data/lectern.db"
  fi
  echo "  generated in $(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')") s"
  measure "backup create" "$BIN" backup create --data "$data" --to "$WORK/$backend-backups"
  archive=$(tail -n 1 "$WORK/out")
  echo "  archive: $(du -m "$archive" | cut -f1) MiB ($archive)"
  measure "backup verify" "$BIN" backup verify --data "$data" "$archive"
  if [ "$backend" = postgres ]; then
    export LECTERN_DATABASE_URL=${ADMIN_URL%/postgres}/bench_restored
  fi
  measure "restore into an empty database" "$BIN" restore --data "$restored" "$archive"
done
