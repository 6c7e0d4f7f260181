#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`partita run` never loses a file and never hides a failure (issue 12):
the real binary on real files, FIFOs, pipes and signals.

Each check says what it expects; the WAV files are read with the small
parser below (no audio library needed), so a file that a player could not
open fails here too."""
import json
import os
import pty
import re
import select
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import (BUILD, PARTITA, check, errors, make_wav, serve, temp_files,  # noqa: E402
                         write_text)


def run(*args, stdin=None, timeout=60, cwd=None):
    """Runs partita; returns (status, stdout bytes, stderr text). A hang is
    a failure with status None."""
    try:
        p = subprocess.run([PARTITA] + list(args), input=stdin, capture_output=True,
                           timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        return None, b"", "TIMEOUT: " + (e.stderr or b"").decode(errors="replace")
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def wav_info(data):
    """Parses a RIFF/WAVE file: (format tag, channels, rate, bits, frames,
    samples as bytes). Raises ValueError when a player could not read it: a
    header that disagrees with the data, a missing chunk."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("not a RIFF/WAVE file")
    riff = struct.unpack("<I", data[4:8])[0]
    if riff + 8 != len(data):
        raise ValueError("RIFF size %d, file %d bytes" % (riff + 8, len(data)))
    pos, fmt, samples = 12, None, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        body = data[pos + 8:pos + 8 + size]
        if len(body) != size:
            raise ValueError("chunk %r claims %d bytes, %d present" % (cid, size, len(body)))
        if cid == b"fmt ":
            tag, ch, rate, _, align, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, ch, rate, bits, align)
        elif cid == b"data":
            samples = body
        pos += 8 + size + (size & 1)
    if not fmt or samples is None:
        raise ValueError("no fmt or data chunk")
    tag, ch, rate, bits, align = fmt
    if len(samples) % align:
        raise ValueError("data is not whole frames")
    return tag, ch, rate, bits, len(samples) // align, samples


def wav_file(path):
    with open(path, "rb") as f:
        return wav_info(f.read())


