#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A chain of four plugins from four Debian packages (swh-lv2, fomp, mda-lv2,
tap-plugins), each in a domain, runs live on ALSA's null device paced by
the clock, and under `partita serve`: a control changed live, read back
(output control ports too), a value out of range refused naming the range,
the pipeline still running, and `top` showing the four."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plugtest import BUILD, PARTITA, check, ctl, errors, run, serve  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOPO = os.path.join(SOURCE, "topologies", "plugins.yaml")
PLUGINS = ("amp", "eq", "lim", "boost")


with tempfile.TemporaryDirectory() as d:
    # Live: paced on the clock into ALSA's null device. Generous limits:
    # the machine is shared; this is about running, not deadlines.
    r = run("run", TOPO, "--playback", "null", "--realtime", "--seconds", "1",
            "--quiet", "--stats-json", os.path.join(d, "s.json"), "--hang-ms", "5000")
    check(r.returncode == 0, "live run exits 0 (%s)" % r.stderr.strip()[-300:])
    try:
        st = {i["name"]: i for i in json.load(open(os.path.join(d, "s.json")))["instances"]}
    except (OSError, ValueError):
        st = {}
    for n in PLUGINS:
        i = st.get(n, {})
        check(i.get("isolation") == "process" and i.get("state") == "READY" and
              i.get("faults") == 0 and i.get("periods", 0) > 900,
              "live: %s ran in its domain without a fault (%s periods)" % (n, i.get("periods")))

    # serve: the same chain, its output to a file here.
    topo = os.path.join(d, "plugins.yaml")
    with open(topo, "w") as f:
        f.write(open(TOPO).read().replace("file: plugins.wav", "file: %s/o.wav" % d))
    sock = os.path.join(d, "s.sock")
    host = serve(sock, topo, tries=200, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True)
    try:
        r = ctl(sock, "state", "main", "running")
        check(r.returncode == 0, "serve: pipeline running (%s)" % r.stderr.strip())
        time.sleep(0.3)
        r = ctl(sock, "set-config", "amp", "gain=-3")
        check(r.returncode == 0, "serve: set-config amp gain=-3 (%s)" % r.stderr.strip())
        r = ctl(sock, "get-config", "amp")
        check(r.returncode == 0 and "gain=-3" in r.stdout, "serve: get-config amp reads it back (%s)"
              % r.stdout.strip())
        r = ctl(sock, "set-config", "amp", "gain=99")
        check(r.returncode != 0 and "out of range -70..70" in (r.stdout + r.stderr),
              "serve: gain=99 refused naming the range (%s)" % (r.stdout + r.stderr).strip()[-200:])
        r = ctl(sock, "get-config", "amp")
        check("gain=-3" in r.stdout, "serve: a refused value changes nothing (%s)" % r.stdout.strip())
        r = ctl(sock, "get-config", "boost")
        check(r.returncode == 0 and "pre_gain_db=2" in r.stdout and "post_gain_db=-3" in r.stdout,
              "serve: the LADSPA plugin's controls by symbol (%s)" % r.stdout.strip())
        r = ctl(sock, "set-config", "boost", "post_gain_db=-6")
        check(r.returncode == 0 and "post_gain_db=-6" in ctl(sock, "get-config", "boost").stdout,
              "serve: a LADSPA control changed live")
        time.sleep(0.3)
        p = subprocess.run([PARTITA, "top", "--socket", sock, "--once"], capture_output=True,
                           text=True, timeout=60)
        rows = {l.split()[0]: l.split() for l in p.stdout.splitlines() if l.split()}
        check(p.returncode == 0 and all(n in rows and rows[n][1] in ("lv2", "ladspa") and
                                        rows[n][4] == "process" and int(rows[n][5]) > 0
                                        for n in PLUGINS),
              "top: the four plugins, isolated, running (%s)" % [rows.get(n) for n in PLUGINS])
        check(all(rows.get(n, [""])[-1] == "0" for n in PLUGINS), "top: their LATENCY column")
        r = ctl(sock, "stats")
        check(r.returncode == 0 and all(" %s " % n in r.stdout for n in PLUGINS) and
              "failed" not in r.stdout.lower(), "serve: stats, nothing failed")
    finally:
        host.terminate()
        try:
            host.wait(timeout=20)
        except subprocess.TimeoutExpired:
            host.kill()

    # State through get/set config (LV2 state interface, param 1), and the
    # worker, live under serve.
    topo = os.path.join(d, "state.yaml")
    with open(topo, "w") as f:
        f.write("""pipelines:
  - name: main
    instances:
      - {name: src, module: tone}
      - {name: st, module: lv2, params: {uri: "http://partita.invalid/plugins/stateful", path: "%s", target: 0.25}}
      - {name: out, module: output, params: {file: "%s/st.wav"}}
    bindings:
      - {from: src.0, to: st.0, format: {rate: 48000, channels: 1, sample: FLOAT_LE}}
      - {from: st.0, to: out.0, format: {rate: 48000, channels: 1, sample: FLOAT_LE}}
""" % (os.path.join(BUILD, "tests", "lv2"), d))
    sock = os.path.join(d, "st.sock")
    host = serve(sock, topo, tries=200, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                 text=True)
    try:
        ctl(sock, "state", "main", "running")
        time.sleep(0.3)
        r = ctl(sock, "get-config", "st")
        check("level_out=0.25" in r.stdout, "state: the worker set the level, read on the output control (%s)"
              % r.stdout.strip())
        r = ctl(sock, "get-config", "st", "--param", "1")
        blob = bytes(int(h, 16) for line in r.stdout.splitlines()[1:] for h in line.split())
        check(r.returncode == 0 and b"http://partita.invalid/plugins/stateful#level" in blob,
              "state: saved through get-config --param 1 (%d bytes)" % len(blob))
        ctl(sock, "set-config", "st", "target=1")
        time.sleep(0.3)
        check("level_out=1" in ctl(sock, "get-config", "st").stdout.split(), "state: level moved to 1")
        path = os.path.join(d, "state.bin")
        open(path, "wb").write(blob)
        r = ctl(sock, "set-config", "st", "--param", "1", "--blob", path)
        time.sleep(0.3)
        check(r.returncode == 0 and "level_out=0.25" in ctl(sock, "get-config", "st").stdout,
              "state: restored through set-config --param 1 --blob (%s)" % r.stderr.strip())
        open(path, "wb").write(b"\xff" * 9)
        r = ctl(sock, "set-config", "st", "--param", "1", "--blob", path)
        check(r.returncode != 0 and "malformed" in r.stdout + r.stderr,
              "state: a malformed blob is refused (%s)" % (r.stdout + r.stderr).strip()[-160:])
    finally:
        host.terminate()
        try:
            host.wait(timeout=20)
        except subprocess.TimeoutExpired:
            host.kill()

print("%d failures" % len(errors))
sys.exit(1 if errors else 0)
