#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""partita serve --trace: a running host, driven by partita ctl, writes a
trace-event file at exit whose host track has one "LL pass" span per period
it ran, whose every span is well formed, and whose isolated instance has a
track of its own named for its domain."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, check, ctl, errors, serve  # noqa: E402


with tempfile.TemporaryDirectory() as d:
    topo = os.path.join(d, "t.yaml")
    with open(topo, "w") as f:
        f.write("""period_us: 1000
rate: 48000
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, params: {freq: 440}}
      - {name: gain1, library: "%s/modules/pt_gain.so", isolation: process, heap_size: 64K, max_misses: 1000, params: {gain_db: -6}}
      - {name: out, module: output, params: {file: "%s/o.wav"}}
    bindings:
      - {from: tone1.0, to: gain1.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
      - {from: gain1.0, to: out.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
""" % (os.path.abspath(BUILD), d))
    sock = os.path.join(d, "s.sock")
    trace = os.path.join(d, "trace.json")
    host = serve(sock, "--trace", trace, topo, stderr=subprocess.PIPE, text=True)
    r = ctl(sock, "state", "main", "running")
    check(r.returncode == 0, "ctl runs the pipeline (%s)" % r.stderr.strip())
    time.sleep(0.5)
    host.send_signal(signal.SIGTERM)
    _, err = host.communicate(timeout=30)
    check(host.returncode == 0, "serve exits cleanly (%s)" % err.strip()[-200:])
    m = re.search(r"after (\d+) periods", err)
    periods = int(m.group(1)) if m else -1
    check(periods > 100, "serve ran periods (%d)" % periods)
    with open(trace) as f:
        t = json.load(f)
    ev = t.get("traceEvents", [])
    check(all(all(k in e for k in ("name", "ph", "ts", "pid", "tid")) for e in ev),
          "every event has name, ph, ts, pid, tid")
    spans = [e for e in ev if e["ph"] == "X"]
    check(all(e.get("dur", -1) >= 0 for e in spans), "every span has a duration")
    passes = [e for e in spans if e["name"] == "LL pass"]
    check(len(passes) == periods, "one LL pass per period (%d of %d)" % (len(passes), periods))
    names = {e["tid"]: e["args"]["name"] for e in ev
             if e["ph"] == "M" and e["name"] == "thread_name"}
    gain_tids = {e["tid"] for e in spans if e["name"] == "gain1"}
    check(len(gain_tids) == 1 and
          re.match(r"domain gain1 \(pid \d+\)", names.get(next(iter(gain_tids)), "")) is not None,
          "the isolated instance has one track, its domain's (%s)" %
          [names.get(x) for x in gain_tids])
    check(sum(1 for e in spans if e["name"] == "gain1") > 50, "the domain's spans are there")
sys.exit(1 if errors else 0)
