#!/usr/bin/env bash
# Smoke test of scripts/cluster.sh (not part of `cargo test`): brings a
# cluster up, checks the five URLs it prints, kills one Lectern node, kills
# the primary (a new primary must take writes within 30 s), cuts the new
# primary off and heals it, restarts what was killed, and takes it all down.
# Every SQL write the database URL acknowledged must still be there at the
# end, checked 30 s after the heal (CLUSTER-NOTES: a split brain shows late).
#
#   tests/cluster/smoke.sh             (root; LECTERN_BIN as for cluster.sh)
#   CLUSTER_KEEP=1 tests/cluster/smoke.sh   leave a failed cluster up to look at
set -euo pipefail
cd "$(dirname "$0")/../.."

cluster=scripts/cluster.sh
suite_start=$(date +%s)
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { printf '[%3ss] %s\n' "$(( $(date +%s) - suite_start ))" "$*"; }
cleanup() {
  local rc=$?
  if [ "$rc" != 0 ] && [ -n "${CLUSTER_KEEP:-}" ]; then
    echo "cluster left up for a look; remove it with: $cluster down" >&2
  else
    "$cluster" down >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT

code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }
expect_ready() { [ "$(code "$1/health/ready")" = 200 ] || fail "$1/health/ready is not 200"; }

# --- up, and the five lines -----------------------------------------------
"$cluster" down >/dev/null 2>&1 || true
out=$("$cluster" up) || fail "cluster.sh up failed"
[ "$(printf '%s\n' "$out" | wc -l)" = 5 ] || fail "up printed other than five lines: $out"
url() { printf '%s\n' "$out" | awk -v k="$1" '$1 == k {print $2}'; }
node1=$(url node1) node2=$(url node2) node3=$(url node3) proxy=$(url proxy) db=$(url database)
for u in "$node1" "$node2" "$node3" "$proxy" "$db"; do [ -n "$u" ] || fail "a URL is missing: $out"; done
note "up: $proxy, $db"
for u in "$node1" "$node2" "$node3" "$proxy"; do expect_ready "$u"; done
psql -X -q -t -c 'SELECT 1' "$db" >/dev/null || fail "psql on the database URL"
note "five URLs answer"

# --- writes: SQL through the database URL, HTTP through the proxy ----------
export PGCONNECT_TIMEOUT=2
psql -X -q -c 'CREATE TABLE smoke (n integer PRIMARY KEY)' "$db" >/dev/null
written=0   # highest n acknowledged
acked=()    # every n acknowledged
sql_write() {
  local n=$((written + 1))
  if psql -X -q -c "INSERT INTO smoke VALUES ($n)" "$db" >/dev/null 2>&1; then
    written=$n; acked+=("$n"); return 0
  fi
  return 1
}
registered=0
http_write() { # [BASE]: the proxy unless a node's URL is given
  local n=$((registered + 1)) body base=${1:-$proxy}
  body=$(curl -s -m 10 -X POST -H 'Content-Type: application/json' \
    -d "{\"username\":\"smoke$n\",\"email\":\"smoke$n@example.org\",\"password\":\"a long enough password $n\",\"name\":\"Smoke $n\"}" \
    "$base/api/user/v1/account/registration/" || true)
  case "$body" in *'"success":true'*) registered=$n; return 0 ;; esac
  return 1
}
sql_write || fail "first SQL write"
http_write || fail "first HTTP write (registration through the proxy)"

# Polls WHAT until it succeeds; prints how long it took; fails after LIMIT s.
until_ok() {
  local limit=$1 what=$2 start; shift 2
  start=$(date +%s%N)
  until "$@"; do
    [ $(( ($(date +%s%N) - start) / 1000000000 )) -lt "$limit" ] || fail "$what: not within ${limit}s"
    sleep 0.2
  done
  note "$what after $(( ($(date +%s%N) - start) / 1000000 )) ms"
}
primary() { "$cluster" status | awk '$1 == "primary" {print $2}'; }
primary_is_not() { local p; p=$(primary); [ -n "$p" ] && [ "$p" != none ] && [ "$p" != "$1" ]; }

# --- one Lectern node killed: the proxy keeps serving -----------------------
"$cluster" kill-node 2
[ "$(code "$node2/health/live")" = 000 ] || fail "node2 still answers after kill-node 2"
for _ in 1 2 3 4 5 6; do expect_ready "$proxy"; done
http_write || fail "HTTP write through the proxy with node2 dead"
"$cluster" start-node 2
until_ok 30 "node2 ready again" test "$(code "$node2/health/ready")" = 200

# --- the primary's node dies ------------------------------------------------
old=$("$cluster" kill-primary)
note "killed the primary ($old)"
until_ok 30 "a new primary" primary_is_not "$old"
until_ok 30 "SQL writes through the database URL" sql_write
until_ok 60 "HTTP writes through the proxy" http_write
# Node 3 has no proxy: its host list must lead it to the new primary (its
# Lectern outlives kill-primary even when its own PostgreSQL was the one).
until_ok 60 "HTTP writes on node3 (host list)" http_write "$node3"
"$cluster" start-all
note "start-all: $old back"
"$cluster" status

# --- the (new) primary's node is cut off, then healed ------------------------
cut=$("$cluster" partition-primary)
note "cut off the primary ($cut)"
until_ok 40 "a new primary after the partition" primary_is_not "$cut"
until_ok 30 "SQL writes during the partition" sql_write
until_ok 60 "HTTP writes during the partition" http_write
[ "$cut" = node3 ] || until_ok 60 "HTTP writes on node3 during the partition" http_write "$node3"
for _ in 1 2 3 4 5; do sql_write || fail "SQL write during the partition"; done
"$cluster" heal-all
note "healed; writing for 30 s before checking (a split brain shows late)"
settle_end=$(( $(date +%s) + 30 ))
while [ "$(date +%s)" -lt "$settle_end" ]; do sql_write || true; sleep 0.5; done
"$cluster" start-all
"$cluster" status

# --- every acknowledged write is there, once --------------------------------
have=$(psql -X -q -t -A -c 'SELECT string_agg(n::text, $$ $$ ORDER BY n) FROM smoke' "$db")
want=$(printf '%s ' "${acked[@]}"); want=${want% }
[ "$have" = "$want" ] || fail "acknowledged SQL writes lost or extra: want [$want] have [$have]"
note "${#acked[@]} acknowledged SQL writes, all present; $registered registrations"

# --- down removes everything -------------------------------------------------
cluster_dir=${CLUSTER_DIR:-/tmp/lectern-cluster}
"$cluster" down
[ ! -e "$cluster_dir" ] || fail "$cluster_dir still exists after down"
ip netns list | grep -q "^lc${CLUSTER_ID:-0}-n" && fail "namespaces left after down"
[ "$(code "$proxy/health/live")" = 000 ] || fail "the proxy still answers after down"
note "down"
echo "cluster smoke test passed in $(( $(date +%s) - suite_start ))s"
