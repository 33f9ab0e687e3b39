#!/usr/bin/env bash
# Issue 18's side-by-side: Lectern against nginx serving the very same bytes,
# in one run, with the ratio Lectern/nginx per page (bench/pages.py does the
# measuring). Pages: an enrolled learner's unit with three problems, the
# anonymous catalogue, /health/live.
#
#   bash bench/pages.sh [SECONDS] [CONNECTIONS]      # defaults: 10, 64
#
# Lectern: the release binary ($LECTERN_BIN, else $CARGO_TARGET_DIR/release/
# lectern, else target/release/lectern; build it first with
# `cargo build --release -p lectern`), on SQLite in a fresh temp data folder
# (or on $LECTERN_DATABASE_URL if set), with a generated course: one chapter,
# one sequential, one unit holding an html block and three multiple-choice
# problems. nginx: Debian's (installed with apt-get if missing, as is wrk),
# its own config in a temp folder, a loopback port, access_log off, one
# worker per core. With PERF_RECORD=1, `perf record -g` samples Lectern
# during the 64-connection runs (perf.data kept in $PERF_OUT, default
# /tmp/lectern-pages-perf.data). With PERF_STAT=1, `perf stat` counts
# Lectern's task switches, migrations and CPU time over all the runs and
# prints them at the end (software counters: they work in VMs without
# hardware ones). Measures and prints; never fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
SECONDS_EACH=${1:-10}
CONNECTIONS=${2:-64}
unset LECTERN_BIN  # the binary refuses LECTERN_* variables it does not know
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || {
    echo "installing $2 (apt-get)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null
  }
}
need nginx nginx
need wrk wrk
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/lectern-bench-pages.XXXXXX)
PID=
NGINX_STARTED=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; fi
  if [ -n "$NGINX_STARTED" ]; then "$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "== machine: $(python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; print(benchlib.machine())")"
echo "== binary: $BIN (built from $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')); nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'); $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)"

# The course: one unit with an html block and three problems.
python3 - "$WORK/course.tar.gz" <<'PY'
import io, sys, tarfile
def problem(i):
    return f'''<problem url_name="p{i}" display_name="Question {i}">
<multiplechoiceresponse>
<p>Which of these is the number {i}?</p>
<choicegroup type="MultipleChoice">
<choice correct="false">{i + 1}</choice>
<choice correct="true">{i}</choice>
<choice correct="false">{i + 2}</choice>
</choicegroup>
</multiplechoiceresponse>
</problem>'''
course = f'''<course display_name="Bench pages" start="2020-01-01T00:00:00Z">
<chapter url_name="ch1" display_name="Week 1">
<sequential url_name="s1" display_name="Lesson 1">
<vertical url_name="u1" display_name="Three problems">
<html url_name="intro" display_name="Intro">&lt;p&gt;Three short questions.&lt;/p&gt;</html>
{problem(1)}
{problem(2)}
{problem(3)}
</vertical>
</sequential>
</chapter>
</course>'''
files = {
    "course/course.xml": '<course url_name="2026" org="BenchX" course="Pages"/>',
    "course/course/2026.xml": course,
    "course/policies/2026/policy.json": '{"course/2026": {"display_name": "Bench pages"}}',
    "course/policies/2026/grading_policy.json": '{"GRADER": [], "GRADE_CUTOFFS": {"Pass": 0.5}}',
}
with tarfile.open(sys.argv[1], "w:gz") as t:
    for name, text in files.items():
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        t.addfile(info, io.BytesIO(data))
PY
mkdir -p "$WORK/data"
"$BIN" import --data "$WORK/data" "$WORK/course.tar.gz" 2>"$WORK/import.log" | head -n 1 || { cat "$WORK/import.log"; exit 1; }

# The benchmark signs a learner up and in from one address: lift the
# per-address budgets that protect a real site (as bench/backends.sh does).
export LECTERN_REGISTRATIONS_PER_ADDRESS=100000 LECTERN_LOGIN_ATTEMPTS_PER_ADDRESS=100000
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
"$BIN" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" >"$WORK/serve.log" 2>&1 &
PID=$!
python3 -c "import sys; sys.path.insert(0, '$ROOT/bench'); import benchlib; benchlib.wait_ready('$BASE')"

# nginx: the same bytes as files, served statically.
NPORT=$(free_port)
mkdir -p "$WORK/nginx/root" "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type text/html;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server {
    listen 127.0.0.1:$NPORT;
    root $WORK/nginx/root;
  }
}
EOF
mkdir -p "$WORK/nginx/tmp"
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf"
NGINX_STARTED=1

PERF_PID=
if [ "${PERF_RECORD:-0}" = 1 ]; then
  PERF_OUT=${PERF_OUT:-/tmp/lectern-pages-perf.data}
  perf record ${PERF_CALLGRAPH:--g} -F 999 -p "$PID" -o "$PERF_OUT" >/dev/null 2>&1 &
  PERF_PID=$!
fi

STAT_PID=
if [ "${PERF_STAT:-0}" = 1 ]; then
  perf stat -e task-clock,context-switches,cpu-migrations -p "$PID" -o "$WORK/perf-stat.txt" >/dev/null 2>&1 &
  STAT_PID=$!
fi

python3 "$ROOT/bench/pages.py" --base "$BASE" --course "course-v1:BenchX+Pages+2026" --unit u1 \
  --nginx-root "$WORK/nginx/root" --nginx-base "http://127.0.0.1:$NPORT" \
  --seconds "$SECONDS_EACH" --connections "$CONNECTIONS" --server-pid "$PID" ${PAGES_ARGS:-}

if [ -n "$STAT_PID" ]; then kill -INT "$STAT_PID"; wait "$STAT_PID" || true; echo "== perf stat of the server over all runs:"; grep -E "task-clock|context-switches|cpu-migrations" "$WORK/perf-stat.txt"; fi
if [ -n "$PERF_PID" ]; then kill -INT "$PERF_PID"; wait "$PERF_PID" || true; echo "perf data: $PERF_OUT"; fi
echo "== server: VmHWM $(awk '/^VmHWM:/ {print $2}' /proc/$PID/status) KiB, VmRSS $(awk '/^VmRSS:/ {print $2}' /proc/$PID/status) KiB at the end"
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
