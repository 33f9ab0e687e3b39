"""Issue 22's scale benchmark: many idle instances in one `lectern serve`.

Called by `bench/instances.sh` (which finds the release binary and makes the
work folder). Steps, all in one run so the figures compare:

1. a deployment with no instance: time from spawn to `/health/ready` and
   RSS once ready (the baseline);
2. `lectern instance create iN --host iN.bench.test` for N instances, timed
   one by one, and the demo course imported into the first few
   (`lectern --instance iN import`);
3. `lectern serve` on that deployment: time to ready and RSS with every
   instance registered and none open;
4. one request each (`GET /` with `Host: iN.bench.test`): the first opens
   the instance (first-request latency = open cost); RSS every 10 opens;
   then a second request each (warm latency);
5. the wait for `[instances] idle_close_secs` to close them all (polled in
   `/metrics`), and RSS after; then the same open/close cycle once more, to
   see whether memory comes back or grows from cycle to cycle.

Prints figures and a table; never asserts on them.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

SETTLE_S = 2.0


def proc_status(pid):
    """VmRSS, RssAnon, RssFile (KiB) and Threads of a process."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"):
                out[key] = int(rest.split()[0])
    return out


def fmt_status(s):
    return f"RSS {s['VmRSS']} KiB (anon {s['RssAnon']}, file {s['RssFile']}), {s['Threads']} threads"


def fmt_mem(kib):
    return f"{kib / 1024:.1f} MB ({kib:,} KiB)"


class Server:
    """`lectern serve` on a data folder, on a free loopback port."""

    def __init__(self, binary, data):
        self.binary = binary
        self.data = data
        self.port = benchlib.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    def start(self):
        """Starts the server and returns seconds from spawn to /health/ready."""
        log = open(os.path.join(self.data, f"serve-{time.time():.0f}.log"), "ab")
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--listen", f"127.0.0.1:{self.port}"],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"lectern serve exited with {self.proc.returncode}; see {self.data}")
            try:
                c = benchlib.Client(self.base, timeout=2)
                status, _, _ = c.request("GET", "/health/ready")
                c.close()
                if status == 200:
                    return time.perf_counter() - started
            except OSError:
                pass
            time.sleep(0.01)
        raise SystemExit(f"{self.base} not ready after 120 s")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def status(self):
        return proc_status(self.proc.pid)

    def open_count(self):
        c = benchlib.Client(self.base)
        status, _, data = c.request("GET", "/metrics")
        c.close()
        benchlib.check(status, data, "GET /metrics")
        m = re.search(rb'^lectern_instances\{state="open"\} (\d+)', data, re.M)
        return int(m.group(1)) if m else 0


def write_config(data, idle, extra):
    """DATA/lectern.toml: `extra` first (it may hold top-level keys), then [instances]."""
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "lectern.toml"), "w") as f:
        f.write(f"{extra.strip()}\n\n[instances]\nidle_close_secs = {idle}\n")


def run_cli(binary, data, args):
    """Runs one CLI command; returns its wall time in seconds."""
    started = time.perf_counter()
    done = subprocess.run([binary, "--data", data, *args], capture_output=True, text=True)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"lectern {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return took


def starts(server, times):
    """Starts the server `times` times; keeps the last one running.

    Returns the ready times and the status (RSS, threads) of each start,
    read SETTLE_S after ready.
    """
    ready, status = [], []
    for i in range(times):
        ready.append(server.start())
        time.sleep(SETTLE_S)
        status.append(server.status())
        if i + 1 < times:
            server.stop()
    return ready, status


def get(base, host):
    """One GET / for `host` on a fresh connection: (status, seconds)."""
    c = benchlib.Client(base, timeout=120)
    started = time.perf_counter()
    status, _, _ = c.request("GET", "/", headers={"Host": host})
    took = time.perf_counter() - started
    c.close()
    return status, took


def one_pass(server, names, rss_every=0):
    """A request to every instance in order; latencies (ms) and RSS steps."""
    latencies, steps = [], []
    for i, name in enumerate(names, 1):
        status, took = get(server.base, f"{name}.bench.test")
        if status != 200:
            raise SystemExit(f"GET / on {name}.bench.test: HTTP {status}")
        latencies.append(took * 1000)
        if rss_every and (i % rss_every == 0 or i == len(names)):
            steps.append((i, server.status()["VmRSS"]))
    return latencies, steps


