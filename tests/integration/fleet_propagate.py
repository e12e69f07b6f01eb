"""fleet_propagate.py - how fast a change made with htauthz reaches every
node of a fleet (tests/integration/cases/fleet_propagation.sh).

    fleet_propagate.py HTAUTHZ DBURL CHANGES URL...

One keep-alive client per node loops on a probe request.  For each change
(kinds: disable, password, role revoke, token revoke, block; CHANGES of
each, each revoking something, with the changes that undo them made in
between, untimed), every node first answers the probe as before the change
(so what it remembers is warm), then htauthz makes the change, and each
node's client records the time from htauthz's return to the sending of the
first request answered as after the change.  Prints one JSON object: per kind and node,
the times in ms; "wrong" counts answers that were neither (never expected).
"""
import base64
import http.client
import json
import subprocess
import sys
import threading
import time
import urllib.parse

htauthz, db, changes = sys.argv[1], sys.argv[2], int(sys.argv[3])
nodes = [urllib.parse.urlsplit(u) for u in sys.argv[4:]]
DEADLINE = 5.0          # a node that has not changed by then: a failure


def basic(user, pw):
    raw = ("%s:%s" % (user, pw)).encode()
    return "Basic " + base64.b64encode(raw).decode()


def hz(*args, stdin=None):
    r = subprocess.run([htauthz, "-d", db] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise SystemExit("htauthz %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


class Client:
    """One node's keep-alive connection (from a given source address)."""

    def __init__(self, url, source="127.0.0.1"):
        self.url, self.source = url, source
        self.conn = None

    def status(self, path, auth):
        for _ in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.url.hostname, self.url.port, timeout=10,
                    source_address=(self.source, 0))
            try:
                headers = {"Authorization": auth} if auth else {}
                self.conn.request("GET", path, headers=headers)
                r = self.conn.getresponse()
                r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
        raise SystemExit("node %s does not answer" % self.url.geturl())


def until(client, path, auth, want, deadline):
    """Loops until the node answers want; the send time of that request."""
    wrong = 0
    while True:
        sent = time.monotonic()
        st = client.status(path, auth)
        if st == want:
            return sent, wrong
        if sent > deadline:
            return None, wrong
        if st not in (200, 401, 403):
            wrong += 1


def change(clients, path, auth, before, after, do):
    """Warm every node on before, make the change, time each node."""
    for c in clients:
        t, _ = until(c, path, auth, before, time.monotonic() + DEADLINE)
        if t is None:
            raise SystemExit("node %s never answered %d before the change"
                             % (c.url.geturl(), before))
    do()
    t0 = time.monotonic()
    out = [None] * len(clients)

    def run(i):
        out[i] = until(clients[i], path, auth, after, t0 + DEADLINE)

    threads = [threading.Thread(target=run, args=(i,))
               for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [(None if s is None else (s - t0) * 1000.0, w) for s, w in out]


def main():
    result = {}
    local = [Client(u) for u in nodes]
    other = [Client(u, "127.0.0.2") for u in nodes]
    pw = ["Fleet-pw-one-9q", "Fleet-pw-two-4k"]
    tokens = []
    for i in range(changes):
        out = hz("token", "issue", "tina", "--label", "p%d" % i)
        lines = out.splitlines()
        tokens.append((lines[0], lines[1]))

    def kind(name, steps):
        """Times the revocations; the changes that undo them (enable,
        grant, unblock) are made between, untimed: before them every
        probe is refused, and a refused login waits out the failure floor
        (about 55 ms), which would be measured instead of the change."""
        times, wrong = [[] for _ in nodes], 0
        for path, auth, before, after, do, clients, timed in steps:
            for n, (ms, w) in enumerate(change(clients, path, auth, before,
                                               after, do)):
                if timed:
                    times[n].append(ms)
                wrong += w
        result[name] = {"ms": times, "wrong": wrong}

    def disable_steps():
        for i in range(changes * 2):
            off = i % 2 == 0
            yield ("/admin/", basic("dora", "Fleet-dora-pw-3x"),
                   200 if off else 401, 401 if off else 200,
                   (lambda off=off: hz("user", "disable" if off else "enable",
                                       "dora")), local, off)

    def password_steps():
        for i in range(changes):
            old, new = pw[i % 2], pw[(i + 1) % 2]
            yield ("/admin/", basic("pat", old), 200, 401,
                   (lambda new=new: hz("user", "passwd", "pat",
                                       "--password-stdin",
                                       stdin=new + "\n")), local, True)

    def role_steps():
        for i in range(changes * 2):
            revoke = i % 2 == 0
            yield ("/admin/", basic("rob", "Fleet-rob-pw-7m"),
                   200 if revoke else 403, 403 if revoke else 200,
                   (lambda revoke=revoke: hz(
                       "user", "revoke" if revoke else "grant", "rob",
                       "admin")), local, revoke)

    def token_steps():
        for tok, tid in tokens:
            yield ("/api/x.json", "Bearer " + tok, 200, 401,
                   (lambda tid=tid: hz("token", "revoke", tid)), local, True)

    def block_steps():
        for i in range(changes * 2):
            block = i % 2 == 0
            yield ("/open/", None, 200 if block else 403,
                   403 if block else 200,
                   (lambda block=block: hz(
                       "ip", "block" if block else "unblock",
                       "127.0.0.2")), other, block)

    kind("disable", disable_steps())
    kind("password", password_steps())
    kind("role revoke", role_steps())
    kind("token revoke", token_steps())
    kind("block", block_steps())
    print(json.dumps(result))


main()
