#!/usr/bin/env python3
"""A client that behaves like a browser behind round-robin DNS: every request
goes to one node and, when that node fails (no connection, a reset, a
timeout, a 5xx), to the next, with the same Idempotency-Key. Used by
tests/cluster/rolling.sh while the nodes are replaced one at a time.

    roll_client.py --nodes URL,URL,URL --course KEY --problem KEY --out FILE \
                   --stop-file FILE [--learners 3] [--prefix roll]

Registers the learners (through any node), enrols them, signs one of them in
through the sign-in form for page reads, writes "ready" to FILE.ready, then
until --stop-file exists: each learner thread checks the problem back to back
(one key per answer: prefix-learner-n), and a reader thread reads the
course outline and progress pages with the session cookie. A request that
fails on all three nodes in turn is a failure; it is then retried (same key)
until a node takes it, so the list of acknowledged keys is complete.
Writes a JSON summary to --out and exits 1 if any request failed on every
node or any node answered something other than success or a node failure.
Python standard library only.
"""

import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
import http.client

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../bench"))
import benchlib as b  # noqa: E402
from checks import find_inputs  # noqa: E402

PASSWORD = "rolling-update-password-1"


class Nodes:
    """One keep-alive connection per node for one thread, and the failover."""

    def __init__(self, urls, start, stats, lock):
        self.clients = [b.Client(u, timeout=15) for u in urls]
        self.urls = urls
        self.next = start
        self.stats, self.lock = stats, lock

    def set_auth(self, bearer=None, cookies=None):
        for c in self.clients:
            c.bearer = bearer
            if cookies is not None:
                c.cookies = dict(cookies)

    def one_round(self, method, path, **kw):
        """Tries each node once, starting at the next in turn.

        Returns (status, body) from the first node that took the request, or
        None when every node failed. A 4xx is an answer (returned), not a
        node failure."""
        n = len(self.clients)
        start = self.next
        self.next = (self.next + 1) % n
        for i in range(n):
            k = (start + i) % n
            c = self.clients[k]
            try:
                status, _, data = c.request(method, path, **kw)
            except (OSError, http.client.HTTPException) as e:
                c.close()
                self.note_node_failure(k, type(e).__name__)
                continue
            if status >= 500 or status == 429:
                self.note_node_failure(k, f"HTTP {status}")
                continue
            return status, data
        return None

    def note_node_failure(self, k, what):
        with self.lock:
            key = f"{self.urls[k]} {what}"
            self.stats["node_failures"][key] = self.stats["node_failures"].get(key, 0) + 1

    def until_taken(self, method, path, what, limit=90, **kw):
        """Rounds until a node takes it; counts a round where none did."""
        deadline = time.time() + limit
        first = True
        while True:
            got = self.one_round(method, path, **kw)
            if got is not None:
                return got
            if first:
                with self.lock:
                    self.stats["failed_on_all_nodes"].append(f"{time.strftime('%H:%M:%S')} {what}")
                first = False
            if time.time() > deadline:
                raise SystemExit(f"{what}: no node took it within {limit}s")
            time.sleep(0.5)


def setup(args, urls, stats, lock):
    nodes = Nodes(urls, 0, stats, lock)
    learners = []
    for i in range(args.learners + 1):
        name = f"{args.prefix}{i}"
        status, data = nodes.until_taken("POST", "/api/user/v1/account/registration/", f"register {name}",
                                         json_body={"email": f"{name}@example.org", "username": name,
                                                    "name": name, "password": PASSWORD})
        b.check(status, data, f"register {name}")
        status, data = nodes.until_taken("POST", "/oauth2/access_token", f"token {name}",
                                         form={"grant_type": "password", "username": name,
                                               "password": PASSWORD, "client_id": "roll"})
        b.check(status, data, f"token {name}")
        bearer = json.loads(data)["access_token"]
        nodes.set_auth(bearer=bearer)
        status, data = nodes.until_taken("POST", "/api/enrollment/v1/enrollment", f"enrol {name}",
                                         json_body={"course_details": {"course_id": args.course}})
        b.check(status, data, f"enrol {name}")
        learners.append((name, bearer))
        nodes.set_auth(bearer=None)
    # The reader (the last learner) signs in through the form for pages.
    reader = b.session_login(urls[0], learners[-1][0], PASSWORD)
    return learners[:-1], reader.cookies


