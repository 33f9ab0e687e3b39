# shellcheck shell=bash
# Shared by the cluster tests of rolling updates, scheduled backups and
# moving a one-box site (tests/cluster/{rolling,backup_schedule,onebox}.sh):
# bring a cluster up (or reuse the one a suite brought up: CLUSTER_SHARED=1),
# read its five URLs, run `lectern` commands against its database.
# CLUSTER_ID and CLUSTER_DIR pass through to scripts/cluster.sh as they are.

cluster=scripts/cluster.sh
t0=$(date +%s)
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '[%3ss] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }
code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }

# The binary this checkout builds (the "new" release).
current_binary() {
  cargo build -q --locked -p lectern --bin lectern >&2
  realpath "${CARGO_TARGET_DIR:-target}/debug/lectern"
}

# cluster_begin: sets node1 node2 node3 proxy db. Without CLUSTER_SHARED a
# fresh cluster is brought up (LECTERN_BIN, CLUSTER_NODE_ENV_FILE as given)
# and taken down when the script exits (CLUSTER_KEEP=1 keeps a failed one).
cluster_begin() {
  local out
  if [ -z "${CLUSTER_SHARED:-}" ]; then
    "$cluster" down >/dev/null 2>&1 || true
    trap cluster_end EXIT
  fi
  out=$("$cluster" up) || fail "cluster.sh up failed"
  url() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k {print $2}'; }
  # shellcheck disable=SC2034  # read by the scripts that source this file
  node1=$(url node1) node2=$(url node2) node3=$(url node3) proxy=$(url proxy) db=$(url database)
  [ -n "$db" ] && [ -n "$proxy" ] || fail "cluster.sh up printed: $out"
}

# cluster_end [STATUS]: down, unless CLUSTER_KEEP and STATUS (default $?) is a failure.
cluster_end() {
  local rc=${1:-$?}
  if [ "$rc" != 0 ] && [ -n "${CLUSTER_KEEP:-}" ]; then
    echo "cluster left up for a look; remove it with: $cluster down" >&2
  else
    "$cluster" down >/dev/null 2>&1 || true
  fi
  exit "$rc"
}

# The PID file and running executable of node $1's Lectern.
node_exe() {
  local pid
  pid=$(cat "${CLUSTER_DIR:-/tmp/lectern-cluster}/node$1/lectern.pid" 2>/dev/null) || true
  [ -n "$pid" ] && readlink "/proc/$pid/exe" 2>/dev/null || echo none
}

# `lectern` ($1: which binary) on the cluster's database, from the host. The
# environment is emptied of LECTERN_ variables the binary would refuse.
lectern_on_cluster() {
  local bin=$1; shift
  # shellcheck disable=SC2154  # $work: each script's scratch folder
  mkdir -p "$work/cli"
  env -u LECTERN_BIN LECTERN_DATABASE_URL="$db" LECTERN_DATA_DIR="$work/cli" "$bin" "$@"
}

sql() { psql -X -q -t -A -v ON_ERROR_STOP=1 "$db" -c "$1"; }
