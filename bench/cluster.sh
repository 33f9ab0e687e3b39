#!/usr/bin/env bash
# Problem checks per second and latency (p50/p90/p99) against one cluster
# node and against the three nodes behind HAProxy, with the same client
# (bench/checks.py) in the same run, on a cluster from scripts/cluster.sh
# (PostgreSQL with synchronous replication to a second node: every check's
# commit waits for a standby).
#
#   bash bench/cluster.sh [SECONDS_PER_LEVEL] [LEVELS]     (root)
#
# Uses the release binary (LECTERN_BIN, default target/release/lectern: cargo
# build --release -p lectern). CLUSTER_ID and CLUSTER_DIR as for cluster.sh
# (defaults 0 and /tmp/lectern-cluster); the cluster is brought up and taken
# down here. Prints, and keeps a copy in bench/results/; never fails on a figure.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
SECONDS_PER_LEVEL=${1:-20}
LEVELS=${2:-1,16,64}
BIN=$(realpath "${LECTERN_BIN:-$ROOT/target/release/lectern}")
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }
commit=$(git rev-parse --short HEAD)
out=bench/results/$(date -u +%Y-%m-%d)-$commit-cluster.txt
work=$(mktemp -d /tmp/lectern-bench-cluster.XXXXXX)
cleanup() { unset LECTERN_BIN; scripts/cluster.sh down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

# The client signs up and signs in dozens of learners from one address.
printf '%s\n' LECTERN_REGISTRATIONS_PER_ADDRESS=100000 LECTERN_LOGIN_ATTEMPTS_PER_ADDRESS=100000 >"$work/node.env"
scripts/cluster.sh down >/dev/null 2>&1 || true
urls=$(CLUSTER_NODE_ENV_FILE=$work/node.env LECTERN_BIN=$BIN scripts/cluster.sh up)
url() { printf '%s\n' "$urls" | awk -v k="$1" '$1 == k {print $2}'; }
mkdir -p "$work/cli"
env -u LECTERN_BIN LECTERN_DATABASE_URL="$(url database)" LECTERN_DATA_DIR="$work/cli" \
  "$BIN" import tests/fixtures/olx/openedx-demo-course.tar.gz >/dev/null 2>&1

{
  echo "== bench/cluster.sh: binary $BIN (commit $commit), $SECONDS_PER_LEVEL s per level"
  echo "== three Lectern nodes, three Patroni/PostgreSQL 15 (synchronous replication), etcd and HAProxy, all on this machine"
  echo
  echo "==================== one node: $(url node1) ===================="
  env -u LECTERN_BIN python3 bench/checks.py --base "$(url node1)" --seconds "$SECONDS_PER_LEVEL" --levels "$LEVELS"
  echo
  echo "==================== three nodes behind HAProxy: $(url proxy) ===================="
  env -u LECTERN_BIN python3 bench/checks.py --base "$(url proxy)" --seconds "$SECONDS_PER_LEVEL" --levels "$LEVELS"
} 2>&1 | tee "$out"
echo "kept in $out"
