#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""In-period chains of isolated stages, end to end with the real binary.

- `sched: ll` with `isolation: process` is honoured (not turned into dp);
- a chain of isolated LL stages, a fan-out/fan-in graph of them, and the
  same with domains per library give output bit-identical to the trusted
  graph, offline;
- live (--realtime) the chain runs with no kill, and where no period was
  missed its output is bit-identical to the trusted one;
- partita bench live --json: every key of every row, no kill, and the
  chained rows (the impulse found at the output) have a latency of one
  period whatever N, where the impulse came through.
No timing is asserted: a loaded machine may miss periods.
"""
import json
import os
import subprocess
import sys

BUILD = os.path.abspath(os.environ.get("PARTITA_BUILD", "."))
PARTITA = os.path.join(BUILD, "partita")
DIR = os.path.join(BUILD, "tests", "live-chain")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def chain_yaml(tag, iso, extra="", stages=4):
    lines = ["period_us: 1000", "rate: 48000", extra, "pipelines:", "  - name: main",
             "    instances:",
             "      - {name: tone1, module: tone, params: {wave: sweep, start: 100, end: 8000, seconds: 1}}"]
    for i in range(stages):
        lines.append("      - {name: e%d, module: eq_iir, isolation: %s, sched: ll, "
                     "params: {bands: \"peaking:%d:0.7:3\"}}" % (i, iso, 500 * (i + 1)))
    lines.append("      - {name: out, module: output, params: {file: \"%s/%s.wav\"}}" % (DIR, tag))
    lines.append("    bindings:")
    prev = "tone1"
    for i in range(stages):
        lines.append("      - {from: %s, to: e%d}" % (prev, i))
        prev = "e%d" % i
    lines.append("      - {from: %s, to: out}" % prev)
    path = os.path.join(DIR, tag + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def fan_yaml(tag, iso, extra=""):
    """tone -> split (copier, 2 outputs) -> a, b (eq) -> mix (mixer) -> out."""
    path = os.path.join(DIR, tag + ".yaml")
    with open(path, "w") as f:
        f.write("""period_us: 1000
rate: 48000
%(extra)s
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, params: {wave: sweep, start: 100, end: 8000, seconds: 1}}
      - {name: split, module: copier, isolation: %(iso)s, sched: ll}
      - {name: a, module: eq_iir, isolation: %(iso)s, sched: ll, params: {bands: "peaking:800:0.7:6"}}
      - {name: b, module: eq_iir, isolation: %(iso)s, sched: ll, params: {bands: "peaking:3000:0.7:-6"}}
      - {name: mix, module: mixer, isolation: %(iso)s, sched: ll}
      - {name: out, module: output, params: {file: "%(dir)s/%(tag)s.wav"}}
    bindings:
      - {from: tone1, to: split}
      - {from: split.0, to: a}
      - {from: split.1, to: b}
      - {from: a, to: mix.0}
      - {from: b, to: mix.1}
      - {from: mix, to: out}
""" % {"iso": iso, "dir": DIR, "tag": tag, "extra": extra})
    return path


def fault_yaml(tag, b_params):
    """in -> A (gain) -> B (the fault module) -> C (gain) -> out, all
    isolated LL stages of one chain, FLOAT_LE."""
    fmt = "{rate: 48000, channels: 2, sample: FLOAT_LE}"
    fault = os.path.join(BUILD, "tests", "faults", "pt_fault.so")
    path = os.path.join(DIR, tag + ".yaml")
    with open(path, "w") as f:
        f.write("""period_us: 1000
rate: 48000
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone, params: {wave: sine, freq: 440, seconds: 1}}
      - {name: A, module: gain, isolation: process, sched: ll, params: {gain_db: -3}}
      - {name: B, library: "%(fault)s", isolation: process, sched: ll, params: {%(b)s}}
      - {name: C, module: gain, isolation: process, sched: ll, params: {gain_db: -3}}
      - {name: out, module: output, params: {file: "%(dir)s/%(tag)s.wav"}}
    bindings:
      - {from: tone1, to: A, format: %(fmt)s}
      - {from: A, to: B, format: %(fmt)s}
      - {from: B, to: C, format: %(fmt)s}
      - {from: C, to: out, format: %(fmt)s}
