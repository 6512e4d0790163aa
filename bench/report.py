"""bench/RESULTS.md from the results in tools.R: the tables, the goals of
#24 with pass or fail, and the headline ratios (from the medians of the
rounds, the minimum-based ratio beside them).
"""
import json

import tools
from tools import (BIG, BODY, COMMANDS, FLOOR_BATCH_MS, LOG, METRICS_SECS,
                   NS, OUT, R, ROUNDS, WARMUP, WINDOW, WRK_SECS, row)

# the tools of the compared points, in the order of the table
TOOLS = ("vigild", "vigild-new", "monit", "blackbox", "floor", "floor-new")


def fenced(a, lines):
    """lines as a fenced block, the run's temporary directory as $TMP."""
    a("```")
    for line in lines:
        a(line.replace(tools.TMP, "$TMP"))
    a("```")


def fmt(x, d=1):
    if isinstance(x, float):
        return ("%." + str(d) + "f") % x
    return str(x)


def ratio(a, b):
    if not a or not b:
        return "n/a"
    return "%.3gx" % (a / b)


def write(meta):
    L = []
    a = L.append
    a("# vigil benchmarks: vigild, Monit, blackbox_exporter, nginx")
    a("")
    a("Written by `bench/run` (`make bench`) on %s. Raw numbers; every "
      "figure below was measured in this one run on this machine." %
      meta["date"])
    a("")
    a("## Machine and load")
    a("")
    m = meta["machine"]
    a("- %s CPUs: %s; memory %s; kernel %s" % (m["nproc"], m["cpu"],
                                                 m["memory"], m["kernel"]))
    a("- `uptime` before: `%s`; after: `%s`" % (meta["load0"],
                                                meta["load1"]))
    a("- 1-minute load average sampled between phases: %s" % meta["loads"])
    if meta["busy"]:
        a("- The 1-minute load average went above %.1f during the run. The "
          "benchmark itself keeps one to two processes busy (the tool "
          "measured, nginx, wrk or the blackbox driver); more than that "
          "means something else ran on this shared machine too. CPU and "
          "latency figures include whatever contention there was; ratios "
          "within one run are what this file compares (absolute figures "
          "move between runs: Monit's CPU per check at 1,000 checks was "
          "24 µs in one run and 95 µs in another on the same day)."
          % max(meta["loads"]))
    a("- run time: %.0f s" % meta["elapsed"])
    a("")
    a("## Versions")
    a("")
    for k, v in meta["versions"].items():
        a("- %s: `%s`" % (k, v))
    a("")
    a("## Setup")
    a("")
    a("- Targets: one nginx (1 worker) on 127.0.0.1; target *i* is "
      "`/t/i`, answering the simulator's `/api/health` JSON (%d bytes) "
      "with 200. Every request to `/t/` is logged with `$msec`: the "
      "nginx access log is the common \"completed per second\" measure "
      "for every tool, and the gaps between consecutive hits of the same "
      "target (ideal: exactly 1 s) are the common schedule-precision "
      "measure." % len(BODY))
    a("- vigild: N http probes, `interval` 1s, `timeout` 5s, "
      "`expect.status` [200] and `expect.keyword` `\"status\":\"ok\"`, "
      "`store.retention` 1m, implicit `<probe>_down` rules left on "
      "(critical).")
    a("- Monit: `set daemon 1` (its minimum), N `check host tI with address "
      "127.0.0.1` / `if failed port P protocol http request \"/t/I\" with "
      "content = \"status.:.ok\" with timeout 5 seconds then alert`, "
      "`monit -I` in the foreground with its own id/state/pid files, its "
      "httpd on loopback (`allow localhost`).")
    a("- blackbox_exporter: module `http_2xx` (timeout 5s, body regexp "
      "`\"status\":\"ok\"`), driven by a Python driver (in bench/bench.py) "
      "that issues each target's `/probe` once a second, spread over the "
      "second, over 8 keep-alive connections (no Prometheus server).")
    a("- floor: `bench/floor.c` (built with `cc -O2`), one epoll loop with "
      "raw non-blocking sockets polling the same targets at 1 s: the same "
      "GET, the answer read whole (Content-Length) and judged like "
      "vigild's probes (status 200, the keyword in the body); one "
      "keep-alive connection per target kept in epoll across runs, or "
      "(floor-new) connect, send, recv and close per run. What a poller "
      "cannot spend less than on this machine.%s" % (
          " Run with `-b %d`: runs due within %d ms started in one loop "
          "pass, as vigild starts the runs of one step of its start grid "
          "(20 ms at 1,000 runs a second)." % (FLOOR_BATCH_MS, FLOOR_BATCH_MS)
          if FLOOR_BATCH_MS else ""))
    a("- At N = %d the points of vigild, vigild-new, Monit, "
      "blackbox_exporter and the floor are run %d times, interleaved "
      "(round 1 of every tool, then round 2, ...), so that a change in the "
      "machine's load shows as spread within a tool rather than as a "
      "difference between tools. The table gives each figure's median "
      "over the rounds and the CPU per probe of every round; ratios are "
      "of medians, with the ratio of the minimums beside them."
      % (NS[-1], ROUNDS))
    a("- Each point: %.0f s warm-up, then a %.0f s window. CPU = "
      "utime+stime from `/proc/PID/stat` over the window (the tool's own "
      "process only; not nginx, not the driver). RSS = `VmRSS` at the end "
      "of the window. For vigild, `/status` is read only at the start and "
      "end of the CPU window; start lateness is then sampled from "
      "`/status` once a second for 10 s (each probe's last "
      "`start_lateness_ms`: p50/p99 over those samples; max = the largest "
      "`start_lateness_max_ms`, which is since start, warm-up included)."
      % (WARMUP, WINDOW))
    a("")
    a("## Commands")
    a("")
    fenced(a, COMMANDS)
    a("")
    a("## Polling N targets at 1 s")
    a("")
    a("| tool | N | completed/s (nginx log) | vigild runs/s | CPU s in "
      "window | CPU µs per probe, median (min) | each round | RSS MiB | "
      "requests on a reused connection | gap dev p50/p99/max ms | vigild "
      "start lateness p50/p99/max ms |")
    a("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for tool in TOOLS:
        for n in NS + ([BIG] if BIG else []):
            r = row(tool, n)
            if not r:
                continue
            a("| %s | %d | %s | %s | %s | %s (%s) | %s | %s | %s %% | "
              "%s / %s / %s | %s |" % (
                "floor (raw epoll)" if tool == "floor" else tool, n,
                fmt(r["done_per_s"]),
                fmt(r.get("runs_per_s", "")), fmt(r["cpu_s"], 2),
                fmt(r["cpu_us_per_probe"]),
                fmt(r["min"]["cpu_us_per_probe"]),
                ", ".join(fmt(x["cpu_us_per_probe"]) for x in r["rounds"]),
                fmt(r["rss_kib"] / 1024.0),
                fmt(r["reused"]),
                fmt(r["gap_p50"]), fmt(r["gap_p99"]), fmt(r["gap_max"]),
                "%s / %s / %s" % (fmt(r["late_p50"], 3), fmt(r["late_p99"], 3),
                                  fmt(r["late_max"], 3))
                if "late_p50" in r else ""))
    a("")
    a("vigild-new: the same vigild with `new_connection` on every probe "
      "(a connection per run and closed after it, as Monit and "
      "blackbox_exporter do). floor, floor-new: bench/floor.c keep-alive "
      "and new connection per run (its counts at the end of the last "
      "round: %s; %s)." % (
          (row("floor", NS[-1]) or {}).get("counts", "n/a"),
          (row("floor-new", NS[-1]) or {}).get("counts", "n/a")))
    a("")
    a("Idle RSS (1 target): vigild %.1f MiB, Monit %.1f MiB; "
      "blackbox_exporter before any probe %s MiB." % (
          R.get("vigild_idle_rss", 0) / 1024.0,
          R.get("monit_idle_rss", 0) / 1024.0,
          fmt(row("blackbox", NS[-1])["idle_rss_kib"] / 1024.0)
          if row("blackbox", NS[-1]) else "n/a"))
    a("")
    vb = row("vigild", BIG) if BIG else None
    if vb:
        a("vigild N=%d: `/status` was read once, after the window (lateness "
          "p50/p99 over that one read: each probe's last start lateness); "
          "that one read took %.3f s (rendered on vigild's loop); at that "
          "read %d probes were not up, missed_slots %d, skipped_in_flight "
          "%d; loop lags vigild logged during the whole point (ms): %s."
          % (BIG, vb["status_s"], vb["down"], vb["missed"], vb["skipped"],
             vb["loop_lags_ms"] or "none"))
        a("")
        a("Then, still at N=%d, `/status` read once a second for 10 s while "
          "polling: each read took %s s; the targets were hit %.0f times a "
          "second (scheduled %d), gap deviation p99 %.1f ms, max %.1f ms; "
          "renderings since start: %s." % (
              BIG, ", ".join("%.3f" % x for x in vb["reads_s"]),
              vb["reads_done_per_s"], BIG, vb["reads_gap_p99"],
              vb["reads_gap_max"], vb["renders"]))
    for n in NS:
        v = row("vigild", n)
        if v:
            a("vigild N=%d: missed_slots %d, skipped_in_flight %d (sums, "
              "since start); store %s; `/status` is %d bytes." % (
                  n, v["missed"], v["skipped"], json.dumps(v["store"]),
                  v["status_bytes"]))
    bb = row("blackbox", NS[-1])
    if bb:
        a("")
        a("blackbox driver: %d requests started over 100 ms late (non-zero "
          "would mean the driver itself fell behind)." % bb["driver_late"])
    a("")
    metrics_section(a)
    a("## Status endpoints under wrk (vigild and Monit each polling %d "
      "targets)" % NS[-1])
    a("")
    a("| endpoint | req/s | p99 ms | bytes per answer | non-2xx | socket "
      "errors |")
    a("| --- | --- | --- | --- | --- | --- |")
    for name in ("nginx static file (floor)", "vigild /health",
                 "vigild /status", "vigild /status (gzip)",
                 "monit status page /"):
        r = R.get(("wrk", name))
        if r:
            a("| %s | %s | %s | %d | %d | %s |" % (
                name, fmt(r["rps"]), fmt(r["p99_ms"], 2), r["bytes"],
                r["non2xx"], r["errors"] or "none"))
    a("")
    a("wrk sends no Accept-Encoding unless told: the gzip row adds "
      "`-H 'Accept-Encoding: gzip'` (what curl --compressed, browsers and "
      "vigilctl send). Monit's page is not compressed either way. vigild "
      "shares a rendering of `/status` among its readers until it is "
      "older than ten times its rendering time: %s renderings during the two "
      "%d s wrk runs on `/status`." % (
          R.get(("vigild", "status_renders"), "?"), WRK_SECS))
    a("")
    fv, fm = R.get(("vigild", "faults")), R.get(("monit", "faults"))
    if fv and fm:
        a("## One target hanging, one slowed to 2 s (and one to 200 ms), "
          "N = %d" % fv["n"])
        a("")
        a("The hanging and slow targets are portal-sims (`--scenario hang`, "
          "`--scenario slow --slow-ms 2000`, `--slow-ms 200`); the other "
          "%d targets are nginx as above. Figures are for the others." %
          (fv["n"] - 3))
        a("")
        a("| tool | others completed/s (nginx log) | vigild runs/s of others "
          "| gap dev p50/p99/max ms | vigild start lateness p50/p99/max ms |")
        a("| --- | --- | --- | --- | --- |")
        a("| vigild | %s | %s | %s / %s / %s | %s / %s / %s |" % (
            fmt(fv["done_per_s"]), fmt(fv["runs_per_s"]), fmt(fv["gap_p50"]),
            fmt(fv["gap_p99"]), fmt(fv["gap_max"]), fmt(fv["late_p50"], 3),
            fmt(fv["late_p99"], 3), fmt(fv["late_max"], 3)))
        a("| monit | %s | | %s / %s / %s | |" % (
            fmt(fm["done_per_s"]), fmt(fm["gap_p50"]), fmt(fm["gap_p99"]),
            fmt(fm["gap_max"])))
        a("")
        a("vigild's special probes at the end of the window: `%s`." %
          json.dumps(fv["specials"]))
        d = fv["slow200_durations"]
        if d:
            a("")
            a("Measurement precision: the target delayed by 200 ms "
              "(portal-sim `slow`, whose delay is a sleep before the "
              "answer) was reported by vigild with `duration_ms` %s "
              "(10 samples, one a second)." %
              ", ".join(fmt(x, 1) for x in d))
        a("")
    a("## Start-up, size, memory")
    a("")
    a("- vigild start to systemd's READY=1 (NOTIFY_SOCKET), N = %d, 5 runs: "
      "%s ms" % (NS[-1], ", ".join(fmt(x, 1) for x in R.get("ready_ms", []))))
    a("- vigild start to first `/health` answer, N = %d, 5 runs: %s ms" % (
        NS[-1], ", ".join(fmt(x, 1) for x in R.get("startup_ms", []))))
    a("- binary sizes: %s" % ", ".join("%s %d KiB" % (k, v // 1024)
                                       for k, v in meta["sizes"].items()))
    if len(NS) >= 2 and ("vigild", NS[0]) in R and ("vigild", NS[-1]) in R:
        lo, hi = row("vigild", NS[0]), row("vigild", NS[-1])
        per = (hi["rss_kib"] - lo["rss_kib"]) * 1024.0 / (NS[-1] - NS[0])
        big = row("vigild", BIG) if BIG else None
        if big:
            a("- the same from N=%d to N=%d: %.0f bytes per probe" % (
                NS[-1], BIG, (big["rss_kib"] - hi["rss_kib"]) * 1024.0 /
                (BIG - NS[-1])))
        st = hi["store"]
        a("- vigild RSS per configured probe ((RSS at N=%d − RSS at N=%d) / "
          "%d): %.0f bytes (retention 1m at 1 s: up to 61 samples per "
          "metric)" % (NS[-1], NS[0], NS[-1] - NS[0], per))
        if st.get("series"):
            a("- vigild store at N=%d: %d series, %d bytes = %.0f bytes per "
              "series; per window sample 16 bytes (README: a sample is a time "
              "and a value)" % (NS[-1], st["series"], st["bytes"],
                                st["bytes"] / st["series"]))
    a("")
    a("## Headline ratios (same run)")
    a("")
    a("Goals of #24 (ratios of the medians over %d rounds; the verdict is "
      "the median's):" % ROUNDS)
    a("")
    a("| goal | measured | verdict |")
    a("| --- | --- | --- |")
    for goal, got, ok in meta["goals"]:
        a("| %s | %s | %s |" % (goal, got, ok))
    a("")
    for line in meta["headline"]:
        a("- " + line)
    a("")
    a("## Not measured")
    a("")
    for line in meta["not_measured"]:
        a("- " + line)
    a("")
    a("## Log")
    a("")
    fenced(a, LOG)
    with open(OUT, "w") as f:
        f.write("\n".join(L) + "\n")


def headline():
    h = []
    n = NS[-1]
    v, mo, bb = row("vigild", n), row("monit", n), row("blackbox", n)
    vn, fl, fn = row("vigild-new", n), row("floor", n), row("floor-new", n)
    us = "cpu_us_per_probe"
    for x, y, what in ((v, mo, "vigild/Monit, connection reuse"),
                       (vn, mo, "vigild-new/Monit, a new connection per "
                        "probe as Monit"),
                       (bb, v, "blackbox_exporter/vigild"),
                       (bb, vn, "blackbox_exporter/vigild-new"),
                       (v, fl, "vigild/floor, keep-alive"),
                       (vn, fn, "vigild-new/floor-new, a new connection "
                        "per probe")):
        if x and y:
            h.append("CPU per probe at N=%d, %s: %s (minimums: %s); %s" % (
                n, what, ratio(x[us], y[us]),
                ratio(x["min"][us], y["min"][us]),
                "; ".join("%s µs median %.1f, min %.1f" % (
                    nm, r[us], r["min"][us]) for nm, r in zip(
                        what.split(",")[0].split("/"), (x, y)))))
    if v and mo:
        h.append("RSS at N=%d: vigild %.1f MiB, Monit %.1f MiB%s (medians; "
                 "goal vigild <= Monit: %s)" % (
                     n, v["rss_kib"] / 1024, mo["rss_kib"] / 1024,
                     (", blackbox_exporter %.1f MiB" % (bb["rss_kib"] / 1024))
                     if bb else "", verdict(v["rss_kib"] <= mo["rss_kib"])))
        h.append("completed/s at N=%d (nginx log): vigild %.1f, Monit %.1f%s"
                 % (n, v["done_per_s"], mo["done_per_s"],
                    (", blackbox_exporter (driven) %.1f" % bb["done_per_s"])
                    if bb else ""))
        h.append("vigild start lateness at N=%d: p50 %.3f ms, p99 %.3f ms, "
                 "max since start %.3f ms" % (n, v["late_p50"], v["late_p99"],
                                              v["late_max"]))
    w = lambda k: R.get(("wrk", k), {}).get("rps")
    fl, hl, sl, ml = (w("nginx static file (floor)"), w("vigild /health"),
                      w("vigild /status"), w("monit status page /"))
    gl = w("vigild /status (gzip)")
    if hl and fl:
        h.append("/health under wrk at N=%d: %.0f req/s = %s of nginx's "
                 "static-file floor (%.0f req/s)" % (n, hl, ratio(hl, fl),
                                                      fl))
    if sl and ml:
        h.append("/status at N=%d: %.0f req/s vs Monit's status page %.0f "
                 "req/s (%s)" % (n, sl, ml, ratio(sl, ml)))
    if gl and ml:
        h.append("/status at N=%d asked with Accept-Encoding: gzip: %.0f "
                 "req/s vs Monit's status page %.0f req/s (%s)" % (
                     n, gl, ml, ratio(gl, ml)))
    for goal, got, ok in goals():
        if goal.startswith("at N="):
            h.append("%s: %s (%s)" % (goal, got, ok))
    vb, mb = row("vigild", BIG), row("monit", BIG)
    if vb and mb:
        h.append("N=%d: vigild completed %.0f/s (scheduled %d), %.1f µs CPU "
                 "per probe, RSS %.1f MiB, start lateness p99 %.3f ms; Monit "
                 "%.0f/s, %.1f µs, %.1f MiB" % (
                     BIG, vb["done_per_s"], BIG, vb["cpu_us_per_probe"],
                     vb["rss_kib"] / 1024, vb["late_p99"], mb["done_per_s"],
                     mb["cpu_us_per_probe"], mb["rss_kib"] / 1024))
    fv, fm = R.get(("vigild", "faults")), R.get(("monit", "faults"))
    if fv and fm and v and mo:
        h.append("one target hanging + one 2 s slow: the others' completed/s "
                 "vigild %.1f (healthy run %.1f), Monit %.1f (healthy run "
                 "%.1f, %+.0f %%)" % (
                     fv["done_per_s"], v["done_per_s"], fm["done_per_s"],
                     mo["done_per_s"],
                     (fm["done_per_s"] / mo["done_per_s"] - 1) * 100))
    return h


def verdict(ok):
    return "n/a" if ok is None else ("PASS" if ok else "FAIL")


def metrics_loop(m):
    """The worst scrape's cost to vigild's loop, ms, leaving out the first
    since start (vigild makes that one on its loop, its cost unknown yet),
    that first one's, and what says so: vigild's own counter if it has
    one, else the longest /health answer during a scrape."""
    if not m or not m["scrapes"]:
        return None, None, "not measured"
    key, how = "loop_ms", "vigild's render-loop counter"
    if all(x["loop_ms"] is None for x in m["scrapes"]):
        key, how = "health_max_ms", \
            "the longest /health answer during a scrape"
    rest = [x[key] for x in m["scrapes"]
            if not x["first"] and x[key] is not None]
    first = [x[key] for x in m["scrapes"] if x["first"]]
    return (max(rest) if rest else None, first[0] if first else None, how)


def goals():
    """The goals of #24: (goal, measured, PASS/FAIL/n/a)."""
    g = []
    n = NS[-1]
    us = "cpu_us_per_probe"
    v, vn, mo, bb = (row("vigild", n), row("vigild-new", n),
                     row("monit", n), row("blackbox", n))

    def cpu(goal, x, y, limit, below=True):
        if not (x and y and y[us] and y["min"][us]):
            g.append((goal, "not measured", verdict(None)))
            return
        r, rmin = x[us] / y[us], x["min"][us] / y["min"][us]
        g.append((goal, "%.3gx (median; %.3gx of the minimums)" % (r, rmin),
                  verdict(r <= limit if below else r >= limit)))
    cpu("CPU per probe at N=%d <= 0.5x Monit's (connection reuse)" % n,
        v, mo, 0.5)
    cpu("CPU per probe at N=%d <= 1.0x Monit's (a new connection per "
        "probe)" % n, vn, mo, 1.0)
    cpu("CPU per probe at N=%d >= 20x below blackbox_exporter's "
        "(blackbox/vigild)" % n, bb, v, 20.0, below=False)
    if v and mo:
        g.append(("RSS at N=%d <= Monit's" % n,
                  "vigild %.1f MiB, Monit %.1f MiB (medians; minimums %.1f, "
                  "%.1f)" % (v["rss_kib"] / 1024, mo["rss_kib"] / 1024,
                             v["min"]["rss_kib"] / 1024,
                             mo["min"]["rss_kib"] / 1024),
                  verdict(v["rss_kib"] <= mo["rss_kib"])))
    else:
        g.append(("RSS at N=%d <= Monit's" % n, "not measured", "n/a"))
    vb = row("vigild", BIG) if BIG else None
    if vb:
        # runs/s from the nginx log over the window; "equal" allows the
        # window's two edges (a run in flight at each end)
        held = vb["done_per_s"] >= BIG * 0.999 and vb["late_p99"] < 10.0
        g.append(("at N=%d the schedule held: runs/s = scheduled, start "
                  "lateness p99 < 10 ms" % BIG,
                  "%.1f runs/s of %d scheduled (nginx log), lateness p99 "
                  "%.3f ms, missed_slots %d" % (
                      vb["done_per_s"], BIG, vb["late_p99"], vb["missed"]),
                  verdict(held)))
    else:
        g.append(("at N=%s the schedule held" % BIG, "not measured", "n/a"))
    worst, first, how = metrics_loop(R.get("metrics"))
    g.append(("at N=%s a /metrics scrape costs the loop <= 50 ms" % BIG,
              "worst scrape %s ms, the first since start %s ms (%s)" % (
                  fmt(worst, 1), fmt(first, 1), how)
              if worst is not None else how,
              verdict(None if worst is None else worst <= 50.0)))
    return g


def metrics_section(a):
    m = R.get("metrics")
    if not m:
        return
    a("## /metrics at N=%d" % m["n"])
    a("")
    a("While vigild polled %d targets, `/metrics` was scraped once every "
      "2 s for %.0f s and then once with `Accept-Encoding: gzip`; a thread "
      "asked `/health` every 1 ms on a keep-alive connection meanwhile "
      "(%d answers, %d errors). vigild answers `/health` on its loop, so "
      "the longest `/health` answer during a scrape is the loop's stall "
      "seen from outside; before the first scrape it was %s ms. \"loop ms "
      "(vigild)\" is the growth of vigild's "
      "`vigil_http_render_loop_seconds_total{endpoint=\"/metrics\"}` by "
      "the next freshly made answer (an answer's counter is read before it "
      "is rendered; one more scrape 2.5 s after the last closes the "
      "series); a scrape that got the same bytes as the one before got a "
      "shared answer and is counted 0%s. The first scrape is the first "
      "since vigild started; the goal's verdict is on the others. During "
      "the scrapes the targets were hit %.0f times a second (scheduled "
      "%d), gap deviation p99 %s ms." % (
          m["n"], METRICS_SECS, m["health_count"], m["health_errors"],
          fmt(m["health_quiet_ms"], 1),
          "" if any(x["loop_ms"] is not None for x in m["scrapes"]) else
          ": not reported by this vigild",
          m["done_per_s"], m["n"], fmt(m["gap_p99"])))
    a("")
    a("| scrape | Accept-Encoding | wall ms | bytes | shared | loop ms "
      "(vigild) | longest /health ms |")
    a("| --- | --- | --- | --- | --- | --- | --- |")
    for k, x in enumerate(m["scrapes"]):
        a("| %d%s | %s | %s | %d | %s | %s | %s |" % (
            k + 1, " (first since start)" if x["first"] else "",
            "gzip (answered %s)" % (x["enc"] or "identity") if x["gzip"]
            else "-", fmt(x["wall_ms"]),
            x["bytes"], "yes" if x["shared"] else "no",
            fmt(x["loop_ms"], 1) if x["loop_ms"] is not None
            else "not reported by this vigild", fmt(x["health_max_ms"], 1)))
    a("")
