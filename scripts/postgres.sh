#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests and benchmarks: its own data folder,
# port and socket folder, listening on loopback only. Nothing else on the
# machine is used or assumed to be running.
#
#   scripts/postgres.sh start DIR [--durable]   prints the admin URL on stdout
#   scripts/postgres.sh stop DIR
#
# Without --durable the server skips fsync (tests only: a crash of the
# machine is not what they test); benchmarks pass --durable so that every
# commit reaches the disk as in production.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR [--durable]}
dir=${2:?usage: postgres.sh start|stop DIR [--durable]}
durable=${3:-}

bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$d" ]; then
    echo "installing PostgreSQL from Debian's packages" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    d=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  fi
  echo "$d"
}

# initdb refuses to run as root: run the server as the packages' `postgres` user.
as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    bin=$(bindir)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    as_owner "$bin/initdb" -D "$dir/data" -U lectern --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    mkdir -p "$dir/socket"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir/socket"
    opts="-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=300"
    if [ "$durable" != "--durable" ]; then
      opts="$opts -c fsync=off -c full_page_writes=off"
    fi
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "$opts" -w -t 60 start >&2 \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "postgres://lectern@127.0.0.1:$port/postgres"
    ;;
  stop)
    bin=$(bindir)
    if [ -d "$dir/data" ]; then
      as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
    fi
    ;;
  *)
    echo "usage: postgres.sh start|stop DIR [--durable]" >&2
    exit 2
    ;;
esac
