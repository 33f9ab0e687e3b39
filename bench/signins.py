#!/usr/bin/env python3
"""Idle server memory after sign-ins (issue 13: "after three sign-ins the idle
server holds 72 MB").

Starts `lectern serve` on an empty temp data folder, registers one learner,
then signs in through the token endpoint N times one after another, and in
bursts of two at once (the most hashes that run together), printing VmRSS
after each step and after 2 s idle. Measures and prints; asserts nothing.

    python3 bench/signins.py [--signins 10] [--bin PATH]
"""

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as b  # noqa: E402

PASSWORD = "bench password 1234"


def lectern_bin():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(root, "target"))
    return os.environ.get("LECTERN_BIN", os.path.join(target, "release", "lectern"))


def sign_in(base):
    c = b.Client(base)
    status, _, data = c.json(
        "POST",
        "/oauth2/access_token",
        form={"grant_type": "password", "username": "learner", "password": PASSWORD},
    )
    b.check(status, data, "sign-in")
    c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--signins", type=int, default=10)
    ap.add_argument("--bin", default=lectern_bin())
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lectern-bench-signins.") as data:
        port = b.free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [args.bin, "serve", "--data", data, "--listen", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            b.wait_ready(base)
            time.sleep(1)
            rss = lambda: f"VmRSS {b.rss_kib(proc.pid)} KiB (VmHWM {b.rss_kib(proc.pid, 'VmHWM')} KiB)"
            print(f"binary: {args.bin}")
            print(f"after start:                 {rss()}")
            b.register_and_token(base, "learner", PASSWORD).close()
            print(f"after registration + token:  {rss()}")
            for i in range(args.signins):
                sign_in(base)
                print(f"after sign-in {i + 1:3d}:          {rss()}")
            time.sleep(2)
            print(f"idle 2 s later:              {rss()}")
            for burst in range(3):
                ts = [threading.Thread(target=sign_in, args=(base,)) for _ in range(4)]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
                print(f"after burst {burst + 1} of 4 at once:  {rss()}")
            time.sleep(2)
            print(f"idle 2 s later:              {rss()}")
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
