"""Shared helpers for Lectern's benchmark scripts (Python 3 standard library only).

Nothing here asserts on timings: the scripts measure and print.
"""

import http.client
import json
import math
import os
import platform
import socket
import subprocess
import time
import urllib.parse

DEMO_COURSE = "course-v1:OpenedX+DemoX+DemoCourse"


class Client:
    """One keep-alive HTTP/1.1 connection with a tiny cookie jar.

    Redirects are not followed (the caller sees 302/303 and the cookies).
    """

    def __init__(self, base, timeout=60):
        u = urllib.parse.urlsplit(base)
        self.host = u.hostname
        self.port = u.port or 80
        self.timeout = timeout
        self.cookies = {}
        self.bearer = None
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, json_body=None, form=None):
        h = dict(headers or {})
        if json_body is not None:
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        elif form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if self.bearer:
            h["Authorization"] = "Bearer " + self.bearer
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in (0, 1):
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(method, path, body=body, headers=h)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once.
                self.close()
                if attempt:
                    raise
        for k, v in resp.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if "max-age=0" in v.lower() or value == "":
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = value
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, resp, data

    def json(self, method, path, **kw):
        status, resp, data = self.request(method, path, **kw)
        try:
            parsed = json.loads(data) if data else None
        except ValueError:
            parsed = None
        return status, parsed, data


def check(status, data, what, ok=(200,)):
    if status not in ok:
        raise SystemExit(f"{what}: HTTP {status}: {data[:500]!r}")


def register_and_token(base, username, password):
    """Registers a learner through the API and returns a bearer client."""
    c = Client(base)
    status, _, data = c.json(
        "POST",
        "/api/user/v1/account/registration/",
        json_body={
            "email": f"{username}@example.com",
            "username": username,
            "name": username,
            "password": password,
        },
    )
    check(status, data, f"register {username}")
    status, tok, data = c.json(
        "POST",
        "/oauth2/access_token",
        form={
            "grant_type": "password",
            "username": username,
            "password": password,
            "client_id": "bench",
        },
    )
    check(status, data, f"token {username}")
    c.bearer = tok["access_token"]
    return c


def enrol(c, course_key):
    status, _, data = c.json(
        "POST",
        "/api/enrollment/v1/enrollment",
        json_body={"course_details": {"course_id": course_key}},
    )
    check(status, data, "enrol")


def blocks(c, course_key):
    q = urllib.parse.urlencode(
        {"course_id": course_key, "depth": "all", "all_blocks": "true"}
    )
    status, doc, data = c.json("GET", "/api/courses/v2/blocks/?" + q)
    check(status, data, "blocks")
    return doc


def session_login(base, login, password):
    """Signs in through the HTML form; returns a client holding the session cookie."""
    c = Client(base)
    status, _, data = c.request("GET", "/login")
    check(status, data, "GET /login")
    csrf = c.cookies.get("lectern_csrf")
    if not csrf:
        raise SystemExit("GET /login set no lectern_csrf cookie")
    status, _, data = c.request(
        "POST", "/login", form={"login": login, "password": password, "csrf_token": csrf, "next": "/dashboard"}
    )
    check(status, data, "POST /login", ok=(302, 303))
    if "lectern_session" not in c.cookies:
        raise SystemExit("POST /login set no lectern_session cookie")
    return c


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return None


def wait_ready(base, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = Client(base, timeout=2)
            status, _, _ = c.request("GET", "/health/ready")
            c.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"{base} not ready after {timeout}s")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def percentile(sorted_values, p):
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    k = math.ceil(p / 100.0 * len(sorted_values)) - 1
    return sorted_values[max(0, min(len(sorted_values) - 1, k))]


def machine():
    """One line describing the machine, for the report."""
    def sh(cmd):
        try:
            return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
        except OSError:
            return "?"

    cpu = sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2").strip()
    mem = sh("free -g | awk '/^Mem:/ {print $2}'")
    return (
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; nproc={os.cpu_count() and sh('nproc')}; "
        f"free -g total={mem} GiB; cpu={cpu}; kernel={platform.release()}; "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (other work shares the cores)"
    )
