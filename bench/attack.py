#!/usr/bin/env python3
"""Issue 13's attacks against the release binary, with the server's peak
memory and `/health/live` latency while each runs.

    python3 bench/attack.py [--levels 8,32,80] [--window 15] [--out FILE]

Starts `lectern serve` ($LECTERN_BIN, else $CARGO_TARGET_DIR/release/lectern,
else target/release/lectern) on a temp data folder under an address-space
limit (--as-limit, default 4 GB, so a blow-up kills the server, not the
machine), makes an admin with the CLI, imports a course holding the most
expensive problem the limits allow (three formula inputs of 1,000 samples,
or fewer if the import refuses that many), registers and enrols learners,
then runs, each while a prober GETs /health/live and the course's about page
every 100 ms on fresh connections:

  hostile checks   N checks at once (N from --levels), each answering every
                   input with factorial(9999)/factorial(9998)*x+y+z, for
                   --window seconds; the server is killed and restarted
                   between levels (the checks would run on for minutes)
  samples import   a problem with samples="x@1:5#100000000" (refused at import
                   once problem limits exist; if it is accepted it is NOT
                   checked: that is the attack that killed the server)
  NUL archive      a course whose about page is 120 MiB of NUL bytes (~120 KB
                   gzipped): status, time, data folder growth
  learner upload   a learner streams 200 MB to the import API (want: 403
                   before the body is read)
  made-up methods  200 requests with invented HTTP methods, then the number
                   of method labels /metrics shows
  wrong passwords  30 wrong passwords on the token endpoint, then the right one

Each attack reports what happened rather than failing when an expected
refusal is not there. Peak memory is the server's VmRSS sampled every 20 ms
during the attack, and its VmHWM at the end. Measures and prints (and writes
--out, default bench/results/DATE-COMMIT-attack.txt); asserts nothing.
"""

import argparse
import collections
import gzip
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "bench password 1234"
COURSE = "course-v1:Atk+H+R"
HOSTILE = "block-v1:Atk+H+R+type@problem+block@hostile"
INPUTS = 3
COSTLY_ANSWER = "factorial(9999)/factorial(9998)*x+y+z"
OUT = []


def say(*parts):
    line = " ".join(str(p) for p in parts)
    print(line, flush=True)
    OUT.append(line)


# ---------------------------------------------------------------- archives


class Zeros(io.RawIOBase):
    """A file of `n` NUL bytes that never sits in memory."""

    def __init__(self, n):
        self.left = n

    def readable(self):
        return True

    def readinto(self, buf):
        k = min(len(buf), self.left)
        buf[:k] = bytes(k)
        self.left -= k
        return k


def tar_gz(files):
    """{path: bytes | (size, fileobj)} → .tar.gz bytes."""
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as gz:
        with tarfile.open(fileobj=gz, mode="w") as tar:
            for path, content in files.items():
                info = tarfile.TarInfo(path)
                if isinstance(content, bytes):
                    info.size = len(content)
                    tar.addfile(info, io.BytesIO(content))
                else:
                    info.size, fileobj = content
                    tar.addfile(info, fileobj)
    return raw.getvalue()


def course(org, number, problems, extra=None):
    body = (
        f'<course display_name="{number}"><chapter url_name="c" display_name="C">'
        f'<sequential url_name="s" display_name="S" graded="true" format="Homework">'
        f'<vertical url_name="v" display_name="V">{problems}</vertical></sequential></chapter></course>'
    )
    files = {
        "course/course.xml": f'<course url_name="R" org="{org}" course="{number}"/>'.encode(),
        "course/course/R.xml": body.encode(),
        "course/policies/R/policy.json": b'{"course/R": {}}',
    }
    files.update(extra or {})
    return tar_gz(files)


def hostile_problem(samples):
    inputs = "".join(
        f'<formularesponse answer="x+y+z" samples="x,y,z@1,1,1:5,5,5#{samples}"><formulaequationinput/></formularesponse>'
        for _ in range(INPUTS)
    )
    return f'<problem url_name="hostile" display_name="Hostile">{inputs}</problem>'


# ---------------------------------------------------------------- server


