#!/usr/bin/env bash
# Bulk e-mail throughput: one e-mail to LEARNERS generated learners of the demo
# course, from "Send" (fan-out job + outbox delivery) to the last message the
# local SMTP server (aiosmtpd, discarding handler) accepted.
#
#   bash bench/bulk_email.sh [LEARNERS]
#
# Release binary as bench/memory.sh finds it; aiosmtpd from $SMTP_PYTHON or a
# venv in target/smtp-venv (made if missing). [mail] settings can be varied
# with LECTERN_MAIL_* variables (e.g. LECTERN_MAIL_SEND_CONCURRENCY=8).
# Measures and prints; never fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
COURSE_TAR=${COURSE_TAR:-$ROOT/tests/fixtures/olx/openedx-demo-course.tar.gz}
LEARNERS=${1:-1000}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }
unset LECTERN_BIN  # the binary refuses LECTERN_ variables it does not know
PY=${SMTP_PYTHON:-$ROOT/target/smtp-venv/bin/python}
if [ ! -x "$PY" ]; then
  python3 -m venv "$ROOT/target/smtp-venv"
  "$ROOT/target/smtp-venv/bin/pip" install -q aiosmtpd
  PY=$ROOT/target/smtp-venv/bin/python
fi

DATA=$(mktemp -d /tmp/lectern-bench-mail.XXXXXX)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
SMTP_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
PID=
SMTP_PID=
cleanup() {
  for p in "$PID" "$SMTP_PID"; do
    if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then kill -TERM "$p"; wait "$p" 2>/dev/null || true; fi
  done
  rm -rf "$DATA"
}
trap cleanup EXIT

echo "== machine: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')), SQLite"

printf 'bench-admin-password-1\n' | "$BIN" user create --data "$DATA" --admin --username admin --email admin@example.com --password-file - >/dev/null 2>"$DATA/user.log" || { cat "$DATA/user.log"; exit 1; }
"$BIN" import --data "$DATA" --owner admin "$COURSE_TAR" >"$DATA/import.out" 2>"$DATA/import.log" || { cat "$DATA/import.log"; exit 1; }
COURSE=$(grep -o 'course-v1:[^ ]*' "$DATA/import.out" | head -1)
python3 "$ROOT/bench/bulk_email.py" --base "$BASE" --pid 0 --db "$DATA/lectern.db" --course "$COURSE" --learners "$LEARNERS" --add-learners

"$PY" -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink >"$DATA/smtp.log" 2>&1 &
SMTP_PID=$!
LECTERN_SMTP_HOST=127.0.0.1 LECTERN_SMTP_PORT=$SMTP_PORT LECTERN_SMTP_TLS=none \
  "$BIN" serve --data "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
PID=$!
python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; benchlib.wait_ready('$BASE')"
echo "== course $COURSE, $LEARNERS learners; [mail] defaults unless LECTERN_MAIL_* set: $(env | grep '^LECTERN_MAIL_' | tr '\n' ' ')"
python3 "$ROOT/bench/bulk_email.py" --base "$BASE" --pid "$PID" --course "$COURSE" --learners "$LEARNERS"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