""" % {"fault": fault, "b": b_params, "dir": DIR, "tag": tag, "fmt": fmt})
    return path


def run(path, tag, *args):
    js = os.path.join(DIR, tag + ".json")
    if os.path.exists(js):
        os.unlink(js)
    p = subprocess.run([PARTITA, "run", path, "--quiet", "--stats-json", js, *args],
                       capture_output=True, text=True, timeout=120)
    try:
        with open(js) as f:
            inst = {i["name"]: i for i in json.load(f)["instances"]}
    except (OSError, ValueError):
        inst = {}
    return p, inst


def data(tag):
    with open(os.path.join(DIR, tag + ".wav"), "rb") as f:
        return f.read()


def main():
    os.makedirs(DIR, exist_ok=True)

    p, _ = run(chain_yaml("trusted", "none"), "trusted")
    check(p.returncode == 0, "trusted chain runs (%s)" % p.stderr.strip()[-200:])
    p, inst = run(chain_yaml("chain", "process"), "chain")
    check(p.returncode == 0, "isolated LL chain runs (%s)" % p.stderr.strip()[-200:])
    stages = [inst.get("e%d" % i, {}) for i in range(4)]
    check(all(s.get("sched") == "ll" and s.get("isolation") == "process" for s in stages),
          "sched: ll with isolation: process is honoured")
    check(len({s.get("domain_pid") for s in stages}) == 4, "one domain per stage")
    check(data("chain") == data("trusted"),
          "a chain of isolated LL stages is bit-identical to the trusted chain")

    p, inst = run(chain_yaml("lib", "process", "domains: per-library"), "lib")
    stages = [inst.get("e%d" % i, {}) for i in range(4)]
    check(p.returncode == 0 and len({s.get("domain_pid") for s in stages}) == 1,
          "domains: per-library puts the four stages in one domain")
    check(data("lib") == data("trusted"), "... and the output is bit-identical")

    p, _ = run(fan_yaml("fan_trusted", "none"), "fan_trusted")
    check(p.returncode == 0, "trusted fan-out/fan-in runs (%s)" % p.stderr.strip()[-200:])
    p, inst = run(fan_yaml("fan", "process"), "fan")
    check(p.returncode == 0 and inst.get("mix", {}).get("faults") == 0,
          "isolated fan-out/fan-in chain runs (%s)" % p.stderr.strip()[-200:])
    check(data("fan") == data("fan_trusted"),
          "fan-out and fan-in chain the same way, bit-identical")

    # Live: no kill; bit-identical where nothing was missed.
    p, inst = run(chain_yaml("live", "process"), "live", "--realtime")
    stages = [inst.get("e%d" % i, {}) for i in range(4)]
    misses = sum(s.get("deadline_misses", 0) for s in stages)
    check(p.returncode == 0 and all(s.get("faults") == 0 for s in stages),
          "live chain: no kill (%d misses; exit %d; %s; %s)"
          % (misses, p.returncode, [(s.get("state"), s.get("fault_reason")) for s in stages],
             p.stderr.strip()[-300:]))
    if misses == 0:
        check(data("live") == data("trusted"), "live chain bit-identical to the trusted chain")

    # A stage that lies fails alone; the stages around it go on.
    p, _ = run(fault_yaml("honest", "fault: none"), "honest", "--seconds", "1")
    check(p.returncode == 0, "the honest chain with the fault module runs")
    p, inst = run(fault_yaml("lie", "fault: lie, at: 100"), "lie", "--seconds", "1")
    a, b, c = inst.get("A", {}), inst.get("B", {}), inst.get("C", {})
    check(b.get("state") == "FAILED" and a.get("faults") == 0 and c.get("faults") == 0
          and c.get("periods", 0) >= 900,
          "a lying stage fails alone, the chain goes on (B %s, C %s periods)"
          % (b.get("state"), c.get("periods")))
    check(len(data("lie")) == len(data("honest")), "... and the output keeps its length")
    # Live, a stage late now and then: missed, never killed, nor the
    # stages after it (spoiled for that period only).
    p, inst = run(fault_yaml("slow", "fault: slow, at: 50, every: 50, slow_ms: 3"), "slow",
                  "--realtime", "--seconds", "1")
    a, b, c = inst.get("A", {}), inst.get("B", {}), inst.get("C", {})
    check(all(x.get("state") == "READY" and x.get("faults") == 0 for x in (a, b, c)),
          "a late stage in a live chain: no kill (B %s misses, C %s)"
          % (b.get("deadline_misses"), c.get("deadline_misses")))
    check(b.get("deadline_misses", 0) >= 1, "... its lateness counted as misses")
    check(len(data("slow")) == len(data("honest")), "... and the output keeps its length")

    # The bench: every key, no kill, latency of one period for chains.
    p = subprocess.run([PARTITA, "bench", "live", "--json", "--seconds", "0.5",
                        "--stages", "4,8"], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, "bench live --json runs (%s)" % p.stderr.strip()[-300:])
    try:
        rows = json.loads(p.stdout)["rows"]
    except ValueError:
        rows = []
    keys = ["way", "stages", "period_frames", "load", "periods", "misses",
            "misses_per_10k_per_instance", "kills", "latency_periods",
            "cpu_us_per_period", "futex_per_period", "futex_per_stage_period",
            "ctxsw_per_period", "cpu_ratio_vs_trusted", "cpu_ratio_vs_floor"]
    check(len(rows) == 2 * 2 * 2 * 5, "bench live: %d rows (2 N x 2 periods x 2 loads x 5 ways)"
          % len(rows))
    check(all(all(k in r for k in keys) for r in rows), "bench live: every key in every row")
    check(all(r["kills"] == 0 for r in rows), "bench live: no kill in any row")
    floor = [r for r in rows if r["way"] == "process_floor"]
    check(floor and all(r["cpu_us_per_period"] > 0 and r["latency_periods"] is None and
                        r["futex_per_stage_period"] >= 1.0 for r in floor),
          "bench live: the process floor is measured in the same run (%s)"
          % [(r["stages"], r["cpu_us_per_period"], r["futex_per_stage_period"]) for r in floor])
    check(all(r["cpu_ratio_vs_floor"] and r["cpu_ratio_vs_floor"] > 0 for r in rows
              if r["way"].startswith("isolated")),
          "bench live: every isolated row has its CPU over the floor's")
    chained = [r for r in rows if r["way"].startswith("isolated_chain") and (r["latency_periods"] or 0) > 0]
    check(all(r["latency_periods"] == 1 for r in chained),
          "bench live: chained stages add no period of latency (%s)"
          % [r["latency_periods"] for r in chained])
    dp = [r for r in rows if r["way"] == "isolated_dp" and (r["latency_periods"] or 0) > 0]
    check(all(r["latency_periods"] > r["stages"] for r in dp),
          "bench live: each DP stage adds a period (%s)"
          % [(r["stages"], r["latency_periods"]) for r in dp])

    if failures:
        print("%d failure(s)" % len(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