class Server:
    def __init__(self, binary, data, as_limit):
        self.binary, self.data, self.as_limit = binary, data, as_limit
        self.proc = None
        self.port = b.free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self):
        limit = self.as_limit
        log = open(os.path.join(self.data, "serve.log"), "a")
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data", self.data, "--listen", f"127.0.0.1:{self.port}"],
            stdout=log,
            stderr=log,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit)),
        )
        b.wait_ready(self.base)

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def rss(self, field="VmRSS"):
        try:
            return b.rss_kib(self.proc.pid, field)
        except OSError:
            return None


class Watch:
    """Samples VmRSS every 20 ms and probes /health/live and a page every
    100 ms (fresh connection each, 30 s timeout) while an attack runs."""

    def __init__(self, server, page):
        self.server, self.page = server, page
        self.stop = threading.Event()
        self.peak = 0
        self.health, self.pages, self.failures = [], [], collections.Counter()

    def __enter__(self):
        self.threads = [threading.Thread(target=self._rss), threading.Thread(target=self._probe)]
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()

    def _rss(self):
        while not self.stop.is_set():
            r = self.server.rss()
            if r:
                self.peak = max(self.peak, r)
            time.sleep(0.02)

    def _probe(self):
        while not self.stop.is_set():
            for path, into in (("/health/live", self.health), (self.page, self.pages)):
                t = time.perf_counter()
                try:
                    c = b.Client(self.server.base, timeout=30)
                    status, _, _ = c.request("GET", path)
                    c.close()
                    if status == 200:
                        into.append((time.perf_counter() - t) * 1000)
                    else:
                        self.failures[f"{path} HTTP {status}"] += 1
                except OSError as e:
                    self.failures[f"{path} {type(e).__name__}"] += 1
            time.sleep(0.1)

    def report(self, what):
        def pct(xs):
            if not xs:
                return "no answers"
            s = sorted(xs)
            return (
                f"n={len(s)} p50 {b.percentile(s, 50):.1f} ms, p90 {b.percentile(s, 90):.1f} ms, "
                f"p99 {b.percentile(s, 99):.1f} ms, max {s[-1]:.1f} ms"
            )

        say(f"  [{what}] server peak VmRSS {self.peak / 1024:.1f} MB")
        say(f"  [{what}] /health/live: {pct(self.health)}")
        say(f"  [{what}] about page:   {pct(self.pages)}")
        if self.failures:
            say(f"  [{what}] probe failures: {dict(self.failures)}")


# ---------------------------------------------------------------- helpers


def token(base, username):
    c = b.Client(base)
    status, doc, data = c.json(
        "POST", "/oauth2/access_token", form={"grant_type": "password", "username": username, "password": PASSWORD}
    )
    b.check(status, data, f"token for {username}")
    c.bearer = doc["access_token"]
    return c


def api_import(client, archive, timeout=600):
    client.timeout = timeout
    client.close()
    t = time.perf_counter()
    try:
        status, doc, data = client.json(
            "POST", "/api/courses/v0/import/", body=archive, headers={"Content-Type": "application/gzip"}
        )
    except OSError as e:
        return None, f"{type(e).__name__}: {e}", time.perf_counter() - t
    msg = (doc or {}).get("message") if isinstance(doc, dict) else data[:200]
    return status, msg, time.perf_counter() - t


def du_kib(path):
    total = 0
    for dirpath, _, names in os.walk(path):
        for n in names:
            try:
                total += os.stat(os.path.join(dirpath, n)).st_blocks // 2
            except OSError:
                pass
    return total


# ---------------------------------------------------------------- attacks


def hostile_checks(server, learners, n, window):
    say(f"\n== {n} hostile checks at once, watched for {window:.0f} s")
    answers = {f"hostile_{i + 2}_1": COSTLY_ANSWER for i in range(INPUTS)}
    outcomes = collections.Counter()
    first_error = []

    def one(i):
        c = b.Client(server.base, timeout=window + 60)
        c.bearer = learners[i % len(learners)]
        try:
            status, doc, data = c.json("POST", f"/api/problems/v1/{HOSTILE}/check", json_body={"answers": answers})
            outcomes[f"HTTP {status}"] += 1
            if status != 200 and not first_error:
                first_error.append(data[:300])
        except OSError as e:
            outcomes[type(e).__name__] += 1

    with Watch(server, f"/courses/{COURSE}/about") as w:
        threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        time.sleep(window)
    w.report(f"{n} checks")
    still = sum(t.is_alive() for t in threads)
    say(f"  checks finished within the window: {dict(outcomes) or 'none'}; still running: {still}")
    if first_error:
        say(f"  first refusal: {first_error[0]!r}")


