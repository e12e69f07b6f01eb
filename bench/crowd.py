#!/usr/bin/env python3
"""Many returning users for bench/run.sh (the crowd and churn modes, and
the --many variant's warm-up).

    crowd.py pick AUTHORIZED COUNT OUT   the first COUNT of a fixed shuffle
                                         of the users holding bench:read:
                                         smaller crowds are prefixes of
                                         larger ones, spread over all names
    crowd.py lua NAMES COUNT PASSWORD    a wrk script sending the first
                                         COUNT users' Basic credentials in
                                         turn, counting 503 and non-200
                                         answers ("azs-status" line at the end)
    crowd.py warm PORT PATH NAMES COUNT PASSWORD CONNS
                                         one request per user, CONNS at once
                                         (keep-alive), retrying 503 up to 20
                                         times; prints "seconds n200 nother"
"""
import base64
import http.client
import random
import sys
import threading
import time


def names_of(path, count):
    with open(path) as f:
        names = [line.strip() for line in f if line.strip()]
    return names[:count]


def pick(authorized, count, out):
    with open(authorized) as f:
        names = [line.strip() for line in f if line.strip()]
    random.Random(20261202).shuffle(names)
    if count > len(names):
        sys.exit("crowd.py: %d users asked, the database has %d holding the"
                 " permission (more users: --users)" % (count, len(names)))
    with open(out, "w") as f:
        f.writelines(n + "\n" for n in names[:count])


def basic(name, password):
    return "Basic " + base64.b64encode(
        ("%s:%s" % (name, password)).encode()).decode()


def lua(names_file, count, password):
    names = names_of(names_file, count)
    print("local hdrs = {")
    for n in names:
        print('  "%s",' % basic(n, password))
    print("}")
    print("""local reqs = {}
local i = 0
local threads = {}
n503 = 0
nbad = 0
setup = function(thread)
  table.insert(threads, thread)
end
init = function(args)
  for j, h in ipairs(hdrs) do
    reqs[j] = wrk.format("GET", nil, {["Authorization"] = h})
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
response = function(status, headers, body)
  if status ~= 200 then
    nbad = nbad + 1
    if status == 503 then
      n503 = n503 + 1
    end
  end
end
done = function(summary, latency, requests)
  local a, b = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("n503")
    b = b + t:get("nbad")
  end
  io.write(string.format("azs-status 503 %d non200 %d\\n", a, b))
end""")


def warm(port, path, names_file, count, password, conns):
    names = names_of(names_file, count)
    lock = threading.Lock()
    todo = list(reversed(names))
    counts = {"ok": 0, "other": 0}
    firstbad = []

    def worker():
        c = None
        while True:
            with lock:
                if not todo:
                    break
                name = todo.pop()
            status = 0
            for attempt in range(20):
                try:
                    if c is None:
                        c = http.client.HTTPConnection("127.0.0.1", port,
                                                       timeout=60)
                    c.request("GET", path,
                              headers={"Authorization": basic(name, password)})
                    r = c.getresponse()
                    r.read()
                    status = r.status
                    if r.will_close:
                        c.close()
                        c = None
                except (OSError, http.client.HTTPException):
                    status = -1
                    if c is not None:
                        c.close()
                    c = None
                if status not in (503, -1):
                    break
                time.sleep(0.2)
            with lock:
                if status == 200:
                    counts["ok"] += 1
                else:
                    counts["other"] += 1
                    if len(firstbad) < 3:
                        firstbad.append("%s: %d" % (name, status))
        if c is not None:
            c.close()

    t0 = time.time()
    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("%.1f %d %d" % (time.time() - t0, counts["ok"], counts["other"]))
    if firstbad:
        print("crowd.py warm: not 200: " + ", ".join(firstbad),
              file=sys.stderr)


def main():
    a = sys.argv[1:]
    if a[:1] == ["pick"] and len(a) == 4:
        pick(a[1], int(a[2]), a[3])
    elif a[:1] == ["lua"] and len(a) == 4:
        lua(a[1], int(a[2]), a[3])
    elif a[:1] == ["warm"] and len(a) == 7:
        warm(int(a[1]), a[2], a[3], int(a[4]), a[5], int(a[6]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
