#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installed LV2 plugins (swh-lv2, mda-lv2, fomp) and LADSPA plugins (cmt,
tap-plugins, ladspa-sdk's own) run by partita in a domain give exactly the
output of the reference hosts (lv2apply, applyplugin) on the same float
input, with non-default control values, and exactly the output of the same
plugin run trusted (isolation: none)."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from plugtest import (PARTITA, check, errors, read_wav, run, s16_of_float, test_signal,  # noqa: E402
                      topology, write_float_wav)

FRAMES = 12000

# (uri, channels, {symbol: value}) -- block-size independent plugins:
# lv2apply runs one frame per call, partita one period.
LV2 = [
    ("http://plugin.org.uk/swh-plugins/amp", 1, {"gain": -6}),
    ("http://plugin.org.uk/swh-plugins/flanger", 1, {"feedback": 0.5}),
    ("http://drobilla.net/plugins/mda/Overdrive", 2, {"drive": 0.6, "muffle": 0.2}),
    ("http://drobilla.net/plugins/mda/Limiter", 2, {"thresh": 0.3}),
    ("http://drobilla.net/plugins/fomp/parametric1", 1, {"gain": 1.5}),
    ("http://drobilla.net/plugins/fomp/cs_chorus1", 1, {"delay": 5}),
]

# (library, label, channels, [(symbol, value)] in port order: applyplugin
# takes every input control, positionally)
LADSPA = [
    ("cmt.so", "amp_mono", 1, [("gain", 0.5)]),
    ("cmt.so", "lpf", 1, [("cutoff_frequency_hz", 1000)]),
    ("tap_sigmoid.so", "tap_sigmoid", 1, [("pre_gain_db", 3), ("post_gain_db", -4)]),
    ("tap_tubewarmth.so", "tap_tubewarmth", 1, [("drive", 5), ("tape_tube_blend", 2)]),
    ("filter.so", "hpf", 1, [("cutoff_frequency_hz", 300)]),
]


def params(d):
    return "".join(", %s: %s" % (k, v) for k, v in d)


def partita_both(d, inst, ch, inp):
    """Runs the instance isolated and trusted; returns both outputs."""
    topo = os.path.join(d, "t.yaml")
    topology(topo, "{name: plug, %s}" % inst, ch)
    outs = []
    for iso in ("process", "none"):
        o = os.path.join(d, "o_%s.wav" % iso)
        r = run("run", topo, "-i", inp, "-o", o, "--isolation", iso, "--stats")
        if r.returncode:
            check(False, "partita run (%s) %s: %s" % (iso, inst, r.stderr.strip()[-300:]))
            return None, None
        if iso == "process":
            check(" process " in r.stdout, "%s ran in a domain" % inst)
        outs.append(read_wav(o))
    return outs


