# shellcheck shell=bash
# Sourced by scripts/cluster.sh: the configuration files of one cluster
# (etcd flags, Patroni YAML, HAProxy), written from the shell variables that
# cluster.sh sets (NET, DIR, ports, passwords). Kept apart so that the recipe
# for three VMs in docs/cluster.md can point at one place for every setting.

# etcd's command line for node $1, one flag per line (read into an array).
etcd_flags() {
  local n=$1 ip; ip=$(node_ip "$1")
  cat <<EOF
--name=node$n
--data-dir=$DIR/node$n/etcd
--listen-client-urls=http://$ip:2379,http://127.0.0.1:2379
--advertise-client-urls=http://$ip:2379
--listen-peer-urls=http://$ip:2380
--initial-advertise-peer-urls=http://$ip:2380
--initial-cluster=node1=http://$(node_ip 1):2380,node2=http://$(node_ip 2):2380,node3=http://$(node_ip 3):2380
--initial-cluster-token=lectern-$CLUSTER_ID
--initial-cluster-state=new
--pre-vote=true
--heartbeat-interval=100
--election-timeout=1000
--logger=zap
EOF
}

# Patroni's configuration for node $1. The numbers in `dcs` are the ones
# CLUSTER-NOTES measured (ttl 20, loop_wait 2, retry_timeout 5) with
# synchronous replication, so that a commit is acknowledged only once a
# second node has it. The `etcd3:` section is safe with Patroni 4 only
# (Patroni 3.0.2 with etcd3 loses acknowledged writes after a partition).
patroni_yaml() {
  local n=$1 ip; ip=$(node_ip "$1")
  cat <<EOF
scope: lectern
namespace: /lectern/
name: node$n

log:
  level: INFO

restapi:
  listen: $ip:8008
  connect_address: $ip:8008

etcd3:
  hosts:
    - $(node_ip 1):2379
    - $(node_ip 2):2379
    - $(node_ip 3):2379

bootstrap:
  dcs:
    ttl: 20
    loop_wait: 2
    retry_timeout: 5
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      use_slots: true
      parameters:
        max_connections: 200
        wal_level: replica
        wal_log_hints: "on"
        hot_standby: "on"
        max_wal_senders: 10
        max_replication_slots: 10
        password_encryption: scram-sha-256
  initdb:
    - encoding: UTF8
    - locale: C.UTF-8
    - data-checksums

postgresql:
  listen: $ip:5432
  connect_address: $ip:5432
  data_dir: $DIR/node$n/postgres/data
  bin_dir: $PG_BIN
  pgpass: $DIR/node$n/postgres/pgpass
  use_unix_socket: true
  authentication:
    superuser:
      username: postgres
      password: $SUPERUSER_PASSWORD
    replication:
      username: replicator
      password: $REPLICATION_PASSWORD
    rewind:
      username: postgres
      password: $SUPERUSER_PASSWORD
  parameters:
    unix_socket_directories: $DIR/node$n/postgres/socket
  pg_hba:
    - local all all peer
    - host replication replicator $NET.0/24 scram-sha-256
    - host all all $NET.0/24 scram-sha-256
    - host all all 127.0.0.1/32 scram-sha-256

watchdog:
  mode: "off"

tags:
  nofailover: false
  noloadbalance: false
  clonefrom: false
  nosync: false
EOF
}

# HAProxy on the host: the database port goes to whichever node's Patroni
# answers 200 on /primary (sessions to a node that stops being primary are
# cut at once); the web port round-robins over the nodes that are ready, and
# over the nodes that are merely alive while none is ready (so published
# pages served from a node's memory still reach users during a failover).
haproxy_cfg() {
  local user_lines=""
  if getent passwd haproxy >/dev/null; then
    user_lines="  user haproxy
  group haproxy"
  fi
  cat <<EOF
global
  maxconn 4000
$user_lines

defaults
  timeout connect 2s
  retries 3
  option redispatch

listen database
  bind 127.0.0.1:$DB_PORT
  bind $NET.254:$DB_PORT
  mode tcp
  timeout client 30m
  timeout server 30m
  option httpchk GET /primary
  http-check expect status 200
  default-server inter 1s fastinter 500ms fall 2 rise 1 on-marked-down shutdown-sessions
  server node1 $(node_ip 1):5432 check port 8008
  server node2 $(node_ip 2):5432 check port 8008
  server node3 $(node_ip 3):5432 check port 8008

frontend web
  bind 127.0.0.1:$HTTP_PORT
  mode http
  timeout client 120s
  timeout http-request 10s
  option forwardfor
  use_backend web_ready if { nbsrv(web_ready) gt 0 }
  default_backend web_alive

backend web_ready
  mode http
  balance roundrobin
  timeout server 120s
  option httpchk GET /health/ready
  http-check expect status 200
  default-server inter 1s fall 2 rise 2
  server node1 $(node_ip 1):8080 check
  server node2 $(node_ip 2):8080 check
  server node3 $(node_ip 3):8080 check

backend web_alive
  mode http
  balance roundrobin
  timeout server 120s
  option httpchk GET /health/live
  http-check expect status 200
  default-server inter 1s fall 2 rise 1
  server node1 $(node_ip 1):8080 check
  server node2 $(node_ip 2):8080 check
  server node3 $(node_ip 3):8080 check
EOF
}
