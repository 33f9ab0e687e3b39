#!/usr/bin/env python3
"""Problem checks per second at 1, 16 and 64 concurrent learners, with p50/p90/p99.

    python3 bench/checks.py                      # starts its own server (see below)
    python3 bench/checks.py --base http://127.0.0.1:8080   # against a running server
                                                            # that has the demo course

Without --base it takes the release binary ($LECTERN_BIN, else
$CARGO_TARGET_DIR/release/lectern, else target/release/lectern), a fresh temp
data folder, `lectern import`s the demo course and runs `lectern serve` on a
free port; it stops that server at the end.

Then: registers max(--levels) learners through the API, gets each a bearer
token, enrols each, reads the problem (GET /api/problems/v1/{usage_key}) for
its input ids and choices, finds which choice is right by submitting each
once (a calibration learner), and for each level N runs N threads, one learner
and one keep-alive http.client connection each, that POST
/api/problems/v1/{usage_key}/check with {"answers": {input_id: value}}
back to back for --seconds (after --warmup seconds not counted), alternating a
right and a wrong answer. Answers refused because the attempts are used up
(400/403/409 mentioning attempts) are counted apart, as are other errors.

The default problem is the demo course's "Basic Multiple Choice" (no
max_attempts anywhere in its ancestry). Measures and prints; no assertions.
The client runs on the same machine and shares its cores with the server:
its CPU use is printed beside the server's.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

DEFAULT_PROBLEM = "block-v1:OpenedX+DemoX+DemoCourse+type@problem+block@870b16e640d541af94a308caac834d2e"
PASSWORD = "bench-password-123"


def cpu_seconds(pid):
    """utime+stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / tick


