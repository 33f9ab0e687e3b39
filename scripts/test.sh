#!/usr/bin/env bash
# Runs every test Lectern has, on a machine that has only a Rust toolchain,
# Python 3 and network access to the package registries. It installs what it
# needs (rustfmt/clippy components, a Python virtual environment with Open
# edX's own grading code for the differential tests) and stops at the first
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s ==\n' "$*"; }

step "toolchain components"
if command -v rustup >/dev/null 2>&1; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

step "formatting"
cargo fmt --all -- --check

step "lints"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "unit and integration tests"
cargo test --workspace --locked

if ls tests/oracle/*_diff.py >/dev/null 2>&1; then
  step "differential tests against Open edX's own code"
  if ! python3 -c 'import venv' 2>/dev/null && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && apt-get install -y -qq python3-venv
  fi
  venv=target/oracle-venv
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/oracle/requirements.txt
  for t in tests/oracle/*_diff.py; do
    echo "-- $t"
    "$venv/bin/python" "$t"
  done
fi

step "all tests passed"
