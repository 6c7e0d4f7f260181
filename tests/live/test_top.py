#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""partita top against a running partita serve, end to end.

The host serves a topology that plays live to ALSA's null device, in two
chains: a tone (LL), an eq_iir (DP, trusted) whose 1 us deadline it misses
every period, and a playback endpoint; and a tone into gain and fault
library modules isolated in domains of their own (the fault module
segfaults on its 100th call, is restarted once, crashes again and stays
failed), into a second playback. `partita ctl stats` is read just before and just after
`partita top --once`, and every column of top's table is checked against
the two: what only grows (periods, worst, misses, faults, restarts) lies
between them, what does not change (module, state, isolation, pid, heap)
equals them, and the share is the mean over the period.
"""
import os
import pty
import re
import signal
import subprocess
import sys
import time

BUILD = os.environ.get("PARTITA_BUILD", ".")
PARTITA = os.path.join(BUILD, "partita")
DIR = os.path.join(BUILD, "tests", "live-top")
SOCK = os.path.join(DIR, "serve.sock")
failures = []

COLUMNS = ["INSTANCE", "MODULE", "STATE", "PID", "ISOLATION", "PERIODS", "MEAN_US",
           "WORST_US", "SHARE", "MISSES", "FAULTS", "RESTARTS", "HEAP", "XRUNS", "LATENCY"]

TOPOLOGY = """period_us: 1000
rate: 48000
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, sched: ll, params: {wave: sine, freq: 440}}
      - {name: slow, module: eq_iir, sched: dp, heap_size: 8K, deadline_us: 1,
         params: {bands: "peaking:500:0.7:3,peaking:1000:0.7:3,peaking:1500:0.7:3,peaking:2000:0.7:3,peaking:2500:0.7:3,peaking:3000:0.7:3,peaking:3500:0.7:3,peaking:4000:0.7:3,peaking:4500:0.7:3,peaking:5000:0.7:3,peaking:5500:0.7:3,peaking:6000:0.7:3,peaking:6500:0.7:3,peaking:7000:0.7:3,peaking:7500:0.7:3,peaking:8000:0.7:3"}}
      - {name: spk, module: playback, params: {device: null}}
      - {name: tone2, module: tone, sched: ll, params: {wave: sine, freq: 220}}
      - {name: iso, library: "%(modules)s/pt_gain.so", isolation: process, sched: dp,
         heap_size: 64K, max_misses: 1000, params: {gain_db: -3}}
      - {name: bad, library: "%(faults)s/pt_fault.so", isolation: process, sched: dp,
         restart: on-failure, restart_limit: 1, max_misses: 1000,
         params: {fault: segv, at: 100}}
      - {name: spk2, module: playback, params: {device: null}}
    bindings:
      - {from: tone1.0, to: slow.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}
      - {from: slow.0, to: spk.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}
      - {from: tone2.0, to: iso.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}
      - {from: iso.0, to: bad.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}
      - {from: bad.0, to: spk2.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}, periods: 2}
"""


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def partita(*args, timeout=20):
    return subprocess.run([PARTITA, *args], capture_output=True, text=True,
                          timeout=timeout)


def heap_bytes(text):
    m = re.fullmatch(r"([\d.]+)([KM]?)", text)
    return float(m.group(1)) * {"": 1, "K": 1024, "M": 1024 * 1024}[m.group(2)]


def ctl_stats():
    p = partita("ctl", "--socket", SOCK, "stats")
    if p.returncode:
        return None
    rows = {}
    for line in p.stdout.splitlines():
        f = line.split()
        if len(f) == 14 and f[0].isdigit():
            used, size = f[13].split("/")
            rows[f[1]] = {"module": f[2], "state": f[4], "sched": f[5],
                          "isolation": f[6], "periods": int(f[7]),
                          "mean": float(f[8]), "worst": float(f[9]),
                          "misses": int(f[10]), "faults": int(f[11]),
                          "restarts": int(f[12]), "heap_used": int(used),
                          "heap_size": int(size)}
    return rows


def top_tables(text):
    """Parses top's output into a list of snapshots {name: row}."""
    tables, cur = [], None
    for line in text.splitlines():
        if line.startswith("INSTANCE"):
            if line.split() != COLUMNS or not tables:
                check(line.split() == COLUMNS, "header names every column: %s" % line.split())
            cur = {}
            tables.append(cur)
            continue
        f = line.split()
        if cur is not None and len(f) == len(COLUMNS):
            cur[f[0]] = dict(zip(COLUMNS, f))
    return tables