with tempfile.TemporaryDirectory() as d:
    ins = {}
    for ch in (1, 2):
        ins[ch] = os.path.join(d, "in%d.wav" % ch)
        write_float_wav(ins[ch], test_signal(FRAMES, ch), ch)

    for uri, ch, ctl in LV2:
        iso, trusted = partita_both(d, "module: lv2, params: {uri: \"%s\"%s}" % (
            uri, params(ctl.items())), ch, ins[ch])
        if iso is None:
            continue
        ref = os.path.join(d, "ref.wav")
        cmd = ["lv2apply", "-i", ins[ch], "-o", ref]
        for k, v in ctl.items():
            cmd += ["-c", k, str(v)]
        r = subprocess.run(cmd + [uri], capture_output=True, text=True)
        check(r.returncode == 0, "lv2apply %s (%s)" % (uri, r.stderr.strip()))
        if r.returncode:
            continue
        rs = read_wav(ref)[3]
        check(iso[3] == trusted[3], "%s: isolated == trusted (%d samples)" % (uri, len(iso[3])))
        check(iso[3] == rs, "%s %s: isolated == lv2apply, bit for bit" % (uri, ctl))

    env = dict(os.environ, LADSPA_PATH="/usr/lib/ladspa")
    for lib, label, ch, ctl in LADSPA:
        iso, trusted = partita_both(d, "module: ladspa, params: {library: %s, label: %s%s}" % (
            lib, label, params(ctl)), ch, ins[ch])
        if iso is None:
            continue
        ref = os.path.join(d, "ref.wav")
        r = subprocess.run(["applyplugin", ins[ch], ref, lib, label] +
                           [str(v) for _, v in ctl], capture_output=True, text=True, env=env)
        check(r.returncode == 0, "applyplugin %s %s (%s)" % (lib, label, r.stderr.strip()))
        if r.returncode:
            continue
        rs = read_wav(ref)
        check(iso[3] == trusted[3], "%s %s: isolated == trusted (%d samples)" % (lib, label, len(iso[3])))
        # applyplugin writes 16-bit PCM from the plugin's float output:
        # the same conversion of ours is compared sample for sample.
        check(rs[2] == 16 and [s16_of_float(v) for v in iso[3]] == rs[3],
              "%s %s %s: isolated == applyplugin, bit for bit (its 16-bit output)" % (lib, label, ctl))

    # A mono plugin on a stereo stream runs once per channel; each channel
    # equals lv2apply on that channel alone.
    iso, trusted = partita_both(d, "module: lv2, params: {uri: \"http://plugin.org.uk/swh-plugins/amp\", gain: 4}",
                                2, ins[2])
    if iso:
        check(iso[3] == trusted[3], "mono plugin on stereo: isolated == trusted")
        stereo = test_signal(FRAMES, 2)
        for c in range(2):
            mono = os.path.join(d, "c%d.wav" % c)
            write_float_wav(mono, [(f[c],) for f in stereo], 1)
            ref = os.path.join(d, "rc%d.wav" % c)
            subprocess.run(["lv2apply", "-i", mono, "-o", ref, "-c", "gain", "4",
                            "http://plugin.org.uk/swh-plugins/amp"], capture_output=True)
            check(iso[3][c::2] == read_wav(ref)[3], "mono plugin on stereo: channel %d == lv2apply" % c)

    # bundle=: only that bundle is read (and granted); the same output.
    iso_b, trusted_b = partita_both(d, "module: lv2, params: {uri: \"http://plugin.org.uk/swh-plugins/amp\", "
                                    "bundle: /usr/lib/lv2/amp-swh.lv2, gain: 4}", 2, ins[2])
    check(iso_b is not None and iso_b[3] == iso[3] and trusted_b[3] == iso[3],
          "bundle=: the plugin found in its bundle alone gives the same output")

    # Discovery: partita plugins reads the plugin data in domains and lists
    # what lv2ls and listplugins list; the same in-process.
    r = run("plugins", "--json")
    check(r.returncode == 0, "partita plugins --json (%s)" % r.stderr.strip()[-200:])
    if r.returncode == 0:
        import json
        listing = json.loads(r.stdout)
        lv2ls = subprocess.run(["lv2ls"], capture_output=True, text=True).stdout.split()
        check(sorted(p["uri"] for p in listing["lv2"]) == sorted(lv2ls),
              "every LV2 plugin lv2ls knows is listed (%d)" % len(lv2ls))
        amp = [p for p in listing["lv2"] if p["uri"] == LV2[0][0]]
        check(amp and [(q["symbol"], q["type"], q["direction"], q.get("min"), q.get("max"))
                       for q in amp[0]["ports"]] ==
              [("gain", "control", "input", -70, 70), ("input", "audio", "input", None, None),
               ("output", "audio", "output", None, None)],
              "swh amp's ports, range included (%s)" % (amp[0]["ports"] if amp else None))
        check(amp and amp[0]["bundle"] == "/usr/lib/lv2/amp-swh.lv2/", "swh amp's bundle folder")
        lp = subprocess.run(["listplugins"], capture_output=True, text=True,
                            env=dict(os.environ, LADSPA_PATH="/usr/lib/ladspa")).stdout
        labels = sorted(l.rsplit("/", 1)[1].rstrip(")") for l in lp.splitlines()
                        if l.startswith("\t") and "/" in l)
        check(sorted(p["label"] for p in listing["ladspa"]) == labels,
              "every LADSPA plugin listplugins knows is listed (%d)" % len(labels))
        trusted = run("plugins", "--json", "--isolation", "none")
        check(trusted.stdout == r.stdout, "the listing read in the host is the same")
        # lilv gives a plugin's required features in its hashes' order,
        # which differs between processes: listed in URI order.
        unsorted = [p["uri"] for p in listing["lv2"]
                    if p["required_features"] != sorted(p["required_features"])]
        check(not unsorted, "required features listed in URI order (%s)" % unsorted[:3])
    # The host reads no plugin: under strace, every open of a TTL file or a
    # plugin library is made by a domain, none by the host's own process.
    def opens(args):
        log = os.path.join(d, "strace.txt")
        subprocess.run(["strace", "-f", "-qq", "-e", "trace=openat,openat2", "-o", log, PARTITA] + args,
                       capture_output=True, timeout=120)
        lines = [l.split(None, 1) for l in open(log) if l.strip()]
        host = lines[0][0]
        plugin = [(pid, call) for pid, call in lines
                  if ".ttl" in call or "/usr/lib/lv2/" in call or "/usr/lib/ladspa/" in call]
        return host, plugin

    host, plugin = opens(["plugins"])
    check(plugin and all(pid != host for pid, _ in plugin) and
          any(".ttl" in c for _, c in plugin) and any("/usr/lib/ladspa/" in c for _, c in plugin),
          "partita plugins: TTL and libraries opened only by domains (%d opens, host %s)"
          % (len(plugin), host))
    topo = os.path.join(d, "t.yaml")
    topology(topo, "{name: plug, module: lv2, params: {uri: \"%s\", gain: 2}}" % LV2[0][0], 1)
    host, plugin = opens(["run", topo, "-i", ins[1], "-o", os.path.join(d, "s.wav"), "--quiet"])
    check(plugin and all(pid != host for pid, _ in plugin),
          "partita run: the plugin's files opened only by its domain (%d opens)" % len(plugin))

    text = run("plugins", "--ladspa")
    check(text.returncode == 0 and "cmt.so amp_mono" in text.stdout and
          "gain" in text.stdout, "partita plugins --ladspa names library, label and ports")

print("%d failures" % len(errors))
sys.exit(1 if errors else 0)
