#!/usr/bin/env python3
"""Turns the raw TSV that bench/run.sh writes into the text report:
the table of requests/s and ratios to the no-auth ceiling, and the issue's
targets.  Usage: report.py RAW.tsv"""
import statistics
import sys

LABELS = [
    ("ceiling", "(1) no authentication (the ceiling)"),
    ("floor", "(1b) authn_file, 2-line htpasswd, Require user"),
    ("file", "(2) authn_file + authz_groupfile, {SHA}"),
    ("dbd", "(3) authn_dbd + authz_dbd (sqlite3), {SHA}"),
    ("socache", "(4) authn_dbd + authz_dbd + authn_socache, {SHA}"),
    ("azs-bcrypt", "(5) ours, bcrypt 10, cache on, blocklist on"),
    ("azs-sha-nocache", "(6) ours, {SHA}, AuthzStatusCache Off"),
    ("azs-bearer", "(7) ours, AuthType Bearer"),
    ("azs-blocked", "(8) ours, client blocklisted (403)"),
    ("azs-pg", "(9) (5) on PostgreSQL (same data, migrated)"),
    ("azs-throttle", "(10) (5), AuthzStatusThrottle on, not throttled"),
    ("azs-throttled", "(11) (5), client throttled (429)"),
    ("azs-export", "(13) (5), AuthzStatusExport On"),
]


def label(cfg):
    base, many = (cfg[:-5], True) if cfg.endswith("+many") else (cfg, False)
    text = dict(LABELS).get(base, base)
    return text + (" [many users]" if many else "")


def order(cfg):
    base = cfg[:-5] if cfg.endswith("+many") else cfg
    keys = [k for k, _ in LABELS]
    return (keys.index(base) if base in keys else 99, cfg.endswith("+many"))


def fmt_n(n):
    return "{:,}".format(int(n))


def fmt_rps(x):
    return "{:,.0f}".format(x) if x >= 10 else "{:.1f}".format(x)


def fmt_ratio(x):
    if x >= 0.1:
        return "%.2f" % x
    if x >= 0.001:
        return "%.3f" % x
    return "%.4f" % x


def crowd_merge(rows):
    """The runs of one scenario over the crowd rounds (--crowd-rounds):
    median ratio, requests/s and CPU; answers, 503s, non-200s and writes
    summed; the per-round ratios kept for their spread."""
    groups = {}
    for x, ratio, c in rows:
        key = (c["backend"], c["k"], c["rate"], c["mode"])
        groups.setdefault(key, []).append((x, ratio, c))
    merged = []
    for runs in groups.values():
        xs = [x for x, _, _ in runs]
        cs = [c for _, _, c in runs]
        ratios = [r for _, r, _ in runs]
        cpus = [x["cpu"] for x in xs if x["cpu"] >= 0]
        x = dict(xs[0], rps=statistics.median(x["rps"] for x in xs),
                 total=sum(x["total"] for x in xs),
                 errors=sum(x["errors"] for x in xs),
                 cpu=statistics.median(cpus) if cpus else -1.0)
        c = dict(cs[0], n503=sum(c["n503"] for c in cs),
                 bad=sum(c["bad"] for c in cs),
                 writes=sum(c["writes"] for c in cs),
                 wfail=sum(c["wfail"] for c in cs),
                 wms=int(statistics.mean(c["wms"] for c in cs)),
                 ratios=ratios)
        merged.append((x, statistics.median(ratios), c))
    return merged


