#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks a partita trace-event file against the run's stats.

usage: validate_trace.py TRACE.json STATS.json

TRACE is what `partita run --trace` writes; STATS is `--stats-json` of the
same run (or any JSON with "periods" and "instances": [{"name", "sched",
"periods"}]). Checks:
  - the file is the trace-event JSON object form with a traceEvents list;
  - every event has name, ph, ts, pid and tid of the right types;
  - every complete event (ph "X") has a dur >= 0;
  - metadata names the process and every track a span is on;
  - each DP instance has exactly one track of its own, named for it (an
    isolated one's for its domain and the domain's pid), holding only its
    spans, which never overlap;
  - LL instances' spans are on the host's track, inside an "LL pass" span;
  - the host track has one "LL pass" span per period;
  - every instance has exactly as many spans as periods in the stats.
Prints one line per failed check; exits 1 if any failed.
"""
import collections
import json
import sys

errors = []


def fail(msg):
    errors.append(msg)
    print("FAIL " + msg)


def main(trace_path, stats_path):
    with open(trace_path) as f:
        trace = json.load(f)
    with open(stats_path) as f:
        stats = json.load(f)
    if not isinstance(trace, dict) or not isinstance(trace.get("traceEvents"), list):
        fail("no traceEvents list")
        return
    events = trace["traceEvents"]
    for i, e in enumerate(events):
        for key, types in (("name", str), ("ph", str), ("ts", (int, float)),
                           ("pid", int), ("tid", int)):
            if key not in e or not isinstance(e[key], types) or isinstance(e[key], bool):
                fail("event %d lacks a valid %r: %r" % (i, key, e))
        if e.get("ph") == "X":
            d = e.get("dur")
            if not isinstance(d, (int, float)) or d < 0:
                fail("span %d has no valid dur: %r" % (i, e))
        elif e.get("ph") != "M":
            fail("event %d has unexpected ph %r" % (i, e.get("ph")))
    if errors:
        return

    meta = [e for e in events if e["ph"] == "M"]
    spans = [e for e in events if e["ph"] == "X"]
    if not any(e["name"] == "process_name" for e in meta):
        fail("no process_name metadata")
    tracks = collections.Counter()
    track_name = {}
    for e in meta:
        if e["name"] == "thread_name":
            tracks[e["tid"]] += 1
            track_name[e["tid"]] = e.get("args", {}).get("name", "")
    for tid, n in tracks.items():
        if n != 1:
            fail("track %d is named %d times" % (tid, n))
    for tid in {s["tid"] for s in spans}:
        if tid not in track_name:
            fail("spans on track %d, which has no thread_name" % tid)

    host = [tid for tid, name in track_name.items() if name == "host LL pass"]
    if len(host) != 1:
        fail("expected one 'host LL pass' track, found %d" % len(host))
        return
    host = host[0]
    by_track = collections.defaultdict(list)
    for s in spans:
        by_track[s["tid"]].append(s)

    periods = stats["periods"]
    passes = sorted((s for s in by_track[host] if s["name"] == "LL pass"),
                    key=lambda s: s["ts"])
    if len(passes) != periods:
        fail("%d 'LL pass' spans for %d periods" % (len(passes), periods))

    for inst in stats["instances"]:
        name, sched, want = inst["name"], inst["sched"], inst["periods"]
        mine = [s for s in spans if s["name"] == name]
        if len(mine) != want:
            fail("instance %s: %d spans, %d periods in the stats" % (name, len(mine), want))
        tids = {s["tid"] for s in mine}
        if sched == "dp":
            if len(tids) != 1 or host in tids:
                fail("DP instance %s: spans on tracks %s, want one track of its own"
                     % (name, sorted(tids)))
                continue
            tid = tids.pop()
            if name not in track_name.get(tid, ""):
                fail("DP instance %s: its track is named %r"
                     % (name, track_name.get(tid)))
            if inst.get("isolation") == "process" and not (
                    track_name.get(tid, "").startswith("domain ") and
                    "pid %d" % inst.get("domain_pid", -1) in track_name.get(tid, "")):
                fail("isolated instance %s: its track %r does not name its domain and pid %s"
                     % (name, track_name.get(tid), inst.get("domain_pid")))
            others = [s for s in by_track[tid] if s["name"] != name]
            if others:
                fail("DP instance %s: its track holds other spans (%s)"
                     % (name, others[0]["name"]))
            seq = sorted(mine, key=lambda s: s["ts"])
            for a, b in zip(seq, seq[1:]):
                if a["ts"] + a["dur"] > b["ts"] + 1e-3:
                    fail("DP instance %s: spans overlap at ts %.3f" % (name, b["ts"]))
                    break
        else:
            if tids and tids != {host}:
                fail("LL instance %s: spans off the host track (%s)" % (name, sorted(tids)))
            # Each LL span lies within an LL pass (timestamps in us, with
            # ns decimals; allow rounding).
            j = 0
            for s in sorted(mine, key=lambda s: s["ts"]):
                while j < len(passes) and passes[j]["ts"] + passes[j]["dur"] < s["ts"] - 1e-3:
                    j += 1
                if j == len(passes) or passes[j]["ts"] > s["ts"] + 1e-3:
                    fail("LL instance %s: span at %.3f outside every LL pass" % (name, s["ts"]))
                    break
    dp_tracks = [tid for tid in track_name if tid != host]
    dp_insts = [i for i in stats["instances"] if i["sched"] == "dp"]
    if len(dp_tracks) != len(dp_insts):
        fail("%d DP tracks for %d DP instances" % (len(dp_tracks), len(dp_insts)))
    print("trace: %d spans, %d tracks, %d periods, %d DP instances checked"
          % (len(spans), len(track_name), periods, len(dp_insts)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2])
    sys.exit(1 if errors else 0)