def writer(args, urls, idx, bearer, stats, lock, stop):
    nodes = Nodes(urls, idx, stats, lock)
    nodes.set_auth(bearer=bearer)
    key = urllib.parse.quote(args.problem, safe=":+@")
    status, data = nodes.until_taken("GET", f"/api/problems/v1/{key}", "read the problem")
    b.check(status, data, "read the problem")
    iid = find_inputs(json.loads(data))[0][0]
    n = 0
    while not stop.is_set():
        n += 1
        ikey = f"{args.prefix}-{idx}-{n}"
        answer = {"answers": {iid: "choice_0" if n % 2 else "choice_1"}}
        status, data = nodes.until_taken("POST", f"/api/problems/v1/{key}/check", f"check {ikey}",
                                         json_body=answer, headers={"Idempotency-Key": ikey})
        with lock:
            if status == 200:
                stats["acknowledged"].append(ikey)
                stats["last_ack"] = time.time()
            else:
                stats["unexpected"].append(f"check {ikey}: HTTP {status}: {data[:200]!r}")
        time.sleep(0.05)


def reader(args, urls, cookies, stats, lock, stop):
    nodes = Nodes(urls, 0, stats, lock)
    nodes.set_auth(cookies=cookies)
    pages = [f"/courses/{args.course}/", f"/courses/{args.course}/progress"]
    n = 0
    while not stop.is_set():
        path = pages[n % len(pages)]
        n += 1
        status, data = nodes.until_taken("GET", path, f"read {path}")
        with lock:
            if status == 200:
                stats["reads"] += 1
            else:
                stats["unexpected"].append(f"GET {path}: HTTP {status}: {data[:200]!r}")
        time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nodes", required=True)
    ap.add_argument("--course", required=True)
    ap.add_argument("--problem", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stop-file", required=True)
    ap.add_argument("--learners", type=int, default=3)
    ap.add_argument("--prefix", default="roll")
    args = ap.parse_args()
    urls = args.nodes.split(",")
    lock = threading.Lock()
    stats = {"acknowledged": [], "failed_on_all_nodes": [], "node_failures": {}, "unexpected": [],
             "reads": 0, "last_ack": None}
    learners, cookies = setup(args, urls, stats, lock)
    stop = threading.Event()
    errors = []

    def guarded(fn, *a):
        try:
            fn(*a)
        except BaseException as e:  # a thread that dies must fail the run
            errors.append(f"{fn.__name__}: {e!r}")
            stop.set()

    threads = [threading.Thread(target=guarded, args=(writer, args, urls, i, bearer, stats, lock, stop))
               for i, (_, bearer) in enumerate(learners)]
    threads.append(threading.Thread(target=guarded, args=(reader, args, urls, cookies, stats, lock, stop)))
    for t in threads:
        t.start()
    with open(args.out + ".ready", "w") as f:
        f.write("ready\n")
    longest_gap, last = 0.0, time.time()
    while not stop.is_set() and not os.path.exists(args.stop_file):
        time.sleep(0.2)
        with lock:
            if stats["last_ack"]:
                last = max(last, stats["last_ack"])
        longest_gap = max(longest_gap, time.time() - last)
    stop.set()
    for t in threads:
        t.join(timeout=120)
    stats["thread_errors"] = errors
    stats["longest_without_ack_s"] = round(longest_gap, 2)
    stats["learners"] = [name for name, _ in learners]
    with open(args.out, "w") as f:
        json.dump(stats, f, indent=1)
    print(f"client: {len(stats['acknowledged'])} checks acknowledged, {stats['reads']} page reads, "
          f"longest time without an acknowledged check {longest_gap:.1f} s")
    print(f"client: node failures (retried on the next node): {stats['node_failures'] or 'none'}")
    bad = stats["failed_on_all_nodes"] + stats["unexpected"] + errors
    for line in bad:
        print("client: FAILED:", line)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
