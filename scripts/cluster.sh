#!/usr/bin/env bash
# A three-node Lectern cluster on one machine, each node in its own network
# namespace: an etcd member, PostgreSQL managed by Patroni (synchronous
# replication, automatic failover) and `lectern serve`; HAProxy on the host
# routes the database port to the primary and the web port to the nodes.
# It is the harness of the failover tests and, step by step, the recipe for
# three VMs (docs/cluster.md).
#
#   scripts/cluster.sh up              start everything, wait until healthy, print
#                                      node1 URL / node2 URL / node3 URL / proxy URL / database URL
#   scripts/cluster.sh kill-node N     SIGKILL node N's Lectern
#   scripts/cluster.sh start-node N    start node N's Lectern again
#   scripts/cluster.sh stop-node N     stop node N's Lectern gracefully (SIGTERM, as a deploy would)
#   scripts/cluster.sh kill-primary    SIGKILL Patroni and PostgreSQL on the primary's node
#   scripts/cluster.sh partition-primary   take the primary's node's link down
#   scripts/cluster.sh heal-all        every link up again
#   scripts/cluster.sh start-all       start whatever is not running
#   scripts/cluster.sh status          one line per node, the proxy, the primary
#   scripts/cluster.sh down            stop everything by PID, remove all state
#
# Environment: LECTERN_BIN (default: this repository's target/debug/lectern), CLUSTER_DIR
# (default /tmp/lectern-cluster), CLUSTER_ID (0-99, default 0: picks the
# subnet 10.250.ID.0/24, interface names and ports, so two clusters can run
# side by side), CLUSTER_PATRONI_VENV (default /opt/lectern-patroni),
# CLUSTER_NODE_ENV_FILE (NAME=value lines added to every node's Lectern
# environment, e.g. LECTERN_BACKUP_*; remembered by `up`).
# Only loopback and the cluster's own subnet are listened on.
set -euo pipefail

CLUSTER_ID=${CLUSTER_ID:-0}
case "$CLUSTER_ID" in
  [0-9] | [1-9][0-9]) ;;
  *) echo "CLUSTER_ID must be a number from 0 to 99" >&2; exit 2 ;;
esac
DIR=${CLUSTER_DIR:-/tmp/lectern-cluster}
NET=10.250.$CLUSTER_ID
BRIDGE=lcbr$CLUSTER_ID
# Below the kernel's ephemeral range (32768–60999): a port in it can be
# taken by any outgoing connection's local end at the moment HAProxy binds.
HTTP_PORT=$((25400 + CLUSTER_ID * 10))
DB_PORT=$((HTTP_PORT + 1))
VENV=${CLUSTER_PATRONI_VENV:-/opt/lectern-patroni}
PATRONI_REQUIREMENT='patroni[etcd3]>=4.0,<5'
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=cluster/config.sh
. "$HERE/cluster/config.sh"

node_ip() { echo "$NET.$1"; }
netns() { echo "lc$CLUSTER_ID-n$1"; }
veth() { echo "lc$CLUSTER_ID-v$1"; }
say() { echo "cluster: $*" >&2; }
die() { echo "cluster: $*" >&2; exit 1; }
in_ns() { local n=$1; shift; ip netns exec "$(netns "$n")" "$@"; }

# --- processes: every one started by PID file, stopped by PID -------------

pid_of() { cat "$DIR/$1.pid" 2>/dev/null || true; }
# Whether a PID runs; a zombie does not (daemons outlive the shell that
# started them, and whoever inherits them may reap late).
running() {
  local state
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
  [ -n "$state" ] && [ "$state" != Z ]
}
alive() { running "$(pid_of "$1")"; }
postmaster_pid() { head -n 1 "$DIR/node$1/postgres/data/postmaster.pid" 2>/dev/null || true; }

# Starts "$@" detached (own session, no terminal, output to a log) and keeps
# its PID. Every wrapper in the chain (ip netns exec, setsid, setpriv, env)
# execs, so $! is the daemon itself.
launch() {
  local name=$1; shift
  setsid "$@" </dev/null >>"$DIR/$name.log" 2>&1 9>&- &
  echo $! >"$DIR/$name.pid"
}

