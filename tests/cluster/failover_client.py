#!/usr/bin/env python3
"""Load client of the failover test (tests/cluster/failover.sh).

It behaves as browsers do with round-robin DNS over the three Lectern nodes:
each request goes to the next node in turn, and on a connection error, a
timeout, a 502 or a 503 the same request goes to the next node. Every answer
check carries an `Idempotency-Key` (docs/idempotency.md), and a check is
retried with the same key until some node answers it, however long the
database is away: the key makes that safe. What it records (which keys were
acknowledged, with which attempt number, when; which reads failed; which
SQL writes were acknowledged) goes to JSON files in the state folder, where
failover_check.py reads it once the cluster has settled.

Standard library only: http.client, threads, and `psql` for SQL probes.

  failover_client.py setup    --nodes U1,U2,U3 --state DIR --db URL --learners N
  failover_client.py load     --nodes U1,U2,U3 --state DIR --db URL
  failover_client.py isolated --node URL --state DIR --db URL --name nodeK
      (run inside node K's network namespace: writes to that node's Lectern
       and straight to that node's PostgreSQL, whoever can be reached)

`load` and `isolated` run until the file DIR/stop exists.
"""

import argparse
import http.client
import json
import os
import random
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

COURSE = "course-v1:Failover+F1+R"
UNIT = "u1"
PROBLEM = "block-v1:Failover+F1+R+type@problem+block@pi"
INPUT = "pi_2_1"
# Answers and whether the problem (3.14, tolerance 0.01) grades them correct.
ANSWERS = {"3.14": "correct", "3.1415": "correct", "3.2": "incorrect", "2.5": "incorrect", "0": "incorrect"}
PASSWORD = "a long enough failover password"

CONNECT_TIMEOUT = 2.0  # a cut-off node does not refuse, it stays silent
REQUEST_TIMEOUT = 6.0  # a node waiting on a lost database answers late
RETRYABLE = (502, 503)  # a node cannot serve this now: try the next one


class Unreachable(Exception):
    """No answer from a node: connection refused, reset or timed out."""


def request(base, method, path, headers=None, body=None, with_headers=False):
    """One HTTP request on a fresh connection; (status, body bytes), and the
    response headers as a list of pairs if asked for."""
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=CONNECT_TIMEOUT)
    try:
        conn.connect()
        conn.sock.settimeout(REQUEST_TIMEOUT)
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return (resp.status, data, resp.getheaders()) if with_headers else (resp.status, data)
    except (OSError, http.client.HTTPException) as e:
        raise Unreachable(f"{type(e).__name__}: {e}") from e
    finally:
        conn.close()


class RoundRobin:
    """The node list as round-robin DNS hands it out: each request starts
    one node further on, and a failed node passes the request to the next."""

    def __init__(self, nodes):
        self.nodes = list(nodes)
        self.next = random.randrange(len(self.nodes))
        self.lock = threading.Lock()

    def order(self):
        with self.lock:
            start = self.next
            self.next = (self.next + 1) % len(self.nodes)
        return [self.nodes[(start + i) % len(self.nodes)] for i in range(len(self.nodes))]

    def once(self, method, path, headers=None, body=None):
        """One pass over the nodes: the first answer that is not 'try
        elsewhere', as (node, status, body); or (None, None, failures)."""
        failures = []
        for node in self.order():
            try:
                status, data = request(node, method, path, headers, body)
            except Unreachable as e:
                failures.append(f"{node}: {e}")
                continue
            if status in RETRYABLE:
                failures.append(f"{node}: HTTP {status}")
                continue
            return node, status, data
        return None, None, failures


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def json_headers(token, key=None):
    h = {"Content-Type": "application/json", **bearer(token)}
    if key is not None:
        h["Idempotency-Key"] = key
    return h


