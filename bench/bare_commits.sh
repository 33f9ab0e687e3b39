# Sourced by backends.sh and checks.sh: the machine's limit for a write that
# must be durable, as bare one-row commits per second on each backend, one
# client, same disk and settings (SQLite: WAL, synchronous=FULL, as Lectern
# opens it; PostgreSQL: the --durable throwaway server at $2).
#
#   bare_commits DIR ADMIN_URL   # prints "sqlite: N commits/s" and "postgres: N commits/s"
bare_commits() {
  echo "== bare durable one-row commits, one client, 5 s"
  python3 - "$1" <<'PY'
import sqlite3, sys, time, os
path = os.path.join(sys.argv[1], "bare.db")
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)")
n, start = 0, time.perf_counter()
while time.perf_counter() - start < 5:
    db.execute("BEGIN"); db.execute("INSERT INTO t (v) VALUES ('x')"); db.execute("COMMIT"); n += 1
print(f"sqlite: {n / (time.perf_counter() - start):.0f} commits/s")
PY
  psql -q "$2" -c "CREATE TABLE IF NOT EXISTS bare_t (id BIGSERIAL PRIMARY KEY, v TEXT)"
  printf "INSERT INTO bare_t (v) VALUES ('x');\n" > "$1/bare.sql"
  local pgbench
  pgbench=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)/pgbench
  "$pgbench" -n -c 1 -T 5 -f "$1/bare.sql" "$2" 2>/dev/null | awk '/^tps/ {printf "postgres: %.0f commits/s\n", $3}'
}
