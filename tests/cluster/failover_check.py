#!/usr/bin/env python3
"""Checks of the failover test (tests/cluster/failover.sh), made once the
cluster has settled (30 s or more after the partition healed).

From what failover_client.py recorded and what the cluster holds now:

- every acknowledged answer is in the learner's history
  (`GET /api/problems/v1/{usage_key}/submissions`, field `idempotency_key`)
  and in the `submissions` table (SQL through the database URL), once;
- no key was applied twice, and the attempt numbers add up: 1..N in the
  history, N in the problem's state, and each acknowledged answer's attempt
  number is the one its history entry has;
- no read of published content failed;
- every acknowledged SQL probe insert is there, including those made
  straight to the old primary from inside its namespace (no split brain).

Prints, per fault, how long it lasted and the longest time in it without an
acknowledged answer, and exits 1 when a promise is broken.

  failover_check.py --nodes U1,U2,U3 --state DIR --db URL
"""

import argparse
import glob
import json
import os
import sys
import urllib.parse

from failover_client import PROBLEM, RoundRobin, bearer, load_json, psql

# The write gap the issue targets for a dead primary (ttl 20, loop_wait 2,
# retry_timeout 5); printed against the measurement, not asserted.
TARGET_GAP_B = 25.0


class Verdict:
    def __init__(self):
        self.broken = []

    def fail(self, msg):
        self.broken.append(msg)
        print(f"FAIL: {msg}")

    def expect(self, cond, msg):
        if not cond:
            self.fail(msg)


def phases(state):
    """{name: {"start": t, "recover": t, "end": t, ("down": t,) "node": .., "what": ..}}"""
    out = {}
    with open(os.path.join(state, "phases.jsonl")) as f:
        for line in f:
            m = json.loads(line)
            p = out.setdefault(m["phase"], {})
            p[m["event"]] = m["t"]
            for k in ("node", "what"):
                if m.get(k):
                    p[k] = m[k]
    return out


def longest_gap(times, start, end):
    """The longest stretch of [start, end] with no time in `times`, as
    (seconds, from, to)."""
    points = [start] + sorted(t for t in times if start <= t <= end) + [end]
    gaps = [(b - a, a, b) for a, b in zip(points, points[1:])]
    return max(gaps)


def history(rr, token):
    """The learner's history and attempt count, from whichever node answers."""
    path = f"/api/problems/v1/{PROBLEM}"
    _, status, data = rr.once("GET", path + "/submissions", bearer(token))
    if status != 200:
        raise SystemExit(f"reading history: {status} {data!r}")
    subs = json.loads(data)["results"]
    _, status, data = rr.once("GET", path, bearer(token))
    if status != 200:
        raise SystemExit(f"reading the problem: {status} {data!r}")
    return subs, json.loads(data)["attempts"]


def check_histories(v, rr, learners, acks):
    """HTTP: each acknowledged key once in its learner's history, attempts consistent."""
    by_user = {}
    for a in acks:
        by_user.setdefault(a["user"], []).append(a)
    unacked_applied = 0
    for user, creds in learners.items():
        subs, attempts = history(rr, creds["token"])
        keys = [s["idempotency_key"] for s in subs]
        v.expect(None not in keys, f"{user}: a submission without a key")
        v.expect(len(keys) == len(set(keys)), f"{user}: a key applied twice in the history")
        numbers = sorted(s["attempt"] for s in subs)
        v.expect(numbers == list(range(1, len(subs) + 1)), f"{user}: attempt numbers are not 1..{len(subs)}")
        v.expect(attempts == len(subs), f"{user}: the problem counts {attempts} attempts, the history has {len(subs)}")
        by_key = {s["idempotency_key"]: s for s in subs}
        mine = by_user.get(user, [])
        for a in mine:
            s = by_key.get(a["key"])
            if s is None:
                v.fail(f"{user}: acknowledged answer {a['key']} (attempt {a['attempt']}, via {a['node']}) is not in the history")
                continue
            v.expect(s["attempt"] == a["attempt"],
                     f"{user}: {a['key']} was acknowledged as attempt {a['attempt']}, history says {s['attempt']}")
            v.expect(s["answers"].get("pi_2_1") == a["answer"], f"{user}: {a['key']} has other answers in the history")
        unacked_applied += len(subs) - len(mine)
    return unacked_applied


