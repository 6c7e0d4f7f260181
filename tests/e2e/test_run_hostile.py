#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`partita run` loses no file and hides no failure, tried the hostile way
(issue 12's promise, beyond its examples): every file a run writes against
every file it reads and every other it writes, a full disk, any death,
inputs whose header lies, closed standard streams. The real binary on real
files; nothing here depends on timing."""
import hashlib
import os
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import (BUILD, PARTITA, check, errors, make_wav, temp_files,  # noqa: E402
                         write_text)


def run(*args, stdin=None, stdout=subprocess.PIPE, timeout=60, cwd=None):
    """Runs partita; returns (status, stdout bytes, stderr text); a hang is
    status None. @stdin is bytes or a file."""
    data = stdin if isinstance(stdin, bytes) else None
    try:
        p = subprocess.run([PARTITA] + list(args), input=data,
                           stdin=None if data is not None else stdin, stdout=stdout,
                           stderr=subprocess.PIPE, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        return None, b"", "TIMEOUT: " + (e.stderr or b"").decode(errors="replace")
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def wav_frames(path):
    """The frames of a PCM WAV whose header tells the truth, or -1."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return -1
    if data[:4] != b"RIFF" or struct.unpack("<I", data[4:8])[0] + 8 != len(data):
        return -1
    pos, align = 12, 0
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if cid == b"fmt ":
            align = struct.unpack("<H", data[pos + 20:pos + 22])[0]
        if cid == b"data":
            return size // align if align and pos + 8 + size == len(data) else -1
        pos += 8 + size + (size & 1)
    return -1


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


with tempfile.TemporaryDirectory() as d:
    src = os.path.join(d, "in.wav")
    make_wav(src, 4800)
    kept = digest(src)
    lib = os.path.join(d, "pt_g.so")
    shutil.copy(os.path.join(BUILD, "modules", "pt_gain.so"), lib)
    lib_kept = digest(lib)
    os.mkdir(os.path.join(d, "sub"))

    # ---- a file the run writes is never a file it reads, nor another it
    # writes: refused (exit 2) before anything is written ----
    lib_topo = os.path.join(d, "lib.yaml")
    write_text(lib_topo, """pipelines:
  - name: main
    instances:
      - {name: i, module: input, params: {file: in.wav}}
      - {name: g, library: pt_g.so}
      - {name: o, module: output, params: {file: libout.wav}}
    bindings:
      - {from: i.0, to: g.0, format: {sample: FLOAT_LE}}
      - {from: g.0, to: o.0, format: {sample: FLOAT_LE}}
""")
    topo_kept = digest(lib_topo)
    two = os.path.join(d, "two.yaml")
    write_text(two, """pipelines:
  - name: main
    instances:
      - {name: i, module: input, params: {file: in.wav}}
      - {name: t, module: tone}
      - {name: o1, module: output, params: {file: same.wav}}
      - {name: o2, module: output, params: {file: sub/../same.wav}}
    bindings:
      - {from: i.0, to: o1.0}
      - {from: t.0, to: o2.0, format: {rate: 48000, channels: 1}}
""")
    cases = (
        ("--stats-json naming the input", ["copy", "-i", src, "-o", d + "/a.wav",
                                           "--stats-json", src], "in.wav"),
        ("--trace naming the input by '..'", ["copy", "-i", src, "-o", d + "/a.wav",
                                              "--trace", d + "/sub/../in.wav"], "in.wav"),
        ("--stats-json naming the output", ["copy", "-i", src, "-o", d + "/new.wav",
                                            "--stats-json", d + "/./new.wav"], "new.wav"),
        ("--trace and --stats-json one file", ["copy", "-i", src, "-o", d + "/a.wav",
                                               "--trace", d + "/s.json", "--stats-json",
                                               d + "/sub/../s.json"], "s.json"),
        ("-o naming the library", [lib_topo, "-o", lib, "-t", "wav"], "pt_g.so"),
        ("-o naming the topology", [lib_topo, "-o", lib_topo, "-t", "wav"], "lib.yaml"),
        ("two outputs of one topology to one file", [two], "same.wav"),
        ("-o naming standard input's file", ["copy", "-i", "-", "-o", src], "in.wav"),
    )
    for what, args, name in cases:
        rc, out, err = run("run", "--quiet", *args,
                           stdin=open(src, "rb") if "-" in args else None)
        check(rc == 2 and "same file" in err and name in err and digest(src) == kept and
              digest(lib) == lib_kept and digest(lib_topo) == topo_kept and not temp_files(d) and
              not [n for n in ("a.wav", "new.wav", "s.json", "same.wav")
                   if os.path.exists(os.path.join(d, n))],
              "%s: exit 2, named, nothing written or lost (%s, %s)" % (what, rc, err.strip()))
    # The library's signature and the trusted key are files the run reads.
    key = os.path.join(d, "k")
    subprocess.run([PARTITA, "sign", "--keygen", key], capture_output=True, check=True)
    subprocess.run([PARTITA, "sign", "--key", key, lib], capture_output=True, check=True)
    for what, target in (("the key file", key + ".pub"), ("the signature", lib + ".sig")):
        before = digest(target)
        rc, out, err = run("run", lib_topo, "--quiet", "--trust", key + ".pub",
                           "--require-signed", "-o", target, "-t", "wav")
        check(rc == 2 and what in err and digest(target) == before and not temp_files(d),
              "-o naming %s: refused, kept (%s, %s)" % (what, rc, err.strip()))
    fd = os.open(src, os.O_RDONLY)
    p = subprocess.run([PARTITA, "run", "copy", "--quiet", "-i", src, "-o", "/proc/self/fd/%d" % fd,
                        "-t", "wav"], pass_fds=(fd,), capture_output=True, text=True, timeout=60)
    os.close(fd)
    check(p.returncode == 2 and digest(src) == kept and not temp_files(d),
          "-o /proc/self/fd/N naming the input: refused (%s, %s)" % (p.returncode, p.stderr.strip()))
    rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", "-", "-t", "wav",
                       stdout=open(src, "ab"))
    check(rc == 2 and digest(src) == kept,
          "-o - appending to the input: refused (%s, %s)" % (rc, err.strip()))

    # ---- a write that fails (a full disk, a file size limit): the run
    # stops at once naming the file and the reason, exit 1, nothing put in
    # place (an old file there kept), no temporary. RLIMIT_FSIZE makes
    # the failure exact without root; as root, a full tmpfs too. ----
    def fsize(limit, ignore=True):
        def pre():
            if ignore:
                signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        return pre

    def limited(limit, *args, ignore=True):
        p = subprocess.run([PARTITA, "run", "pass", "--quiet"] + list(args),
                           capture_output=True, text=True, timeout=60,
                           preexec_fn=fsize(limit, ignore))
        return p.returncode, p.stderr

    long_wav = os.path.join(d, "long.wav")
    make_wav(long_wav, 48000)
    full = os.path.join(d, "full.wav")
    with open(full, "wb") as f:
        f.write(b"precious")
    rc, err = limited(100000, "-i", long_wav, "-o", full)
    with open(full, "rb") as f:
        old = f.read() == b"precious"
    check(rc == 1 and "full.wav" in err and "File too large" in err and old and
          not temp_files(d) and err.count("File too large") == 1,
          "a write failing mid-run: exit 1, file and reason said once, old file kept (%s, %s)"
          % (rc, err.strip()))
    # FLAC: libsndfile's encoder writes a short stream only when the file
    # is closed, and its close does not say that it failed.
    rc, _, err = run("run", "pass", "-i", long_wav, "-o", os.path.join(d, "whole.flac"))
    size = os.path.getsize(os.path.join(d, "whole.flac"))
    rc, err = limited(size - 1000, "-i", long_wav, "-o", os.path.join(d, "cut.flac"))
    check(rc == 1 and "cut.flac" in err and "File too large" in err and not temp_files(d) and
          not os.path.exists(os.path.join(d, "cut.flac")),
          "a FLAC whose last block cannot be written: exit 1, said, nothing left (%s, %s)"
          % (rc, err.strip()))
    rc, err = limited(size, "-i", long_wav, "-o", os.path.join(d, "fits.flac"))
    check(rc == 0 and os.path.getsize(os.path.join(d, "fits.flac")) == size,
          "the same FLAC with room for it: written (%s, %s)" % (rc, err.strip()))
    if os.geteuid() == 0:
        mnt = os.path.join(d, "tiny")
        os.mkdir(mnt)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt],
                          capture_output=True).returncode == 0:
            try:
                for name in ("disk.wav", "disk.flac"):
                    make_wav(long_wav, 96000)
                    rc, out, err = run("run", "copy", "--quiet", "-i", long_wav, "-o",
                                       os.path.join(mnt, name))
                    check(rc == 1 and name in err and "No space left on device" in err and
                          err.count("No space") == 1 and not os.listdir(mnt),
                          "a full disk (%s): exit 1, said once, nothing left (%s, %s)"
                          % (name, rc, err.strip()))
            finally:
                subprocess.run(["umount", mnt])
        else:
            print("skip: cannot mount a tmpfs here")
    else:
        print("skip: a full tmpfs needs root (RLIMIT_FSIZE covered the case)")

    # ---- any death leaves no temporary and the old file as it was;
    # SIGHUP (the terminal went) stops and finishes, as SIGTERM ----
    rc, err = limited(100000, "-i", long_wav, "-o", full, ignore=False)
    with open(full, "rb") as f:
        old = f.read() == b"precious"
    check(rc == -signal.SIGXFSZ and old and not temp_files(d),
          "killed by SIGXFSZ mid-write: no temporary, old file kept (%s)" % rc)

    def writing(p, folder):
        """Waits (without a time limit of its own) until @p holds the
        file it writes in @folder open."""
        while p.poll() is None:
            try:
                fds = [os.readlink("/proc/%d/fd/%s" % (p.pid, n))
                       for n in os.listdir("/proc/%d/fd" % p.pid)]
            except OSError:
                fds = []
            if [f for f in fds if f.startswith(folder + "/") and
                    (".partita-" in f or "(deleted)" in f)]:
                return True
            time.sleep(0.01)
        return False

    for sig in (signal.SIGKILL, signal.SIGUSR1, signal.SIGQUIT, signal.SIGHUP):
        out = os.path.join(d, "killed.wav")
        with open(out, "wb") as f:
            f.write(b"precious")
        p = subprocess.Popen([PARTITA, "run", "--seconds", "60", "--realtime", "--isolation",
                              "none", "--quiet", "-o", out], stderr=subprocess.PIPE, text=True)
        started = writing(p, d)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        if sig == signal.SIGHUP:
            said = [int(n) for n in re.findall(r"stopped by SIGHUP after [\d.]+ s; \S+ holds (\d+) "
                                                r"frames", err)]
            check(started and p.returncode == 129 and said and wav_frames(out) == said[0]
                  and not temp_files(d),
                  "SIGHUP: exit 129, a whole file of the frames said (%s, %s)"
                  % (p.returncode, err.strip()))
        else:
            with open(out, "rb") as f:
                old = f.read() == b"precious"
            check(started and p.returncode == -sig and old and not temp_files(d),
                  "killed by %s while writing: no temporary, old file kept (%s, %s)"
                  % (signal.Signals(sig).name, p.returncode, temp_files(d)))

    # ---- --stats-json and --trace: a FIFO nobody reads is refused, not
    # waited on; a path that cannot be written is said before the run; a
    # full standard output is an error ----
    fifo = os.path.join(d, "stats.fifo")
    os.mkfifo(fifo)
    for opt in ("--stats-json", "--trace"):
        rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", d + "/f.wav", opt, fifo,
                           timeout=30)
        check(rc == 1 and "FIFO" in err and "stats.fifo" in err,
              "%s naming a FIFO nobody reads: an error, no hang (%s, %s)" % (opt, rc, err.strip()))
    for what, path in (("a folder", d + "/sub"), ("a missing folder", d + "/none/s.json")):
        rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", d + "/early.wav",
                           "--stats-json", path)
        check(rc == 1 and path in err and not os.path.exists(d + "/early.wav") and
              not temp_files(d), "--stats-json in %s: said before the run (%s, %s)"
              % (what, rc, err.strip()))
    if os.path.exists("/dev/full"):
        rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", d + "/kept.wav",
                           "--stats-json", "-", stdout=open("/dev/full", "wb"))
        check(rc == 1 and "standard output" in err and "No space" in err and
              wav_frames(d + "/kept.wav") == 4800,
              "--stats-json - on a full standard output: exit 1, said, the audio kept (%s, %s)"
              % (rc, err.strip()))
        rc, out, err = run("run", "copy", "-i", src, "-o", d + "/kept2.wav",
                           stdout=open("/dev/full", "wb"))
        check(rc == 1 and "table" in err and "No space" in err and
              wav_frames(d + "/kept2.wav") == 4800,
              "the table on a full standard output: exit 1, said, the audio kept (%s, %s)"
              % (rc, err.strip()))

    # ---- inputs whose header lies, or that hold nothing ----
    empty = os.path.join(d, "empty.wav")
    make_wav(empty, 0)
    rc, out, err = run("run", "copy", "--quiet", "-i", empty, "-o", d + "/e-out.wav")
    check(rc == 0 and wav_frames(d + "/e-out.wav") == 0,
          "an input of no frames: an output of none, not seconds of silence (%s, %d)"
          % (err.strip(), wav_frames(d + "/e-out.wav")))
    claims = os.path.join(d, "claims.wav")
    make_wav(claims, 0, datasize=4000)
    rc, out, err = run("run", "copy", "--quiet", "-i", claims, "-o", d + "/c-out.wav")
    check(rc == 0 and "claims.wav" in err and "damaged" in err and "frame 0 of 1000" in err and
          wav_frames(d + "/c-out.wav") == 0,
          "a header claiming data the file does not hold at all: warned (%s)" % err.strip())
    rc, out, err = run("run", "copy", "--quiet", "--strict", "-i", claims, "-o", d + "/c2.wav")
    check(rc == 1 and "claims.wav" in err and not os.path.exists(d + "/c2.wav"),
          "the same with --strict: an error, no output (%s)" % err.strip())
    for what, kw in (("0 channels", {"ch": 0}), ("rate 0", {"rate": 0}),
                     ("300 channels", {"ch": 300})):
        bad = os.path.join(d, "bad.wav")
        make_wav(bad, 10, **kw)
        rc, out, err = run("run", "copy", "--quiet", "-i", bad, "-o", d + "/b-out.wav")
        check(rc == 1 and "bad.wav" in err and not os.path.exists(d + "/b-out.wav") and
              not temp_files(d), "an input with %s: a named error, nothing left (%s)"
              % (what, err.strip()))

    # ---- closed standard streams: '-' on one is an error, and no file
    # the run opens takes its number ----
    def closed(*fds):
        def pre():
            for fd in fds:
                os.close(fd)
        return pre

    for what, args, fd in (("-i - on a closed standard input", ["-i", "-", "-o", d + "/x.wav"], 0),
                           ("-o - on a closed standard output", ["-i", src, "-o", "-", "-t", "wav"], 1),
                           ("--stats-json - on a closed standard output",
                            ["-i", src, "-o", d + "/x.wav", "--stats-json", "-"], 1)):
        p = subprocess.run([PARTITA, "run", "copy", "--quiet"] + args, stderr=subprocess.PIPE,
                           text=True, timeout=60, preexec_fn=closed(fd))
        check(p.returncode == 1 and "closed" in p.stderr and not os.path.exists(d + "/x.wav"),
              "%s: an error saying so (%s, %s)" % (what, p.returncode, p.stderr.strip()))
    p = subprocess.run([PARTITA, "run", "copy", "-i", "-", "-o", d + "/y.wav"],
                       stdin=open(src, "rb"), timeout=60, preexec_fn=closed(1, 2))
    check(p.returncode == 0 and wav_frames(d + "/y.wav") == 4800,
          "standard output and error closed: the output is whole and only audio (%s, %d)"
          % (p.returncode, wav_frames(d + "/y.wav")))

    # ---- a long output name: any name the file system takes is written;
    # one it cannot take fails at once ----
    rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", d + "/" + "y" * 246 + ".wav")
    check(rc == 0 and wav_frames(d + "/" + "y" * 246 + ".wav") == 4800 and not temp_files(d),
          "a 250-character name is written (%s, %s)" % (rc, err.strip()[-80:]))
    rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", d + "/" + "z" * 300 + ".wav")
    check(rc == 1 and "too long" in err and not temp_files(d),
          "a name too long is an error before the run (%s, %s)" % (rc, err.strip()[-60:]))

    # ---- a file replaced keeps its permissions ----
    private = os.path.join(d, "private.wav")
    make_wav(private, 10)
    os.chmod(private, 0o600)
    rc, out, err = run("run", "copy", "--quiet", "-i", src, "-o", private)
    check(rc == 0 and stat.S_IMODE(os.stat(private).st_mode) == 0o600 and
          wav_frames(private) == 4800,
          "a private file replaced stays private (%o)" % stat.S_IMODE(os.stat(private).st_mode))

    # ---- standard input and output are one stream each ----
    write_text(os.path.join(d, "twostd.yaml"), """pipelines:
  - name: main
    instances:
      - {name: i, module: input, params: {file: in.wav}}
      - {name: t, module: tone}
      - {name: o1, module: output, params: {file: "-", type: wav}}
      - {name: o2, module: output, params: {file: "-", type: wav}}
    bindings:
      - {from: i.0, to: o1.0}
      - {from: t.0, to: o2.0, format: {rate: 48000, channels: 1}}
""")
    rc, out, err = run("run", os.path.join(d, "twostd.yaml"), "--quiet")
    check(rc == 2 and not out and "standard output" in err,
          "two outputs to standard output: refused, nothing written (%s, %d bytes, %s)"
          % (rc, len(out), err.strip()))
    write_text(os.path.join(d, "twoin.yaml"), """pipelines:
  - name: main
    instances:
      - {name: i1, module: input, params: {file: "-"}}
      - {name: i2, module: input, params: {file: "-"}}
      - {name: o1, module: output, params: {file: a.wav}}
      - {name: o2, module: output, params: {file: b.wav}}
    bindings:
      - {from: i1.0, to: o1.0}
      - {from: i2.0, to: o2.0}
""")
    rc, out, err = run("run", os.path.join(d, "twoin.yaml"), "--quiet", stdin=open(src, "rb"))
    check(rc == 2 and "standard input" in err and not os.path.exists(d + "/a.wav"),
          "two inputs of standard input: refused, said (%s, %s)" % (rc, err.strip()))
    rc, out, err = run("run", "copy", "-i", "-", "-o", "-", "-t", "wav", "--quiet",
                       stdin=open(src, "rb").read())
    check(rc == 0 and len(out) == os.path.getsize(src),
          "-i - and -o - through pipes still round-trip (%s, %s)" % (rc, err.strip()))

    # ---- other containers cut short: warned (an error with --strict),
    # and an Ogg whose length libsndfile cannot tell makes no endless
    # output ----
    make_wav(long_wav, 48000)
    for t in ("au", "w64", "rf64", "aiff", "ogg"):
        whole = os.path.join(d, "whole." + t)
        rc, out, err = run("run", "copy", "--quiet", "-i", long_wav, "-o", whole)
        if rc != 0:
            print("skip: this libsndfile does not write %s (%s)" % (t, err.strip()))
            continue
        with open(whole, "rb") as f:
            data = f.read()
        cut = os.path.join(d, "cut." + t)
        with open(cut, "wb") as f:
            f.write(data[:len(data) * 6 // 10])
        rc, out, err = run("run", "copy", "--quiet", "-i", cut, "-o", d + "/cut-out.wav",
                           timeout=60)
        frames = wav_frames(d + "/cut-out.wav")
        check(rc == 0 and "cut." + t in err and "damaged" in err and 0 <= frames < 48000,
              "a %s cut short: warned, the output no longer than the input (%s, %d, %s)"
              % (t, rc, frames, err.strip()))
        rc, out, err = run("run", "copy", "--quiet", "--strict", "-i", cut, "-o",
                           d + "/cut-strict.wav", timeout=60)
        check(rc == 1 and not os.path.exists(d + "/cut-strict.wav"),
              "a %s cut short with --strict: an error (%s)" % (t, rc))

if errors:
    print("%d failed" % len(errors))
    sys.exit(1)
print("all passed")
