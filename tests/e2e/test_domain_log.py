#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An isolated module's log lines are said as a trusted module's are.

End to end with the real binary:
- a module that warns in its 500th period: its warning is on standard
  error under its instance's name, once, trusted and isolated alike,
  offline and live (where the I/O thread writes it);
- a module that writes a line in the name of an instance of another
  domain does not speak for it: the line is not said under that name.
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, PARTITA, check, errors  # noqa: E402

FAULT = os.path.join(BUILD, "tests", "faults", "pt_fault.so")
PROBE = os.path.join(BUILD, "tests", "hostile", "pt_probe.so")
DIR = os.path.join(BUILD, "tests", "domain-log")


def topology(tag, isolation, b_library, b_params):
    fmt = "{rate: 48000, channels: 2, sample: FLOAT_LE}"
    path = os.path.join(DIR, tag + ".yaml")
    with open(path, "w") as f:
        f.write("""rate: 48000
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, params: {seconds: 1}}
      - {name: A, module: gain, isolation: %(iso)s, heap_size: 64K, params: {gain_db: -3}}
      - {name: B, library: "%(lib)s", isolation: %(iso)s, params: %(params)s}
      - {name: out, module: output, params: {file: "%(dir)s/%(tag)s.wav"}}
    bindings:
      - {from: tone1.0, to: A.0, format: %(fmt)s}
      - {from: A.0, to: B.0, format: %(fmt)s}
      - {from: B.0, to: out.0, format: %(fmt)s}
""" % {"iso": isolation, "lib": b_library, "params": b_params, "dir": DIR, "tag": tag,
       "fmt": fmt})
    return path


def run(tag, isolation, b_library, b_params, *args):
    p = subprocess.run([PARTITA, "run", topology(tag, isolation, b_library, b_params),
                        "--quiet", *args], capture_output=True, text=True, timeout=60)
    return p


def main():
    os.makedirs(DIR, exist_ok=True)
    warn = "{fault: warn, at: 500}"
    line = "partita: B: a warning at call 500"
    for iso in ("none", "process"):
        p = run("warn-" + iso, iso, FAULT, warn)
        check(p.returncode == 0, "%s: the run ends well (%s)" % (iso, p.stderr.strip()[-200:]))
        check(p.stderr.count(line) == 1,
              "%s: the module's warning is said once under its name (%r)" % (iso, p.stderr[-300:]))
    p = run("warn-live", "process", FAULT, warn, "--playback", "null", "--realtime",
            "--seconds", "1")
    check(p.stderr.count(line) == 1,
          "live: the isolated module's warning is said once (%r)" % p.stderr[-300:])

    # B's domain writes a warning in A's name: not said as A's.
    p = run("forge", "process", PROBE, "{act: forge_log}")
    check(p.returncode == 0, "forge: the run ends well (%s)" % p.stderr.strip()[-200:])
    check("a warning forged in A's name" not in p.stderr,
          "a domain's line in another instance's name is not said (%r)" % p.stderr[-300:])
    env = dict(os.environ, PARTITA_DEBUG="1")
    p = subprocess.run([PARTITA, "run", os.path.join(DIR, "forge.yaml"), "--quiet"],
                       capture_output=True, text=True, timeout=60, env=env)
    said = [l for l in p.stderr.splitlines() if "a warning forged in A's name" in l]
    check(len(said) == 1 and said[0].startswith("partita: domain ") and
          not said[0].startswith("partita: A:"),
          "with PARTITA_DEBUG=1 it is said as the domain's, not A's (%s)" % said)

    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