def samples_import(server, admin):
    say("\n== import of a problem asking for 100,000,000 samples")
    archive = course(
        "Atk",
        "Samples",
        '<problem url_name="big"><formularesponse answer="x" samples="x@1:5#100000000">'
        "<formulaequationinput/></formularesponse></problem>",
    )
    with Watch(server, "/health/live") as w:
        status, msg, secs = api_import(admin, archive)
    say(f"  import: HTTP {status} in {secs:.2f} s: {msg}")
    if status == 200:
        say("  ACCEPTED: no limit on samples yet (not checked: a check would exhaust memory)")
    else:
        say("  refused at import, as it should be")
    w.report("samples import")


def nul_archive(server, admin):
    say("\n== course archive hiding 120 MiB of NUL bytes (about page)")
    size = 120 << 20
    archive = course("Atk", "Nul", "", {"course/about/overview.html": (size, Zeros(size))})
    before = du_kib(server.data)
    with Watch(server, "/health/live") as w:
        status, msg, secs = api_import(admin, archive)
    grew = du_kib(server.data) - before
    say(f"  archive {len(archive) / 1024:.0f} KB; import: HTTP {status} in {secs:.2f} s: {msg}")
    say(f"  data folder grew by {grew / 1024:.1f} MB")
    w.report("NUL archive")


def learner_upload(server, learner_bearer):
    say("\n== a learner streams 200 MB to the import API")
    import http.client

    total = 200 << 20
    chunk = bytes(1 << 20)
    with Watch(server, "/health/live") as w:
        t = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        sent, outcome = 0, None
        try:
            conn.putrequest("POST", "/api/courses/v0/import/")
            conn.putheader("Authorization", "Bearer " + learner_bearer)
            conn.putheader("Content-Type", "application/gzip")
            conn.putheader("Content-Length", str(total))
            conn.endheaders()
            while sent < total:
                conn.send(chunk)
                sent += len(chunk)
            resp = conn.getresponse()
            outcome = f"HTTP {resp.status} after sending all {sent >> 20} MB: {resp.read()[:200]!r}"
        except OSError as e:
            try:
                resp = conn.getresponse()
                outcome = f"HTTP {resp.status} after {sent >> 20} MB (server stopped reading): {resp.read()[:200]!r}"
            except Exception:  # noqa: BLE001 - report whatever happened
                outcome = f"{type(e).__name__} after {sent >> 20} MB"
        finally:
            conn.close()
        secs = time.perf_counter() - t
    say(f"  {outcome} ({secs:.2f} s)")
    w.report("learner upload")


def made_up_methods(server):
    say("\n== 200 requests with made-up HTTP methods")
    import http.client

    def labels():
        c = b.Client(server.base)
        status, _, data = c.request("GET", "/metrics")
        c.close()
        text = data.decode(errors="replace")
        found = set()
        for line in text.splitlines():
            if 'method="' in line and not line.startswith("#"):
                found.add(line.split('method="', 1)[1].split('"', 1)[0])
        return status, found, len(text)

    status0, before, size0 = labels()
    outcomes = collections.Counter()
    for i in range(200):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            conn.request(f"ATK{i:03d}", "/metrics")
            outcomes[conn.getresponse().status] += 1
        except OSError as e:
            outcomes[type(e).__name__] += 1
        finally:
            conn.close()
    status1, after, size1 = labels()
    say(f"  responses: {dict(outcomes)}")
    say(f"  /metrics (HTTP {status0}/{status1}): {len(before)} → {len(after)} method labels, {size0} → {size1} bytes")


