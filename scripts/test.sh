#!/usr/bin/env bash
# Runs every test Lectern has, on a machine that has only a Rust toolchain,
# Python 3 and network access to the package registries. It installs what it
# needs (rustfmt/clippy components, a Python virtual environment with Open
# edX's own grading code for the differential tests) and stops at the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step prints how long the previous one took, and the total at the end.
suite_start=$(date +%s)
leg_name=""
leg_start=$suite_start
leg_done() {
  if [ -n "$leg_name" ]; then
    printf -- '-- %s took %ss\n' "$leg_name" "$(( $(date +%s) - leg_start ))"
  fi
}
step() {
  leg_done
  leg_name="$*"
  leg_start=$(date +%s)
  printf '\n== %s ==\n' "$*"
}

step "toolchain components"
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

# --- C build tools: SQLite and jemalloc (the allocator) are built from C
# source; jemalloc's build runs make ---
step "C build tools (gcc, make)"
if ! command -v cc >/dev/null 2>&1 || ! command -v make >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc make libc6-dev >/dev/null
fi
# --- end C build tools ---

# --- sandbox for Python-scripted problems (issue 19, lectern-sandbox) ---
# bubblewrap and Debian's own python3 with the libraries course scripts use;
# the sandbox sees only /usr, so these must be Debian's, not a venv's.
step "sandbox packages (bubblewrap, python3-numpy/scipy/sympy)"
if ! command -v bwrap >/dev/null 2>&1 || ! /usr/bin/python3 -c 'import numpy, scipy, sympy' >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap python3 python3-numpy python3-scipy python3-sympy >/dev/null
fi
# --- end sandbox ---

# --- certificates (issue 21): the PDF test reads certificates back with
# poppler's pdftotext ---
step "PDF test tool (poppler-utils)"
if ! command -v pdftotext >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null
fi
# --- end certificates ---

# --- TLS by ACME (issue 22): the ACME tests start Pebble, Let's Encrypt's
# test CA, and pebble-challtestsrv (its DNS) themselves (tests/it/tls_support.rs) ---
step "ACME test CA (pebble)"
if ! command -v pebble >/dev/null 2>&1 || ! command -v pebble-challtestsrv >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pebble >/dev/null
fi
# --- end TLS by ACME ---

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

# Mail tests talk to a real SMTP server: Python's aiosmtpd, which the test
# starts itself (tests/it/smtp_sink.rs) with the interpreter named here
# (not a LECTERN_ variable: the binary refuses unknown ones).
step "SMTP test server (aiosmtpd)"
smtp_venv=target/smtp-venv
[ -x "$smtp_venv/bin/python" ] || python3 -m venv "$smtp_venv"
"$smtp_venv/bin/pip" install -q --disable-pip-version-check aiosmtpd
"$smtp_venv/bin/python" -c 'import aiosmtpd.handlers'
export TEST_SMTP_PYTHON="$PWD/$smtp_venv/bin/python"

# S3 backup tests talk to moto's S3-compatible server mode, which the test
# starts itself (tests/it/moto.rs) with the interpreter named here (not a
# LECTERN_ variable: the binary refuses unknown ones).
step "S3 test server (moto)"
moto_venv=target/moto-venv
[ -x "$moto_venv/bin/python" ] || python3 -m venv "$moto_venv"
"$moto_venv/bin/pip" install -q --disable-pip-version-check 'moto[server]'
"$moto_venv/bin/python" -c 'import moto.server'
export TEST_MOTO_PYTHON="$PWD/$moto_venv/bin/python"

# Both backends: a throwaway PostgreSQL (Debian's packages, installed when
# missing) in a temporary folder with its own port and socket folder, stopped
# when this script ends. Tests make a fresh database each on it.
step "PostgreSQL test server (throwaway)"
pg_dir=$(mktemp -d /tmp/lectern-pg.XXXXXX)
trap 'bash scripts/postgres.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$pg_dir")
export TEST_POSTGRES_URL
echo "PostgreSQL at $TEST_POSTGRES_URL"

step "store contract suite on SQLite and on PostgreSQL"
cargo test --locked -p lectern-store

