#!/usr/bin/env bash
# Issue 22's scale benchmark: N idle instances in one `lectern serve`
# (default 100): time to create each, time to ready, RSS with none of them
# open vs. a deployment with no instance, first-request (open) and warm
# latency per instance, RSS with all open and after idle close, twice.
#
#   bash bench/instances.sh [COUNT] [WITH_COURSE] [IDLE_SECS]
#
# COUNT instances (100), the demo course imported into the first WITH_COURSE
# of them (5), `[instances] idle_close_secs` IDLE_SECS (30: the
# 100 first requests must fit in it on a busy machine, or the first instances
# close before the last opens; 10 is the least allowed).
# Uses the release binary: $LECTERN_BIN, else $CARGO_TARGET_DIR/release/lectern,
# else target/release/lectern (build it first: cargo build --release -p lectern).
# CYCLES=N repeats the open-all/close-all cycle N times (2).
# EXTRA_TOML="[search]\nenabled = false" adds lectern.toml text to both
# deployments (experiments: what an open instance's memory is).
# Measures and prints (bench/instances.py does the work); never fails on a figure.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
COURSE_TAR=${COURSE_TAR:-$ROOT/tests/fixtures/olx/openedx-demo-course.tar.gz}
COUNT=${1:-100}
WITH_COURSE=${2:-5}
IDLE=${3:-30}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }
unset LECTERN_BIN  # the binary refuses LECTERN_ variables it does not know

WORK=$(mktemp -d /tmp/lectern-bench-instances.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?'))"
python3 "$ROOT/bench/instances.py" --bin "$BIN" --work "$WORK" --count "$COUNT" \
  --with-course "$WITH_COURSE" --course-tar "$COURSE_TAR" --idle "$IDLE" \
  --cycles "${CYCLES:-2}" --extra-toml "$(printf '%b' "${EXTRA_TOML:-}")"
