#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Isolated instances that misbehave in set_config / get_config while
`partita serve` runs, driven by `partita ctl`.

Two pipelines: `main` (trusted tone -> gain -> output) and `iso` (tone ->
an isolated probe -> output). The probe's set_config spins, or its
get_config floods its log with binary junk, forever. The host:
- answers the client with an error naming what happened (the domain did
  not answer within its time);
- keeps running `main` while it waits (the graph's lock is let go):
  `main` runs on (hundreds of periods in the 5 s the host waits) and the
  probe's periods meanwhile are counted as misses;
- fails the probe with a reason that says so, and keeps serving.
And blobs the probe's module refuses (a wrong binary pattern, an unknown
parameter) come back refused with the module's reason, the instance
running on. The serve runs in the ordinary class (--rt-priority 0), so a
spin is ended by the control timeout, not the real-time limit.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, PARTITA, check, errors  # noqa: E402

DIR = os.path.join(BUILD, "tests", "hostile-serve")
SOCK = os.path.join(DIR, "s.sock")


def ctl(*args, timeout=60):
    return subprocess.run([PARTITA, "ctl", "--socket", SOCK, "--timeout", "20000", *args],
                          capture_output=True, text=True, timeout=timeout)


def stats():
    """name -> (state, periods, misses) and the text."""
    r = ctl("stats")
    out = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 10 and f[0].isdigit():
            out[f[1]] = (f[4], int(f[7]), int(f[10]))
    return out, r.stdout


def topology(probe_params):
    path = os.path.join(DIR, "serve.yaml")
    fmt = "{rate: 48000, channels: 2, sample: FLOAT_LE}"
    with open(path, "w") as f:
        f.write("""period_us: 1000
rate: 48000
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, params: {freq: 1000}}
      - {name: gain1, module: gain, params: {gain_db: 0}}
      - {name: out, module: output, params: {file: %(dir)s/main.wav}}
    bindings:
      - {from: tone1, to: gain1, format: %(fmt)s}
      - {from: gain1, to: out, format: %(fmt)s}
  - name: iso
    instances:
      - {name: tone2, module: tone, params: {freq: 1000}}
      - {name: p, library: %(lib)s, isolation: process, restart: never, params: {%(pp)s}}
      - {name: out2, module: output, params: {file: %(dir)s/iso.wav}}
    bindings:
      - {from: tone2, to: p, format: %(fmt)s}
      - {from: p, to: out2, format: %(fmt)s}
""" % {"dir": DIR, "fmt": fmt, "pp": probe_params,
       "lib": os.path.join(BUILD, "tests", "hostile", "pt_probe.so")})
    return path


def serve(probe_params):
    if os.path.exists(SOCK):
        os.unlink(SOCK)
    log = open(os.path.join(DIR, "serve.log"), "w")
    p = subprocess.Popen([PARTITA, "serve", "--rt-priority", "0", "--socket", SOCK,
                          topology(probe_params)], stdout=log, stderr=subprocess.STDOUT)
    for _ in range(500):
        if os.path.exists(SOCK):
            break
        time.sleep(0.01)
    check(ctl("state", "main", "running").returncode == 0 and
          ctl("state", "iso", "running").returncode == 0, "serve runs both pipelines")
    return p


def stop(p):
    p.send_signal(2)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return p.returncode


def hostile_config(how, cmd):
    p = serve("in: %s, do: %s" % ("set" if cmd[0] == "set-config" else "get", how))
    before, _ = stats()
    r = ctl(*cmd)
    after, text = stats()
    # The probe fails in the period after its domain was ended.
    for _ in range(200):
        if after.get("p", ("",))[0] == "FAILED":
            break
        time.sleep(0.01)
        after, text = stats()
    what = "%s in %s" % (how, cmd[0])
    check(r.returncode == 1 and "did not answer within" in r.stderr,
          "%s: the client is told the domain did not answer (%s)" % (what, r.stderr.strip()[-160:]))
    ran = after.get("gain1", ("", 0, 0))[1] - before.get("gain1", ("", 0, 0))[1]
    check(ran >= 100, "%s: the other pipeline ran on while the host waited (%d periods)"
          % (what, ran))
    check(after.get("p", ("", 0, 0))[2] >= 1,
          "%s: the probe's periods meanwhile were misses (%s)" % (what, after.get("p")))
    check(after.get("gain1", ("",))[0] != "FAILED" and ctl("stats", "gain1").returncode == 0,
          "%s: the host serves on" % what)
    check(stop(p) == 0, "%s: the host exits cleanly" % what)
    with open(os.path.join(DIR, "serve.log")) as f:
        line = [l for l in f.read().splitlines() if "instance 'p' failed" in l]
    check(after.get("p", ("",))[0] == "FAILED" and line and "did not answer" in line[0],
          "%s: the probe failed, its reason named (%s)" % (what, line[:1]))


def refused_blobs():
    p = serve("gain: 0.5")
    small = os.path.join(DIR, "small.bin")
    with open(small, "wb") as f:
        f.write(bytes((i * 7 + 3) & 0xff for i in range(1000)))
    r = ctl("set-config", "p", "--param", "1", "--file", small)
    check(r.returncode == 1 and "Bad message" in r.stderr,
          "a blob the module refuses: refused with its reason (%s)" % r.stderr.strip()[-120:])
    r = ctl("set-config", "p", "--param", "9", "--file", small)
    check(r.returncode == 1 and "Invalid argument" in r.stderr,
          "an unknown parameter: refused (%s)" % r.stderr.strip()[-120:])
    check(r.stderr.count("'p'") == 1 and "instance p:" not in r.stderr,
          "... the instance named once, as a trusted one's refusal names it (%s)"
          % r.stderr.strip()[-160:])
    r = ctl("set-config", "p", "gain=0.25")
    s, _ = stats()
    check(r.returncode == 0 and s.get("p", ("",))[0] != "FAILED",
          "... and the instance takes a good blob and runs on")
    check(stop(p) == 0, "the host exits cleanly")


def main():
    os.makedirs(DIR, exist_ok=True)
    hostile_config("spin", ["set-config", "p", "gain=0.1"])
    hostile_config("flood", ["get-config", "p"])
    refused_blobs()
    if errors:
        print("%d errors" % len(errors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
