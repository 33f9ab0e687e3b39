#!/usr/bin/env python3
"""The learner's side of tests/cluster/onebox.sh (Python standard library).

    onebox_client.py box BASE COURSE PROBLEM OUT.json
        registers a learner on the one-box site, enrols, answers PROBLEM right,
        and writes what the learner sees (attempts, score, course grade) to OUT
    onebox_client.py cluster BASE COURSE PROBLEM OUT.json
        signs that learner in through the sign-in form at BASE (the proxy),
        reads the progress page, and checks the learner sees the same as on
        the box; exits 1 (saying what differs) otherwise
"""

import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../bench"))
import benchlib as b  # noqa: E402
from checks import find_inputs  # noqa: E402

LOGIN, PASSWORD = "boxlearner", "one-box-learner-password"


def percent(doc):
    """The first "percent" anywhere in a grades answer."""
    if isinstance(doc, dict):
        if "percent" in doc:
            return doc["percent"]
        doc = list(doc.values())
    if isinstance(doc, list):
        for v in doc:
            p = percent(v)
            if p is not None:
                return p
    return None


def seen(c, course, problem):
    key = urllib.parse.quote(problem, safe=":+@")
    status, doc, raw = c.json("GET", f"/api/problems/v1/{key}")
    b.check(status, raw, "read the problem")
    status, grades, raw = c.json("GET", f"/api/grades/v1/courses/{course}/?username={LOGIN}")
    b.check(status, raw, "read the course grade")
    return {"attempts": doc["attempts"], "score": doc["score"], "percent": percent(grades)}


def main():
    phase, base, course, problem, out = sys.argv[1:6]
    if phase == "box":
        c = b.register_and_token(base, LOGIN, PASSWORD)
        b.enrol(c, course)
        key = urllib.parse.quote(problem, safe=":+@")
        status, doc, raw = c.json("GET", f"/api/problems/v1/{key}")
        b.check(status, raw, "read the problem")
        iid = find_inputs(doc)[0][0]
        status, _, raw = c.json("POST", f"/api/problems/v1/{key}/check", json_body={"answers": {iid: "choice_0"}})
        b.check(status, raw, "check the problem")
        view = seen(c, course, problem)
        if not view["score"]["earned"]:
            raise SystemExit(f"the right answer earned nothing on the box: {view}")
        json.dump(view, open(out, "w"))
        print(f"on the box: {LOGIN} answered; sees {view}")
        return
    want = json.load(open(out))
    s = b.session_login(base, LOGIN, PASSWORD)
    status, _, raw = s.request("GET", f"/courses/{course}/progress")
    b.check(status, raw, "the progress page through the proxy")
    if LOGIN.encode() not in raw and b"Progress" not in raw:
        raise SystemExit("the progress page does not look like the learner's")
    c = b.Client(base)
    status, tok, raw = c.json("POST", "/oauth2/access_token", form={
        "grant_type": "password", "username": LOGIN, "password": PASSWORD, "client_id": "onebox"})
    b.check(status, raw, "a token through the proxy")
    c.bearer = tok["access_token"]
    got = seen(c, course, problem)
    if got != want:
        raise SystemExit(f"on the cluster {LOGIN} sees {got}, on the box {want}")
    print(f"on the cluster (through the proxy): {LOGIN} signed in, progress page shown; sees {got}, as on the box")


if __name__ == "__main__":
    main()
