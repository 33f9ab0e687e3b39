#!/usr/bin/env bash
# Import time and peak memory of `lectern import` for each fixture course.
#
#   bash bench/import.sh [RUNS]        (default 5 runs per archive; prints medians)
#
# Each run imports into a fresh data folder whose database was created
# beforehand with `lectern migrate`, so the figure is the import alone (read,
# parse, one transaction), timed by `/usr/bin/time -v` (wall clock and
# "Maximum resident set size"). Then runs the parser-only example
# `olx_bench` of lectern-content when it exists. Measures and prints only.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LECTERN_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lectern}
FIXTURES=${FIXTURES:-$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/olx}
RUNS=${1:-5}
[ -x "$BIN" ] || { echo "no binary at $BIN (cargo build --release -p lectern)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "needs GNU time: apt-get install -y time" >&2; exit 1; }

WORK=$(mktemp -d /tmp/lectern-bench-import.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

echo "== machine: $(date -u '+%Y-%m-%d %H:%M UTC'), nproc=$(nproc), $(free -g | awk '/^Mem:/ {print "free -g total=" $2 " GiB"}'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== binary: $BIN ($(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')), $RUNS runs per archive"
printf '%-40s %10s %12s %12s %12s  %s\n' archive size_KiB wall_s_med wall_s_min maxRSS_KiB_med result

for f in "$FIXTURES"/*.tar.gz; do
  name=$(basename "$f")
  walls=(); rsss=(); result=
  for i in $(seq 1 "$RUNS"); do
    d="$WORK/$name.$i"; mkdir -p "$d"
    "$BIN" migrate --data "$d" >/dev/null 2>&1
    if /usr/bin/time -v -o "$WORK/time.txt" "$BIN" import --data "$d" "$f" >"$WORK/out.txt" 2>"$WORK/err.txt"; then
      result="ok: $(head -1 "$WORK/out.txt")"
    else
      result="refused: $(grep -m1 -i error "$WORK/err.txt" | sed 's/.*refused: //' | cut -c1-90)"
    fi
    walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt")")
    rsss+=("$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")")
    rm -rf "$d"
  done
  python3 - "$name" "$(($(stat -c %s "$f") / 1024))" "$result" "${walls[*]}" "${rsss[*]}" <<'PY'
import statistics, sys
name, size, result, walls, rsss = sys.argv[1:]
def secs(t):  # h:mm:ss or m:ss(.ss)
    s = 0.0
    for part in t.split(":"):
        s = s * 60 + float(part)
    return s
w = [secs(x) for x in walls.split()]
r = [int(x) for x in rsss.split()]
print(f"{name:40s} {size:>10s} {statistics.median(w):12.2f} {min(w):12.2f} {statistics.median(r):12.0f}  {result}")
print(f"{'':40s} {'':>10s} runs: wall {w} s, maxRSS {r} KiB")
PY
done

if [ -f "$ROOT/crates/lectern-content/examples/olx_bench.rs" ]; then
  echo "== parser alone: cargo run --release -p lectern-content --example olx_bench"
  (cd "$ROOT" && cargo run --quiet --release -p lectern-content --example olx_bench)
fi
echo "== load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