def crowd_table(p, rows, warm, ceil_cpu):
    """The crowd and churn runs: ratio to the ceiling runs next to each,
    503 and non-200 answers, the writes made during the run."""
    p("")
    size = rows[0][0]["size"]
    p("Crowd and churn: returning users in rotation on (5), bcrypt 10 + "
      "Require + blocklist, %s users in the database" % fmt_n(int(size)))
    for n, k, secs, ok, other, back in warm:
        p("  the crowd (%s users) verified once before measuring%s: %.0f s, "
          "%s answered 200, %s other" % (
              fmt_n(k), " (PostgreSQL)" if back == "postgresql" else "",
              secs, fmt_n(ok), fmt_n(other)))
    rounds = max(len(c["ratios"]) for _, _, c in rows)
    head = "%-40s%16s%10s%10s%8s%20s%9s%s" % (
        "Scenario", "ratio (req/s)", "answers", "non-200", "503",
        "writes (failed), ms", "CPU us",
        "  ratio min-max (%d rounds)" % rounds if rounds > 1 else "")
    p(head)
    p("-" * len(head))
    for x, ratio, c in rows:
        what = ("PostgreSQL: " if c["backend"] == "postgresql" else "") \
            + "%s users" % fmt_n(c["k"])
        what += (", first pass" if c["mode"] == "first" else
                 ", no writes" if c["rate"] == 0 else
                 ", %d %s/s for %d s" % (
                     c["rate"],
                     ("grant" if c["mode"] == "grant" else "write")
                     + ("" if c["rate"] == 1 else "s"), c["secs"]))
        mark = "!" if c["bad"] or x["errors"] else " "
        p("%-40s%16s%10s%10s%8s%20s%9s%s" % (
            what, "%s (%s)%s" % (fmt_ratio(ratio), fmt_rps(x["rps"]), mark),
            fmt_n(x["total"]), fmt_n(c["bad"]), fmt_n(c["n503"]),
            "-" if c["rate"] == 0 else "%d (%d), %d" % (
                c["writes"], c["wfail"], c["wms"]),
            "%.0f" % x["cpu"] if x["cpu"] >= 0 else "-",
            "  %s-%s" % (fmt_ratio(min(c["ratios"])),
                         fmt_ratio(max(c["ratios"])))
            if len(c["ratios"]) > 1 else ""))
    p("Ratio: the run's requests/s over the mean of the ceiling runs just "
      "before and after it (ceiling: %s us CPU/request). Writes: htauthz "
      "commands committed during the run, in turn user add, token issue "
      "(another user), ip block, role add; grants: a new permission for "
      "role00001, which every crowd user inherits; first pass: the whole "
      "crowd just after its verification (each child meets users the "
      "verification sent to another); ms: mean wall time of "
      "one. 503: "
      "every hash place taken (AZS0110); non-200 counts them too. CPU us: "
      "httpd's CPU per answered request. wrk's Lua request and response "
      "hooks cost the client a little: the ceiling runs beside these send "
      "the same rotation through the same hooks." % (
          "%.0f" % statistics.median(ceil_cpu) if ceil_cpu else "?"))


def crowd_targets(p, rows, med, sizes):
    """Issue 14's targets, from the crowd, churn and many-user runs of
    this run, beside the floor (httpd's cheapest Basic login)."""
    def find(k, rate, mode):
        """The merged row of one SQLite scenario, or None."""
        got = [(r, c) for x, r, c in rows if c["k"] == k
               and c["rate"] == rate and c["mode"] == mode
               and c["backend"] == "sqlite"]
        return got[0] if got else None

    big = max(sizes) if sizes else None
    crowd = max((c["k"] for x, r, c in rows), default=0)
    p("")
    p("Targets (issue 14), crowd of %s users, %s users in the database"
      % (fmt_n(crowd), fmt_n(int(rows[0][0]["size"]))))
    floor = med.get(("floor", big))
    if floor:
        p("  %-58s %s (httpd's cheapest Basic login, same run)"
          % ("floor: mod_authn_file, 2-line htpasswd", fmt_ratio(floor[0])))
    for num, what, k, rate, mode, goal in (
            ("1", "crowd, no writes", crowd, 0, "mixed", 0.85),
            ("2", "crowd, 1 unrelated write/s", crowd, 1, "mixed", 0.80),
            ("2", "crowd, 10 unrelated writes/s", crowd, 10, "mixed", 0.70),
            ("4", "crowd, 1 grant/s to a role all inherit", crowd, 1,
             "grant", 0.70)):
        got = find(k, rate, mode)
        if got is None:
            p("  %s. %-55s not measured" % (num, what))
            continue
        r, c = got
        clean = c["n503"] == 0 and c["bad"] == 0
        p("  %s. %-55s %s  %s >= %.2f%s" % (
            num, what, "PASS" if r >= goal and clean else "MISS",
            fmt_ratio(r), goal, "" if clean else " (503 or non-200 answers)"))
    many = med.get(("azs-sha-nocache+many", big))
    if many:
        p("  5. %-55s %s  %s >= 0.85" % (
            "no cache, {SHA}, many users in rotation",
            "PASS" if many[0] >= 0.85 else "MISS", fmt_ratio(many[0])))
    else:
        p("  5. no cache, {SHA}, many users: not measured (--many)")


