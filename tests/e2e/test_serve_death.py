#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""partita serve watches every domain's pidfd in its event loop: a domain
killed from outside while its pipeline is paused is seen at once, its
instance is FAILED with the signal, and the host keeps serving."""
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
        f.write("""pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone}
      - {name: gain1, library: "%s/modules/pt_gain.so", isolation: process, heap_size: 64K, max_misses: 1000}
      - {name: out, module: output, params: {file: "%s/o.wav"}}
    bindings:
      - {from: tone1.0, to: gain1.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
      - {from: gain1.0, to: out.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
""" % (os.path.abspath(BUILD), d))
    sock = os.path.join(d, "s.sock")
    host = serve(sock, topo, stderr=subprocess.PIPE, text=True)
    r = ctl(sock, "state", "main", "paused")
    check(r.returncode == 0, "pipeline paused (%s)" % r.stderr.strip())
    kids = subprocess.run(["pgrep", "-P", str(host.pid), "-f", "partita-domain"],
                          capture_output=True, text=True).stdout.split()
    check(len(kids) == 1, "one domain under the host (%s)" % kids)
    if kids:
        os.kill(int(kids[0]), signal.SIGKILL)
    time.sleep(0.3)
    r = ctl(sock, "stats")
    line = [l for l in r.stdout.splitlines() if " gain1 " in " " + l + " "]
    check(line and "failed" in line[0].lower(), "gain1 is failed while paused (%s)" % line)
    check("SIGKILL" in r.stdout or "KILL" in r.stdout, "the signal is named (%s)" %
          r.stdout.strip()[-300:])
    r = ctl(sock, "stats")
    check(r.returncode == 0, "the host keeps serving")
    host.send_signal(signal.SIGTERM)
    _, err = host.communicate(timeout=30)
    check(host.returncode == 0, "serve exits cleanly")
    check("gain1" in err and "failed" in err, "the death is logged (%s)" % err.strip()[-200:])
sys.exit(1 if errors else 0)
