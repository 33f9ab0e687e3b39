#!/usr/bin/env python3
"""Signs a learner in and serves N unit page views; prints RSS checkpoints.

Used by bench/memory.sh (which starts the server); runnable on its own:

    python3 bench/pageviews.py --base http://127.0.0.1:8080 --pid PID [--views 1000]

Steps: register a learner (JSON API), get a bearer token, enrol, list the
course's units (blocks of type `vertical`), sign in through the HTML form
(session cookie + CSRF token), then GET /courses/{key}/unit/{id} N times,
cycling through the units, sequentially on one keep-alive connection.
"""

import argparse
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--pid", type=int, required=True, help="the server's process id (for VmRSS)")
    ap.add_argument("--views", type=int, default=1000)
    ap.add_argument("--course", default=b.DEMO_COURSE)
    ap.add_argument("--every", type=int, default=100, help="print RSS every N views")
    args = ap.parse_args()

    password = "bench-password-123"
    user = f"pv{int(time.time())}"
    rss = lambda: f"VmRSS {b.rss_kib(args.pid)} KiB, VmHWM {b.rss_kib(args.pid, 'VmHWM')} KiB"
    print(f"RSS before the learner: {rss()}")
    api = b.register_and_token(args.base, user, password)
    print(f"RSS after registration + access token (two Argon2 hashes): {rss()}")
    b.enrol(api, args.course)
    doc = b.blocks(api, args.course)
    print(f"RSS after enrolment + blocks API (loads the course): {rss()}")
    units = sorted(
        {blk["block_id"] for blk in doc["blocks"].values() if blk["type"] == "vertical"}
    )
    api.close()
    if not units:
        raise SystemExit("the course has no units visible to a learner")
    print(f"units visible to the learner: {len(units)}")

    web = b.session_login(args.base, user, password)
    print(f"RSS after the form sign-in (a third Argon2 hash): {rss()}")
    key = urllib.parse.quote(args.course, safe=":+")
    paths = [f"/courses/{key}/unit/{urllib.parse.quote(u, safe='')}" for u in units]

    lat = []
    per_unit = {}
    statuses = {}
    nbytes = 0
    cpu0 = cpu_seconds(args.pid)
    t0 = time.perf_counter()
    for i in range(args.views):
        p = paths[i % len(paths)]
        t = time.perf_counter()
        status, _, data = web.request("GET", p)
        dt = time.perf_counter() - t
        lat.append(dt)
        per_unit.setdefault(p, []).append(dt)
        statuses[status] = statuses.get(status, 0) + 1
        nbytes += len(data)
        if status != 200 and statuses[status] == 1:
            print(f"  first HTTP {status} on {p}: {data[:200]!r}")
        if (i + 1) % args.every == 0:
            print(
                f"  after {i + 1:5d} views: VmRSS {b.rss_kib(args.pid)} KiB, "
                f"VmHWM {b.rss_kib(args.pid, 'VmHWM')} KiB, {time.perf_counter() - t0:.2f} s"
            )
    total = time.perf_counter() - t0
    cpu = cpu_seconds(args.pid) - cpu0
    web.close()

    lat.sort()
    print(f"views: {args.views} in {total:.2f} s ({args.views / total:.0f} views/s, one connection, sequential)")
    print(f"server CPU during the views: {cpu:.2f} s ({1000 * cpu / args.views:.2f} ms per view)")
    print(f"statuses: {statuses}; bytes received: {nbytes}")
    print(
        "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f"
        % tuple(1000 * b.percentile(lat, p) for p in (50, 90, 99, 100))
    )
    slow = sorted(((sum(v) / len(v), k) for k, v in per_unit.items()), reverse=True)[:3]
    for mean, k in slow:
        print(f"  slowest unit (mean): {1000 * mean:.2f} ms  {k}")
    print(f"RSS after the views: {rss()}")


if __name__ == "__main__":
    main()
