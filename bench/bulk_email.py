"""Bulk e-mail throughput (issue 21): one bulk e-mail to N generated learners,
sent through a local SMTP server; prints messages/s from "Send" to the last
message the relay accepted, with the outbox gauges of /metrics as the clock.

Called by bench/bulk_email.sh, which starts the relay and the server; learners
are written straight into the SQLite database (no Argon2 per learner)."""

import argparse
import sqlite3
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
import benchlib  # noqa: E402


def add_learners(db, course, n):
    now = int(time.time() * 1000)
    con = sqlite3.connect(db)
    with con:
        for i in range(n):
            cur = con.execute(
                "INSERT INTO users (username, email, name, password_hash, is_admin, is_course_creator, is_active, created_at) "
                "VALUES (?, ?, ?, 'no password', 0, 0, 1, ?)",
                (f"learner{i}", f"learner{i}@example.org", f"Learner {i}", now),
            )
            con.execute(
                "INSERT INTO enrollments (user_id, course_key, mode, is_active, created_at) VALUES (?, ?, 'audit', 1, ?)",
                (cur.lastrowid, course, now),
            )
    con.close()


def gauges(c):
    status, _, data = c.request("GET", "/metrics")
    benchlib.check(status, data, "GET /metrics")
    out = {}
    for line in data.decode().splitlines():
        if line.startswith("lectern_mail_outbox{"):
            state = line.split('"')[1]
            out[state] = int(line.rsplit(" ", 1)[1])
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--db")
    p.add_argument("--course", required=True)
    p.add_argument("--learners", type=int, default=1000)
    p.add_argument("--add-learners", action="store_true")
    a = p.parse_args()
    if a.add_learners:
        t = time.time()
        add_learners(a.db, a.course, a.learners)
        print(f"{a.learners} learners written in {time.time() - t:.2f} s")
        return
    c = benchlib.session_login(a.base, "admin", "bench-admin-password-1")
    page = f"/courses/{a.course}/instructor/email"
    status, _, data = c.request("GET", page)
    benchlib.check(status, data, "GET " + page)
    form = {
        "csrf_token": c.cookies["lectern_csrf"],
        "target_learners": "on",
        "subject": "Exam next week",
        "body": "<p>The exam opens on <b>Monday</b>. Read chapter 2 first.</p>",
    }
    before = gauges(c).get("sent", 0)
    start = time.time()
    status, _, data = c.request("POST", page + "/send", form=form)
    benchlib.check(status, data, "POST send", ok=(302, 303))
    peak, first = 0, None
    while True:
        g = gauges(c)
        sent = g.get("sent", 0) - before
        if sent and first is None:
            first = time.time() - start
        peak = max(peak, benchlib.rss_kib(a.pid, "VmHWM"))
        if sent >= a.learners:
            break
        if g.get("failed", 0):
            raise SystemExit(f"failed mail: {g}")
        time.sleep(0.05)
    took = time.time() - start
    print(f"{a.learners} messages sent in {took:.2f} s: {a.learners / took:.0f} messages/s "
          f"(first accepted after {first:.2f} s); server peak RSS {peak / 1024:.1f} MB")


if __name__ == "__main__":
    main()