def main():
    meta, runs, checks, rss, startup, cli, alarms, fixtures = \
        {}, [], [], [], [], [], [], []
    t5 = None
    flood = []
    crowd, warm, propagation = {}, [], []
    with open(sys.argv[1]) as f:
        for line in f:
            r = line.rstrip("\n").split("\t")
            kind = r[0]
            if kind == "meta":
                meta[r[1]] = r[2]
            elif kind == "run":
                runs.append(dict(seq=int(r[1]), round=int(r[2]), size=r[3],
                                 cfg=r[4], rps=float(r[5]), total=int(r[6]),
                                 non2xx=int(r[7]), errors=int(r[8]),
                                 cpu=float(r[9]) if len(r) > 9 else -1.0))
            elif kind == "check":
                checks.append(r[1:])
            elif kind == "rss":
                rss.append((int(r[1]), r[2], int(r[4])))
            elif kind == "startup":
                startup.append((int(r[1]), int(r[2]), int(r[3]), int(r[4])))
            elif kind == "cli":
                cli.append((r[1], r[2], r[3]))
            elif kind == "t5":
                t5 = dict(size=int(r[1]), alone=float(r[2]),
                          alone_non=int(r[4]), loaded=float(r[6]),
                          loaded_non=int(r[8]), attack=float(r[10] or 0))
            elif kind == "flood":
                flood.append(dict(size=int(r[1]), alone=float(r[2]),
                                  alone_non=int(r[4]), loaded=float(r[6]),
                                  loaded_non=int(r[8]),
                                  attack=float(r[10] or 0),
                                  hashed=int(r[11] or 0), pause=int(r[12])))
            elif kind == "alarm":
                alarms.append(r[1:])
            elif kind == "crowd":
                # seq, crowd, writes/s, 503s, non-200s, writes, failed
                # writes, ms per write, seconds
                crowd[int(r[1])] = dict(k=int(r[2]), rate=int(r[3]),
                                        n503=int(r[4]), bad=int(r[5]),
                                        writes=int(r[6]), wfail=int(r[7]),
                                        wms=int(r[8]), secs=int(r[9]),
                                        mode=r[10] if len(r) > 10
                                        else "mixed",
                                        backend=r[11] if len(r) > 11
                                        else "sqlite")
            elif kind == "propagation":
                propagation.append((int(r[1]), r[2], int(r[3]), r[4], r[5],
                                    r[6], r[7]))
            elif kind == "warm":
                warm.append((int(r[1]), int(r[2]), float(r[3]), int(r[4]),
                             int(r[5]), r[6] if len(r) > 6 else "sqlite"))
            elif kind == "fixture":
                fixtures.append((int(r[1]), int(r[2]),
                                 r[3] if len(r) > 3 else ""))

    out = []
    p = out.append
    p("mod_authz_status benchmark (bench/run.sh), mode %s" % meta.get("mode"))
    for k in ("host", "httpd", "module", "source", "wrk", "pin", "fixtures"):
        if k in meta:
            p("  %-9s %s" % (k + ":", meta[k]))
    if "load before" in meta:
        p("  %-9s %s before, %s after (1, 5, 15 min; anything above ~1 is "
          "other work sharing the cores)" % ("loadavg:", meta["load before"],
                                             meta.get("load after", "?")))
    p("  %-9s %s round(s), the ceiling measured before and after every "
      "configuration" % ("rounds:", meta.get("rounds")))
    for n, ms, detail in fixtures:
        p("  fixtures for %s users generated in %.1f s (%s)"
          % (fmt_n(n), ms / 1000.0, detail or "3 databases + flat files"))
    p("")

    # Ratio of each run to the mean of the ceiling runs next to it.
    by_seq = {x["seq"]: x for x in runs}
    cells = {}
    flags = {}
    ceil = [x["rps"] for x in runs if x["cfg"] == "ceiling"]
    ceil_lua = [x["rps"] for x in runs if x["cfg"] == "ceiling+lua"]
    crowd_rows = []
    for x in runs:
        if x["cfg"] in ("ceiling", "ceiling+lua"):
            continue
        # A rotation through many users (wrk's Lua hook) is compared with
        # the ceiling runs beside it that sent the same rotation; files of
        # earlier runs have plain ceilings only.
        lua = x["seq"] in crowd or x["cfg"].endswith("+many")
        near = []
        for want in (("ceiling+lua", "ceiling") if lua else ("ceiling",)):
            near = [by_seq[s]["rps"] for s in (x["seq"] - 1, x["seq"] + 1)
                    if s in by_seq and by_seq[s]["cfg"] == want]
            if near:
                break
        ratio = x["rps"] / statistics.mean(near) if near else float("nan")
        if x["seq"] in crowd:
            crowd_rows.append((x, ratio, crowd[x["seq"]]))
            continue
        key = (x["cfg"], x["size"])
        cells.setdefault(key, []).append((x["rps"], ratio))
        # Every answer is an error here: 403 (blocklist), 429 (throttle).
        blocked = x["cfg"].startswith(("azs-blocked", "azs-throttled"))
        bad = x["errors"] > 0 or (x["non2xx"] != x["total"] if blocked
                                  else x["non2xx"] > 0)
        if bad:
            flags.setdefault(key, []).append(
                "round %d: %d of %d answers %s, %d socket errors"
                % (x["round"], x["non2xx"] if not blocked
                   else x["total"] - x["non2xx"], x["total"],
                   "not 2xx" if not blocked else "2xx", x["errors"]))

    sizes = sorted({int(x["size"]) for x in runs
                    if x["size"] != "-" and x["seq"] not in crowd})
    cfgs = sorted({x["cfg"] for x in runs
                   if x["cfg"] not in ("ceiling", "ceiling+lua")
                   and x["seq"] not in crowd},
                  key=order)
    colw = 22
    head = "%-62s" % "Configuration" + "".join(
        ("%s users" % fmt_n(n)).rjust(colw) for n in sizes)
    p("Throughput: ratio to the no-auth ceiling (requests/s)")
    p(head)
    p("-" * len(head))
    if ceil:
        p("%-62s" % label("ceiling") + (
            "%s-%s req/s" % (fmt_rps(min(ceil)), fmt_rps(max(ceil)))
        ).rjust(colw) + "   (%d runs, mean %s)" % (len(ceil),
                                                   fmt_rps(statistics.mean(ceil))))
    med = {}
    for cfg in cfgs:
        row = "%-62s" % label(cfg)
        for n in sizes:
            v = cells.get((cfg, str(n)))
            if not v:
                row += "-".rjust(colw)
                continue
            r = statistics.median(x[1] for x in v)
            s = statistics.median(x[0] for x in v)
            med[(cfg, n)] = (r, s)
            mark = "!" if (cfg, str(n)) in flags else " "
            spread = ""
            if len(v) > 1:
                spread = ""
            row += ("%s (%s)%s" % (fmt_ratio(r), fmt_rps(s), mark)).rjust(colw)
        p(row)
    # httpd CPU time per answered request: less sensitive to other load.
    cpu = {}
    for x in runs:
        if x["cpu"] >= 0 and x["seq"] not in crowd:
            cpu.setdefault((x["cfg"], x["size"]), []).append(x["cpu"])
    if cpu:
        p("")
        p("httpd CPU time per answered request, microseconds (user + system, "
          "all its processes; median over runs)")
        c0 = cpu.get(("ceiling", "-"))
        if c0:
            p("%-62s" % label("ceiling") + ("%.0f" % statistics.median(c0))
              .rjust(colw))
        for cfg in cfgs:
            row = "%-62s" % label(cfg)
            for n in sizes:
                v = cpu.get((cfg, str(n)))
                if not v:
                    row += "-".rjust(colw)
                    continue
                m = statistics.median(v)
                row += (("%.0f" % m) + (" (x%.1f)" % (m / statistics.median(c0))
                                        if c0 else "")).rjust(colw)
            p(row)
        p("(xN: times the ceiling's CPU per request; for (2) at large sizes "
          "the requests still in flight when wrk stops are counted in the "
          "CPU but not in the answers)")
    if any(len(v) > 1 for v in cells.values()):
        p("")
        p("Ratios per round (min-max):")
        for cfg in cfgs:
            row = "%-62s" % label(cfg)
            for n in sizes:
                v = cells.get((cfg, str(n)))
                row += ("%s-%s" % (fmt_ratio(min(x[1] for x in v)),
                                   fmt_ratio(max(x[1] for x in v)))
                        if v else "-").rjust(colw)
            p(row)
    p("")
    p("Cells: median over rounds of (config req/s / mean of the ceiling runs "
      "just before and after it), then the median req/s.")
    p("(8) counts 403 answers, (11) 429 answers; every other row counts 200 answers only.")
    p("[many users]: wrk cycles through many users' credentials with a Lua "
      "request hook (which costs the client a little); its ratio is to "
      "ceiling runs sending the same rotation (ceiling+lua)%s." % (
          ": %s-%s req/s" % (fmt_rps(min(ceil_lua)), fmt_rps(max(ceil_lua)))
          if ceil_lua else ""))
    for key, msgs in sorted(flags.items()):
        for m in msgs:
            p("  ! %s, %s users: %s" % (label(key[0]), key[1], m))
    failed = [c for c in checks if c[2] != "ok"]
    if failed:
        p("")
        p("Configurations NOT measured (wrong answers before load):")
        for c in failed:
            p("  %s, %s users: %s" % (label(c[1]), c[0], c[3]))
    for a in alarms:
        p("  ALARM in %s error log: %s line(s), e.g. %s" % (a[0], a[1], a[2]))
    if propagation:
        p("")
        p("Propagation: htauthz's return to the first request answered as "
          "after the change (a user disabled, then enabled; keep-alive "
          "client), ms")
        for n, cfg, count, p50, p99, mx, missed in propagation:
            p("  %-58s p50 %s, p99 %s, max %s (%d changes, %s missed)" % (
                "%s, %s users" % (label(cfg), fmt_n(n)), p50, p99, mx, count,
                missed))
    if crowd_rows:
        crowd_rows = crowd_merge(crowd_rows)
        crowd_table(p, crowd_rows, warm, cpu.get(("ceiling+lua", "-"))
                    or cpu.get(("ceiling", "-")))
        crowd_targets(p, crowd_rows, med, sizes)

    # ---- targets ---------------------------------------------------------
    if not sizes:
        print("\n".join(out))
        return
    big, small = max(sizes), min(sizes)
    p("")
    p("Targets (issue 6), at the largest database of this run: %s users%s"
      % (fmt_n(big), "" if big >= 1000000 else
         " (the targets are stated at 1,000,000: run --full)"))

    def verdict(ok):
        return "PASS" if ok else "MISS"

    def target_ratio(num, text, cfg, goal):
        v = med.get((cfg, big))
        if v is None:
            p("  %s %s: not measured" % (num, text))
            return
        r = v[0]
        miss = "" if r >= goal else ", short by %.2f (%.0f %%)" % (
            goal - r, 100.0 * (goal - r) / goal)
        p("  %s %-58s %s  %s >= %.2f%s" % (num, text, verdict(r >= goal),
                                          fmt_ratio(r), goal, miss))
    target_ratio("1.", "bcrypt, cached returning user, Require + blocklist",
                 "azs-bcrypt", 0.85)
    target_ratio("2.", "Bearer token", "azs-bearer", 0.90)
    target_ratio("3.", "blocklisted client (403)", "azs-blocked", 0.95)
    target_ratio("4.", "no cache, {SHA}", "azs-sha-nocache", 0.90)
    target_ratio("11.", "throttled client (429)", "azs-throttled", 0.95)
    th, lite = med.get(("azs-throttle", big)), med.get(("azs-bcrypt", big))
    if th and lite:
        rel = th[0] / lite[0]
        p("  10. %-57s %s  %.2f of (5) without it (>= 0.95)" % (
            "throttle on, cached success (no socache call)",
            verdict(rel >= 0.95), rel))
    ex, lite = med.get(("azs-export", big)), med.get(("azs-bcrypt", big))
    if ex and lite:
        rel = ex[0] / lite[0]
        p("  13. %-57s %s  %.2f of (5) without it (>= 0.95)" % (
            "AuthzStatusExport On (BENCH_T13_HEADERS=1: + RequestHeader)",
            verdict(rel >= 0.95), rel))
    pg, lite = med.get(("azs-pg", big)), med.get(("azs-bcrypt", big))
    if pg and lite:
        rel = pg[0] / lite[0]
        p("  9. %-58s %s  %.2f of (5) on SQLite (>= 0.95)" % (
            "cached answers on PostgreSQL", verdict(rel >= 0.95), rel))
    a = med.get(("azs-sha-nocache", big))
    b = med.get(("dbd", big))
    if a and b:
        p("  4b. %-57s %s  %s vs %s" % ("no cache {SHA} above authn_dbd + "
                                        "authz_dbd", verdict(a[0] > b[0]),
                                        fmt_ratio(a[0]), fmt_ratio(b[0])))
    c = med.get(("azs-sha-nocache", small))
    if a and c and big != small:
        rel = a[0] / c[0]
        p("  4c. %-57s %s  %.2f of the %s-user ratio (>= 0.90)" % (
            "no cache {SHA}: %s users within 10 %% of %s" % (fmt_n(big),
                                                          fmt_n(small)),
            verdict(rel >= 0.9), rel, fmt_n(small)))
    if t5:
        rel = t5["loaded"] / t5["alone"] if t5["alone"] else 0.0
        p("  5. %-58s %s  %.2f >= 0.50 (%s req/s alone, %s under attack; "
          "wrong passwords answered at %s req/s)" % (
              "cached client while 64 connections send wrong passwords",
              verdict(rel >= 0.5 and not t5["loaded_non"]), rel,
              fmt_rps(t5["alone"]), fmt_rps(t5["loaded"]),
              fmt_rps(t5["attack"])))
    for fl in flood:
        rel = fl["loaded"] / fl["alone"] if fl["alone"] else 0.0
        ok = rel >= 0.8 and not fl["loaded_non"]
        p("  12%s %-57s %s  %.2f%s (%s req/s alone, %s beside it; "
          "the flood answered 429 at %s req/s, %d of its passwords "
          "checked)" % (
              "." if fl["pause"] else "b.",
              "(10): the same attack, throttled, attackers %s" % (
                  "%d ms away" % fl["pause"] if fl["pause"]
                  else "as fast as answered"),
              verdict(ok) if fl["pause"] else "    ", rel,
              " >= 0.80" if fl["pause"] else "", fmt_rps(fl["alone"]),
              fmt_rps(fl["loaded"]), fmt_rps(fl["attack"]), fl["hashed"]))
    if rss:
        p("  6. resident memory per child after load (VmRSS, MB: mean / max "
          "over children):")
        per = {}
        for n, cfg, kb in rss:
            per.setdefault((cfg, n), []).append(kb / 1024.0)
        for cfg in ("azs-bcrypt", "azs-sha-nocache", "azs-bearer"):
            vals = [(n, per[(cfg, n)]) for n in sizes if (cfg, n) in per]
            if not vals:
                continue
            txt = ", ".join("%s users %.1f / %.1f" % (fmt_n(n), statistics.mean(v),
                                                      max(v)) for n, v in vals)
            ok = True
            if len(vals) > 1:
                lo, hi = statistics.mean(vals[0][1]), statistics.mean(vals[-1][1])
                ok = hi <= max(lo * 1.10, lo + 4.0)
            p("     %-56s %s  %s" % (label(cfg), verdict(ok), txt))
        p("     (PASS: the largest database's mean within 10 % or 4 MB of "
          "the smallest's)")
    for n, t_start, t401, t200 in sorted(startup, key=lambda x: -x[0]):
        p("  6b. %-57s %s  apache2 -k start %d ms, first 401 at %d ms, first "
          "200 at %d ms (one bcrypt)" % (
              "start-up with %s users (< 1 s)" % fmt_n(n),
              verdict(0 < t401 < 1000 and t_start < 1000) if n == big
              else "    ", t_start, t401, t200))
    if cli:
        p("  7. htauthz (median of the runs, ms):")
        per = {}
        for lab, n, ms in cli:
            per.setdefault((lab, n), []).append(ms)

        def med_ms(lab, n):
            v = per.get((lab, str(n)))
            if not v or "fail" in v:
                return None
            return statistics.median(int(x) for x in v)
        hash_ms = med_ms("bcrypt cost 10 alone (htpasswd -nbB)", "-")
        start_ms = med_ms("process start alone (htauthz --help)", "-")
        for (lab, n), v in sorted(per.items(), key=lambda kv: kv[0]):
            if lab.startswith("bcrypt") or lab.startswith("process"):
                continue
            m = med_ms(lab, n)
            where = "empty database" if n == "0" else "%s users" % fmt_n(n)
            if m is None:
                p("     %-40s %-16s FAILED" % (lab, where))
                continue
            note = ""
            if lab.startswith("import"):
                note = "%s  (< 10,000)" % verdict(m < 10000)
            elif n == str(big) and lab in ("user add --password-stdin",
                                           "user grant", "ip block"):
                # user add hashes: htpasswd's bcrypt (with its own process
                # start) stands for "the hash itself".
                extra = hash_ms if lab.startswith("user add") else 0
                if extra is None:
                    extra = 0
                note = "%s  (< 50%s): %d ms" % (
                    verdict(m - extra < 50),
                    " + hash" if extra else "", m - extra)
                if start_ms is not None and not extra:
                    note += "; without process start %d ms: %s" % (
                        m - start_ms, verdict(m - start_ms < 50))
            p("     %-40s %-16s %7d   %s" % (lab, where, m, note))
        if hash_ms is not None:
            p("     %-40s %-16s %7d   (the hash itself, with process start)"
              % ("bcrypt cost 10 alone (htpasswd -nbB)", "", hash_ms))
        if start_ms is not None:
            p("     %-40s %-16s %7d   (fork, exec, exit: in every line above)"
              % ("process start alone (htauthz --help)", "", start_ms))
    print("\n".join(out))


if __name__ == "__main__":
    main()