# Run as the packages' `postgres` user (setpriv execs; su and runuser fork),
# with a clean environment.
AS_POSTGRES=(setpriv --reuid=postgres --regid=postgres --init-groups)
CLEAN_ENV=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)

start_etcd() {
  local n=$1 flags
  alive "node$n/etcd" && return 0
  mapfile -t flags < <(etcd_flags "$n")
  # A member that already has data rejoins; "new" only matters the first time.
  launch "node$n/etcd" ip netns exec "$(netns "$n")" \
    "${AS_POSTGRES[@]}" "${CLEAN_ENV[@]}" HOME=/var/lib/postgresql /usr/bin/etcd "${flags[@]}"
}

start_patroni() {
  local n=$1
  alive "node$n/patroni" && return 0
  launch "node$n/patroni" ip netns exec "$(netns "$n")" \
    "${AS_POSTGRES[@]}" "${CLEAN_ENV[@]}" HOME=/var/lib/postgresql "$VENV/bin/patroni" "$DIR/node$n/patroni.yml"
}

lectern_bin() {
  local bin=${LECTERN_BIN:-}
  if [ -z "$bin" ] && [ -f "$DIR/lectern-bin" ]; then bin=$(cat "$DIR/lectern-bin"); fi
  bin=${bin:-$HERE/../target/debug/lectern}
  [ -x "$bin" ] || die "no Lectern binary at $bin (build it, or set LECTERN_BIN)"
  realpath "$bin"
}

# Node 3's database URL lists the PostgreSQL servers; the others use HAProxy.
node_database_url() {
  if [ "$1" = 3 ] && [ -f "$DIR/node3-database-url" ]; then cat "$DIR/node3-database-url"
  else cat "$DIR/node-database-url"; fi
}

start_lectern() {
  local n=$1 bin
  alive "node$n/lectern" && return 0
  bin=$(lectern_bin)
  mkdir -p "$DIR/node$n/lectern"
  # Extra settings for every node (CLUSTER_NODE_ENV_FILE, else what `up` kept).
  local extra=() envf=${CLUSTER_NODE_ENV_FILE:-$DIR/node-env}
  [ -f "$envf" ] && mapfile -t extra < <(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$envf")
  # A clean environment: the binary refuses LECTERN_ variables it does not know.
  launch "node$n/lectern" ip netns exec "$(netns "$n")" "${CLEAN_ENV[@]}" \
    HOME="$DIR/node$n/lectern" \
    LECTERN_DATA_DIR="$DIR/node$n/lectern" \
    LECTERN_LISTEN="$(node_ip "$n"):8080" \
    LECTERN_DATABASE_URL="$(node_database_url "$n")" \
    LECTERN_TRUSTED_PROXIES="$NET.254" \
    "${extra[@]}" \
    "$bin" serve
}

start_haproxy() {
  alive haproxy && return 0
  launch haproxy /usr/sbin/haproxy -db -f "$DIR/haproxy.cfg"
}

# SIGKILL a PID and wait until it is gone.
kill_hard() {
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -KILL "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do running "$pid" || return 0; sleep 0.1; done
}

# --- installation ----------------------------------------------------------

install_packages() {
  local missing=()
  command -v etcd >/dev/null || missing+=(etcd-server)
  command -v etcdctl >/dev/null || missing+=(etcd-client)
  command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v curl >/dev/null || missing+=(curl)
  command -v pgrep >/dev/null || missing+=(procps)
  command -v psql >/dev/null || missing+=(postgresql-client)
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
  /usr/bin/python3 -c 'import psycopg2' 2>/dev/null || missing+=(python3-psycopg2)
  /usr/bin/python3 -c 'import etcd' 2>/dev/null || missing+=(python3-etcd)
  /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]} from Debian's packages"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
  # Patroni 4 from the package index, in a venv that reuses Debian's psycopg2
  # and python-etcd (CLUSTER-NOTES: Debian's 3.0.2 with etcd3 loses writes).
  if ! "$VENV/bin/patroni" --version >/dev/null 2>&1; then
    say "installing Patroni 4 into $VENV"
    /usr/bin/python3 -m venv --system-site-packages "$VENV" >&2
    "$VENV/bin/pip" install -q "$PATRONI_REQUIREMENT" >&2
  fi
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
}

# --- network: a bridge on the host, one namespace and veth pair per node ---