def psql(url, sql, timeout=10):
    """Runs one statement; (acknowledged, output). A commit that comes back
    with a warning (e.g. PostgreSQL's "canceling wait for synchronous
    replication ... committed locally") is not an acknowledgement."""
    env = dict(os.environ, PGCONNECT_TIMEOUT="2")
    try:
        p = subprocess.run(
            ["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql, url],
            capture_output=True, text=True, timeout=timeout, env=env,
        )
    except subprocess.TimeoutExpired:
        return False, "timed out"
    ok = p.returncode == 0 and "WARNING" not in p.stderr
    return ok, (p.stdout + p.stderr).strip()


def stopping(state):
    return os.path.exists(os.path.join(state, "stop"))


def write_json(path, value):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(value, f)
    os.replace(tmp, path)


def load_json(path):
    with open(path) as f:
        return json.load(f)


# --- setup: learners, tokens, enrolments, the probe table ----------------------


def must(rr, method, path, headers, body, what):
    """A set-up request, retried across nodes for up to 60 s."""
    deadline = time.time() + 60
    while True:
        node, status, data = rr.once(method, path, headers, body)
        if status == 200:
            return json.loads(data)
        if time.time() > deadline:
            sys.exit(f"setup: {what} failed: {status} {data!r}")
        time.sleep(1)


def set_cookie(headers, name):
    for k, v in headers:
        if k.lower() == "set-cookie" and v.startswith(name + "="):
            return v.split(";", 1)[0].split("=", 1)[1]
    return None


def session_for(rr, username):
    """Signs in through the login form, as a browser does: the CSRF cookie
    from the form page, then the form; returns the session cookie's value."""
    deadline = time.time() + 60
    while time.time() < deadline:
        node = rr.order()[0]
        try:
            _, _, headers = request(node, "GET", "/login", with_headers=True)
            csrf = set_cookie(headers, "lectern_csrf")
            form = urllib.parse.urlencode({"login": username, "password": PASSWORD, "csrf_token": csrf or ""})
            status, data, headers = request(node, "POST", "/login", {
                "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"lectern_csrf={csrf}"},
                form, with_headers=True)
        except Unreachable:
            status, data, headers = None, b"", []
        session = set_cookie(headers, "lectern_session")
        if session:
            return session
        time.sleep(1)
    sys.exit(f"setup: signing in {username} failed: {status} {data[:200]!r}")


def token_for(rr, username):
    body = urllib.parse.urlencode({"grant_type": "password", "username": username, "password": PASSWORD})
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return must(rr, "POST", "/oauth2/access_token", headers, body, f"token for {username}")["access_token"]


def setup(args):
    rr = RoundRobin(args.nodes.split(","))
    names = [f"learner{i}" for i in range(1, args.learners + 1)] + [f"isolated{k}" for k in (1, 2, 3)]
    learners = {}
    for name in names:
        reg = {"username": name, "email": f"{name}@example.org", "password": PASSWORD, "name": name}
        must(rr, "POST", "/api/user/v1/account/registration/", {"Content-Type": "application/json"},
             json.dumps(reg), f"registering {name}")
        token = token_for(rr, name)
        enrol = {"course_details": {"course_id": COURSE}}
        must(rr, "POST", "/api/enrollment/v1/enrollment", json_headers(token), json.dumps(enrol), f"enrolling {name}")
        learners[name] = {"token": token, "session": session_for(rr, name)}
    ok, out = psql(args.db, "CREATE TABLE failover_probe (origin text NOT NULL, n integer NOT NULL, PRIMARY KEY (origin, n))")
    if not ok:
        sys.exit(f"setup: creating the probe table: {out}")
    write_json(os.path.join(args.state, "learners.json"), learners)
    print(f"setup: {len(learners)} learners enrolled in {COURSE}")


# --- load: checks, reads and SQL probes until told to stop -------------------


class Recorder:
    """What one process saw, written to a JSON file at the end."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acks = []  # acknowledged checks
        self.pending = []  # keys never answered (the client stopped first)
        self.wrong = []  # answers that break a promise (4xx, wrong grade)
        self.server_errors = []  # 5xx other than 502/503: retried with the same key
        self.reads_ok = 0
        self.read_failures = []
        self.sql_acks = []
        self.sql_failures = 0
        self.sql_errors = []  # the first few reasons, for a look

    def add(self, field, value):
        with self.lock:
            getattr(self, field).append(value)

    def dump(self, path):
        with self.lock:
            write_json(path, {k: v for k, v in vars(self).items() if k != "lock"})


def checker(rr, state, name, token, rec, pause):
    """One learner answering again and again, each answer with a new key,
    each key retried (round-robin, same key) until a node answers it."""
    path = f"/api/problems/v1/{PROBLEM}/check"
    while not stopping(state):
        answer = random.choice(list(ANSWERS))
        key = f"{name}-{uuid.uuid4()}"
        body = json.dumps({"answers": {INPUT: answer}})
        first = time.time()
        tries = 0
        while True:
            if stopping(state):
                rec.add("pending", {"user": name, "key": key, "first": first})
                return
            tries += 1
            node, status, data = rr.once("POST", path, json_headers(token, key), body)
            if status is None:
                time.sleep(0.3)
                continue
            now = time.time()
            if status >= 500:
                rec.add("server_errors", {"user": name, "key": key, "node": node, "t": now, "status": status,
                                          "body": data[:300].decode("utf-8", "replace")})
                time.sleep(0.3)
                continue
            try:
                reply = json.loads(data)
            except ValueError:
                reply = {}
            got = reply.get("correct_map", {}).get(INPUT, {}).get("correctness") if status == 200 else None
            if status != 200 or got != ANSWERS[answer] or not isinstance(reply.get("attempts"), int):
                rec.add("wrong", {"user": name, "key": key, "node": node, "t": now, "status": status,
                                  "answer": answer, "body": data[:300].decode("utf-8", "replace")})
                break
            rec.add("acks", {"user": name, "key": key, "answer": answer, "attempt": reply["attempts"],
                             "node": node, "first": first, "t": now, "tries": tries})
            break
        time.sleep(pause)


def reader(rr, state, learners, rec, pause):
    """Reads published content, in turn, as several learners: the unit page
    with the session cookie a browser has, and the blocks API with a bearer
    token. A read fails when no node serves it in one pass."""
    quoted = urllib.parse.quote(COURSE, safe="")
    i = 0
    while not stopping(state):
        name, creds = learners[i % len(learners)]
        if (i // len(learners)) % 2 == 0:
            what, path, expect = "unit page", f"/courses/{COURSE}/unit/{UNIT}", b"Pi to two places"
            headers = {"Cookie": f"lectern_session={creds['session']}"}
        else:
            what, path, expect = "blocks API", f"/api/courses/v1/blocks/?course_id={quoted}&username={name}&depth=all", b"block@pi"
            headers = bearer(creds["token"])
        i += 1
        node, status, data = rr.once("GET", path, headers)
        if status == 200 and expect in data:
            with rec.lock:
                rec.reads_ok += 1
        else:
            detail = data if status is None else f"{node}: HTTP {status} {data[:200].decode('utf-8', 'replace')}"
            rec.add("read_failures", {"t": time.time(), "what": what, "user": name, "detail": detail})
        time.sleep(pause)


def sql_prober(url, origin, state, rec, pause):
    """Numbered inserts into failover_probe; the acknowledged ones must all
    be there after the heal."""
    n = 0
    while not stopping(state):
        n += 1
        ok, out = psql(url, f"INSERT INTO failover_probe (origin, n) VALUES ('{origin}', {n})")
        if ok:
            rec.add("sql_acks", {"origin": origin, "n": n, "t": time.time()})
        else:
            with rec.lock:
                rec.sql_failures += 1
                if len(rec.sql_errors) < 20:
                    rec.sql_errors.append({"t": time.time(), "n": n, "error": out[:300]})
        time.sleep(pause)


def run_threads(targets, state, rec, out):
    threads = [threading.Thread(target=t, args=a, daemon=True) for t, a in targets]
    for t in threads:
        t.start()
    # Write what has been seen so far now and then, so that a run cut short
    # still leaves evidence.
    while not stopping(state):
        time.sleep(1)
        rec.dump(out)
    for t in threads:
        t.join(timeout=REQUEST_TIMEOUT * 4)
    rec.dump(out)


def load(args):
    learners = [(n, c) for n, c in load_json(os.path.join(args.state, "learners.json")).items()
                if n.startswith("learner")]
    rr = RoundRobin(args.nodes.split(","))
    rec = Recorder()
    targets = [(checker, (rr, args.state, n, c["token"], rec, 0.1)) for n, c in learners]
    targets += [(reader, (rr, args.state, learners, rec, 0.1)) for _ in range(2)]
    targets.append((sql_prober, (args.db, "host", args.state, rec, 0.2)))
    run_threads(targets, args.state, rec, os.path.join(args.state, "load.json"))


def isolated(args):
    """Inside one node's namespace: one learner checks answers on that node
    only, and SQL inserts go straight to that node's PostgreSQL (they succeed
    only while it is the primary). On the node that gets cut off these are
    the writes a split brain would lose."""
    learners = load_json(os.path.join(args.state, "learners.json"))
    name = "isolated" + args.name[-1]
    rr = RoundRobin([args.node])
    rec = Recorder()
    direct = urllib.parse.urlsplit(args.db)
    host = urllib.parse.urlsplit(args.node).hostname
    direct_url = urllib.parse.urlunsplit(direct._replace(netloc=f"{direct.username}:{direct.password}@{host}:5432"))
    targets = [
        (checker, (rr, args.state, name, learners[name]["token"], rec, 0.2)),
        (sql_prober, (direct_url, args.name, args.state, rec, 0.2)),
    ]
    run_threads(targets, args.state, rec, os.path.join(args.state, f"isolated-{args.name}.json"))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["setup", "load", "isolated"])
    p.add_argument("--nodes", help="the node URLs, comma-separated")
    p.add_argument("--node", help="isolated: this namespace's node URL")
    p.add_argument("--name", help="isolated: this node's name (node1..node3)")
    p.add_argument("--state", required=True)
    p.add_argument("--db", required=True, help="the database URL cluster.sh printed")
    p.add_argument("--learners", type=int, default=4)
    args = p.parse_args()
    {"setup": setup, "load": load, "isolated": isolated}[args.command](args)


if __name__ == "__main__":
    main()