def wrong_passwords(server):
    say("\n== 30 wrong passwords on the token endpoint, then the right one")
    codes = collections.Counter()
    retry_after = None
    t = time.perf_counter()
    for _ in range(30):
        c = b.Client(server.base)
        status, resp, _ = c.request(
            "POST",
            "/oauth2/access_token",
            form={"grant_type": "password", "username": "learner0", "password": "wrong password"},
        )
        codes[status] += 1
        retry_after = resp.getheader("Retry-After") or retry_after
        c.close()
    c = b.Client(server.base)
    right, _, _ = c.request(
        "POST", "/oauth2/access_token", form={"grant_type": "password", "username": "learner0", "password": PASSWORD}
    )
    say(f"  30 wrong in {time.perf_counter() - t:.1f} s: {dict(codes)} (Retry-After {retry_after}); then the right one: HTTP {right}")


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--bin", default=os.environ.get("LECTERN_BIN", os.path.join(target, "release", "lectern")))
    ap.add_argument("--levels", default="8,32,80", help="concurrent hostile checks, comma-separated")
    ap.add_argument("--window", type=float, default=15.0, help="seconds each level is watched")
    ap.add_argument("--learners", type=int, default=8)
    ap.add_argument("--as-limit", type=int, default=4_000_000_000, help="server address-space limit, bytes")
    ap.add_argument("--out", help="results file (default bench/results/DATE-COMMIT-attack.txt)")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        raise SystemExit(f"no binary at {args.bin} (cargo build --release -p lectern)")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = args.out or os.path.join(ROOT, "bench", "results", f"{time.strftime('%Y-%m-%d')}-{commit or 'unknown'}-attack.txt")

    say("== machine:", b.machine())
    say(f"== binary: {args.bin} ({commit}); address-space limit {args.as_limit} bytes")
    data = tempfile.mkdtemp(prefix="lectern-bench-attack.")
    server = Server(args.bin, data, args.as_limit)
    try:
        run(args, server)
    finally:
        server.kill()
        shutil.rmtree(data, ignore_errors=True)
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write("\n".join(OUT) + "\n")
        print(f"(written to {out})")


def run(args, server):
    created = subprocess.run(
        [args.bin, "user", "create", "--data", server.data, "--admin", "--username", "admin",
         "--email", "admin@example.com", "--password-file", "-"],
        input=PASSWORD + "\n", capture_output=True, text=True,
    )
    if created.returncode != 0:
        raise SystemExit(f"user create failed: {created.stderr}")
    server.start()
    say(f"RSS after start: {server.rss() / 1024:.1f} MB")
    admin = token(server.base, "admin")
    for samples in (1000, 200, 50):
        status, msg, _ = api_import(admin, course("Atk", "H", hostile_problem(samples)))
        if status == 200:
            break
        say(f"hostile course with {samples} samples refused: HTTP {status}: {msg}")
    say(f"hostile problem: {INPUTS} formula inputs x {samples} samples; answer {COSTLY_ANSWER}")
    learners = []
    for i in range(args.learners):
        c = b.register_and_token(server.base, f"learner{i}", PASSWORD)
        b.enrol(c, COURSE)
        learners.append(c.bearer)
        c.close()
    say(f"{len(learners)} learners registered and enrolled; RSS {server.rss() / 1024:.1f} MB")

    say("\n== quiet server, 5 s")
    with Watch(server, f"/courses/{COURSE}/about") as w:
        time.sleep(5)
    w.report("quiet")

    for n in [int(x) for x in args.levels.split(",")]:
        hostile_checks(server, learners, n, args.window)
        say(f"  server VmHWM so far {server.rss('VmHWM') / 1024:.1f} MB; alive: {server.alive()}")
        server.kill()
        server.start()

    admin = token(server.base, "admin")
    samples_import(server, admin)
    nul_archive(server, admin)
    learner_upload(server, learners[0])
    made_up_methods(server)
    wrong_passwords(server)
    time.sleep(2)
    say(f"\n== after the cheap attacks: VmRSS {server.rss() / 1024:.1f} MB, VmHWM {server.rss('VmHWM') / 1024:.1f} MB "
        f"(this server process); alive: {server.alive()}")


if __name__ == "__main__":
    main()
