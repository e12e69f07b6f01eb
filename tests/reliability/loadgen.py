#!/usr/bin/env python3
"""loadgen.py - a small, bounded HTTP load generator for the reliability tests.

Used by tests/integration/cases/rel_*.sh and tests/reliability/run.sh.
Loopback only: it talks to 127.0.0.1:PORT and nothing else.

    loadgen.py --port P --spec SPEC.json [--clients N] [--duration S]
               [--requests K] [--stop FILE] [--ready FILE]
               [--mode keepalive|fresh|mixed] [--retry-stale] [--pace S] [--rotate]
               [--out OUT.json]

SPEC.json is a list of targets; client i uses target i % len(SPEC):

    [{"name": "u01", "auth": "Basic dTAxOnB3", "path": "/admin/",
      "expect": 200, "echo": "u01"}, ...]

"auth" is the Authorization header value (omitted: none), "expect" the
status every answer must have, "echo" (optional) the value the
X-Remote-User response header must carry.  --rotate: every client cycles
through all the targets instead.

Modes: keepalive reuses one connection per client; fresh opens a new
connection for every request; mixed gives even clients keep-alive and odd
ones fresh connections.

--retry-stale: a request on a REUSED keep-alive connection that fails
before a single byte of the answer arrived (the server closed the idle
connection, e.g. during a graceful restart) is retried once on a new
connection, as RFC 9110 section 9.2.2 allows for idempotent requests and as
browsers and curl do.  Such retries are counted separately (stale_retries);
a failure on a new connection, or of the retry, is a failure.

The summary (JSON, on stdout and in --out) counts requests, ok, bad
statuses, echo mismatches and connection errors, with a few samples.
"""

import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time

# What a kept-alive connection closed by the server raises.
STALE_ERRORS = (http.client.RemoteDisconnected, ConnectionResetError,
                BrokenPipeError, ConnectionAbortedError)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--spec", required=True)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--duration", type=float, default=0.0)
    ap.add_argument("--requests", type=int, default=0)
    ap.add_argument("--stop", default="")
    ap.add_argument("--ready", default="")
    ap.add_argument("--mode", default="keepalive",
                    choices=["keepalive", "fresh", "mixed"])
    ap.add_argument("--retry-stale", action="store_true")
    ap.add_argument("--rotate", action="store_true",
                    help="each client cycles through all targets")
    ap.add_argument("--pace", type=float, default=0.0,
                    help="seconds each client sleeps between requests")
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--max-seconds", type=float, default=600.0)
    ap.add_argument("--out", default="")
    a = ap.parse_args()

    spec = json.load(open(a.spec))
    if not spec:
        sys.exit("empty spec")
    lock = threading.Lock()
    tot = {"requests": 0, "ok": 0, "bad_status": {}, "mismatch": 0,
           "conn_errors": 0, "stale_retries": 0, "samples": [],
           "clients": a.clients, "mode": a.mode}
    started = [0]
    t_start = time.monotonic()
    deadline = t_start + (a.duration if a.duration > 0 else a.max_seconds)
    deadline = min(deadline, t_start + a.max_seconds)

    def sample(msg):
        if len(tot["samples"]) < 12:
            tot["samples"].append("%.3fs %s" % (time.monotonic() - t_start,
                                                msg))

    def stop_now():
        if time.monotonic() >= deadline:
            return True
        return bool(a.stop) and os.path.exists(a.stop)

    def client(i):
        keep = a.mode == "keepalive" or (a.mode == "mixed" and i % 2 == 0)
        conn = None
        reused = False
        n = 0
        first = True
        while not stop_now() and (a.requests == 0 or n < a.requests):
            if n and a.pace > 0:
                time.sleep(a.pace)
            t = spec[(i + (n if a.rotate else 0)) % len(spec)]
            hdrs = {}
            if t.get("auth"):
                hdrs["Authorization"] = t["auth"]
            if not keep:
                hdrs["Connection"] = "close"
            n += 1
            attempt = 0
            while True:
                attempt += 1
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", a.port,
                                                      timeout=a.timeout)
                    reused = False
                got_bytes = False
                try:
                    conn.request("GET", t["path"], headers=hdrs)
                    resp = conn.getresponse()
                    got_bytes = True
                    resp.read()
                    status = resp.status
                    echo = resp.getheader("X-Remote-User")
                    will_close = resp.will_close
                except (OSError, http.client.HTTPException) as e:
                    if conn is not None:
                        conn.close()
                    conn = None
                    # A kept-alive connection the server closed before the
                    # request reached it: one retry on a new connection.
                    stale = isinstance(e, STALE_ERRORS)
                    if (stale and a.retry_stale and reused and not got_bytes
                            and attempt == 1):
                        with lock:
                            tot["stale_retries"] += 1
                        continue
                    with lock:
                        tot["requests"] += 1
                        tot["conn_errors"] += 1
                        sample("%s: %s %s" % (t.get("name"),
                                              type(e).__name__, e))
                    break
                with lock:
                    tot["requests"] += 1
                    good = status == t["expect"]
                    if not good:
                        k = str(status)
                        tot["bad_status"][k] = tot["bad_status"].get(k, 0) + 1
                        sample("%s: status %d (expected %d)"
                               % (t.get("name"), status, t["expect"]))
                    if "echo" in t and echo != t["echo"]:
                        good = False
                        tot["mismatch"] += 1
                        sample("%s: X-Remote-User %r (expected %r)"
                               % (t.get("name"), echo, t["echo"]))
                    if good:
                        tot["ok"] += 1
                    if first:
                        first = False
                        started[0] += 1
                        if a.ready and started[0] == a.clients:
                            open(a.ready, "w").write("ready\n")
                if will_close or not keep:
                    conn.close()
                    conn = None
                else:
                    reused = True
                break
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True)
               for i in range(a.clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(max(0.0, deadline - time.monotonic()) + a.timeout + 5)
    tot["seconds"] = round(time.monotonic() - t_start, 2)
    tot["rps"] = round(tot["requests"] / max(tot["seconds"], 0.001), 1)
    tot["failed"] = tot["requests"] - tot["ok"]
    out = json.dumps(tot, sort_keys=True)
    if a.out:
        open(a.out, "w").write(out + "\n")
    print(out)


if __name__ == "__main__":
    main()
