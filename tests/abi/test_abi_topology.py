#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Module ABI version 2 from topologies and partita ctl, through the real
partita binary, trusted and isolated: init_blob (binary init payload),
mode: bypass (the host's bypass for a module without a mode of its own),
format: auto (the module sets its sink's channels at prepare), config_blob
set before the pipeline runs, ctl mode and ctl set-config --blob in
fragments; and the errors a bad topology gets."""
import os
import struct
import subprocess
import sys
import tempfile
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import partita_cli  # noqa: E402
from partita_cli import BUILD, PARTITA, S32_STEREO, check, ctl, errors, serve  # noqa: E402
PROBE = os.path.join(BUILD, "tests", "abi", "pt_v2probe.so")
GAIN = os.path.join(BUILD, "modules", "pt_gain.so")
FRAMES = 4800


def write_wav(path, channels, samples):
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(4)
        w.setframerate(48000)
        w.writeframes(struct.pack("<%di" % len(samples), *samples))


def read_wav(path):
    with wave.open(path, "rb") as w:
        n = w.getnframes() * w.getnchannels()
        return w.getnchannels(), list(struct.unpack("<%di" % n, w.readframes(w.getnframes())))


def run(d, body):
    topo = os.path.join(d, "t.yaml")
    with open(topo, "w") as f:
        f.write(body)
    return subprocess.run([PARTITA, "run", topo], capture_output=True, text=True,
                          timeout=120)


def chain(d, inst, out_format=S32_STEREO):
    return partita_cli.chain(d, inst, "p1", out_format=out_format)


with tempfile.TemporaryDirectory() as d:
    x = [((i * 2654435761) & 0xffffff00) // 4 - (1 << 29) for i in range(FRAMES * 2)]
    write_wav(os.path.join(d, "in.wav"), 2, x)
    with open(os.path.join(d, "payload.bin"), "wb") as f:
        f.write(bytes(range(40)))
    for iso in ("none", "process"):
        common = "library: %s, isolation: %s, max_misses: 1000" % (PROBE, iso)
        r = run(d, chain(d, "{name: p1, %s, init_blob: payload.bin}" % common))
        ch, y = read_wav(os.path.join(d, "out.wav"))
        check(r.returncode == 0 and y == [-v for v in x],
              "%s: normal mode negates (%s)" % (iso, r.stderr.strip()[-200:]))
        r = run(d, chain(d, "{name: p1, %s, mode: bypass}" % common))
        ch, y = read_wav(os.path.join(d, "out.wav"))
        check(r.returncode == 0 and y == x, "%s: mode: bypass, the host copies" % iso)
        r = run(d, chain(d, "{name: p1, %s, mode: bypass, params: {own_mode: 1}}" % common))
        ch, y = read_wav(os.path.join(d, "out.wav"))
        check(r.returncode == 0 and y == [int(v / 2) for v in x],
              "%s: mode: bypass, the module's own" % iso)
        r = run(d, chain(d, "{name: p1, %s, params: {out_channels: 1}}" % common,
                         "{rate: 48000, channels: auto, sample: S32_LE}"))
        ch, y = read_wav(os.path.join(d, "out.wav"))
        check(r.returncode == 0 and ch == 1 and y == [-v for v in x[0::2]],
              "%s: format: auto, the module chose 1 channel (%s)" % (iso, r.stderr.strip()[-200:]))
        r = run(d, chain(d, "{name: p1, %s}" % common,
                         "{rate: 48000, channels: auto, sample: S32_LE}"))
        check(r.returncode != 0 and "leaves the channels open (format: auto)" in r.stderr,
              "%s: an auto field the module does not set is refused" % iso)
        # config_blob: a text blob set before the run, as params would be
        with open(os.path.join(d, "gain.txt"), "w") as f:
            f.write("gain_db=-6" + " " * 40000)
        r = run(d, chain(d, "{name: p1, library: %s, isolation: %s, config_blob: gain.txt, config_param: 0}" % (GAIN, iso)))
        ch, y1 = read_wav(os.path.join(d, "out.wav"))
        r2 = run(d, chain(d, "{name: p1, library: %s, isolation: %s, params: {gain_db: -6}}" % (GAIN, iso)))
        ch, y2 = read_wav(os.path.join(d, "out.wav"))
        check(r.returncode == 0 and r2.returncode == 0 and y1 == y2 and y1 != x,
              "%s: config_blob of 40 KiB (fragments) set before the run (%s)" % (iso, r.stderr.strip()[-200:]))

    r = run(d, chain(d, "{name: p1, library: %s, init_blob: missing.bin}" % PROBE))
    check(r.returncode != 0 and "init_blob" in r.stderr and "missing.bin" in r.stderr,
          "a missing init_blob is named (%s)" % r.stderr.strip())
    r = run(d, chain(d, "{name: p1, library: %s, mode: sideways}" % PROBE))
    check(r.returncode != 0 and "mode" in r.stderr, "a bad mode is named")

    # serve + ctl: mode and set-config --blob in fragments
    topo = os.path.join(d, "s.yaml")
    with open(topo, "w") as f:
        f.write("""pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone}
      - {name: g1, library: %s, isolation: process, max_misses: 1000}
      - {name: out, module: output, params: {file: "%s/o.wav"}}
    bindings:
      - {from: tone1.0, to: g1.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
      - {from: g1.0, to: out.0, format: {rate: 48000, channels: 2, sample: FLOAT_LE}}
""" % (GAIN, d))
    sock = os.path.join(d, "s.sock")
    host = serve(sock, topo, stderr=subprocess.PIPE, text=True)
    r = ctl(sock, "mode", "g1", "bypass")
    check(r.returncode == 0 and "mode bypass" in r.stdout, "ctl mode g1 bypass (%s)" % r.stderr.strip())
    r = ctl(sock, "mode", "g1", "sideways")
    check(r.returncode != 0, "ctl mode with a bad mode is refused")
    r = ctl(sock, "set-config", "g1", "--blob", os.path.join(d, "gain.txt"))
    check(r.returncode == 0 and "40010 bytes" in r.stdout,
          "ctl set-config --blob of 40 KiB (%s%s)" % (r.stdout.strip(), r.stderr.strip()))
    host.terminate()
    host.wait(timeout=30)

sys.exit(1 if errors else 0)