step "unit and integration tests on SQLite"
cargo test --workspace --locked --exclude lectern-store

step "integration tests on PostgreSQL"
TEST_DATABASE=postgres cargo test --locked -p lectern --test it

# Cluster failover under load (issue 17, tests/cluster/failover.sh, about 3
# minutes): scripts/cluster.sh's three nodes (etcd, Patroni, PostgreSQL,
# Lectern; HAProxy) in network namespaces, installing Debian's packages and
# Patroni 4 when missing; a round-robin client answers problems while a
# Lectern node is killed, the primary's node dies and is cut off. Needs root.
# CLUSTER_ID and CLUSTER_DIR pick another cluster slot when one is taken.
step "cluster failover under load (root, network namespaces)"
cargo build -q --locked -p lectern
CLUSTER_ID=${CLUSTER_ID:-0} CLUSTER_DIR=${CLUSTER_DIR:-/tmp/lectern-cluster} tests/cluster/failover.sh

# Differential tests: the same inputs through Lectern and through Open edX's
# own Python code (openedx-calc; xblocks-contrib's CAPA problems), compared.
step "differential tests against Open edX's own code"
# xblocks-contrib needs Python >= 3.12; use the newest Python found.
py=""
for cand in python3.13 python3.12 /root/.pyenv/versions/3.13*/bin/python3 /root/.pyenv/versions/3.12*/bin/python3; do
  if command -v "$cand" >/dev/null 2>&1 && "$cand" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    py=$(command -v "$cand"); break
  fi
done
# Scripted problems (issue 19): capa_grade runs them with the test-only
# unsandboxed runner, in the oracle's venv python (numpy, scipy, pyparsing).
part_start=$(date +%s)
part() { echo "   ($1: $(( $(date +%s) - part_start ))s)"; part_start=$(date +%s); }
cargo build -q --locked -p lectern-content --examples --features unsandboxed-runner
part "examples built"
bin=${CARGO_TARGET_DIR:-target}/debug/examples
if [ -n "$py" ]; then
  venv=target/oracle-venv
  [ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/oracle/requirements.txt
  part "oracle installed"
  "$venv/bin/python" tests/oracle/calc_diff.py --bin "$bin/calc_eval"
  part "calc_diff"
  # Absolute: the runner starts python in a fresh temporary folder.
  TEST_PYTHON="$PWD/$venv/bin/python" "$venv/bin/python" tests/oracle/capa_diff.py --lectern "$bin/capa_grade"
  part "capa_diff"
else
  # Without Python 3.12 the CAPA oracle cannot be installed; the evaluator's still runs.
  echo "NOTE: no Python >= 3.12 found: the CAPA differential test is not run on this machine"
  venv=target/oracle-venv-calc
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check openedx-calc==4.0.3
  "$venv/bin/python" tests/oracle/calc_diff.py --bin "$bin/calc_eval"
fi

# Real-browser suite (tests/browser/README.md): Debian's Chromium driven by
# Playwright against the debug binary, every fixture problem answered in the
# page, the Studio/learner/admin journeys, axe-core on every kind of page.
step "real-browser suite (Chromium + Playwright + axe-core)"
browser_start=$(date +%s)
if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi dejavu; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
cargo build -q --locked -p lectern
browser_status=0
SCREENSHOTS=target/browser-screenshots node tests/browser/run.mjs || browser_status=$?
echo "real-browser suite took $(( $(date +%s) - browser_start )) s"
[ "$browser_status" -eq 0 ]

# Cluster operations (issue 17): one cluster (scripts/cluster.sh; root, network
# namespaces) brought up on the previous commit's binary, then a rolling update
# to this checkout's, one backup schedule surviving its lease holder's death,
# and a one-box SQLite site restored into the cluster (tests/cluster/operations.sh;
# docs/upgrades.md, docs/cluster.md). Needs the previous commit in the clone
# (CI: fetch-depth 2 or more); it fails, never skips, without it.
step "cluster: rolling update, one backup schedule, one box to cluster"
bash tests/cluster/operations.sh

leg_done
leg_name=""
printf '\n== all tests passed in %ss ==\n' "$(( $(date +%s) - suite_start ))"
