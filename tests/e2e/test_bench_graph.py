#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""partita bench graph --json runs both chains in every placement and prints
one object with the keys the domains issue names, each a sane number. (No
timing is asserted: the machine is shared.)"""
import json
import os
import subprocess
import sys

BUILD = os.environ.get("PARTITA_BUILD", "build")
p = subprocess.run([os.path.join(BUILD, "partita"), "bench", "graph", "--json",
                    "--seconds", "0.5", "--rounds", "1"],
                   capture_output=True, text=True, timeout=300)
print(p.stdout, p.stderr)
if p.returncode != 0:
    sys.exit("bench graph failed")
d = json.loads(p.stdout)
keys = ["trusted_wall_s", "isolated_wall_s", "ratio", "realtime_factor",
        "syscalls_per_period", "domain_rss_kib", "domain_start_ms",
        "voice_trusted_wall_s", "voice_isolated_wall_s", "voice_ratio",
        # the chain of installed plugins (scripts/deps.sh installs them)
        "plugins_trusted_wall_s", "plugins_isolated_wall_s", "plugins_ratio"]
missing = [k for k in keys if not isinstance(d.get(k), (int, float))]
if missing:
    sys.exit("missing or not numbers: %s" % missing)
if d["domains"] != 5 or not d["domain_rss_kib"] > 0 or not d["ratio"] > 0:
    sys.exit("implausible figures: %s" % d)
print("ok")
