#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Hostile stages in in-period chains (sched: ll, isolation: process), end
to end with the real binary, offline.

tone -> split (copier, 3 outputs) -> H (hostile) -> outa
                                  -> E (eq_iir) -> F (gain) -> outb
                                  -> M (same library as H) -> outc
every stage an isolated LL stage of one chain. H crashes, hangs, lies
about its counts, aborts, writes to its read-only input, or tries a system
call the filter stops, at
period 100 (the probe: at its first). Checked against the same graph with H honest:
- the host finishes the run (exit 3: an instance failed) and names what
  H did;
- outb (E and F do not depend on H) is bit-identical, outa and outc keep
  their length;
- with a domain per instance M goes on untouched (outc bit-identical);
  with `domains: per-library` M shares H's domain, fails with it, and its
  reason names what H did.
No timing is asserted (a hang is judged after hang_ms whatever the load).
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, PARTITA, check, errors  # noqa: E402

DIR = os.path.join(BUILD, "tests", "hostile-chain")
FMT = "{rate: 48000, channels: 2, sample: FLOAT_LE}"


def topo(tag, lib, h_params, m_params, extra=""):
    path = os.path.join(DIR, tag + ".yaml")
    with open(path, "w") as f:
        f.write("""period_us: 1000
rate: 48000
%(extra)s
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, params: {wave: sine, freq: 440, seconds: 1}}
      - {name: split, module: copier, isolation: process, sched: ll}
      - {name: H, library: "%(lib)s", isolation: process, sched: ll, restart: never, params: {%(h)s}}
      - {name: M, library: "%(lib)s", isolation: process, sched: ll, restart: never, params: {%(m)s}}
      - {name: E, module: eq_iir, isolation: process, sched: ll, params: {bands: "peaking:800:0.7:6"}}
      - {name: F, module: gain, isolation: process, sched: ll, params: {gain_db: -3}}
      - {name: outa, module: output, params: {file: "%(dir)s/%(tag)s_a.wav"}}
      - {name: outb, module: output, params: {file: "%(dir)s/%(tag)s_b.wav"}}
      - {name: outc, module: output, params: {file: "%(dir)s/%(tag)s_c.wav"}}
    bindings:
      - {from: tone1, to: split, format: %(fmt)s}
      - {from: split.0, to: H, format: %(fmt)s}
      - {from: split.1, to: E, format: %(fmt)s}
      - {from: split.2, to: M, format: %(fmt)s}
      - {from: H, to: outa, format: %(fmt)s}
      - {from: E, to: F, format: %(fmt)s}
      - {from: F, to: outb, format: %(fmt)s}
      - {from: M, to: outc, format: %(fmt)s}
""" % dict(extra=extra, lib=lib, h=h_params, m=m_params, tag=tag, dir=DIR, fmt=FMT))
    return path


def run(path, tag):
    js = os.path.join(DIR, tag + ".json")
    if os.path.exists(js):
        os.unlink(js)
    p = subprocess.run([PARTITA, "run", path, "--quiet", "--seconds", "1", "--stats-json", js],
                       capture_output=True, text=True, timeout=120)
    try:
        with open(js) as f:
            inst = {i["name"]: i for i in json.load(f)["instances"]}
    except (OSError, ValueError):
        inst = {}
    return p, inst


def pcm(tag, out):
    """The samples of a WAV file (its header holds a time stamp)."""
    try:
        with open(os.path.join(DIR, "%s_%s.wav" % (tag, out)), "rb") as f:
            d = f.read()
        return d[d.index(b"data") + 8:]
    except (OSError, ValueError):
        return None


def main():
    os.makedirs(DIR, exist_ok=True)
    fault = os.path.join(BUILD, "tests", "faults", "pt_fault.so")
    probe = os.path.join(BUILD, "tests", "hostile", "pt_probe.so")
    cases = [
        # library, H's params, M's params, what H's reason says
        (fault, "fault: segv, at: 100", "gain_db: -6", "SIGSEGV"),
        (fault, "fault: abort, at: 100", "gain_db: -6", "SIGABRT"),
        (fault, "fault: lie, at: 100", "gain_db: -6", "produced"),
        (fault, "fault: spin, at: 100", "gain_db: -6", "hung"),
        (probe, "act: reach, reach: setsched", "gain: 0.25", "sched_setscheduler denied"),
        (probe, "act: reach, reach: vm_write, pid: %d" % os.getpid(), "gain: 0.25",
         "process_vm_writev denied"),
        (probe, "act: write_input", "gain: 0.25", "SIGSEGV"),
    ]
    honest = {}
    for lib in (fault, probe):
        m = cases[0][2] if lib == fault else cases[4][2]
        h = "fault: none" if lib == fault else "gain: 0.5"
        for per_lib in (False, True):
            tag = "honest_%s_%d" % (os.path.basename(lib)[:-3], per_lib)
            p, inst = run(topo(tag, lib, h, m, "domains: per-library" if per_lib else ""), tag)
            check(p.returncode == 0 and all(i.get("faults") == 0 for i in inst.values()),
                  "%s: the honest graph runs (%s)" % (tag, p.stderr.strip()[-200:]))
            if per_lib:
                check(inst.get("H", {}).get("domain_pid") == inst.get("M", {}).get("domain_pid"),
                      "%s: H and M share a domain" % tag)
            honest[(lib, per_lib)] = {o: pcm(tag, o) for o in "abc"}

    for n, (lib, hp, mp, says) in enumerate(cases):
        for per_lib in (False, True):
            tag = "bad%d_%d" % (n, per_lib)
            p, inst = run(topo(tag, lib, hp, mp, "domains: per-library" if per_lib else ""), tag)
            ref = honest[(lib, per_lib)]
            h, m = inst.get("H", {}), inst.get("M", {})
            what = "%s (%s, %s)" % (hp, os.path.basename(lib), "per-library" if per_lib else
                                    "per-instance")
            check(p.returncode == 3 and "failed" in p.stderr,
                  "%s: the host finishes, an instance failed (exit %d: %s)"
                  % (what, p.returncode, p.stderr.strip()[-300:]))
            check(h.get("state") == "FAILED" and says in p.stderr,
                  "%s: H failed, its reason named (%r)" % (what, says))
            check(all(inst.get(x, {}).get("faults") == 0 and inst.get(x, {}).get("state") == "READY"
                      for x in ("split", "E", "F")),
                  "%s: split, E and F untouched" % what)
            check(ref["b"] is not None and pcm(tag, "b") == ref["b"],
                  "%s: outb bit-identical to the run with H honest" % what)
            check(pcm(tag, "a") is not None and len(pcm(tag, "a")) == len(ref["a"]),
                  "%s: outa keeps its length" % what)
            if per_lib:
                mline = [l for l in p.stderr.splitlines() if "instance 'M' failed" in l]
                check(m.get("state") == "FAILED" and mline and says in mline[0] and
                      len(pcm(tag, "c") or b"") == len(ref["c"]),
                      "%s: M, in H's domain, fails with it, named, outc keeps its length (%s)"
                      % (what, [l for l in p.stderr.splitlines() if "'M'" in l][:1]))
            else:
                check(m.get("state") == "READY" and pcm(tag, "c") == ref["c"],
                      "%s: M, in its own domain, untouched and outc bit-identical" % what)
    if errors:
        print("%d errors" % len(errors))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