net_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.254/24" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" up
  local n
  for n in 1 2 3; do
    ip netns list | grep -qw "$(netns "$n")" || ip netns add "$(netns "$n")"
    # An existing link keeps its state: only heal-all brings a cut link up.
    if ! ip link show "$(veth "$n")" >/dev/null 2>&1; then
      ip link add "$(veth "$n")" type veth peer name eth0 netns "$(netns "$n")"
      ip link set "$(veth "$n")" master "$BRIDGE"
      in_ns "$n" ip addr add "$(node_ip "$n")/24" dev eth0
      ip link set "$(veth "$n")" up
    fi
    in_ns "$n" ip link set lo up
    in_ns "$n" ip link set eth0 up
  done
}

net_down() {
  local n
  for n in 1 2 3; do
    if ip netns list | grep -qw "$(netns "$n")"; then ip netns del "$(netns "$n")"; fi
    # Deleting the namespace deletes the pair, a moment later.
    ip link del "$(veth "$n")" 2>/dev/null || true
  done
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link del "$BRIDGE"; fi
}

# "up" or "down": whether node $1's host-side link is administratively up.
link_state() {
  if ip -o link show dev "$(veth "$1")" 2>/dev/null | grep -q '[<,]UP[,>]'; then echo up; else echo down; fi
}

# --- asking the cluster ------------------------------------------------------

# HTTP status of a URL, asked from inside node $1's namespace (works while
# its link is down, since the node's own address is local there).
http_code_in() {
  local n=$1 url=$2
  in_ns "$n" curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" 2>/dev/null || true
}
http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null || true; }

# The node whose Patroni says it is the primary; a reachable one first.
primary_node() {
  local n fallback=""
  for n in 1 2 3; do
    [ "$(http_code_in "$n" "http://$(node_ip "$n"):8008/primary")" = 200 ] || continue
    if [ "$(link_state "$n")" = up ]; then echo "$n"; return 0; fi
    fallback=$n
  done
  [ -n "$fallback" ] && echo "$fallback"
}

# "role state" of node $1 as its Patroni reports it, or "unreachable".
patroni_role() {
  local json
  json=$(in_ns "$1" curl -s -m 2 "http://$(node_ip "$1"):8008/patroni" 2>/dev/null) || true
  [ -n "$json" ] || { echo "unreachable"; return 0; }
  /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("role","?"), d.get("state","?"))' <<<"$json" 2>/dev/null \
    || echo "unreachable"
}

# True when the Patroni cluster has a running leader, two replicas that are
# running (Patroni 3) or streaming (Patroni 4), and a synchronous standby.
patroni_healthy() {
  local n json
  for n in 1 2 3; do
    [ "$(link_state "$n")" = up ] || continue
    json=$(curl -s -m 2 "http://$(node_ip "$n"):8008/cluster" 2>/dev/null) || continue
    /usr/bin/python3 -c '
import json, sys
members = json.load(sys.stdin).get("members", [])
leaders = [m for m in members if m.get("role") == "leader" and m.get("state") == "running"]
replicas = [m for m in members if m.get("role") in ("replica", "sync_standby")
            and m.get("state") in ("running", "streaming")]
sync = [m for m in members if m.get("role") == "sync_standby"]
sys.exit(0 if len(leaders) == 1 and len(replicas) == 2 and sync else 1)
' <<<"$json" && return 0
    return 1
  done
  return 1
}

etcd_healthy() {
  etcdctl --endpoints="http://$(node_ip 1):2379,http://$(node_ip 2):2379,http://$(node_ip 3):2379" \
    --command-timeout=2s endpoint health >/dev/null 2>&1
}

# wait_for SECONDS WHAT COMMAND...: polls until COMMAND succeeds.
wait_for() {
  local secs=$1 what=$2 start; shift 2
  start=$(date +%s)
  until "$@"; do
    if [ $(( $(date +%s) - start )) -ge "$secs" ]; then
      say "gave up waiting for $what after ${secs}s"
      return 1
    fi
    sleep 0.5
  done
  say "$what after $(( $(date +%s) - start ))s"
}

