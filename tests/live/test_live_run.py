#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""partita run with ALSA devices, end to end, on a machine without a sound card.

Devices: ALSA's null; ptclock, the clocked test device of pcm_ptclock.c
(paces like hardware, underruns when its writer stalls, takes S16/S32
only); ptbusy (ptclock holding an exclusive lock, so it can be busy); and
ALSA's file plugin. They are defined in $XDG_CONFIG_HOME/alsa/asoundrc,
which the system alsa.conf loads, so nothing outside the build tree is
written and no system-wide configuration is needed.
"""
import fcntl
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

BUILD = os.environ.get("PARTITA_BUILD", ".")
PARTITA = os.path.join(BUILD, "partita")
DIR = os.path.join(BUILD, "tests", "live-run")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def env():
    e = dict(os.environ)
    e["XDG_CONFIG_HOME"] = DIR
    e.pop("ALSA_CONFIG_PATH", None)
    return e


def run(*args, timeout=60):
    p = subprocess.run([PARTITA, "run", *args], capture_output=True, text=True,
                       env=env(), timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def device_line(out, name):
    m = re.search(r"^(playback|capture) '\S+' on '%s': period (\d+) frames, "
                  r"buffer (\d+) frames, (\d+) frames, (\d+) xruns$" % re.escape(name),
                  out, re.M)
    return m and {"period": int(m.group(2)), "buffer": int(m.group(3)),
                  "frames": int(m.group(4)), "xruns": int(m.group(5))}


def setup():
    os.makedirs(os.path.join(DIR, "alsa"), exist_ok=True)
    lib = os.path.join(BUILD, "tests", "libasound_module_pcm_ptclock.so")
    with open(os.path.join(DIR, "alsa", "asoundrc"), "w") as f:
        f.write('pcm_type.ptclock { lib "%s" }\n' % lib)
        f.write("pcm.ptclock { type ptclock }\n")
        f.write('pcm.ptbusy { type ptclock lock "%s/busy.lock" }\n' % DIR)
        f.write('pcm.ptfilecap { type file slave.pcm null file "/dev/null" '
                'infile "%s/cap.raw" format raw }\n' % DIR)


def null_realtime_two_seconds():
    js = os.path.join(DIR, "null.json")
    rc, out, err = run("--playback", "null", "--realtime", "--seconds", "2",
                       "--stats-json", js)
    # Late is not hung: a loaded machine's misses never fail an instance.
    check(rc == 0, "demo to null in --realtime finishes, no instance failed (%s)"
          % err.strip()[-200:])
    with open(js) as f:
        stats = json.load(f)
    periods = stats["periods"]
    # 2 s of 1 ms periods: the run stops when the playback has its frames.
    check(1995 <= periods <= 2010, "periods processed %d ~ 2000" % periods)
    play = [i for i in stats["instances"] if i["module"] == "playback"]
    check(len(play) == 1 and play[0]["periods"] >= 1995,
          "the playback instance ran every period")
    d = device_line(out, "null")
    check(d is not None, "negotiated sizes and xruns reported after the table")
    if d:
        check(d["period"] == 48 and d["buffer"] == 192,
              "null agreed to 48/192 frames (got %d/%d)" % (d["period"], d["buffer"]))
        check(d["frames"] == 96000, "96000 frames played (got %d)" % d["frames"])
        check(d["xruns"] == 0, "no xruns on null")


def clock_stall_xrun():
    # The writer is stopped from outside for 150 ms: the clocked device
    # underruns, the host recovers and plays on to the end.
    p = subprocess.Popen([PARTITA, "run", "--playback", "ptclock", "--seconds", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=env())
    time.sleep(0.6)
    p.send_signal(signal.SIGSTOP)
    time.sleep(0.15)
    p.send_signal(signal.SIGCONT)
    t0 = time.monotonic()
    out, err = p.communicate(timeout=60)
    check(p.returncode == 0, "ptclock run survives the stall, no instance failed (%s)"
          % err.strip()[-200:])
    check("underrun on 'ptclock'" in err and "recovered" in err,
          "the xrun is reported on stderr")
    d = device_line(out, "ptclock")
    check(d is not None and d["xruns"] >= 1,
          "the xrun is counted (%s)" % (d and d["xruns"]))
    check(d is not None and d["frames"] == 96000,
          "every frame is played after recovery (%s)" % (d and d["frames"]))
    # The device paced the run: after the stall, ~1.4 s of audio remained.
    check(time.monotonic() - t0 > 0.8, "the clocked device paced the graph")


def capture_null():
    # Trusted, so the chain adds no DP periods to what the capture reads.
    rc, out, err = run("--capture", "null", "--playback", "null", "--seconds", "0.5",
                       "--isolation", "none")
    check(rc == 0, "capture from null to null exits 0 (%s)" % err.strip()[-200:])
    d = device_line(out, "null")
    check(d is not None, "capture line reported")
    check(re.search(r"^capture 'in' on 'null': .* 24000 frames, 0 xruns$", out, re.M)
          is not None, "capture read 0.5 s from null")


def capture_file_plugin():
    # 0.2 s of a float ramp in the device's file; the chain topology
    # (eq_iir, gain) runs on float, so the file holds FLOAT_LE.
    n = 9600 * 2
    with open(os.path.join(DIR, "cap.raw"), "wb") as f:
        f.write(struct.pack("<%df" % n, *[((i % 200) - 100) / 400.0 for i in range(n)]))
    wav = os.path.join(DIR, "cap.wav")
    rc, out, err = run("--capture", "ptfilecap", "-o", wav, "--seconds", "0.2",
                       "--isolation", "none")
    check(rc == 0, "capture through the file plugin exits 0 (%s)" % err.strip()[-200:])
    check(re.search(r"^capture 'in' on 'ptfilecap': .* 9600 frames", out, re.M)
          is not None, "9600 frames captured through the file plugin")
    check(os.path.getsize(wav) > 9600 * 2 * 4, "the captured stream reached the output file")


def topology_playback():
    # --playback on a topology file recreates its output as the device,
    # keeping its name and binding; the DP stages' latency is skipped.
    topo = os.path.join(DIR, "dp.yaml")
    fmt = "format: {rate: 48000, channels: 2, sample: S32_LE}, periods: 2"
    with open(topo, "w") as f:
        f.write("period_us: 1000\nrate: 48000\npipelines:\n  - name: main\n"
                "    instances:\n"
                "      - {name: tone1, module: tone, params: {wave: sine}}\n"
                "      - {name: g1, module: gain, sched: dp, params: {gain_db: -1}}\n"
                "      - {name: speaker, module: output, params: {file: '%s/x.wav'}}\n"
                "    bindings:\n"
                "      - {from: tone1.0, to: g1.0, %s}\n"
                "      - {from: g1.0, to: speaker.0, %s}\n" % (DIR, fmt, fmt))
    rc, out, err = run(topo, "--playback", "null", "--seconds", "0.5")
    check(rc == 0, "topology with --playback exits 0 (%s)" % err.strip()[-200:])
    check(re.search(r"^speaker +playback ", out, re.M) is not None,
          "the topology's output became the playback instance")
    d = device_line(out, "null")
    check(d is not None and d["frames"] == 24000, "0.5 s played from the topology")

    # A device endpoint written in the topology itself.
    with open(topo, "w") as f:
        f.write("period_us: 1000\nrate: 48000\npipelines:\n  - name: main\n"
                "    instances:\n"
                "      - {name: mic, module: capture, params: {device: null}}\n"
                "      - {name: spk, module: playback, params: {device: null, buffer_us: 8000}}\n"
                "    bindings:\n"
                "      - {from: mic.0, to: spk.0, %s}\n" % fmt)
    rc, out, err = run(topo, "--seconds", "0.25")
    check(rc == 0, "topology with device endpoints exits 0 (%s)" % err.strip()[-200:])
    d = device_line(out, "null")
    check(re.search(r"^playback 'spk' on 'null': period 48 frames, buffer 384 frames, "
                    r"12000 frames", out, re.M) is not None,
          "the topology's buffer_us reached the device")


def errors():
    rc, out, err = run("--playback", "nosuch_pcm", "--seconds", "0.1")
    check(rc == 1 and "cannot open playback device 'nosuch_pcm'" in err,
          "unknown device: exit 1 and a message naming it")
    check("Traceback" not in err and "ALSA lib" not in err,
          "no raw alsa-lib noise in the message")

    lock = open(os.path.join(DIR, "busy.lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)  # another program holds the device
    try:
        rc, out, err = run("--playback", "ptbusy", "--seconds", "0.1", timeout=20)
    finally:
        lock.close()
    check(rc == 1 and "'ptbusy'" in err and "busy" in err,
          "busy device: exit 1 at once, naming it (%s)" % err.strip())
    rc, out, err = run("--playback", "ptbusy", "--seconds", "0.1")
    check(rc == 0, "the same device plays once released")

    rc, out, err = run("--capture", "ptclock", "--playback", "null", "--seconds", "0.1")
    check(rc == 1 and "device 'ptclock' refuses" in err and "FLOAT_LE" in err,
          "refused format: exit 1 naming the device and the format (%s)" % err.strip())


def serve_errors():
    # The same refusals through a running host: each is an error reply
    # naming the device, and the host keeps serving.
    sock = os.path.join(DIR, "serve.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    log = open(os.path.join(DIR, "serve.log"), "w")
    serve = subprocess.Popen([PARTITA, "serve", "--socket", sock], stdout=log,
                             stderr=subprocess.STDOUT, env=env())

    def ctl(*args):
        return subprocess.run([PARTITA, "ctl", "--socket", sock, *args],
                              capture_output=True, text=True, timeout=20)
    try:
        for _ in range(100):
            if os.path.exists(sock) or serve.poll() is not None:
                break
            time.sleep(0.05)
        check(serve.poll() is None, "partita serve is up")
        ctl("create-pipeline", "live")
        p = ctl("init", "live", "spk", "playback", "device=nosuch_pcm")
        check(p.returncode == 1 and "'nosuch_pcm'" in p.stderr,
              "serve: unknown device refused naming it (%s)" % p.stderr.strip())
        p = ctl("init", "live", "hold", "playback", "device=ptbusy")
        check(p.returncode == 0, "serve: the device opens once")
        p = ctl("init", "live", "spk", "playback", "device=ptbusy")
        check(p.returncode == 1 and "'ptbusy'" in p.stderr and "busy" in p.stderr,
              "serve: busy device refused naming it (%s)" % p.stderr.strip())
        ctl("delete", "hold")
        ctl("init", "live", "tone1", "tone")
        p = ctl("init", "live", "spk", "playback", "device=ptclock")
        check(p.returncode == 0, "serve: playback on ptclock created")
        ctl("bind", "tone1", "spk", "sample=FLOAT_LE")
        p = ctl("state", "live", "running")
        check(p.returncode == 1 and "'ptclock'" in p.stderr and "FLOAT_LE" in p.stderr,
              "serve: refused format refused naming device and format (%s)"
              % p.stderr.strip())
        # Still serving: rebind in a format the device takes and play.
        ctl("unbind", "tone1", "spk")
        ctl("bind", "tone1", "spk", "sample=S32_LE")
        p = ctl("state", "live", "running")
        check(p.returncode == 0, "serve: plays once the format fits (%s)" % p.stderr.strip())
        time.sleep(0.3)
        p = ctl("stats", "spk")
        m = re.search(r"^\d+\s+spk\s+playback\s+\d+\s+prepared\s+\S+\s+\S+\s+(\d+)",
                      p.stdout, re.M)
        check(m is not None and int(m.group(1)) > 50,
              "serve: the device plays (%s periods)" % (m and m.group(1)))
    finally:
        serve.send_signal(signal.SIGTERM)
        try:
            rc = serve.wait(timeout=10)
        except subprocess.TimeoutExpired:
            serve.kill()
            rc = -1
        log.close()
    check(rc == 0, "serve exits cleanly (%s)" % rc)


def stats_json_devices():
    # --stats-json names each device endpoint's device and its xruns.
    stats = os.path.join(DIR, "dev-stats.json")
    rc, out, err = run("--playback", "null", "--seconds", "0.2", "--quiet",
                       "--stats-json", stats)
    check(rc in (0, 3), "playback to null with --stats-json (%s)" % err.strip()[-200:])
    with open(stats) as f:
        inst = {i["name"]: i for i in json.load(f)["instances"]}
    out_inst = [i for i in inst.values() if i["module"] == "playback"]
    check(len(out_inst) == 1 and out_inst[0].get("device") == "null" and
          out_inst[0].get("xruns") == 0, "the device and its xruns are in the stats (%s)" %
          out_inst)
    check(all("xruns" not in i for i in inst.values() if i["module"] != "playback"),
          "other instances carry no xruns")


def topology_device_is_live():
    # A topology that names a sound device runs one period per step: the
    # periods run are the length asked plus a few, not rounded up to an
    # offline batch of 64.
    topo = os.path.join(DIR, "dev-live.yaml")
    with open(topo, "w") as f:
        f.write("""pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone}
      - {name: spk, module: playback, params: {device: "null"}}
    bindings:
      - {from: tone1.0, to: spk.0, format: {rate: 48000, channels: 2, sample: S16_LE}}
""")
    stats = os.path.join(DIR, "dev-live.json")
    rc, out, err = run(topo, "--seconds", "0.3", "--quiet", "--stats-json", stats)
    check(rc == 0, "a topology with a device runs (%s)" % err.strip()[-200:])
    with open(stats) as f:
        periods = json.load(f)["periods"]
    check(300 <= periods < 310, "one period per step: %d periods for 0.3 s" % periods)


def main():
    setup()
    for t in (null_realtime_two_seconds, clock_stall_xrun, capture_null,
              capture_file_plugin, topology_playback, errors, serve_errors,
              stats_json_devices, topology_device_is_live):
        print("--", t.__name__)
        t()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