def check_sql(v, db, acks, sql_acks):
    """SQL through the database URL: each acknowledged key in exactly one
    submissions row; every acknowledged probe insert present."""
    ok, out = psql(db, "SELECT idempotency_key, count(*) FROM submissions WHERE idempotency_key IS NOT NULL GROUP BY 1", 60)
    if not ok:
        v.fail(f"querying submissions: {out}")
        return
    counts = dict(line.rsplit("|", 1) for line in out.splitlines() if "|" in line)
    v.expect(all(c == "1" for c in counts.values()), "SQL: a key with more than one submission row")
    missing = [a["key"] for a in acks if counts.get(a["key"]) != "1"]
    v.expect(not missing, f"SQL: {len(missing)} acknowledged answers not stored exactly once: {missing[:5]}")
    ok, out = psql(db, "SELECT origin || ':' || n FROM failover_probe", 60)
    if not ok:
        v.fail(f"querying failover_probe: {out}")
        return
    have = set(out.splitlines())
    lost = [f"{a['origin']}:{a['n']}" for a in sql_acks if f"{a['origin']}:{a['n']}" not in have]
    v.expect(not lost, f"SQL: {len(lost)} acknowledged probe inserts lost: {lost[:10]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--nodes", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--db", required=True)
    args = p.parse_args()
    v = Verdict()
    learners = load_json(os.path.join(args.state, "learners.json"))
    load = load_json(os.path.join(args.state, "load.json"))
    isolated = {os.path.basename(f)[len("isolated-"):-len(".json")]: load_json(f)
                for f in sorted(glob.glob(os.path.join(args.state, "isolated-*.json")))}
    records = [load] + list(isolated.values())
    acks = [a for r in records for a in r["acks"]]
    sql_acks = [a for r in records for a in r["sql_acks"]]
    ph = phases(args.state)

    for r in records:
        for w in r["wrong"]:
            v.fail(f"unexpected answer to {w['user']}'s check {w['key']} ({w['answer']}) from {w['node']}: "
                   f"{w['status']} {w['body']}")
    print(f"round-robin client: {len(load['acks'])} answers acknowledged, {load['reads_ok']} reads served, "
          f"{len(load['read_failures'])} reads failed, {len(load['server_errors'])} 5xx answers (retried), "
          f"{len(load['sql_acks'])} SQL probes acknowledged")
    for f in load["read_failures"][:10]:
        print(f"  read failed at {f['t']:.1f}: {f['what']} for {f['user']}: {f['detail']}")
    for e in load["server_errors"][:5]:
        print(f"  {e['status']} from {e['node']} at {e['t']:.1f}: {e['body'][:160]}")
    v.expect(not load["read_failures"], f"{len(load['read_failures'])} reads of published content failed")

    ack_times = [a["t"] for a in load["acks"]]
    for name in sorted(ph):
        p = ph[name]
        start, end = p["start"], p["end"]
        gap, g0, g1 = longest_gap(ack_times, start, end)
        n = sum(1 for t in ack_times if start <= t <= end)
        reads = sum(1 for f in load["read_failures"] if start <= f["t"] <= end)
        errs = sum(1 for e in load["server_errors"] if start <= e["t"] <= end)
        line = (f"fault ({name}) {p.get('what', '')}: {end - start:.1f} s, {n} answers acknowledged, "
                f"longest without one {gap:.1f} s (from +{g0 - start:.1f} s to +{g1 - start:.1f} s), "
                f"{reads} reads failed, {errs} 5xx answers")
        if name == "b":
            line += f" [target under {TARGET_GAP_B:.0f} s: {'met' if gap < TARGET_GAP_B else 'NOT met'}]"
        print(line)
        v.expect(any(t > p.get("recover", start) for t in ack_times), f"no answer acknowledged after fault ({name}) ended")

    cut = ph.get("c", {}).get("node")
    if cut and cut in isolated:
        # From when partition-primary returned (the link was down by then;
        # a request committed before it may still be answered after).
        r, t_cut, t_heal = isolated[cut], ph["c"].get("down", ph["c"]["start"]), ph["c"]["recover"]
        cut_off = [a for a in r["acks"] + r["sql_acks"] if t_cut < a["t"] < t_heal]
        print(f"cut-off side ({cut}): while its link was down, {sum(1 for a in cut_off if 'key' in a)} answers "
              f"(its own Lectern) and {sum(1 for a in cut_off if 'n' in a)} SQL writes (its old primary) "
              f"acknowledged; {len(r['acks'])} answers and {len(r['sql_acks'])} SQL writes in all, all checked below")
        for e in r["sql_errors"][:3]:
            print(f"  its SQL writes failed at {e['t'] - t_cut:+.1f} s: {e['error'][:160]}")
    elif "c" in ph:
        v.fail(f"no record from the cut-off node's own client ({cut})")

    extra = check_histories(v, RoundRobin(args.nodes.split(",")), learners, acks)
    check_sql(v, args.db, acks, sql_acks)
    print(f"histories: {len(acks)} acknowledged answers each present once; {extra} more applied whose "
          f"answer never reached the client; {len(sql_acks)} acknowledged SQL probes checked")
    if v.broken:
        print(f"failover check FAILED: {len(v.broken)} broken promises")
        sys.exit(1)
    print("failover check passed")


if __name__ == "__main__":
    main()