def between(v, a, b, slack=0.0):
    return min(a, b) - slack <= v <= max(a, b) + slack


def main():
    os.makedirs(DIR, exist_ok=True)
    topo = os.path.join(DIR, "live.yaml")
    with open(topo, "w") as f:
        f.write(TOPOLOGY % {"modules": os.path.join(BUILD, "modules"),
                            "faults": os.path.join(BUILD, "tests", "faults")})
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    log = open(os.path.join(DIR, "serve.log"), "w")
    serve = subprocess.Popen([PARTITA, "serve", "--socket", SOCK, topo],
                             stdout=log, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            if os.path.exists(SOCK) or serve.poll() is not None:
                break
            time.sleep(0.05)
        check(serve.poll() is None and os.path.exists(SOCK), "partita serve is up")
        if failures:
            return
        p = partita("ctl", "--socket", SOCK, "state", "main", "running")
        check(p.returncode == 0, "pipeline started (%s)" % p.stderr.strip())
        # Long enough for the fault module's two crashes and its restart.
        time.sleep(1.0)

        a = ctl_stats()
        p = partita("top", "--socket", SOCK, "--once")
        b = ctl_stats()
        check(p.returncode == 0, "top --once exits 0 (%s)" % p.stderr.strip())
        check(a is not None and b is not None and len(a) == 7, "ctl stats read around it")
        tables = top_tables(p.stdout)
        check(len(tables) == 1, "--once prints one snapshot")
        check("\033[" not in p.stdout, "--once writes no terminal control codes")
        m = re.search(r"^partita top: (\d+) instances, user heap (\S+) of (\S+), period (\d+) us$",
                      p.stdout, re.M)
        check(m is not None and m.group(1) == "7" and m.group(4) == "1000",
              "summary line: instance count and period")
        if not tables or failures:
            return
        t = tables[0]
        check(sorted(t) == sorted(a), "one row per instance: %s" % sorted(t))
        for name, row in t.items():
            x, y = a[name], b[name]
            check(row["MODULE"] == x["module"], "%s: MODULE %s" % (name, row["MODULE"]))
            want_state = {"prepared": "READY", "init": "INIT", "FAILED": "FAILED"}[x["state"]]
            check(row["STATE"] == want_state, "%s: STATE %s" % (name, row["STATE"]))
            check(row["ISOLATION"] == x["isolation"], "%s: ISOLATION %s" % (name, row["ISOLATION"]))
            # Trusted instances have no domain: top shows '-'; an isolated
            # one shows its domain's pid, a child of the host (or 0/'-'
            # while a failed domain is down).
            if x["isolation"] == "none":
                check(row["PID"] == "-", "%s: PID -" % name)
            elif row["STATE"] != "FAILED":
                ppid = None
                try:
                    with open("/proc/%s/status" % row["PID"]) as st:
                        ppid = int(re.search(r"^PPid:\s+(\d+)", st.read(), re.M).group(1))
                except (OSError, ValueError, AttributeError):
                    pass
                check(ppid == serve.pid, "%s: PID %s is a domain of the host (ppid %s)"
                      % (name, row["PID"], ppid))
            periods = int(row["PERIODS"])
            check(between(periods, x["periods"], y["periods"]) and
                  (periods > 100 or name == "bad"),
                  "%s: PERIODS %d within [%d, %d]" % (name, periods, x["periods"], y["periods"]))
            mean, worst = float(row["MEAN_US"]), float(row["WORST_US"])
            # Total time and periods at top's read lie between the two
            # reads, so the whole-run mean lies between these bounds (the
            # printed means are rounded to 0.01).
            lo = (x["mean"] - 0.005) * x["periods"] / y["periods"]
            hi = (y["mean"] + 0.005) * y["periods"] / x["periods"]
            check(lo - 0.005 <= mean <= hi + 0.005,
                  "%s: MEAN_US %.2f within [%.3f, %.3f]" % (name, mean, lo, hi))
            check(between(worst, x["worst"], y["worst"], 0.01) and worst >= mean,
                  "%s: WORST_US %.2f within [%.2f, %.2f]" % (name, worst, x["worst"], y["worst"]))
            share = float(row["SHARE"].rstrip("%"))
            check(row["SHARE"].endswith("%") and abs(share - mean / 1000.0 * 100.0) <= 0.006,
                  "%s: SHARE %s is MEAN_US over the 1000 us period" % (name, row["SHARE"]))
            for col, key in (("MISSES", "misses"), ("FAULTS", "faults"), ("RESTARTS", "restarts")):
                v = int(row[col])
                check(between(v, x[key], y[key]), "%s: %s %d within [%d, %d]"
                      % (name, col, v, x[key], y[key]))
            used, size = row["HEAP"].split("/")
            check(abs(heap_bytes(used) - x["heap_used"]) <= 0.05 * 1024 and
                  heap_bytes(size) == x["heap_size"],
                  "%s: HEAP %s is %d/%d" % (name, row["HEAP"], x["heap_used"], x["heap_size"]))
        check(int(t["slow"]["MISSES"]) > 100, "the DP instance's misses show")
        check(int(t["bad"]["FAULTS"]) >= 1 and int(t["bad"]["RESTARTS"]) >= 1,
              "the fault module's faults and restart show (%s, %s)"
              % (t["bad"]["FAULTS"], t["bad"]["RESTARTS"]))
        check(t["iso"]["ISOLATION"] == "process" and t["iso"]["PID"].isdigit(),
              "the isolated instance shows its domain")
        check(t["slow"]["HEAP"].endswith("/8.0K"), "the topology's heap_size shows")
        # Only a sound device has xruns; null plays without any.
        check(all(r["XRUNS"].isdigit() for r in t.values()), "XRUNS is a count on every row")
        check(all(int(r["XRUNS"]) == 0 for n, r in t.items() if r["MODULE"] != "playback"),
              "instances that are not devices have no xruns")

        # Refreshing, not on a terminal: snapshots one after another.
        r = subprocess.Popen([PARTITA, "top", "--socket", SOCK, "--interval", "200"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        r.send_signal(signal.SIGTERM)
        out, _ = r.communicate(timeout=10)
        tables = top_tables(out)
        check(len(tables) >= 2, "refresh printed %d snapshots in 1 s" % len(tables))
        if len(tables) >= 2:
            check(int(tables[-1]["spk"]["PERIODS"]) > int(tables[0]["spk"]["PERIODS"]),
                  "periods advance between snapshots")
            # After the first, the mean is over the last interval.
            check(float(tables[-1]["tone1"]["MEAN_US"]) > 0, "interval mean shown")

        # On a terminal the table redraws in place.
        master, slave = pty.openpty()
        r = subprocess.Popen([PARTITA, "top", "--socket", SOCK, "--interval", "100"],
                             stdout=slave, stderr=subprocess.DEVNULL)
        os.close(slave)
        time.sleep(0.6)
        r.send_signal(signal.SIGTERM)
        r.wait(timeout=10)
        seen = b""
        try:
            while True:
                chunk = os.read(master, 65536)
                if not chunk:
                    break
                seen += chunk
        except OSError:
            pass
        os.close(master)
        check(seen.count(b"\033[H\033[2J") >= 2 and b"INSTANCE" in seen,
              "on a tty each snapshot clears the screen (%d clears)"
              % seen.count(b"\033[H\033[2J"))

        # A refreshing top whose host goes away says so and exits.
        watcher = subprocess.Popen([PARTITA, "top", "--socket", SOCK, "--interval", "100"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                   text=True)
        time.sleep(0.3)
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            rc = serve.wait(timeout=10)
        except subprocess.TimeoutExpired:
            serve.kill()
            rc = -1
        log.close()
    check(rc == 0, "partita serve exits cleanly on SIGTERM (%s)" % rc)
    try:
        _, werr = watcher.communicate(timeout=10)
        check(watcher.returncode not in (0, None) and werr.strip() != "",
              "top exits with a message when the host goes away (%s: %s)"
              % (watcher.returncode, werr.strip()))
    except (NameError, subprocess.TimeoutExpired):
        check(False, "top exits when the host goes away")

    p = partita("top", "--socket", SOCK, "--once")
    check(p.returncode != 0 and SOCK in p.stderr,
          "no host: top fails naming the socket (%s)" % p.stderr.strip())
    p = partita("top", "--once")
    check(p.returncode == 2 and "--socket" in p.stderr, "--socket is required")


if __name__ == "__main__":
    main()
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("all checks passed")
