"""propagate.py HTAUTHZ DB PORT USER PASSWORD N - how long a change takes
to reach the server: N times, htauthz disables (then enables) USER, and a
keep-alive client, looping on /p/file.txt as USER, records the time from
htauthz's return to the sending of the first request answered as after
the change (401, then 200).  Prints "p50 p99 max missed" in ms."""
import base64
import http.client
import subprocess
import sys
import time

htauthz, db, port, user, pw, n = sys.argv[1:7]
port, n = int(port), int(n)
auth = "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()
conn = None


def status():
    global conn
    for _ in range(2):
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/p/file.txt", headers={"Authorization": auth})
            r = conn.getresponse()
            r.read()
            return r.status
        except (OSError, http.client.HTTPException):
            conn.close()
            conn = None
    return 0


def until(want, limit):
    while True:
        sent = time.monotonic()
        if status() == want:
            return sent
        if sent > limit:
            return None


times, missed = [], 0
try:
    for i in range(n):
        off = i % 2 == 0
        before, after = (200, 401) if off else (401, 200)
        until(before, time.monotonic() + 5)
        subprocess.run([htauthz, "-d", db, "user",
                        "disable" if off else "enable", user],
                       check=True, capture_output=True)
        t0 = time.monotonic()
        t = until(after, t0 + 5)
        if t is None:
            missed += 1
        else:
            times.append((t - t0) * 1000.0)
finally:
    # as it was
    subprocess.run([htauthz, "-d", db, "user", "enable", user],
                   capture_output=True)
times.sort()
if times:
    print("%.2f %.2f %.2f %d" % (times[len(times) // 2],
                                 times[min(len(times) - 1,
                                           int(len(times) * 0.99))],
                                 times[-1], missed))
else:
    print("-1 -1 -1 %d" % missed)
