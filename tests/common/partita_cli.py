# SPDX-License-Identifier: MIT
"""What the Python tests share: ok/FAIL lines, a one-instance topology,
and running build/partita (serve on a socket, ctl against it).

Import it with tests/common on sys.path; `errors` collects the failed
checks, so a test ends with sys.exit(1 if errors else 0)."""
import os
import struct
import subprocess
import time

BUILD = os.path.abspath(os.environ.get("PARTITA_BUILD", "build"))
PARTITA = os.path.join(BUILD, "partita")
errors = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what, flush=True)
    if not ok:
        errors.append(what)


S32_STEREO = "{rate: 48000, channels: 2, sample: S32_LE}"


def chain(d, inst, name, in_format=S32_STEREO, out_format=S32_STEREO):
    """A topology: @d/in.wav -> the instance @inst (a flow mapping named
    @name) -> @d/out.wav."""
    return """pipelines:
  - name: main
    instances:
      - {name: in, module: input, params: {file: "%s/in.wav"}}
      - %s
      - {name: out, module: output, params: {file: "%s/out.wav"}}
    bindings:
      - {from: in.0, to: %s.0, format: %s}
      - {from: %s.0, to: out.0, format: %s}
""" % (d, inst, d, name, in_format, name, out_format)


def serve(sock, *args, tries=100, **popen):
    """Starts partita serve --socket @sock with @args (Popen keywords in
    @popen) and waits up to @tries * 50 ms for the socket to appear."""
    p = subprocess.Popen([PARTITA, "serve", "--socket", sock] + list(args), **popen)
    for _ in range(tries):
        if os.path.exists(sock):
            break
        time.sleep(0.05)
    return p


def ctl(sock, *args, timeout=60):
    """partita ctl --socket @sock @args, its output captured as text (ctl
    gives up on the host after 5 s by itself; @timeout is for ctl)."""
    return subprocess.run([PARTITA, "ctl", "--socket", sock] + list(args),
                          capture_output=True, text=True, timeout=timeout)


def make_wav(path, frames, rate=48000, ch=2, bits=16, datasize=None):
    """A 16-bit (or 24/32-bit) PCM ramp, written by hand; @datasize makes
    its data chunk's size lie."""
    width = bits // 8
    body = bytearray()
    for i in range(frames * ch):
        v = ((i * 2654435761) >> 7) % 60000 - 30000
        body += int(v * (1 << (bits - 16))).to_bytes(width, "little", signed=True)
    hdr = struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + len(body), b"WAVE", b"fmt ", 16,
                      1, ch, rate, rate * ch * width, ch * width, bits, b"data",
                      len(body) if datasize is None else datasize)
    with open(path, "wb") as f:
        f.write(hdr + body)


def temp_files(d):
    """What a run left of its temporary outputs in the folder @d."""
    return [n for n in os.listdir(d) if ".partita-" in n]


def write_text(path, body):
    with open(path, "w") as f:
        f.write(body)