lectern_ready() { [ "$(http_code "http://$(node_ip "$1"):8080/health/ready")" = 200 ]; }
# For wait_for: ready, or stop waiting at once (with the logs) if it exited.
lectern_ready_or_gone() {
  lectern_ready "$1" && return 0
  alive "node$1/lectern" || { show_logs; die "node$1: Lectern exited (see $DIR/node$1/lectern.log)"; }
  return 1
}
lectern_live() { [ "$(http_code_in "$1" "http://$(node_ip "$1"):8080/health/live")" = 200 ]; }
all_lecterns_ready() { lectern_ready_or_gone 1 && lectern_ready_or_gone 2 && lectern_ready_or_gone 3; }
proxy_ready() { [ "$(http_code "http://127.0.0.1:$HTTP_PORT/health/ready")" = 200 ]; }
database_answers() { psql -X -q -t -c 'SELECT 1' "$(cat "$DIR/database-url")" >/dev/null 2>&1; }
superuser_psql() {
  PGPASSWORD=$SUPERUSER_PASSWORD PGCONNECT_TIMEOUT=3 psql -X -q -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$DB_PORT" -U postgres -d postgres "$@"
}
superuser_answers() { superuser_psql -t -c 'SELECT 1' >/dev/null 2>&1; }

# Shows the ends of the logs, for a start that did not come up.
show_logs() {
  local f
  for f in "$DIR"/node*/*.log "$DIR"/haproxy.log; do
    [ -f "$f" ] || continue
    echo "--- $f" >&2
    tail -n 15 "$f" >&2
  done
}

print_urls() {
  local n
  for n in 1 2 3; do echo "node$n http://$(node_ip "$n"):8080"; done
  echo "proxy http://127.0.0.1:$HTTP_PORT"
  echo "database $(cat "$DIR/database-url")"
}

anything_alive() {
  local name
  for name in haproxy node{1,2,3}/{etcd,patroni,lectern}; do alive "$name" && return 0; done
  return 1
}

check_node() {
  case "${1:-}" in 1 | 2 | 3) ;; *) die "name a node: 1, 2 or 3" ;; esac
}

load_secrets() {
  [ -f "$DIR/secrets" ] || die "no cluster in $DIR (run: $0 up)"
  # shellcheck disable=SC1091
  . "$DIR/secrets"
}

# --- commands ----------------------------------------------------------------

cmd_up() {
  if [ -f "$DIR/secrets" ]; then
    if anything_alive; then
      say "a cluster is already running in $DIR; starting what is missing"
      cmd_start_all
      load_secrets
      wait_for 120 "every node ready" all_lecterns_ready || { show_logs; exit 1; }
      print_urls
      return 0
    fi
    say "removing the stopped cluster left in $DIR"
    cmd_down
  fi
  [ "$(id -u)" = 0 ] || die "run as root (namespaces, links and the postgres user need it)"
  install_packages
  local bin; bin=$(lectern_bin)

  mkdir -p "$DIR"
  chmod 755 "$DIR"
  echo "$CLUSTER_ID" >"$DIR/cluster-id"
  echo "$bin" >"$DIR/lectern-bin"
  if [ -n "${CLUSTER_NODE_ENV_FILE:-}" ]; then cp "$CLUSTER_NODE_ENV_FILE" "$DIR/node-env"; fi
  local pw_super pw_repl pw_lectern
  pw_super=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  pw_repl=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  pw_lectern=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
  (umask 077; printf 'SUPERUSER_PASSWORD=%s\nREPLICATION_PASSWORD=%s\nLECTERN_PASSWORD=%s\nPG_BIN=%s\n' \
    "$pw_super" "$pw_repl" "$pw_lectern" "$PG_BIN" >"$DIR/secrets")
  load_secrets
  echo "postgres://lectern:$LECTERN_PASSWORD@127.0.0.1:$DB_PORT/lectern" >"$DIR/database-url"
  echo "postgres://lectern:$LECTERN_PASSWORD@$NET.254:$DB_PORT/lectern" >"$DIR/node-database-url"
  # Node 3 reaches the three PostgreSQL servers directly (libpq's host list;
  # Lectern finds the primary itself), the others go through HAProxy.
  echo "postgres://lectern:$LECTERN_PASSWORD@$(node_ip 1):5432,$(node_ip 2):5432,$(node_ip 3):5432/lectern?target_session_attrs=read-write&connect_timeout=2" >"$DIR/node3-database-url"

  local n
  for n in 1 2 3; do
    mkdir -p "$DIR/node$n/etcd" "$DIR/node$n/postgres/data" "$DIR/node$n/postgres/socket" "$DIR/node$n/lectern"
    chown -R postgres: "$DIR/node$n/etcd" "$DIR/node$n/postgres"
    chmod 700 "$DIR/node$n/etcd" "$DIR/node$n/postgres/data"
    (umask 077; patroni_yaml "$n" >"$DIR/node$n/patroni.yml")
    chown postgres: "$DIR/node$n/patroni.yml"
  done
  haproxy_cfg >"$DIR/haproxy.cfg"
  net_up

  for n in 1 2 3; do start_etcd "$n"; done
  wait_for 60 "etcd healthy" etcd_healthy || { show_logs; exit 1; }
  for n in 1 2 3; do start_patroni "$n"; done
  start_haproxy
  wait_for 120 "Patroni: a primary, two replicas, one synchronous" patroni_healthy || { show_logs; exit 1; }
  wait_for 30 "the primary through HAProxy" superuser_answers || { show_logs; exit 1; }
  superuser_psql >/dev/null <<SQL
CREATE ROLE lectern LOGIN PASSWORD '$LECTERN_PASSWORD';
CREATE DATABASE lectern OWNER lectern;
SQL

  # One node first: it applies the migrations; then the other two.
  start_lectern 1
  wait_for 90 "node1 ready" lectern_ready_or_gone 1 || { show_logs; exit 1; }
  start_lectern 2
  start_lectern 3
  wait_for 90 "every node ready" all_lecterns_ready || { show_logs; exit 1; }
  wait_for 30 "the proxy ready" proxy_ready || { show_logs; exit 1; }
  wait_for 30 "the database URL answering" database_answers || { show_logs; exit 1; }
  print_urls
}

cmd_kill_node() {
  check_node "${1:-}"
  load_secrets
  if alive "node$1/lectern"; then
    kill_hard "$(pid_of "node$1/lectern")"
    say "node$1: Lectern killed"
  else
    say "node$1: Lectern was not running"
  fi
}

cmd_start_node() {
  check_node "${1:-}"
  load_secrets
  start_lectern "$1"
  wait_for 60 "node$1 answering" lectern_live "$1" || { show_logs; exit 1; }
}

# SIGTERM: readiness off, drain, in-flight requests finish, jobs handed back
# (crates/lectern/src/commands/serve.rs); SIGKILL after 60 s.
cmd_stop_node() {
  check_node "${1:-}"
  load_secrets
  local pid; pid=$(pid_of "node$1/lectern")
  if ! running "$pid"; then say "node$1: Lectern was not running"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 600); do running "$pid" || break; sleep 0.1; done
  if running "$pid"; then kill_hard "$pid"; say "node$1: Lectern did not stop within 60 s: killed"
  else say "node$1: Lectern stopped"; fi
}

cmd_kill_primary() {
  load_secrets
  local p pm
  p=$(primary_node) || true
  [ -n "$p" ] || die "no node is primary right now"
  pm=$(postmaster_pid "$p")
  # Patroni first, so that it cannot restart PostgreSQL; then the postmaster
  # and every process it started, as if the machine had died.
  kill_hard "$(pid_of "node$p/patroni")"
  if running "$pm"; then
    local children; children=$(pgrep -P "$pm" || true)
    kill_hard "$pm"
    for c in $children; do kill -KILL "$c" 2>/dev/null || true; done
  fi
  say "node$p: Patroni and PostgreSQL killed (it was the primary)"
  echo "node$p"
}

cmd_partition_primary() {
  load_secrets
  local p; p=$(primary_node) || true
  [ -n "$p" ] || die "no node is primary right now"
  ip link set "$(veth "$p")" down
  say "node$p: link down (it was the primary)"
  echo "node$p"
}

cmd_heal_all() {
  load_secrets
  local n
  for n in 1 2 3; do ip link set "$(veth "$n")" up; done
  say "every link up"
}

cmd_start_all() {
  load_secrets
  net_up
  local n
  for n in 1 2 3; do start_etcd "$n"; done
  for n in 1 2 3; do start_patroni "$n"; done
  start_haproxy
  for n in 1 2 3; do start_lectern "$n"; done
  for n in 1 2 3; do
    wait_for 60 "node$n answering" lectern_live "$n" || { show_logs; exit 1; }
  done
  if [ "$(link_state 1)$(link_state 2)$(link_state 3)" = upupup ]; then
    wait_for 90 "Patroni: a primary, two replicas, one synchronous" patroni_healthy \
      || say "the database cluster is not whole yet"
  else
    say "a link is down (heal-all): not waiting for the database cluster to be whole"
  fi
}

cmd_status() {
  load_secrets
  local n name state p
  for n in 1 2 3; do
    printf 'node%s http://%s:8080 link=%s' "$n" "$(node_ip "$n")" "$(link_state "$n")"
    for name in etcd patroni lectern; do
      if alive "node$n/$name"; then state=running; else state=stopped; fi
      printf ' %s=%s' "$name" "$state"
    done
    printf ' postgres=%s' "$(patroni_role "$n" | tr ' ' '/')"
    if lectern_live "$n"; then
      [ "$(http_code_in "$n" "http://$(node_ip "$n"):8080/health/ready")" = 200 ] && state=ready || state=degraded
    else
      state=down
    fi
    printf ' http=%s\n' "$state"
  done
  if alive haproxy; then state=running; else state=stopped; fi
  printf 'proxy http://127.0.0.1:%s haproxy=%s http=%s\n' "$HTTP_PORT" "$state" \
    "$(proxy_ready && echo ready || echo unavailable)"
  printf 'database 127.0.0.1:%s %s\n' "$DB_PORT" "$(database_answers && echo answering || echo unavailable)"
  p=$(primary_node) || true
  if [ -n "$p" ]; then echo "primary node$p"; else echo "primary none"; fi
}

cmd_down() {
  if [ -f "$DIR/cluster-id" ]; then
    local n pids=() pid
    # The state is about to go, so nothing needs handing over: Patroni and
    # etcd get SIGKILL (gracefully they spend seconds on leader keys and
    # leadership), each postmaster SIGINT (fast shutdown), Lectern and HAProxy
    # SIGTERM; whatever is left after 10 s gets SIGKILL.
    for n in 1 2 3; do kill_hard "$(pid_of "node$n/patroni")"; done
    for n in 1 2 3; do kill_hard "$(pid_of "node$n/etcd")"; done
    for n in 1 2 3; do pids+=("$(pid_of "node$n/lectern")"); done
    pids+=("$(pid_of haproxy)")
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for n in 1 2 3; do
      pid=$(postmaster_pid "$n")
      if [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null; then pids+=("$pid"); fi
    done
    for _ in $(seq 100); do
      local left=0
      for pid in "${pids[@]}"; do if running "$pid"; then left=1; fi; done
      [ "$left" = 0 ] && break
      sleep 0.1
    done
    for pid in "${pids[@]}"; do kill_hard "$pid"; done
    # Whatever is still inside the namespaces was started by this script.
    for n in 1 2 3; do
      for pid in $(ip netns pids "$(netns "$n")" 2>/dev/null); do kill_hard "$pid"; done
    done
  elif [ -e "$DIR" ]; then
    die "$DIR is not a cluster folder (no cluster-id): not removing it"
  fi
  net_down
  rm -rf "$DIR"
  say "down"
}

# One command at a time changes a cluster (status only reads). The lock's
# descriptor is closed for every daemon launched, so none keeps it.
if [ "${1:-}" != status ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /run/lock
  exec 9>"/run/lock/lectern-cluster-$CLUSTER_ID.lock"
  flock 9
fi

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  kill-node) cmd_kill_node "${2:-}" ;;
  start-node) cmd_start_node "${2:-}" ;;
  stop-node) cmd_stop_node "${2:-}" ;;
  kill-primary) cmd_kill_primary ;;
  partition-primary) cmd_partition_primary ;;
  heal-all) cmd_heal_all ;;
  start-all) cmd_start_all ;;
  *)
    echo "usage: cluster.sh up|down|status|kill-node N|start-node N|stop-node N|kill-primary|partition-primary|heal-all|start-all" >&2
    exit 2
    ;;
esac
