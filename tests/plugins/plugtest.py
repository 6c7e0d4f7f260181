# SPDX-License-Identifier: MIT
"""What the plugin tests share: WAV files without numpy, topologies, and
running build/partita."""
import math
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, PARTITA, check, ctl, errors, serve  # noqa: E402,F401


def write_float_wav(path, frames, channels, rate=48000):
    """frames: list of tuples (one value per channel)."""
    data = b"".join(struct.pack("<%df" % channels, *f) for f in frames)
    fmt = struct.pack("<HHIIHHH", 3, channels, rate, rate * 4 * channels, 4 * channels, 32, 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + \
        b"data" + struct.pack("<I", len(data)) + data
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", len(body)) + body)


def read_wav(path):
    """Returns (format tag, channels, bits, samples interleaved)."""
    b = open(path, "rb").read()
    i, fmt, data = 12, None, None
    while i + 8 <= len(b):
        cid = b[i:i + 4]
        n = struct.unpack("<I", b[i + 4:i + 8])[0]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", b[i + 8:i + 24])
        elif cid == b"data":
            data = b[i + 8:i + 8 + n]
        i += 8 + n + (n & 1)
    tag, ch, bits = fmt[0], fmt[1], fmt[5]
    if bits == 32:
        return tag, ch, bits, list(struct.unpack("<%df" % (len(data) // 4), data))
    return tag, ch, bits, list(struct.unpack("<%dh" % (len(data) // 2), data))


def test_signal(frames, channels, rate=48000):
    """A deterministic sweep and tone mix below full scale."""
    out = []
    for n in range(frames):
        t = n / rate
        f = 200 + 3000 * t
        v = 0.45 * math.sin(2 * math.pi * f * t) + 0.1 * math.sin(2 * math.pi * 1234 * t)
        out.append(tuple(v * (1 - 0.3 * c) for c in range(channels)))
    return out


def s16_of_float(v):
    """What applyplugin writes: (int)(v * 2^31) (x86 gives INT_MIN when out of
    range), then libsndfile keeps the top 16 bits."""
    x = v * 2147483648.0
    i = -2147483648 if not (-2147483648.0 <= x < 2147483648.0) else int(x)
    return i >> 16


def topology(path, inst, channels, out_channels=None, period_us=1000):
    out_channels = out_channels or channels
    with open(path, "w") as f:
        f.write("""period_us: %d
rate: 48000
pipelines:
  - name: p
    instances:
      - {name: in, module: input, params: {file: in.wav}}
      - %s
      - {name: out, module: output, params: {file: out.wav}}
    bindings:
      - {from: in.0, to: plug.0, format: {rate: 48000, channels: %d, sample: FLOAT_LE}}
      - {from: plug.0, to: out.0, format: {rate: 48000, channels: %d, sample: FLOAT_LE}}
""" % (period_us, inst, channels, out_channels))


def run(*args, env=None):
    return subprocess.run([PARTITA] + list(args), capture_output=True, text=True,
                          env=env, timeout=120)
