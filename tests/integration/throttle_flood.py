#!/usr/bin/env python3
"""Load for the throttle's flood case (cases/throttle_flood.sh).

flood PORT SOURCE CONNS SECONDS AUTH [PAUSE_MS] - CONNS keep-alive
    connections from SOURCE (a loopback address), each sending GET /admin/
    with the Authorization header AUTH, the next one PAUSE_MS (default 0)
    after each answer (a client that far away), for SECONDS; prints the
    count of each status, then "first429 K" (how many answers came before
    the first 429), then "rps R" (answers per second).  With valid
    credentials and no pause, it is the valid client.
burst PORT XFF N basic|form USER:PASSWORD - N requests at once, each on a
    connection of its own, naming XFF in X-Forwarded-For: GET /admin/
    with Basic, or POST /dologin.html with the form; prints their
    statuses, sorted.
"""
import selectors
import socket
import sys
import time


def request(auth):
    return ("GET /admin/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: %s\r\n\r\n" % auth).encode()


def parse(buf):
    """(status, bytes used, keep-alive) of the first whole response in buf,
    or None."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    length, close = 0, False
    for line in head[1:]:
        k, _, v = line.partition(":")
        k = k.strip().lower()
        if k == "content-length":
            length = int(v.strip())
        elif k == "connection" and "close" in v.lower():
            close = True
    if len(buf) < end + 4 + length:
        return None
    return status, end + 4 + length, not close


def connect(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def flood(port, source, conns, seconds, auth, pause):
    sel = selectors.DefaultSelector()
    req = request(auth)
    counts, order = {}, []
    end = time.monotonic() + seconds
    later = []          # (when, socket): the next request after a pause

    def start():
        s = connect(port, source)
        s.setblocking(False)
        s.send(req)
        sel.register(s, selectors.EVENT_READ, bytearray())

    for _ in range(conns):
        start()
    while time.monotonic() < end:
        now = time.monotonic()
        while later and later[0][0] <= now:
            s = later.pop(0)[1]
            if s is None:
                start()         # a new connection, after the pause
            elif s.fileno() >= 0:   # not closed by the server meanwhile
                try:
                    s.send(req)
                except OSError:
                    sel.unregister(s)
                    s.close()
                    start()
        wait = max(0.0, later[0][0] - now) if later else 0.2
        for key, _ in sel.select(timeout=min(wait, 0.2)):
            s, buf = key.fileobj, key.data
            try:
                data = s.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                start()
                continue
            buf += data
            got = parse(bytes(buf))
            if not got:
                continue
            status, used, keep = got
            counts[status] = counts.get(status, 0) + 1
            order.append(status)
            del buf[:used]
            if keep and pause:
                later.append((time.monotonic() + pause, s))
            elif keep:
                s.send(req)
            else:
                sel.unregister(s)
                s.close()
                if pause:
                    later.append((time.monotonic() + pause, None))
                else:
                    start()
    first = order.index(429) if 429 in order else -1
    print(" ".join("%d %d" % kv for kv in sorted(counts.items())))
    print("first429 %d" % first)
    print("rps %.1f" % (len(order) / seconds))


def burst(port, xff, n, kind, cred):
    import base64
    import threading
    import urllib.parse
    user, _, pw = cred.partition(":")
    if kind == "basic":
        req = ("GET /admin/ HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: %s\r\n"
               "Authorization: Basic %s\r\nConnection: close\r\n\r\n"
               % (xff, base64.b64encode(cred.encode()).decode())).encode()
    else:
        body = urllib.parse.urlencode({"httpd_username": user,
                                       "httpd_password": pw}).encode()
        req = ("POST /dologin.html HTTP/1.1\r\nHost: x\r\n"
               "X-Forwarded-For: %s\r\n"
               "Content-Type: application/x-www-form-urlencoded\r\n"
               "Content-Length: %d\r\nConnection: close\r\n\r\n"
               % (xff, len(body))).encode() + body
    out = []

    def one():
        s = socket.create_connection(("127.0.0.1", port), 30)
        s.sendall(req)
        data = b""
        while True:
            c = s.recv(65536)
            if not c:
                break
            data += c
        out.append(data.split(b" ", 2)[1].decode())
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print(" ".join(sorted(out)))


if __name__ == "__main__":
    mode, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "burst":
        burst(port, source, int(sys.argv[4]), sys.argv[5], sys.argv[6])
        sys.exit(0)
    if mode != "flood":
        raise SystemExit(__doc__)
    flood(port, source, int(sys.argv[4]), float(sys.argv[5]), sys.argv[6],
          float(sys.argv[7]) / 1000 if len(sys.argv) > 7 else 0.0)
