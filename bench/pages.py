#!/usr/bin/env python3
"""Lectern beside nginx on the very same bytes (issue 18), in one run.

Used by bench/pages.sh, which starts Lectern (with a course whose one unit
holds three problems), nginx and wrk; runnable on its own against a running
server that has that course:

    python3 bench/pages.py --base http://127.0.0.1:8080 --course KEY --unit ID \
        --nginx-root DIR --nginx-base http://127.0.0.1:PORT [--seconds 10]

Steps: register a learner (JSON API), enrol, sign in through the HTML form
(session and CSRF cookies), fetch the exact bytes of (a) that learner's unit
page, (b) the anonymous catalogue, (c) /health/live; write them into
--nginx-root; then for each page run wrk against Lectern (with the learner's
cookies where the page needs them) and against nginx serving the file, first
with --connections (default 64) and then with one connection, one after the
other in the same run. Prints requests/s, p50 and p99 per side and the ratio
Lectern/nginx. Measures and prints; no assertions.
"""

import argparse
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

PASSWORD = "bench-password-123"


def fetch(base, path, cookies=None):
    c = b.Client(base)
    if cookies:
        c.cookies = dict(cookies)
    status, _, data = c.request("GET", path)
    c.close()
    b.check(status, data, f"GET {path}")
    return data


def to_ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, connections, seconds, headers=()):
    """Runs wrk; returns requests/s, p50 ms, p99 ms and the non-2xx count."""
    threads = min(2, connections)
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    pct = {p: to_ms(v, u) for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rate": rate,
        "p50": pct.get("50", float("nan")),
        "p99": pct.get("99", float("nan")),
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket": errors.group(1) if errors else "",
    }


def cpu_seconds(pid):
    """User + system CPU time a process has used so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True)
    ap.add_argument("--course", required=True)
    ap.add_argument("--unit", required=True, help="the unit's block id")
    ap.add_argument("--nginx-root", required=True)
    ap.add_argument("--nginx-base", required=True)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--pages", default="unit,catalogue,live", help="which pages, comma-separated")
    ap.add_argument("--keep", help="also save the fetched pages in this folder")
    ap.add_argument("--only-lectern", action="store_true", help="skip nginx (profiling runs)")
    ap.add_argument("--server-pid", type=int, help="Lectern's process: also report its CPU time per request")
    args = ap.parse_args()

    user = f"pg{int(time.time())}"
    api = b.register_and_token(args.base, user, PASSWORD)
    b.enrol(api, args.course)
    api.close()
    web = b.session_login(args.base, user, PASSWORD)
    cookies = dict(web.cookies)
    web.close()
    cookie_header = "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items())

    key = urllib.parse.quote(args.course, safe=":+")
    pages = {
        "unit": (f"/courses/{key}/unit/{urllib.parse.quote(args.unit, safe='')}", cookies),
        "catalogue": ("/courses", None),
        "live": ("/health/live", None),
    }
    chosen = [p for p in args.pages.split(",") if p]
    for name in chosen:
        path, jar = pages[name]
        data = fetch(args.base, path, jar)
        if args.keep:
            with open(os.path.join(args.keep, name + ".html"), "wb") as f:
                f.write(data)
        with open(os.path.join(args.nginx_root, name), "wb") as f:
            f.write(data)
        extra = ""
        if name == "unit":
            forms = data.count(b"/problem/")
            extra = f", {forms} problem forms"
        print(f"{name}: GET {path} -> {len(data)} bytes{extra}")

    rows = []
    for conns in (args.connections, 1):
        for name in chosen:
            path, jar = pages[name]
            headers = [cookie_header] if jar else []
            before = cpu_seconds(args.server_pid) if args.server_pid else None
            lec = wrk(args.base + path, conns, args.seconds, headers)
            if before is not None:
                # CPU per request hardly depends on what else shares the
                # cores, unlike requests/s: compare builds by it on a busy machine.
                used = cpu_seconds(args.server_pid) - before
                lec["cpu_us"] = used * 1e6 / max(1.0, lec["rate"] * args.seconds)
            ngx = None if args.only_lectern else wrk(f"{args.nginx_base}/{name}", conns, args.seconds)
            rows.append((name, conns, lec, ngx))
            line = f"{name:9s} c={conns:<3d} lectern {lec['rate']:9.0f}/s p50 {lec['p50']:7.2f} ms p99 {lec['p99']:7.2f} ms"
            if "cpu_us" in lec:
                line += f" cpu {lec['cpu_us']:6.0f} us/req"
            if lec["non2xx"] or lec["socket"]:
                line += f" (non-2xx {lec['non2xx']}; socket errors {lec['socket'] or 0})"
            if ngx:
                line += (
                    f" | nginx {ngx['rate']:9.0f}/s p50 {ngx['p50']:7.2f} ms p99 {ngx['p99']:7.2f} ms"
                    f" | ratio {lec['rate'] / ngx['rate']:.3f}"
                )
            print(line, flush=True)

    print()
    print("| page | connections | Lectern req/s | p50 ms | p99 ms | Lectern CPU us/req | nginx req/s | p50 ms | p99 ms | Lectern/nginx |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, conns, lec, ngx in rows:
        n = ngx or {"rate": float("nan"), "p50": float("nan"), "p99": float("nan")}
        ratio = lec["rate"] / n["rate"] if ngx else float("nan")
        print(
            f"| {name} | {conns} | {lec['rate']:.0f} | {lec['p50']:.2f} | {lec['p99']:.2f} | {lec.get('cpu_us', float('nan')):.0f} "
            f"| {n['rate']:.0f} | {n['p50']:.2f} | {n['p99']:.2f} | {ratio:.3f} |"
        )


if __name__ == "__main__":
    main()
