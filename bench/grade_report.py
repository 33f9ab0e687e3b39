#!/usr/bin/env python3
"""Issue 21's report benchmark: a grade report for LEARNERS generated
learners of a course, from the click on the instructor dashboard to the
ready CSV, and the server's peak RSS.

  --add-learners: writes LEARNERS learners, their enrolments and problem
  states (about 70 % of the course's problems answered, half of those
  right) straight into the SQLite file (no Argon2, no HTTP), in one
  transaction. Otherwise: signs in as admin, asks for each report kind,
  polls the reports page until it is ready, downloads it and counts rows.
Prints figures; never fails on one.
"""
import argparse
import random
import re
import sqlite3
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import benchlib  # noqa: E402


def problems(c, course):
    doc = benchlib.blocks(c, course)
    return sorted(b["id"] for b in doc["blocks"].values() if b["type"] == "problem")


def add_learners(db, course, n, keys):
    rng = random.Random(21)
    now = int(time.time() * 1000)
    con = sqlite3.connect(db, timeout=60)
    states = 0
    with con:
        for i in range(n):
            cur = con.execute(
                "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) "
                "VALUES (?, ?, ?, 'no password', 0, 0, 1, ?)",
                (f"learner{i}", f"learner{i}@example.org", f"Learner {i}", now),
            )
            uid = cur.lastrowid
            con.execute(
                "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) VALUES (?, ?, 'audit', 1, ?)",
                (uid, course, now),
            )
            rows = []
            for k in keys:
                if rng.random() < 0.7:
                    right = rng.random() < 0.5
                    e = 1.0 if right else 0.0
                    rows.append((uid, course, k, '{"x_2_1": "choice_1"}',
                                 '{"x_2_1": {"correctness": "%s"}}' % ("correct" if right else "incorrect"),
                                 e, e, int(right), now))
            con.executemany(
                "INSERT INTO problem_states (user_id, course_key, usage_key, revision, attempts, reset_count, answers, correct_map, "
                "raw_earned, raw_possible, earned, possible, is_correct, ever_attempted, updated_at) "
                "VALUES (?, ?, ?, 1, 1, 0, ?, ?, ?, 1.0, ?, 1.0, ?, 1, ?)",
                rows,
            )
            states += len(rows)
    con.close()
    return states


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--db", required=True)
    p.add_argument("--course", required=True)
    p.add_argument("--learners", type=int, default=10000)
    p.add_argument("--kinds", default="grade")
    a = p.parse_args()
    c = benchlib.session_login(a.base, "admin", "bench-admin-password-1")
    keys = problems(c, a.course)
    t = time.time()
    states = add_learners(a.db, a.course, a.learners, keys)
    print(f"{a.learners} learners, {states} problem states ({len(keys)} problems) written in {time.time() - t:.1f} s")
    page = f"/courses/{a.course}/instructor/reports"
    for kind in a.kinds.split(","):
        status, _, data = c.request("GET", page)
        benchlib.check(status, data, "GET " + page)
        before = len(re.findall(rb'class="download"', data))
        hwm_before = benchlib.rss_kib(a.pid, "VmHWM")
        rss_before = benchlib.rss_kib(a.pid)
        start = time.time()
        status, _, data = c.request("POST", f"{page}/request/{kind}", form={"csrf_token": c.cookies["lectern_csrf"]})
        benchlib.check(status, data, "POST request", ok=(302, 303))
        while True:
            status, _, data = c.request("GET", page)
            benchlib.check(status, data, "GET " + page)
            if b">failed" in data:
                raise SystemExit("the report failed")
            if len(re.findall(rb'class="download"', data)) > before:
                break
            time.sleep(0.1)
        took = time.time() - start
        hwm = benchlib.rss_kib(a.pid, "VmHWM")
        link = re.search(rb'href="(/courses/[^"]+/instructor/reports/\d+/download)"', data).group(1).decode()
        t = time.time()
        status, _, body = c.request("GET", link)
        benchlib.check(status, body, "download")
        rows = body.count(b"\r\n") - 1
        print(f"{kind}: {rows} rows, {len(body) / 1e6:.1f} MB, ready {took:.2f} s after the click "
              f"({rows / took:.0f} learners/s); download {time.time() - t:.2f} s; "
              f"server RSS before {rss_before / 1024:.1f} MB, peak {hwm / 1024:.1f} MB "
              f"(peak before the report {hwm_before / 1024:.1f} MB)")


if __name__ == "__main__":
    main()