def start_server(args):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binary = os.environ.get("LECTERN_BIN") or os.path.join(
        os.environ.get("CARGO_TARGET_DIR") or os.path.join(root, "target"), "release", "lectern"
    )
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no binary at {binary} (cargo build --release -p lectern)")
    data = tempfile.mkdtemp(prefix="lectern-bench-checks.")
    # The binary refuses LECTERN_* variables it does not know, such as the one naming it.
    env = {k: v for k, v in os.environ.items() if k != "LECTERN_BIN"}
    r = subprocess.run([binary, "import", "--data", data, args.course_tar], capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise SystemExit(f"lectern import failed:\n{r.stdout}{r.stderr}")
    print("binary:", binary, "- imported", r.stdout.splitlines()[0])
    port = b.free_port()
    log = open(os.path.join(data, "serve.log"), "w")
    proc = subprocess.Popen(
        [binary, "serve", "--data", data, "--listen", f"127.0.0.1:{port}"], stdout=log, stderr=log, env=env
    )
    base = f"http://127.0.0.1:{port}"
    b.wait_ready(base)
    return proc, data, base


def find_inputs(doc):
    """[(input_id, [choice values])] from GET /api/problems/v1/{key}, whatever its exact shape."""
    found = []
    inputs = (doc or {}).get("inputs")
    if isinstance(inputs, dict):
        inputs = [dict(v, id=k) if isinstance(v, dict) else {"id": k} for k, v in inputs.items()]
    for inp in inputs or []:
        if isinstance(inp, str):
            found.append((inp, []))
            continue
        iid = inp.get("id") or inp.get("input_id") or inp.get("name")
        choices = []
        for c in inp.get("choices") or inp.get("options") or []:
            if isinstance(c, str):
                choices.append(c)
            elif isinstance(c, dict):
                v = c.get("value") or c.get("name") or c.get("id")
                if v:
                    choices.append(v)
            elif isinstance(c, (list, tuple)) and c:
                choices.append(c[0])
        if iid:
            found.append((iid, choices))
    return found


def is_attempts_refusal(status, data):
    return status in (400, 403, 409) and b"attempt" in data.lower()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", help="a running server (else one is started)")
    ap.add_argument("--course-tar", default=str(Path(__file__).resolve().parent.parent / "tests/fixtures/olx/openedx-demo-course.tar.gz"))
    ap.add_argument("--course", default=b.DEMO_COURSE)
    ap.add_argument("--problem", default=DEFAULT_PROBLEM, help="usage key of the problem")
    ap.add_argument("--levels", default="1,16,64", help="concurrent learners, comma-separated")
    ap.add_argument("--seconds", type=float, default=20.0, help="measured seconds per level")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before each level")
    ap.add_argument("--pid", type=int, help="server pid for CPU use, when --base is given")
    ap.add_argument("--wrk", action="store_true",
                    help="drive each level with wrk (one connection and one learner per wrk thread) "
                         "instead of Python threads, whose GIL caps the rate the client can send")
    ap.add_argument("--right", help="a right answer (skips finding one by submitting each choice)")
    ap.add_argument("--wrong", help="a wrong answer (with --right)")
    ap.add_argument("--bare-commits", type=float,
                    help="the disk's bare durable one-row commits/s measured in the same run: "
                         "each level's checks/s is printed as a ratio of it")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    print("== machine:", b.machine())
    proc = data = None
    if args.base:
        base, pid = args.base, args.pid
    else:
        proc, data, base = start_server(args)
        pid = proc.pid
    try:
        run(args, base, pid, levels)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
            subprocess.run(["rm", "-rf", data])


def run(args, base, pid, levels):
    stamp = int(time.time())
    n = max(levels)
    t = time.perf_counter()
    # Registration hashes a password (Argon2): two at a time, the machine has 2 cores.
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        learners = list(ex.map(lambda i: b.register_and_token(base, f"ck{stamp}x{i}", PASSWORD), range(n + 1)))
    for c in learners:
        b.enrol(c, args.course)
    print(f"{n + 1} learners registered, signed in and enrolled in {time.perf_counter() - t:.1f} s")
    calib, learners = learners[0], learners[1:]

    key = urllib.parse.quote(args.problem, safe=":+@")
    status, doc, raw = calib.json("GET", f"/api/problems/v1/{key}")
    b.check(status, raw, f"GET /api/problems/v1/{args.problem}")
    inputs = find_inputs(doc)
    print(f"problem {args.problem}: {len(inputs)} input(s) {inputs}; "
          f"max_attempts {doc.get('max_attempts')!r}, attempts {doc.get('attempts')!r}")
    if len(inputs) != 1:
        raise SystemExit(f"expected one input, got {inputs}; response: {raw[:500]!r}")
    iid, choices = inputs[0]
    if not choices:
        choices = ["choice_0", "choice_1", "choice_2"]  # Open edX's names for <choice> without name=

    check_path = f"/api/problems/v1/{key}/check"
    right, wrong = [], []
    if args.right is not None and args.wrong is not None:
        right, wrong, choices = [args.right], [args.wrong], []
    for v in choices:
        status, res, raw = calib.json("POST", check_path, json_body={"answers": {iid: v}})
        b.check(status, raw, f"calibration check {v}")
        (right if res["possible"] and res["earned"] == res["possible"] else wrong).append(v)
    print(f"input {iid}: right {right}, wrong {wrong} (found by submitting each once)")
    if not right or not wrong:
        raise SystemExit("need both a right and a wrong answer")
    answers = [{"answers": {iid: right[0]}}, {"answers": {iid: wrong[0]}}]
    for c in [calib] + learners:
        c.close()

    results = []
    if pid:
        time.sleep(2)
        print(f"server RSS idle before the load: {b.rss_kib(pid) / 1024:.1f} MB")
    for i, level in enumerate(levels):
        sampler = RssSampler(pid)
        perf = None
        if pid and os.environ.get("PERF_OUT") and i == len(levels) - 1:
            perf = subprocess.Popen(["perf", "record"] + os.environ.get("PERF_CALLGRAPH", "-g").split() + ["-F", "999", "-p", str(pid), "-o", os.environ["PERF_OUT"]],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if args.wrk:
            results.append(run_level_wrk(base, pid, check_path, learners[:level], answers, args))
        else:
            results.append(run_level(base, pid, check_path, learners[:level], answers, args))
        results[-1]["rss"] = sampler.stop()
        if perf is not None:
            perf.send_signal(2)
            perf.wait()
    if pid:
        time.sleep(5)
        print(f"server RSS idle 5 s after the load: {b.rss_kib(pid) / 1024:.1f} MB "
              f"(peak of the process: {b.rss_kib(pid, 'VmHWM') / 1024:.1f} MB)")
    print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    bare = args.bare_commits
    print("| concurrent learners | checks/s | ratio to bare commits | p50 ms | p90 ms | p99 ms | checks | attempts refused | errors | peak RSS MB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        r["ratio"] = f"{r['rate'] / bare:.2f}" if bare else "-"
        r["rss_mb"] = f"{r['rss'] / 1024:.1f}" if r["rss"] else "-"
        print("| {level} | {rate:.0f} | {ratio} | {p50:.1f} | {p90:.1f} | {p99:.1f} | {ok} | {refused} | {errors} | {rss_mb} |".format(**r))


class RssSampler:
    """The highest VmRSS of `pid` seen every 100 ms until stop()."""

    def __init__(self, pid):
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        if pid:
            self.thread.start()

    def run(self):
        while not self.done.wait(0.1):
            try:
                self.peak = max(self.peak, b.rss_kib(self.pid) or 0)
            except OSError:
                return

    def stop(self):
        self.done.set()
        if self.pid:
            self.thread.join()
        return self.peak


WRK_SCRIPT = """
local bearers = {%(bearers)s}
local bodies = {%(bodies)s}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  n = 0
  me = bearers[((id - 1) %% #bearers) + 1]
end
function request()
  n = n + 1
  return wrk.format("POST", "%(path)s",
    {["Authorization"] = me, ["Content-Type"] = "application/json"}, bodies[(n %% 2) + 1])
end
function done(summary, latency, requests)
  io.write(string.format("WRK %%d %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000))
end
"""


def run_level_wrk(base, pid, path, learners, answers, args):
    """One level driven by wrk: `level` threads and connections, one learner each."""
    import json
    level = len(learners)
    lua = lambda s: '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    script = WRK_SCRIPT % {
        "bearers": ", ".join(lua("Bearer " + l.bearer) for l in learners),
        "bodies": ", ".join(lua(json.dumps(a)) for a in answers),
        "path": path,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cmd = ["wrk", "-t", str(level), "-c", str(level), "-s", f.name, "--timeout", "10s"]
    subprocess.run(cmd + ["-d", f"{max(1, int(args.warmup))}s", base], capture_output=True, text=True)
    srv0 = cpu_seconds(pid) if pid else None
    out = subprocess.run(cmd + ["-d", f"{int(args.seconds)}s", base], capture_output=True, text=True).stdout
    srv1 = cpu_seconds(pid) if pid else None
    os.unlink(f.name)
    line = next((l for l in out.splitlines() if l.startswith("WRK ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    requests, errors, micros, p50, p90, p99 = line.split()[1:]
    elapsed = int(micros) / 1e6
    ok = int(requests) - int(errors)
    r = dict(level=level, rate=ok / elapsed, p50=float(p50), p90=float(p90), p99=float(p99),
             ok=ok, refused=0, errors=int(errors))
    cpu = f", server CPU {(srv1 - srv0) / elapsed:.2f} cores" if srv0 is not None else ""
    print(f"{level:3d} learners (wrk): {r['rate']:.0f} checks/s, p50 {r['p50']:.1f} ms, p90 {r['p90']:.1f} ms, "
          f"p99 {r['p99']:.1f} ms, {ok} ok, {errors} non-2xx or failed in {elapsed:.1f} s{cpu}")
    return r


def run_level(base, pid, path, learners, answers, args):
    level = len(learners)
    stop = threading.Event()
    measuring = threading.Event()
    lock = threading.Lock()
    lat, counts = [], {"ok": 0, "refused": 0, "errors": 0}
    first_error = []

    def worker(i, learner):
        c = b.Client(base)
        c.bearer = learner.bearer
        mine, ok, refused, errors = [], 0, 0, 0
        j = i
        while not stop.is_set():
            body = answers[j % 2]
            j += 1
            counted = measuring.is_set()
            t = time.perf_counter()
            try:
                status, _, data = c.request("POST", path, json_body=body)
            except OSError as e:
                status, data = 0, repr(e).encode()
            dt = time.perf_counter() - t
            if not counted or stop.is_set():
                continue  # started in the warm-up, or finished after the window
            if status == 200:
                ok += 1
                mine.append(dt)
            elif is_attempts_refusal(status, data):
                refused += 1
            else:
                errors += 1
                if not first_error:
                    first_error.append(f"HTTP {status}: {data[:300]!r}")
        c.close()
        with lock:
            lat.extend(mine)
            counts["ok"] += ok
            counts["refused"] += refused
            counts["errors"] += errors

    threads = [threading.Thread(target=worker, args=(i, l), daemon=True) for i, l in enumerate(learners)]
    for th in threads:
        th.start()
    time.sleep(args.warmup)
    srv0 = cpu_seconds(pid) if pid else None
    cli0 = os.times()
    measuring.set()
    t0 = time.perf_counter()
    time.sleep(args.seconds)
    stop.set()
    elapsed = time.perf_counter() - t0
    cli1 = os.times()
    srv1 = cpu_seconds(pid) if pid else None
    for th in threads:
        th.join(timeout=60)
    lat.sort()
    r = dict(
        level=level,
        rate=counts["ok"] / elapsed,
        p50=1000 * b.percentile(lat, 50),
        p90=1000 * b.percentile(lat, 90),
        p99=1000 * b.percentile(lat, 99),
        **counts,
    )
    cpu = f"client CPU {(cli1.user + cli1.system - cli0.user - cli0.system) / elapsed:.2f} cores"
    if srv0 is not None:
        cpu += f", server CPU {(srv1 - srv0) / elapsed:.2f} cores"
    print(
        f"{level:3d} learners: {r['rate']:.0f} checks/s, p50 {r['p50']:.1f} ms, p90 {r['p90']:.1f} ms, p99 {r['p99']:.1f} ms, "
        f"{counts['ok']} ok, {counts['refused']} refused (attempts), {counts['errors']} errors "
        f"in {elapsed:.1f} s; {cpu}"
    )
    if first_error:
        print("   first error:", first_error[0])
    return r


if __name__ == "__main__":
    main()
