#!/usr/bin/env python3
"""Load for the throttle's flood case (cases/throttle_flood.sh).

flood PORT SOURCE CONNS SECONDS AUTH [PAUSE_MS] - CONNS keep-alive
    connections from SOURCE (a loopback address), each sending GET /admin/
    with the Authorization header AUTH, the next one PAUSE_MS (default 0)
    after each answer (a client that far away), for SECONDS; prints the
    count of each status, then "first429 K" (how many answers came before
    the first 429), then "rps R" (answers per second).  With valid
    credentials and no pause, it is the valid client.
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


if __name__ == "__main__":
    mode, port, source = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode != "flood":
        raise SystemExit(__doc__)
    flood(port, source, int(sys.argv[4]), float(sys.argv[5]), sys.argv[6],
          float(sys.argv[7]) / 1000 if len(sys.argv) > 7 else 0.0)
