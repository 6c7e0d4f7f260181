#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A plugin that crashes, hangs, leaks or reads a file it was not given is
contained like any other module: its domain dies or its heap fills, it is
marked failed, its output carries silence, and the plugin next to it gives
exactly the output it gives alone. Refusals name what was wrong: a value out
of range, an unknown control, a missing feature, a heap too small."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plugtest import (BUILD, PARTITA, check, errors, read_wav, run, s16_of_float,  # noqa: E402
                      test_signal, write_float_wav)

BUNDLES = os.path.join(BUILD, "tests", "lv2")
AMP = "http://plugin.org.uk/swh-plugins/amp"
FRAMES = 24000


def two_chains(d, bad, name="t.yaml"):
    """in1 -> bad -> o1 and in2 -> swh amp -> o2, in one graph."""
    topo = os.path.join(d, name)
    with open(topo, "w") as f:
        f.write("""period_us: 1000
rate: 48000
pipelines:
  - name: a
    instances:
      - {name: in1, module: input, params: {file: %(d)s/in.wav}}
      - %(bad)s
      - {name: o1, module: output, params: {file: %(d)s/o1.wav}}
    bindings:
      - {from: in1.0, to: bad.0, format: {rate: 48000, channels: 1, sample: FLOAT_LE}}
      - {from: bad.0, to: o1.0, format: {rate: 48000, channels: 1, sample: FLOAT_LE}}
  - name: b
    instances:
      - {name: in2, module: input, params: {file: %(d)s/in.wav}}
      - {name: good, module: lv2, params: {uri: "%(amp)s", gain: -3}}
      - {name: o2, module: output, params: {file: %(d)s/o2.wav}}
    bindings:
      - {from: in2.0, to: good.0, format: {rate: 48000, channels: 1, sample: FLOAT_LE}}
      - {from: good.0, to: o2.0, format: {rate: 48000, channels: 1, sample: FLOAT_LE}}
""" % {"d": d, "bad": bad, "amp": AMP})
    return topo


def misbehaving(way, extra=""):
    return ('{name: bad, module: lv2%s, params: {uri: "http://partita.invalid/plugins/%s", '
            'path: "%s", after: 0.1}}' % (extra, way, BUNDLES))


def row(stdout, name):
    for line in stdout.splitlines():
        if line.split()[:1] == [name]:
            return line
    return ""