with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "in.wav")
    make_wav(src, 24000)
    with open(src, "rb") as f:
        original = f.read()

    # ---- -o naming the input, three ways, and the copy topology ----
    os.symlink("in.wav", os.path.join(d, "link.wav"))
    os.link(src, os.path.join(d, "hard.wav"))
    for what, args in (("same path", ["-i", src, "-o", src]),
                       ("copy topology", ["copy", "-i", src, "-o", src]),
                       ("a symbolic link", ["-i", src, "-o", os.path.join(d, "link.wav")]),
                       ("a hard link", ["copy", "-i", src, "-o", os.path.join(d, "hard.wav")]),
                       ("another spelling", ["-i", src, "-o", d + "/./in.wav"])):
        rc, out, err = run("run", *args)
        with open(src, "rb") as f:
            kept = f.read() == original
        check(rc == 2 and kept and "in.wav" in err and args[-1] in err and "same file" in err,
              "-o naming the input (%s): exit 2, input kept, both named (%s, %s)"
              % (what, rc, err.strip()))

    # ---- a failed run leaves the old output as it was, and no temporary ----
    old = os.path.join(d, "old.wav")
    with open(old, "wb") as f:
        f.write(b"precious")
    topo = os.path.join(d, "fails.yaml")
    write_text(topo, """pipelines:
  - name: main
    instances:
      - {name: i, module: input, params: {file: in.wav}}
      - {name: o, module: output, params: {file: old.wav}}
    bindings:
      - {from: i.0, to: o.0, format: {rate: 44100}}
""")
    rc, out, err = run("run", topo)
    with open(old, "rb") as f:
        check(rc == 1 and f.read() == b"precious" and not temp_files(d),
              "a run that fails leaves the old output and no temporary (%s)" % err.strip())
    # The format mismatch names the binding's FILE:LINE.
    check("fails.yaml:7:" in err and "44100" in err,
          "a format refused at start names the binding's line (%s)" % err.strip())

    # ---- SIGINT and SIGTERM mid-run: a valid file of the frames produced ----
    for sig, code, name in ((signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")):
        out = os.path.join(d, "sig-%s.wav" % name)
        p = subprocess.Popen([PARTITA, "run", "--seconds", "60", "--realtime", "--isolation",
                              "none", "--quiet", "-o", out], stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        p.send_signal(sig)
        _, err = p.communicate(timeout=30)
        m = re.search(r"stopped by %s after (\d+\.\d{3}) s; (\S+) holds (\d+) frames" % name, err)
        try:
            tag, ch, rate, bits, frames, _ = wav_file(out)
            valid = True
        except (ValueError, OSError) as e:
            valid, frames = False, -1
            err += " [%s]" % e
        check(p.returncode == code, "%s: exit %d (%s)" % (name, code, p.returncode))
        check(valid and m and int(m.group(3)) == frames and frames > 0 and
              abs(float(m.group(1)) - frames / 48000.0) < 0.001 and m.group(2) == out,
              "%s: a valid WAV holding exactly the frames said (%s)" % (name, err.strip()))
    check(not temp_files(d), "no temporary left after the signals")

    # ---- a capture stopped by Ctrl-C (to the whole process group) ----
    cap = os.path.join(d, "cap.wav")
    p = subprocess.Popen([PARTITA, "run", "--capture", "null", "--realtime", "--seconds", "60",
                          "--isolation", "none", "--quiet", "-o", cap],
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    time.sleep(1.0)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=30)
    try:
        tag, ch, rate, bits, frames, _ = wav_file(cap)
        ok = ch == 2 and rate == 48000 and frames > 0 and ("holds %d frames" % frames) in err
    except (ValueError, OSError) as e:
        ok, err = False, err + str(e)
    check(p.returncode == 130 and ok, "a capture stopped by Ctrl-C is a playable file (%s, %s)"
          % (p.returncode, err.strip()))

    # ---- damaged inputs: warned, once, naming the file and the frame ----
    cut = os.path.join(d, "cut.wav")
    with open(cut, "wb") as f:
        f.write(original[:44 + 4 * 10000 + 2])
    rc, out, err = run("run", "copy", "-i", cut, "-o", os.path.join(d, "cut-out.wav"), "--quiet")
    check(rc == 0 and err.count("warning") == 1 and "cut.wav" in err and "frame 10000 of 24000" in err,
          "a WAV cut short: warned once with the frame (%s)" % err.strip())
    rc, out, err = run("run", "copy", "-i", cut, "-o", os.path.join(d, "cut-strict.wav"),
                       "--quiet", "--strict")
    check(rc == 1 and "cut.wav" in err and not os.path.exists(os.path.join(d, "cut-strict.wav")),
          "a WAV cut short with --strict: an error, no output (%s)" % err.strip())
    # A WAV streamed through a pipe (arecord, sox) holds a placeholder
    # length in its header: no damage.
    streamed = bytearray(original)
    streamed[4:8] = struct.pack("<I", 0xFFFFFFFF)
    streamed[40:44] = struct.pack("<I", 0x7FFFFFFF)
    rc, out, err = run("run", "copy", "-i", "-", "-o", os.path.join(d, "streamed.wav"),
                       "--quiet", "--strict", stdin=bytes(streamed))
    check(rc == 0 and "damaged" not in err and
          wav_file(os.path.join(d, "streamed.wav"))[4] == 24000,
          "a streamed WAV (placeholder length) is not damaged (%s)" % err.strip())
    flac = os.path.join(d, "in.flac")
    rc, _, err = run("run", "copy", "-i", src, "-o", flac, "--quiet")
    check(rc == 0, "FLAC written from a WAV (%s)" % err.strip())
    with open(flac, "rb") as f:
        whole = f.read()
    with open(os.path.join(d, "cut.flac"), "wb") as f:
        f.write(whole[:len(whole) // 2])
    rc, out, err = run("run", "copy", "-i", os.path.join(d, "cut.flac"), "-o",
                       os.path.join(d, "cutf.wav"), "--quiet")
    check(rc == 0 and "cut.flac" in err and re.search(r"stops at frame \d+ of 24000", err),
          "a FLAC cut short: warned with the frame (%s)" % err.strip())
    rc, out, err = run("run", "copy", "-i", os.path.join(d, "cut.flac"), "-o",
                       os.path.join(d, "cutf2.wav"), "--quiet", "--strict")
    check(rc == 1 and "cut.flac" in err, "a FLAC cut short with --strict: an error (%s)" % err.strip())
    bad = bytearray(whole)
    for i in range(len(bad) // 2, len(bad) // 2 + 64):
        bad[i] ^= 0x5A
    with open(os.path.join(d, "bad.flac"), "wb") as f:
        f.write(bad)
    rc, out, err = run("run", "copy", "-i", os.path.join(d, "bad.flac"), "-o",
                       os.path.join(d, "badf.wav"), "--quiet", "--strict")
    check(rc == 1 and "bad.flac" in err and "frame" in err,
          "corrupt FLAC frames with --strict: an error (%s)" % err.strip())

    # ---- FIFOs: refused by name, never waited on ----
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)
    rc, out, err = run("run", "-i", fifo, "-o", os.path.join(d, "f.wav"), timeout=20)
    check(rc == 1 and "FIFO" in err, "a FIFO as input: refused (%s, %s)" % (rc, err.strip()))
    pipe_wav = os.path.join(d, "pipe.wav")
    os.mkfifo(pipe_wav)
    rc, out, err = run("run", "copy", "-i", src, "-o", pipe_wav, timeout=20)
    check(rc == 1 and "FIFO" in err and stat.S_ISFIFO(os.stat(pipe_wav).st_mode),
          "a FIFO as output: refused, left as it is (%s, %s)" % (rc, err.strip()))
    os.mkfifo(os.path.join(d, "t.yaml"))
    rc, out, err = run("run", os.path.join(d, "t.yaml"), timeout=20)
    check(rc == 1 and "FIFO" in err, "a FIFO as topology: refused (%s, %s)" % (rc, err.strip()))
    os.mkfifo(os.path.join(d, "pt_fifo.so"))
    write_text(os.path.join(d, "lib.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - {name: m, library: pt_fifo.so}
      - {name: o, module: output, params: {file: lib.wav}}
    bindings:
      - {from: t.0, to: m.0}
      - {from: m.0, to: o.0}
""")
    rc, out, err = run("run", os.path.join(d, "lib.yaml"), timeout=20)
    check(rc == 1 and "FIFO" in err, "a FIFO as library: refused (%s, %s)" % (rc, err.strip()))
    shutil.copy(os.path.join(BUILD, "modules", "pt_gain.so"), os.path.join(d, "pt_g.so"))
    os.mkfifo(os.path.join(d, "pt_g.so.sig"))
    rc, out, err = run("inspect", os.path.join(d, "pt_g.so"), timeout=20)
    check(rc == 1 and "FIFO" in err, "a FIFO as .sig: refused (%s, %s)" % (rc, err.strip()))
    rc, out, err = run("run", "--trust", fifo, timeout=20)
    check(rc == 2 and "FIFO" in err, "a FIFO as trusted key file: refused (%s, %s)" % (rc, err.strip()))

    # ---- standard input and output ----
    rc, out, err = run("run", "copy", "-i", "-", "-o", "-", "-t", "wav", "--quiet", stdin=original)
    try:
        same = wav_info(out)[5] == wav_info(original)[5]
    except ValueError as e:
        same, err = False, err + str(e)
    check(rc == 0 and same, "-i - / -o - -t wav: the samples round-trip (%s)" % err.strip())
    rc, out, err = run("run", "-i", "-", "-o", "-", "-t", "flac", "--quiet", stdin=original)
    check(rc == 0 and out[:4] == b"fLaC", "-o - -t flac: FLAC on standard output (%s)" % err.strip())
    # Ctrl-C while waiting for standard input ends the wait.
    p = subprocess.Popen([PARTITA, "run", "copy", "-i", "-", "-o", os.path.join(d, "wait.wav")],
                         stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    p.stdin.close()
    check(p.returncode == 130 and not os.path.exists(os.path.join(d, "wait.wav")),
          "SIGINT while reading standard input: exit 130 (%s, %s)" % (p.returncode, err.strip()))
    rc, out, err = run("run", "copy", "-i", src, "-o", "-")
    check(rc == 2 and "-t" in err, "-o - without -t: a usage error (%s)" % err.strip())

    # ---- exit status 3 after an instance crashed ----
    write_text(os.path.join(d, "crash.yaml"), """pipelines:
  - name: main
    instances:
      - {name: i, module: input, params: {file: in.wav}}
      - {name: B, library: "%s/tests/faults/pt_fault.so", params: {fault: segv, at: 5}}
      - {name: o, module: output, params: {file: crash.wav}}
    bindings:
      - {from: i.0, to: B.0, format: {sample: FLOAT_LE}}
      - {from: B.0, to: o.0, format: {sample: FLOAT_LE}}
""" % BUILD)
    rc, out, err = run("run", os.path.join(d, "crash.yaml"), "--quiet")
    frames = wav_file(os.path.join(d, "crash.wav"))[4] if rc is not None else -1
    check(rc == 3 and frames == 24000 and "failed" in err,
          "a crashed instance: exit 3, the output complete (%s, %d, %s)" % (rc, frames, err.strip()))

    # ---- an isolated module's own message ----
    write_text(os.path.join(d, "param.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - {name: g, module: gain, isolation: process, params: {gain_dbb: 3}}
      - {name: o, module: output, params: {file: p.wav}}
    bindings:
      - {from: t.0, to: g.0}
      - {from: g.0, to: o.0}
""")
    rc, out, err = run("run", os.path.join(d, "param.yaml"), "--seconds", "0.1")
    check(rc == 1 and "unknown parameter 'gain_dbb'" in err and "Invalid argument" not in err
          and err.count("gain_dbb") == 1,
          "an isolated init failure says the module's own line, once (%s)" % err.strip())
    write_text(os.path.join(d, "prep.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - {name: s, module: src, isolation: process}
      - {name: o, module: output, params: {file: p.wav}}
    bindings:
      - {from: t.0, to: s.0, format: {channels: 2, sample: FLOAT_LE}}
      - {from: s.0, to: o.0, format: {channels: 1, sample: FLOAT_LE}}
""")
    rc, out, err = run("run", os.path.join(d, "prep.yaml"), "--seconds", "0.1")
    check(rc == 1 and "input has 2 channels, output 1" in err and "Invalid argument" not in err,
          "an isolated prepare failure says the module's own line (%s)" % err.strip())

    # ---- signatures enforced on run ----
    write_text(os.path.join(d, "unsigned.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - {name: g, library: "%s/modules/pt_gain.so"}
      - {name: o, module: output, params: {file: u.wav}}
    bindings:
      - {from: t.0, to: g.0}
      - {from: g.0, to: o.0}
""" % BUILD)
    rc, out, err = run("run", os.path.join(d, "unsigned.yaml"), "--seconds", "0.1",
                       "--require-signed")
    check(rc == 1 and "unsigned" in err and not os.path.exists(os.path.join(d, "u.wav")),
          "run --require-signed refuses an unsigned library (%s)" % err.strip())

    # ---- sample formats: follow the input, -b, -e, -r, FLAC ----
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "chain16.wav"), "--quiet")
    info = wav_file(os.path.join(d, "chain16.wav"))
    check(rc == 0 and info[0] == 1 and info[3] == 16 and info[4] == 24000,
          "16-bit in, 16-bit out through the float chain (%s)" % (info[:5],))
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "chain.flac"), "--quiet")
    with open(os.path.join(d, "chain.flac"), "rb") as f:
        check(rc == 0 and f.read(4) == b"fLaC", "FLAC out of the default chain (%s)" % err.strip())
    rc, out, err = run("run", "copy", "-i", os.path.join(d, "chain.flac"), "-o",
                       os.path.join(d, "back.wav"), "--quiet")
    check(rc == 0 and wav_file(os.path.join(d, "back.wav"))[4] == 24000,
          "the FLAC reads back whole (%s)" % err.strip())
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "b24.wav"), "-b", "24", "--quiet")
    info = wav_file(os.path.join(d, "b24.wav"))
    check(rc == 0 and info[3] == 24 and info[0] == 1, "-b 24: 24-bit PCM (%s)" % (info[:5],))
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "b8.wav"), "-b", "8", "--quiet")
    info = wav_file(os.path.join(d, "b8.wav"))
    check(rc == 0 and info[3] == 8, "-b 8: 8-bit PCM, unsigned as WAV holds it (%s)" % (info[:5],))
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "ef.wav"), "-e", "float", "--quiet")
    info = wav_file(os.path.join(d, "ef.wav"))
    check(rc == 0 and info[0] == 3 and info[3] == 32, "-e float: 32-bit float (%s)" % (info[:5],))
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "r44.wav"), "-r", "44100", "--quiet")
    info = wav_file(os.path.join(d, "r44.wav"))
    check(rc == 0 and info[2] == 44100 and info[4] == 22050,
          "-r 44100: resampled by src, the same length in time (%s, %s)" % (info[:5], err.strip()))
    rc, out, err = run("run", "-i", src, "-o", os.path.join(d, "x.flac"), "-b", "32", "--quiet")
    check(rc == 1 and "cannot hold 32-bit" in err, "-b 32 into FLAC: refused, said (%s)" % err.strip())
    rc, out, err = run("run", "--help")
    types = re.search(r"Output types \(from this libsndfile\): (.*)", out.decode())
    check(types and "flac" in types.group(1).split() and "w64" in types.group(1).split(),
          "--help lists the output types libsndfile has (%s)" % (types and types.group(1)))
    check("Exit status" in out.decode() and "130" in out.decode(), "--help documents exit statuses")

    # Every type libsndfile writes (a mono 8 kHz input suits the narrow
    # ones: HTK, XI, WVE) is written, and read back but for headerless raw.
    mono = os.path.join(d, "mono.wav")
    make_wav(mono, 4000, rate=8000, ch=1)
    bad_types = []
    for t in types.group(1).split() if types else []:
        o = os.path.join(d, "every." + t)
        rc, _, err = run("run", "copy", "-i", mono, "-o", o, "--quiet")
        if rc != 0 or os.path.getsize(o) == 0:
            bad_types.append("%s: %s" % (t, err.strip()))
            continue
        if t != "raw":
            rc, _, err = run("run", "copy", "-i", o, "-o", os.path.join(d, "every-back.wav"),
                             "--quiet")
            if rc != 0:
                bad_types.append("%s read back: %s" % (t, err.strip()))
    check(types and not bad_types, "every listed output type is written (%s)" % bad_types)

    # Each input is opened once (the probe's handle is the one read).
    if shutil.which("strace"):
        # LeakSanitizer cannot run under ptrace (make asan): without it.
        p = subprocess.run(["strace", "-f", "-e", "trace=open,openat", PARTITA, "run", "-i", src,
                            "-o", os.path.join(d, "once.wav"), "--quiet"],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0"))
        opens = [l for l in p.stderr.splitlines() if src in l and "open" in l]
        check(p.returncode == 0 and len(opens) == 1,
              "the input is opened once (%s, %s)" % (p.returncode, opens))
    else:
        print("skip: strace is not installed (scripts/deps.sh installs it)")

    # ---- file: relative to the topology's folder ----
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    shutil.copy(src, os.path.join(sub, "here.wav"))
    write_text(os.path.join(sub, "rel.yaml"), """pipelines:
  - name: main
    instances:
      - {name: i, module: input, params: {file: here.wav}}
      - {name: o, module: output, params: {file: there.wav}}
    bindings:
      - {from: i.0, to: o.0, format: {sample: S16_LE}}
""")
    rc, out, err = run("run", "sub/rel.yaml", "--quiet", cwd=d)
    check(rc == 0 and os.path.exists(os.path.join(sub, "there.wav")),
          "file: paths are relative to the topology's folder (%s)" % err.strip())

    # ---- the fan-out example: its sweep lasts the whole run ----
    src_dir = os.environ.get("PARTITA_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
    ff = os.path.join(d, "ff.wav")
    rc, out, err = run("run", os.path.join(src_dir, "topologies", "fanout_fanin.yaml"), "-o", ff,
                       "--quiet")
    left = struct.unpack("<%dh" % (wav_file(ff)[4] * 2), wav_file(ff)[5])[0::2]
    steps = [max(abs(left[k] - left[k - 1]) for k in range(max(1, t), t + 12000))
             for t in range(0, len(left), 12000)]
    # The sweep rises to its end: the largest sample step (which follows
    # the frequency) is in the last quarter second, not before a restart.
    check(rc == 0 and len(left) == 3 * 48000 and steps[-1] == max(steps),
          "fanout_fanin: the sweep spans the 3 s run, no restart (%s)" % steps)

    # ---- S24_4LE into a file after a DP stage: the output takes many
    # periods at once (a 24-bit conversion overran its scratch buffer) ----
    s24 = {}
    for sched in ("ll", "dp"):
        write_text(os.path.join(d, "s24.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone, params: {freq: 1000}}
      - {name: g, module: gain, sched: %s, params: {gain_db: -6}}
      - {name: o, module: output, params: {file: s24-%s.wav}}
    bindings:
      - {from: t.0, to: g.0, format: {rate: 96000, channels: 2, sample: S24_4LE}}
      - {from: g.0, to: o.0, format: {rate: 96000, channels: 2, sample: S24_4LE}}
""" % (sched, sched))
        rc, out, err = run("run", os.path.join(d, "s24.yaml"), "--seconds", "0.5", "--quiet")
        s24[sched] = (rc, wav_file(os.path.join(d, "s24-%s.wav" % sched)) if rc == 0 else None, err)
    check(s24["ll"][0] == 0 and s24["dp"][0] == 0 and s24["dp"][1][4] == 48000 and
          s24["dp"][1][5] == s24["ll"][1][5],
          "S24_4LE at 96 kHz after a DP stage: the file equals the LL run (%s, %s)"
          % (s24["dp"][0], s24["dp"][2].strip()[-200:]))

    # ---- YAML: a second document, a number too large ----
    write_text(os.path.join(d, "two.yaml"), open(os.path.join(sub, "rel.yaml")).read() +
             "---\npipelines: []\n")
    rc, out, err = run("run", os.path.join(d, "two.yaml"))
    check(rc == 1 and "two.yaml:8:" in err and "second" in err,
          "a second YAML document: refused at FILE:LINE (%s)" % err.strip())
    write_text(os.path.join(d, "big.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone, params: {freq: 1e400}}
      - {name: o, module: output, params: {file: big.wav}}
    bindings:
      - {from: t.0, to: o.0}
""")
    rc, out, err = run("run", os.path.join(d, "big.yaml"))
    check(rc == 1 and "out of range" in err and "not a number" not in err,
          "1e400 is out of range (%s)" % err.strip())
    write_text(os.path.join(d, "huge.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone, deadline_us: 99999999999999999999999}
      - {name: o, module: output, params: {file: big.wav}}
    bindings:
      - {from: t.0, to: o.0}
""")
    rc, out, err = run("run", os.path.join(d, "huge.yaml"))
    check(rc == 1 and "huge.yaml:4:" in err and "is outside" in err,
          "a whole number too large for 64 bits is outside the range (%s)" % err.strip())

    # ---- errors said once ----
    write_text(os.path.join(d, "twice.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - {name: o, module: output, params: {file: tw.wav}}
    bindings:
      - {from: t.0, to: o.0}
      - {from: t.0, to: o.0}
""")
    rc, out, err = run("run", os.path.join(d, "twice.yaml"))
    check(rc == 1 and "bind: bind:" not in err and err.count("already bound") == 1,
          "an error is said once (%s)" % err.strip())

    # ---- --version, --stats-json - ----
    rc, out, err = run("--version")
    check(rc == 0 and re.search(rb"partita \d+\.\d+\.\d+", out) and b"module ABI 2" in out,
          "--version: the build and the ABI (%s)" % out.decode().strip())
    rc, out, err = run("run", "--seconds", "0.2", "-o", os.path.join(d, "j.wav"),
                       "--stats-json", "-")
    try:
        doc = json.loads(out)
        ok = "skipped_periods" in doc and doc["instances"]
    except ValueError as e:
        ok, err = False, err + str(e)
    check(rc == 0 and ok and "INSTANCE" in err, "--stats-json -: only JSON on stdout (%s)" % out[:80])

    # ---- skipped periods: counted, printed and in the JSON ----
    js = os.path.join(d, "skip.json")
    p = subprocess.Popen([PARTITA, "run", "--seconds", "1.5", "--realtime", "--isolation", "none",
                          "-o", os.path.join(d, "skip.wav"), "--stats-json", js],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    p.send_signal(signal.SIGSTOP)
    time.sleep(0.4)
    p.send_signal(signal.SIGCONT)
    out, err = p.communicate(timeout=60)
    try:
        with open(js) as f:
            skipped = json.load(f)["skipped_periods"]
    except (OSError, ValueError, KeyError):
        skipped = -1
    said = re.search(r"(\d+) periods skipped", out)
    check(p.returncode == 0 and skipped >= 100 and said and int(said.group(1)) == skipped and
          wav_file(os.path.join(d, "skip.wav"))[4] == 72000,
          "a stalled --realtime run counts its skipped periods (%s, %s)" % (skipped, err.strip()))

    # ---- inspect --json, and a refused library's manifest ----
    rc, out, err = run("inspect", "--json", "--require-signed",
                       os.path.join(BUILD, "modules", "pt_gain.so"))
    try:
        doc = json.loads(out)
        ok = doc["module"] == "gain" and "trusted key" in doc["refused"]
    except (ValueError, KeyError, TypeError) as e:
        ok, err = False, err + str(e)
    check(rc == 1 and ok, "inspect --json shows the manifest of a refused library (%s)" % err.strip())
    rc, out, err = run("inspect", "--require-signed", os.path.join(BUILD, "modules", "pt_gain.so"))
    check(rc == 1 and b"module:      gain" in out and "unsigned" in err,
          "inspect shows a refused library's manifest and the reason (%s)" % err.strip())

    wrong = os.path.join(BUILD, "tests", "libs", "pt_test_wrongabi.so")
    if os.path.exists(wrong):
        rc, out, err = run("inspect", wrong)
        check(rc == 1 and b"module:      wrongabi" in out and b"abi:         99" in out and
              "ABI version 99" in err,
              "inspect shows the manifest of a library of another ABI, and why (%s)" % err.strip())

    # ---- serve: an output still running when the host exits is finished ----
    write_text(os.path.join(d, "serve.yaml"), """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - {name: o, module: output, params: {file: served.wav}}
    bindings:
      - {from: t.0, to: o.0, format: {sample: S16_LE}}
""")
    sock = os.path.join(d, "keep.sock")
    host = serve(sock, os.path.join(d, "serve.yaml"), stderr=subprocess.DEVNULL)
    rc, _, err = run("ctl", "--socket", sock, "state", "main", "running")
    time.sleep(0.3)
    host.send_signal(signal.SIGTERM)
    host.wait(timeout=20)
    try:
        frames = wav_file(os.path.join(d, "served.wav"))[4]
    except (ValueError, OSError):
        frames = -1
    check(rc == 0 and frames > 0 and not temp_files(d),
          "serve finishes a running output when it exits (%d frames)" % frames)

    # ---- top: q quits, lines fit the terminal ----
    sock = os.path.join(d, "s.sock")
    host = serve(sock, stderr=subprocess.DEVNULL)
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(PARTITA, [PARTITA, "top", "--socket", sock, "--interval", "200"])
    import fcntl
    import termios
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 50, 0, 0))
    screen = b""
    deadline = time.time() + 5
    while time.time() < deadline and screen.count(b"INSTANCE") < 2:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                screen += os.read(fd, 4096)
            except OSError:
                break
    os.write(fd, b"q")
    status = None
    for _ in range(50):
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        time.sleep(0.1)
    if status is None:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    lines = [l for l in screen.replace(b"\x1b[H\x1b[2J", b"").split(b"\r\n") if l]
    check(status == 0, "top quits on q (%s)" % status)
    check(lines and max(len(l) for l in lines) <= 50,
          "top fits a 50-column terminal (%s)" % max((len(l) for l in lines), default=0))
    host.send_signal(signal.SIGTERM)
    host.wait(timeout=20)

if errors:
    print("%d failed" % len(errors))
    sys.exit(1)
print("all passed")