def wait_all_closed(server, timeout):
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.open_count() == 0:
            return time.perf_counter() - started
        time.sleep(0.25)
    raise SystemExit(f"instances still open {timeout:.0f} s after the last request")


def summary(ms):
    s = sorted(ms)
    return (
        f"median {statistics.median(s):.1f} ms, p90 {benchlib.percentile(s, 90):.1f} ms, "
        f"max {s[-1]:.1f} ms, total {sum(s) / 1000:.2f} s"
    )


def opened_ms(data):
    """`instance opened ms=…` from the server logs: the open cost alone."""
    pattern = re.compile(r"instance opened.*?ms\W*=\W*(\d+)")
    ansi = re.compile(r"\x1b\[[0-9;]*m")
    found = []
    for name in sorted(os.listdir(data)):
        if name.startswith("serve-") and name.endswith(".log"):
            with open(os.path.join(data, name), errors="replace") as f:
                for line in f:
                    m = pattern.search(ansi.sub("", line))
                    if m:
                        found.append(float(m.group(1)))
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True, help="an empty folder for the data folders")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--with-course", type=int, default=5, help="instances given the demo course")
    ap.add_argument("--course-tar", required=True)
    ap.add_argument("--idle", type=int, default=10, help="[instances] idle_close_secs")
    ap.add_argument("--starts", type=int, default=3, help="server starts timed per deployment")
    ap.add_argument("--cycles", type=int, default=2, help="open-all/close-all cycles")
    ap.add_argument("--extra-toml", default="", help="more lectern.toml text for both deployments")
    a = ap.parse_args()
    n = a.count
    names = [f"i{i}" for i in range(1, n + 1)]
    print("== machine:", benchlib.machine())
    print(f"== {n} instances, demo course in {a.with_course}, idle_close_secs {a.idle}")
    if a.extra_toml.strip():
        print(f"== lectern.toml also has: {a.extra_toml.strip()!r}")
    malloc_env = {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k.startswith("GLIBC_")}
    if malloc_env:
        print(f"== allocator environment: {malloc_env}")

    # 1. No instance at all.
    base_data = os.path.join(a.work, "none")
    write_config(base_data, a.idle, a.extra_toml)
    server = Server(a.bin, base_data)
    try:
        ready0, st0 = starts(server, a.starts)
    finally:
        server.stop()
    rss0 = statistics.median(s["VmRSS"] for s in st0)
    print(f"no instances: ready in {', '.join(f'{r:.3f}' for r in ready0)} s; "
          f"RSS {', '.join(str(s['VmRSS']) for s in st0)} KiB; last: {fmt_status(st0[-1])}")

    # 2. Create the instances, then the courses.
    data = os.path.join(a.work, "many")
    write_config(data, a.idle, a.extra_toml)
    create_ms = []
    for name in names:
        create_ms.append(run_cli(a.bin, data, ["instance", "create", name, "--host", f"{name}.bench.test"]) * 1000)
    print(f"instance create ({n}, one process each): {summary(create_ms)}")
    import_ms = []
    for name in names[: a.with_course]:
        import_ms.append(run_cli(a.bin, data, ["--instance", name, "import", a.course_tar]) * 1000)
    if import_ms:
        print(f"demo course import into {len(import_ms)} instances: {summary(import_ms)}")
    load_after_setup = os.getloadavg()[0]

    # 3. Serve with every instance registered and none open.
    server = Server(a.bin, data)
    rows = []
    try:
        ready1, st1 = starts(server, a.starts)
        rss_reg = statistics.median(s["VmRSS"] for s in st1)
        print(f"{n} registered, 0 open: ready in {', '.join(f'{r:.3f}' for r in ready1)} s; "
              f"RSS {', '.join(str(s['VmRSS']) for s in st1)} KiB; last: {fmt_status(st1[-1])}; "
              f"open per /metrics: {server.open_count()}")
        for cycle in range(1, a.cycles + 1):
            cold, steps = one_pass(server, names, rss_every=10)
            after_cold = server.status()
            warm, _ = one_pass(server, names)
            time.sleep(1)
            opened = server.status()
            still_open = server.open_count()
            print(f"cycle {cycle}: first request each (opens it): {summary(cold)}")
            print(f"cycle {cycle}: RSS while opening: " + ", ".join(f"{i}: {k}" for i, k in steps))
            print(f"cycle {cycle}: second request each (warm): {summary(warm)}")
            print(f"cycle {cycle}: right after the first pass: {fmt_status(after_cold)}")
            print(f"cycle {cycle}: 1 s after the warm pass: {fmt_status(opened)}; open per /metrics {still_open}")
            waited = wait_all_closed(server, a.idle + 120)
            time.sleep(SETTLE_S)
            closed = server.status()
            print(f"cycle {cycle}: all closed {waited:.1f} s after the warm pass; "
                  f"{SETTLE_S:.0f} s later: {fmt_status(closed)}")
            rows.append((cycle, cold, warm, opened, still_open, closed))
    finally:
        server.stop()
    opens = opened_ms(data)

    # 4. The table.
    last = rows[-1]
    first = rows[0]
    print()
    print(f"| what | figure |")
    print(f"|---|---|")
    print(f"| instance create, one CLI process each ({n}) | median {statistics.median(create_ms):.0f} ms, "
          f"p90 {benchlib.percentile(sorted(create_ms), 90):.0f} ms, total {sum(create_ms) / 1000:.1f} s |")
    if import_ms:
        print(f"| demo course import into an instance ({len(import_ms)}) | median {statistics.median(import_ms):.0f} ms |")
    print(f"| time to ready, no instances (median of {a.starts}) | {statistics.median(ready0) * 1000:.0f} ms |")
    print(f"| time to ready, {n} registered (median of {a.starts}) | {statistics.median(ready1) * 1000:.0f} ms |")
    print(f"| RSS, no instances | {fmt_mem(rss0)} |")
    print(f"| RSS, {n} registered, none open | {fmt_mem(rss_reg)} |")
    for cycle, cold, warm, opened, still_open, closed in rows:
        print(f"| cycle {cycle}: first request per instance (opens it) | median {statistics.median(cold):.1f} ms, "
              f"p90 {benchlib.percentile(sorted(cold), 90):.1f} ms, max {max(cold):.1f} ms |")
        print(f"| cycle {cycle}: second request per instance (warm) | median {statistics.median(warm):.1f} ms, "
              f"p90 {benchlib.percentile(sorted(warm), 90):.1f} ms |")
        print(f"| cycle {cycle}: RSS, {still_open} open | {fmt_mem(opened['VmRSS'])}, {opened['Threads']} threads |")
        print(f"| cycle {cycle}: RSS, all closed again | {fmt_mem(closed['VmRSS'])}, {closed['Threads']} threads |")
    if opens:
        print(f"| server-side open (`instance opened ms`, {len(opens)} opens) | median {statistics.median(opens):.0f} ms, "
              f"max {max(opens):.0f} ms |")
    print(f"| **per registered, never opened instance** ((RSS {n} registered - none) / {n}) | "
          f"**{(rss_reg - rss0) / n:.1f} KiB** |")
    print(f"| **per idle (closed) instance**, cycle 1 ((RSS closed - none) / {n}) | "
          f"**{(first[5]['VmRSS'] - rss0) / n:.1f} KiB** |")
    if len(rows) > 1:
        print(f"| per idle (closed) instance, cycle {last[0]} | {(last[5]['VmRSS'] - rss0) / n:.1f} KiB |")
    print(f"| per open instance, cycle 1 ((RSS open - closed) / {n}) | "
          f"{(first[3]['VmRSS'] - first[5]['VmRSS']) / n:.1f} KiB |")
    print(f"| per open instance over the registered server, cycle 1 ((RSS open - registered) / {n}) | "
          f"{(first[3]['VmRSS'] - rss_reg) / n:.1f} KiB |")
    print(f"| threads per open instance, cycle 1 | {(first[3]['Threads'] - first[5]['Threads']) / n:.1f} |")
    print(f"\n== load average after setup {load_after_setup:.2f}; at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