with tempfile.TemporaryDirectory() as d:
    write_float_wav(os.path.join(d, "in.wav"), test_signal(FRAMES, 1), 1)
    # The good chain alone: what it must give whatever its neighbour does.
    alone = os.path.join(d, "alone.yaml")
    text = open(two_chains(d, misbehaving("crash"), "x.yaml")).read()
    with open(alone, "w") as f:
        f.write(text[:text.index("  - name: a")] +
                text[text.index("  - name: b"):].replace("o2.wav", "alone.wav"))
    r = run("run", alone)
    check(r.returncode == 0, "the good chain alone runs (%s)" % r.stderr.strip()[-200:])
    reference = read_wav(os.path.join(d, "alone.wav"))[3]

    for way, state, why in (("crash", "FAILED", "SIGSEGV"), ("hang", "FAILED", "hung"),
                            ("spy_run", "FAILED", "openat denied")):
        r = run("run", two_chains(d, misbehaving(way)), "--stats")
        check(r.returncode == 3, "%s: the run completes, exit 3: an instance failed (%s)"
              % (way, r.stderr.strip()[-200:]))
        bad = row(r.stdout, "bad")
        check(state in bad and " process " in bad, "%s: the plugin is %s (%s)" % (way, state, bad))
        check(why in r.stdout + r.stderr, "%s: the fault says %s" % (way, why))
        o1 = read_wav(os.path.join(d, "o1.wav"))[3]
        check(len(o1) == FRAMES and any(o1[:4000]) and not any(o1[-4000:]),
              "%s: its output keeps its length, audio then silence" % way)
        check(read_wav(os.path.join(d, "o2.wav"))[3] == reference,
              "%s: the neighbouring plugin's output is bit-identical to its run alone" % way)

    # A leak fills the private heap and stops there; the plugin keeps
    # running (it copes with NULL) and nothing else is touched.
    r = run("run", two_chains(d, misbehaving("leak", ", heap_size: 2M")), "--stats")
    bad = row(r.stdout, "bad")
    check(r.returncode == 0 and "READY" in bad, "leak: the run completes (%s)" % bad)
    check("2.0M/2.0M" in bad or "2.1M/2.1M" in bad, "leak: heap in use is the whole private heap, no more (%s)" % bad)
    check(read_wav(os.path.join(d, "o2.wav"))[3] == reference, "leak: the neighbour's output is unchanged")

    # The latency port: what the plugin reports reaches the table and the
    # JSON stats, isolated and trusted alike.
    topo = os.path.join(d, "lat.yaml")
    with open(topo, "w") as f:
        f.write(open(two_chains(d, misbehaving("crash")[:-2] + ", latency_in: 64, after: 100}}")).read())
    for iso in ("process", "none"):
        js = os.path.join(d, "lat-%s.json" % iso)
        r = run("run", topo, "--isolation", iso, "--stats-json", js)
        inst = {}
        if r.returncode == 0:
            inst = {i["name"]: i for i in json.load(open(js))["instances"]}
        check(inst.get("bad", {}).get("latency_frames") == 64 and
              inst.get("good", {}).get("latency_frames") == 0,
              "latency port (%s): 64 frames in --stats-json (%s)" % (iso, r.stderr.strip()[-200:]))
        check(" 64\n" in run("run", topo, "--isolation", iso).stdout,
              "latency port (%s): 64 in the table's LATENCY column" % iso)

    # The worker extension: a control change goes to the plugin's worker,
    # which runs in the domain at once; its response takes effect from the
    # next period, isolated and trusted alike.
    topo = two_chains(d, '{name: bad, module: lv2, params: {uri: "http://partita.invalid/plugins/stateful", '
                      'path: "%s", target: 0.5}}' % BUNDLES, "w.yaml")
    outs = []
    for iso in ("process", "none"):
        r = run("run", topo, "--isolation", iso)
        check(r.returncode == 0, "worker (%s): runs (%s)" % (iso, r.stderr.strip()[-200:]))
        outs.append(read_wav(os.path.join(d, "o1.wav"))[3])
    x = test_signal(FRAMES, 1)
    check(outs[0] == outs[1], "worker: isolated == trusted")
    check(outs[0][:48] == [struct.unpack("<f", struct.pack("<f", f[0]))[0] for f in x[:48]] and
          all(y == struct.unpack("<f", struct.pack("<f", f[0]))[0] * 0.5
              for f, y in zip(x[48:], outs[0][48:])),
          "worker: the level its response set holds from the second period")

    # lv2:sampleRate: a control's bounds are multiples of the rate (its
    # default is not). At 48 kHz 0..0.0001 is 0..4.8: gain 2 runs (it was
    # refused as out of range 0..0.0001), gain 5 is refused naming the rate.
    srb = os.path.join(d, "srate.lv2")
    os.mkdir(srb)
    shutil.copy(os.path.join(BUNDLES, "partita-test.lv2", "misbehave.so"), srb)
    with open(os.path.join(srb, "manifest.ttl"), "w") as f:
        f.write('@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n'
                '<http://partita.invalid/plugins/crash> a lv2:Plugin ; lv2:binary <misbehave.so> ; '
                'lv2:port [ a lv2:AudioPort , lv2:InputPort ; lv2:index 0 ; lv2:symbol "in" ] , '
                '[ a lv2:AudioPort , lv2:OutputPort ; lv2:index 1 ; lv2:symbol "out" ] , '
                '[ a lv2:ControlPort , lv2:InputPort ; lv2:index 2 ; lv2:symbol "gain" ; lv2:default 1 ; '
                'lv2:minimum 0 ; lv2:maximum 0.0001 ; lv2:portProperty lv2:sampleRate ] , '
                '[ a lv2:ControlPort , lv2:InputPort ; lv2:index 3 ; lv2:symbol "after" ; lv2:default 100 ] , '
                '[ a lv2:ControlPort , lv2:InputPort ; lv2:index 4 ; lv2:symbol "latency_in" ; lv2:default 0 ] , '
                '[ a lv2:ControlPort , lv2:OutputPort ; lv2:index 5 ; lv2:symbol "latency" ] .\n')
    srate_inst = ('{name: bad, module: lv2, params: {uri: "http://partita.invalid/plugins/crash", '
                  'bundle: "%s", gain: %%s}}' % srb)
    r = run("run", two_chains(d, srate_inst % 2))
    x = test_signal(FRAMES, 1)
    check(r.returncode == 0 and read_wav(os.path.join(d, "o1.wav"))[3] ==
          [struct.unpack("<f", struct.pack("<f", f[0]))[0] * 2 for f in x],
          "lv2:sampleRate bounds are times the rate: gain 2 in 0..0.0001*48000 runs (%s)"
          % r.stderr.strip()[-200:])
    r = run("run", two_chains(d, srate_inst % 5))
    check(r.returncode == 1 and "gain=5 is out of range 0..4.7" in r.stderr and "48000 Hz" in r.stderr,
          "lv2:sampleRate: gain 5 refused, the range at the rate named (%s)" % r.stderr.strip()[-200:])

    def refused(inst, want, what):
        r = run("run", two_chains(d, inst))
        check(r.returncode != 0 and all(w in r.stderr for w in want),
              "%s: refused naming it (%s)" % (what, r.stderr.strip()[-260:]))

    refused(misbehaving("spy"), ["/etc/passwd", "denied"],
            "a plugin reading /etc/passwd at instantiate")
    refused(misbehaving("needs"), ["http://lv2plug.in/ns/ext/data-access"],
            "a plugin requiring a feature Partita lacks")
    refused('{name: bad, module: lv2, params: {uri: "%s", gain: 100}}' % AMP,
            ["gain=100", "out of range -70..70"], "an LV2 control out of range")
    refused('{name: bad, module: lv2, params: {uri: "%s", volume: 1}}' % AMP,
            ["volume", "gain"], "an unknown LV2 control (the known ones listed)")
    refused('{name: bad, module: ladspa, params: {library: cmt.so, label: amp_mono, gain: -1}}',
            ["gain=-1", "out of range 0.."], "a LADSPA control out of range")
    refused('{name: bad, module: ladspa, params: {library: nosuch.so, label: x}}',
            ["nosuch.so", "not found"], "a missing LADSPA library")
    refused('{name: bad, module: lv2, params: {uri: "http://example.invalid/none"}}',
            ["http://example.invalid/none"], "an LV2 URI nobody installed")
    refused('{name: bad, module: lv2, heap_size: 512K, params: {uri: "%s"}}' % AMP,
            ["private heap of", "exhausted", "heap_size"], "a heap too small for lilv's world")

    # ---- LADSPA libraries that lie or misbehave (misbehave/ladspa_*.c):
    # each refused or contained, named, the neighbour's output unchanged ----
    lad = os.path.join(BUILD, "tests", "ladspa")
    hostile = os.path.join(lad, "ladspa_hostile.so")

    def ladspa_bad(label, extra=""):
        return ('{name: bad, module: ladspa, hang_ms: 300, params: {library: "%s", label: %s%s}}'
                % (hostile, label, extra))

    # A control whose range and default scale with the rate starts at the
    # rate's default (it was 0, outside the range, and refused): middle of
    # 0.001..0.5 x 48000 = 12024, as applyplugin given that value.
    r = run("run", two_chains(d, ladspa_bad("freq_default")))
    ref = os.path.join(d, "freq_ref.wav")
    a = subprocess.run(["applyplugin", os.path.join(d, "in.wav"), ref, hostile, "freq_default",
                        "12024"], capture_output=True, text=True)
    check(r.returncode == 0 and a.returncode == 0 and
          [s16_of_float(v) for v in read_wav(os.path.join(d, "o1.wav"))[3]] == read_wav(ref)[3],
          "LADSPA rate-relative default: the rate's (12024 Hz), as applyplugin (%s%s)"
          % (r.stderr.strip()[-200:], a.stderr.strip()[-100:]))
    r = run("run", two_chains(d, ladspa_bad("null_names")))
    check(r.returncode == 0, "LADSPA descriptor with NULL names: runs (%s)" % r.stderr.strip()[-200:])
    for label, want in (("null_ports", "incomplete descriptor (no port descriptors"),
                        ("nosuch", "no plugin labelled 'nosuch'")):
        r = run("run", two_chains(d, ladspa_bad(label)))
        check(r.returncode == 1 and want in r.stderr and "SIGSEGV" not in r.stderr,
              "LADSPA %s: refused, named (%s)" % (label, r.stderr.strip()[-200:]))
    for lib, want in (("ladspa_crash.so", "killed by SIGSEGV"),
                      (os.path.join(BUILD, "modules", "pt_gain.so"), "no ladspa_descriptor"),
                      (os.path.join(d, "in.wav"), "in.wav")):
        r = run("run", two_chains(d, '{name: bad, module: ladspa, params: {library: "%s", '
                                     'label: x, path: "%s"}}' % (lib, lad)))
        check(r.returncode == 1 and want in r.stderr,
              "a library that is no LADSPA plugin or crashes (%s): refused, named (%s)"
              % (os.path.basename(lib), r.stderr.strip()[-200:]))
    # A latency port saying 5e8 frames: no frame count a completion may
    # carry. Reported as 0 (said, trusted), the instance keeps running;
    # isolated it was taken for a lie and the instance failed.
    for iso in ("process", "none"):
        js = os.path.join(d, "hl-%s.json" % iso)
        r = run("run", two_chains(d, ladspa_bad("huge_latency")), "--isolation", iso,
                "--stats-json", js)
        try:
            inst = {i["name"]: i for i in json.load(open(js))["instances"]}
        except (OSError, ValueError, KeyError):
            inst = {}
        bad = inst.get("bad", {})
        check(r.returncode == 0 and bad.get("state") == "READY" and bad.get("latency_frames") == 0
              and (iso == "process" or "not a latency" in r.stderr) and
              read_wav(os.path.join(d, "o2.wav"))[3] == reference,
              "LADSPA latency port at 5e8 frames (%s): reported as 0, runs, neighbour unchanged (%s, %s)"
              % (iso, bad.get("state"), r.stderr.strip()[-200:]))
    for label, why in (("crash_run", "SIGSEGV"), ("out_of_bounds", "SIGSEGV")):
        r = run("run", two_chains(d, ladspa_bad(label)), "--stats")
        check(r.returncode == 3 and "FAILED" in row(r.stdout, "bad") and why in r.stdout + r.stderr and
              read_wav(os.path.join(d, "o2.wav"))[3] == reference,
              "LADSPA %s: contained (%s), the neighbour's output unchanged" % (label, row(r.stdout, "bad")))
    for label, why in (("crash_instantiate", "SIGSEGV"), ("spin_activate", "did not answer")):
        r = run("run", two_chains(d, ladspa_bad(label)))
        check(r.returncode == 1 and "'bad' (ladspa)" in r.stderr and why in r.stderr,
              "LADSPA %s: refused at prepare, named (%s)" % (label, r.stderr.strip()[-200:]))

    # The default LADSPA heap fits ordinary plugins: cmt's 5-second delay
    # line needs more than 1 MiB.
    r = run("run", two_chains(d, '{name: bad, module: ladspa, params: {library: cmt.so, '
                                 'label: delay_5s}}'))
    check(r.returncode == 0, "cmt delay_5s runs in the default LADSPA heap (%s)" % r.stderr.strip()[-200:])

    # partita plugins survives a library that kills its listing domain: it
    # names it and lists the others; a lying descriptor is skipped, said.
    lp = os.path.join(d, "ladspa")
    os.mkdir(lp)
    for f in ("ladspa_hostile.so", "ladspa_crash.so"):
        shutil.copy(os.path.join(lad, f), lp)
    shutil.copy("/usr/lib/ladspa/cmt.so", lp)
    p = subprocess.run([PARTITA, "plugins", "--ladspa"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, LADSPA_PATH=lp))
    check(p.returncode == 0 and "skipped %s/ladspa_crash.so" % lp in p.stderr and
          "cmt.so amp_mono" in p.stdout and "ladspa_hostile.so freq_default" in p.stdout and
          "ladspa_hostile.so #2: skipped: no port descriptors" in p.stdout,
          "partita plugins: a crashing library named and skipped, the others listed (%s)"
          % p.stderr.strip()[-200:])
    # An LV2 bundle whose data kills the listing domain (a port index of
    # four billion: lilv asks for 32 GB) is named and skipped; the other
    # bundles along the path are listed.
    huge = os.path.join(d, "lv2", "huge.lv2")
    os.makedirs(huge)
    with open(os.path.join(huge, "manifest.ttl"), "w") as f:
        f.write('@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n'
                '<urn:partita:huge> a lv2:Plugin ; lv2:binary <huge.so> ; lv2:port '
                '[ a lv2:AudioPort , lv2:InputPort ; lv2:index 4000000000 ; lv2:symbol "in" ] .\n')
    q = subprocess.run([PARTITA, "plugins", "--lv2"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, LV2_PATH=os.path.join(d, "lv2") + ":" + BUNDLES))
    check(q.returncode == 0 and "skipped %s/" % huge in q.stderr and
          "http://partita.invalid/plugins/crash" in q.stdout and "urn:partita:huge" not in q.stdout,
          "partita plugins: an LV2 bundle that kills the listing named and skipped (%s)"
          % q.stderr.strip()[-200:])
    # A relative folder on the search path is said, not silently dropped.
    q = subprocess.run([PARTITA, "plugins", "--ladspa"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, LADSPA_PATH="relative/ladspa:" + lp))
    check(q.returncode == 0 and "LADSPA_PATH entry 'relative/ladspa' is not an absolute folder" in q.stderr
          and "cmt.so amp_mono" in q.stdout, "a relative LADSPA_PATH entry is named (%s)" % q.stderr.strip()[-200:])
    # Defaults are listed, a rate-relative one as a multiple of the rate.
    check(re.search(r"port 2 control  in     gain = 0\.250\d*\*rate \(0\.001\d*\*rate\.\.0\.5\*rate\)",
                    p.stdout) and "amp_mono" in p.stdout and "gain = 1 (0.." in p.stdout,
          "partita plugins lists LADSPA defaults, rate-relative ones times the rate")
    p = subprocess.run([PARTITA, "plugins", "--json"], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, LADSPA_PATH=lp))
    try:
        labels = [x["label"] for x in json.loads(p.stdout)["ladspa"]]
    except (ValueError, KeyError, TypeError):
        labels = []
    ports = {x["label"]: x["ports"] for x in json.loads(p.stdout or "{}").get("ladspa", [])} \
        if labels else {}
    fd = ports.get("freq_default", [{}] * 3)[2]
    check(abs(fd.get("default", 0) - 0.2505) < 1e-6 and fd.get("default_times_rate") is True,
          "partita plugins --json: a LADSPA default and whether it is times the rate (%s)" % fd)
    check(p.returncode == 0 and "amp_mono" in labels and "null_ports" not in labels,
          "partita plugins --json: valid JSON past the crashing library (%d LADSPA)" % len(labels))

print("%d failures" % len(errors))
sys.exit(1 if errors else 0)
