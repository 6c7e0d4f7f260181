#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The firmware's own unit-test reference vectors, reproduced through
Partita: the input, configuration and expected output of the firmware's
cmocka tests (test/cmocka/src/audio/* of the firmware tree) through the
firmware module built with partita-sof-build, run by the real partita
binary from a topology on files, trusted and in a domain, with the
tolerance each firmware test uses. Prints one line per module, format and
isolation with the worst difference found."""
import math
import os
import re
import struct
import subprocess
import sys
import tempfile
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, PARTITA, check, errors  # noqa: E402

SOF = os.environ.get("PARTITA_SOF_DIR", "")
LIBS = os.path.join(BUILD, "tests", "sof")
CM = os.path.join(SOF, "test", "cmocka")


def c_array(path, name):
    """The numbers of the C array @name in the firmware test header."""
    text = open(path).read()
    m = re.search(r"\b%s\s*\[[^\]]*\]\s*=\s*\{(.*?)\};" % re.escape(name), text, re.S)
    if not m:
        raise SystemExit("%s: no array %s" % (path, name))
    return [int(v, 0) for v in re.findall(r"-?0x[0-9a-fA-F]+|-?\d+", re.sub(r"LL\b", "", m.group(1)))]


def words_le(words):
    return b"".join(struct.pack("<I", w & 0xffffffff) for w in words)


def ipc4_blob(words):
    """The blob a firmware test sends, as IPC4 carries it: without its
    32-byte ABI header (struct sof_abi_hdr), whose size field says how many
    bytes follow."""
    raw = words_le(words)
    size = struct.unpack_from("<I", raw, 8)[0]
    return raw[32:32 + size]


def q_shift_rnd(x, src_q, dst_q):
    return ((x >> (src_q - dst_q - 1)) + 1) >> 1


def sat(x, bits):
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return max(lo, min(hi, x))


# format: (topology name, wav sample width, to the format from Q1.31, tolerance key)
FORMATS = {
    "S16_LE": (2, lambda v: sat(q_shift_rnd(v, 31, 15), 16), 16),
    "S24_4LE": (4, lambda v: sat(q_shift_rnd(v, 31, 23), 24), 24),
    "S32_LE": (4, lambda v: v, 32),
}


def write_wav(path, fmt, samples):
    width = FORMATS[fmt][0]
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(width)
        w.setframerate(48000)
        if fmt == "S24_4LE":  # a 24-bit value in a 32-bit file, MSB aligned
            samples = [s << 8 for s in samples]
        w.writeframes(struct.pack("<%d%s" % (len(samples), "h" if width == 2 else "i"), *samples))


def read_wav(path, fmt):
    with wave.open(path, "rb") as w:
        width = w.getsampwidth()
        d = w.readframes(w.getnframes())
    if width == 3:  # 24-bit PCM
        return [int.from_bytes(d[i:i + 3], "little", signed=True) for i in range(0, len(d), 3)]
    v = list(struct.unpack("<%d%s" % (len(d) // width, "h" if width == 2 else "i"), d))
    if fmt == "S24_4LE":
        v = [s >> 8 for s in v]
    return v


def run(d, lib, iso, fmt, blob, field="config_blob"):
    """Runs in.wav through @lib into out.wav, @blob as its @field."""
    body = """pipelines:
  - name: main
    instances:
      - {name: in, module: input, params: {file: "%(d)s/in.wav"}}
      - {name: m, library: "%(lib)s", isolation: %(iso)s, max_misses: 1000, %(field)s: blob.bin}
      - {name: out, module: output, params: {file: "%(d)s/out.wav"}}
    bindings:
      - {from: in.0, to: m.0, format: {rate: 48000, channels: 2, sample: %(fmt)s}}
      - {from: m.0, to: out.0, format: {rate: 48000, channels: 2, sample: %(fmt)s}}
""" % {"d": d, "lib": lib, "iso": iso, "fmt": fmt, "field": field}
    with open(os.path.join(d, "blob.bin"), "wb") as f:
        f.write(blob)
    topo = os.path.join(d, "t.yaml")
    with open(topo, "w") as f:
        f.write(body)
    return subprocess.run([PARTITA, "run", topo, "--quiet"], capture_output=True, text=True,
                          timeout=120)


def dcblock_reference(x, scale):
    """The firmware test's floating-point DC blocker (R = 1052266987 in Q2.30),
    saturating its state as the fixed-point filter does."""
    r = 1052266987 / float(1 << 30)
    out, state = [], [[0.0, 0.0], [0.0, 0.0]]
    for i, v in enumerate(x):
        s = state[i % 2]
        xin = v / scale
        y = xin - s[0] + r * s[1]
        y = min(y, 2147483647.0 / 2147483648.0) if y > 0 else max(y, -1.0)
        s[0], s[1] = xin, y
        out.append(int(math.floor(y * scale + 0.5)) if y * scale >= 0 else -int(math.floor(-y * scale + 0.5)))
    return out


def volume(lib):
    """volume_process.c: an alternating ramp from the format's minimum,
    scaled by the channel volume (Q8.16: out = in * vol / 2^16 + 0.5,
    saturated, truncated), within 1. The volume comes from the IPC4 init
    payload (one ipc4_peak_volume_config for all channels, no curve), so the
    test's 0 dB and -80 dB levels are reproduced; its +42 dB (VOL_MAX) is
    above what an IPC4 volume (Q1.31, at most 1.0) can say."""
    levels = {"0 dB": 1 << 16, "-80 dB": (1 << 16) // 10000}
    with tempfile.TemporaryDirectory() as d:
        for fmt, bits in (("S16_LE", 16), ("S32_LE", 32)):
            lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
            x = []
            sign = 1
            for i in range(4800 * 2):
                v = (lo + (i >> 1)) * sign
                x.append(min(v, hi))
                sign = -sign
            write_wav(os.path.join(d, "in.wav"), fmt, x)
            for name, vol in levels.items():
                # IPC4 target volume in Q1.31 that the module turns into vol
                target = min(vol << 15, 0x7FFFFFFF)
                init = struct.pack("<IIIIQ", 0xFFFFFFFF, target, 0, 0, 0)
                ref = []
                for v in x:
                    p = v * vol / float(1 << 16) + 0.5
                    p = max(lo, min(hi, p))
                    ref.append(int(p))
                for iso in ("none", "process"):
                    p = run(d, lib, iso, fmt, init, "init_blob")
                    if p.returncode:
                        check(False, "volume %s %s %s: %s" % (fmt, name, iso, p.stderr.strip()[-300:]))
                        continue
                    y = read_wav(os.path.join(d, "out.wav"), fmt)
                    n = min(len(y), len(ref))
                    worst = max(abs(y[i] - ref[i]) for i in range(n))
                    check(n == len(ref) and worst <= 1,
                          "volume %s %s %s: %d samples, worst |out - ref| %d (tolerance 1)%s" %
                          (fmt, name, "isolated" if iso == "process" else "trusted", n, worst,
                           ", bit-exact" if worst == 0 else ""))


def mux(lib):
    """mux_copy.c: every output channel is the input channel its stream's
    mask routes there, bit for bit. IPC4 gives the masks from the formats:
    the first input's channels, then the reference input's, side by side
    (mux_ipc4.c build_config); two stereo inputs make four channels."""
    with tempfile.TemporaryDirectory() as d:
        for fmt, bits in (("S16_LE", 16), ("S32_LE", 32)):
            depth = 16 if bits == 16 else 32
            ref = struct.pack("<IIIIII", 48000, depth, 0xFFFF3210, 1, 0, 2 | (depth << 8) | (2 << 16))
            out = struct.pack("<IIIIII", 48000, depth, 0xFFFF3210, 0, 0, 4 | (depth << 8) | (2 << 16))
            a = [((i * 7919 + 13) % (1 << bits)) - (1 << (bits - 1)) for i in range(4800 * 2)]
            b = [((i * 104729 + 7) % (1 << bits)) - (1 << (bits - 1)) for i in range(4800 * 2)]
            write_wav(os.path.join(d, "a.wav"), fmt, a)
            write_wav(os.path.join(d, "b.wav"), fmt, b)
            want = []
            for f in range(4800):
                want += [a[2 * f], a[2 * f + 1], b[2 * f], b[2 * f + 1]]
            with open(os.path.join(d, "mux.bin"), "wb") as f:
                f.write(ref + out)
            for iso in ("none", "process"):
                body = """pipelines:
  - name: main
    instances:
      - {name: a, module: input, params: {file: "%(d)s/a.wav"}}
      - {name: b, module: input, params: {file: "%(d)s/b.wav"}}
      - {name: m, library: "%(lib)s", isolation: %(iso)s, max_misses: 1000, init_blob: mux.bin}
      - {name: out, module: output, params: {file: "%(d)s/out.wav"}}
    bindings:
      - {from: a.0, to: m.0, format: {rate: 48000, channels: 2, sample: %(fmt)s}}
      - {from: b.0, to: m.1, format: {rate: 48000, channels: 2, sample: %(fmt)s}}
      - {from: m.0, to: out.0, format: {rate: 48000, channels: 4, sample: %(fmt)s}}
""" % {"d": d, "lib": lib, "iso": iso, "fmt": fmt}
                with open(os.path.join(d, "t.yaml"), "w") as f:
                    f.write(body)
                p = subprocess.run([PARTITA, "run", os.path.join(d, "t.yaml"), "--quiet"],
                                   capture_output=True, text=True, timeout=120)
                if p.returncode:
                    check(False, "mux %s %s: %s" % (fmt, iso, p.stderr.strip()[-300:]))
                    continue
                y = read_wav(os.path.join(d, "out.wav"), fmt)
                check(y == want, "mux %s %s: %d samples, %s" %
                      (fmt, "isolated" if iso == "process" else "trusted", len(y),
                       "bit-exact" if y == want else "differs"))


def main():
    if not os.path.isdir(CM):
        print("skipped: no firmware tests at PARTITA_SOF_DIR (%s)" % SOF)
        return 77
    chirp = c_array(os.path.join(CM, "include", "cmocka_chirp_2ch.h"), "chirp_2ch")
    a = os.path.join(CM, "src", "audio")
    cases = {
        # module: (blob, reference in Q1.31 or None, tolerances by bits, formats)
        "dcblock": (struct.pack("<8i", *([1052266987] * 8)), None, {16: 2, 24: 4, 32: 2048}),
        "eq_iir": (ipc4_blob(c_array(os.path.join(a, "eq_iir", "cmocka_iir_coef_2ch.h"), "iir_coef_2ch")),
                   c_array(os.path.join(a, "eq_iir", "cmocka_chirp_iir_ref_2ch.h"), "chirp_iir_ref_2ch"),
                   {16: 2, 24: 128, 32: 32768}),
        "eq_fir": (ipc4_blob(c_array(os.path.join(a, "eq_fir", "cmocka_fir_coef_2ch.h"), "fir_coef_2ch")),
                   c_array(os.path.join(a, "eq_fir", "cmocka_fir_ref.h"), "fir_ref_2ch"),
                   {16: 1, 24: 2, 32: 4}),
    }
    only = sys.argv[1:]
    if not only or "volume" in only:
        volume(os.path.join(LIBS, "pt_sof_volume.so"))
    if not only or "mux" in only:
        mux(os.path.join(LIBS, "pt_sof_mux.so"))
    with tempfile.TemporaryDirectory() as d:
        for mod, (blob, ref31, tol) in cases.items():
            if only and mod not in only:
                continue
            lib = os.path.join(LIBS, "pt_sof_%s.so" % mod)
            for fmt, (width, conv, bits) in FORMATS.items():
                x = [conv(v) for v in chirp]
                write_wav(os.path.join(d, "in.wav"), fmt, x)
                if ref31 is None:
                    ref = dcblock_reference(x, float(1 << (bits - 1)))
                    ref = [sat(v, bits) for v in ref]
                else:
                    ref = [conv(v) for v in ref31]
                for iso in ("none", "process"):
                    p = run(d, lib, iso, fmt, blob)
                    if p.returncode:
                        check(False, "%s %s %s: run failed: %s" % (mod, fmt, iso, p.stderr.strip()[-300:]))
                        continue
                    y = read_wav(os.path.join(d, "out.wav"), fmt)
                    n = min(len(y), len(ref))
                    worst = max(abs(y[i] - ref[i]) for i in range(n)) if n else None
                    check(n == len(ref) and worst is not None and worst <= tol[bits],
                          "%s %s %s: %d samples, worst |out - ref| %s (tolerance %d)%s" %
                          (mod, fmt, "isolated" if iso == "process" else "trusted", n,
                           worst, tol[bits], ", bit-exact" if worst == 0 else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
