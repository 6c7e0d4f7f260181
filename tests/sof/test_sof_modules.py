#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The seven modules of the firmware corpus, built unmodified with
partita-sof-build (CMake target sof_modules): `partita inspect` shows the
manifests the firmware's uuid-registry.txt and .toml give; each runs in a
domain from a topology on files (with its configuration or init blob, as
the firmware's topology would give it); a module using something the
adapter does not provide fails at build time naming the symbol; and a
firmware module that crashes, hangs or lies is contained like any other
while the other branch's output stays bit-identical."""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import wave

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from partita_cli import BUILD, PARTITA, chain, check, ctl, errors, serve  # noqa: E402
SOF = os.environ.get("PARTITA_SOF_DIR", "")
SRC = os.environ.get("PARTITA_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
LIBS = os.path.join(BUILD, "tests", "sof")
TOOL = os.path.join(SRC, "sdk", "sof", "partita-sof-build")
FRAMES = 4800


def registry():
    reg = {}
    for line in open(os.path.join(SOF, "uuid-registry.txt")):
        line = line.split("#", 1)[0].split()
        if len(line) == 2:
            reg[line[1]] = line[0]
    return reg


def conf_bytes(path):
    """The bytes of a firmware topology .conf blob, without its 32-byte ABI
    header (IPC4 carries the payload only)."""
    text = open(path).read()
    m = re.search(r'bytes\s+"([^"]*)"', text, re.S)
    raw = bytes(int(v, 16) for v in re.findall(r"0x[0-9a-fA-F]{2}", m.group(1)))
    size = struct.unpack_from("<I", raw, 8)[0]
    return raw[32:32 + size]


def audio_format(rate=48000, channels=2, depth=32, valid=32):
    """struct ipc4_audio_format: rate, depth, ch_map, ch_cfg, interleaving,
    then channels/valid bits/sample type (signed) in one word."""
    return struct.pack("<IIIIII", rate, depth, 0xFFFF3210, 1 if channels == 2 else 0, 0,
                       channels | (valid << 8) | (2 << 16))


def write_input(path):
    with wave.open(path, "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(4)
        w.setframerate(48000)
        s = [((i * 2654435761) & 0xffffff00) // 4 - (1 << 29) for i in range(FRAMES * 2)]
        w.writeframes(struct.pack("<%di" % len(s), *s))


def frames_of(path):
    with wave.open(path, "rb") as w:
        return w.getnframes(), w.readframes(w.getnframes())


def run(d, body, *args):
    topo = os.path.join(d, "t.yaml")
    with open(topo, "w") as f:
        f.write(body)
    return subprocess.run([PARTITA, "run", topo, "--quiet"] + list(args), capture_output=True,
                          text=True, timeout=120)


FMT = "{rate: 48000, channels: 2, sample: S32_LE}"


def main():
    if not os.path.isdir(os.path.join(SOF, "src", "include")):
        print("skipped: no firmware tree at PARTITA_SOF_DIR (%s)" % SOF)
        return 77
    reg = registry()
    comp = os.path.join(SOF, "tools", "topology", "topology2", "include", "components")
    with tempfile.TemporaryDirectory() as d:
        write_input(os.path.join(d, "in.wav"))
        blobs = {
            "dcblock": ("config_blob", struct.pack("<8i", *([1052266987] * 8))),
            "eq_iir": ("config_blob", conf_bytes(os.path.join(comp, "eqiir", "highpass_100hz_0db_48khz.conf"))),
            "eq_fir": ("config_blob", conf_bytes(os.path.join(comp, "eqfir", "loudness.conf"))),
            "drc": ("config_blob", conf_bytes(os.path.join(comp, "drc", "enabled.conf"))),
            # one ipc4_peak_volume_config for all channels: half scale, no ramp
            "volume": ("init_blob", struct.pack("<IIIIQ", 0xFFFFFFFF, 0x3FFFFFFF, 0, 0, 0)),
            # the reference and output formats after the base config: two
            # stereo inputs side by side in four output channels
            "mux": ("init_blob", audio_format() + audio_format(channels=4)),
            "template": (None, b""),
        }
        names = {"dcblock": ("dcblock", "dcblock"), "eq_iir": ("eqiir", "eq_iir"),
                 "eq_fir": ("eqfir", "eq_fir"), "drc": ("drc", "drc"),
                 "volume": ("peakvol", "volume4"), "mux": ("mux", "mux4"),
                 "template": ("template", "template")}
        for m, (kind, blob) in blobs.items():
            lib = os.path.join(LIBS, "pt_sof_%s.so" % m)
            p = subprocess.run([PARTITA, "inspect", lib], capture_output=True, text=True)
            name, regname = names[m]
            a, b, c, dd = reg.get(regname, "x-x-x-x").split("-")
            # inspect prints the UUID as RFC 4122 text of the same 16 bytes
            le = lambda h: bytes.fromhex(h)[::-1].hex()
            want = "%s-%s-%s-%s-%s" % (le(a), le(b), le(c), dd[:4], dd[4:])
            check(p.returncode == 0 and re.search(r"module:\s+%s\n" % name, p.stdout) and want in p.stdout,
                  "inspect %s: module %s, uuid %s from uuid-registry.txt (%s)" %
                  (os.path.basename(lib), name, reg.get(regname), p.stderr.strip()))
            extra = ""
            if kind:
                with open(os.path.join(d, "%s.bin" % m), "wb") as f:
                    f.write(blob)
                extra = ", %s: %s.bin" % (kind, m)
            inst = "{name: m, library: %s, isolation: process, max_misses: 1000%s}" % (lib, extra)
            body = chain(d, inst, "m", FMT, FMT)
            if m == "mux":
                body = """pipelines:
  - name: main
    instances:
      - {name: in, module: input, params: {file: "%(d)s/in.wav"}}
      - {name: in2, module: input, params: {file: "%(d)s/in.wav"}}
      - %(inst)s
      - {name: out, module: output, params: {file: "%(d)s/out.wav"}}
    bindings:
      - {from: in.0, to: m.0, format: %(f)s}
      - {from: in2.0, to: m.1, format: %(f)s}
      - {from: m.0, to: out.0, format: {rate: 48000, channels: 4, sample: S32_LE}}
""" % {"d": d, "inst": inst, "f": FMT}
            r = run(d, body)
            n, data = frames_of(os.path.join(d, "out.wav")) if r.returncode == 0 else (0, b"")
            check(r.returncode == 0 and n == FRAMES and any(data),
                  "%s runs in a domain from a topology: %d frames out (%s)" %
                  (m, n, r.stderr.strip()[-300:]))

        # get_configuration through the control plane: volume answers its
        # IPC4 volume (param 0) per channel, the target the init gave.
        with open(os.path.join(d, "vol.bin"), "wb") as f:
            f.write(blobs["volume"][1])
        with open(os.path.join(d, "s.yaml"), "w") as f:
            f.write("""pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone}
      - {name: vol, library: %s, isolation: process, init_blob: vol.bin, max_misses: 1000}
      - {name: out, module: output, params: {file: "%s/o.wav"}}
    bindings:
      - {from: tone1.0, to: vol.0, format: %s}
      - {from: vol.0, to: out.0, format: %s}
""" % (os.path.join(LIBS, "pt_sof_volume.so"), d, FMT, FMT))
        sock = os.path.join(d, "s.sock")
        host = serve(sock, os.path.join(d, "s.yaml"), stderr=subprocess.DEVNULL)
        ctl(sock, "state", "main", "running")
        g = ctl(sock, "get-config", "vol", "--param", "0")
        check(g.returncode == 0 and g.stdout.count("ff ff ff 3f") == 2,
              "volume's get_configuration through ctl get-config: both channels at the init target (%s)" %
              (g.stdout.strip().replace("\n", " ")[:120] + g.stderr.strip()))
        host.terminate()
        host.wait(timeout=30)

        # A module that uses something neither the tree nor the adapter has.
        mdir = os.path.join(d, "needy")
        os.mkdir(mdir)
        with open(os.path.join(mdir, "needy.c"), "w") as f:
            f.write("""#include <sof/audio/module_adapter/module/generic.h>
#include <sof/lib/uuid.h>
#include <sof/trace/trace.h>
#include <rtos/init.h>
int firmware_only_service(int x);
SOF_DEFINE_REG_UUID(template);
DECLARE_TR_CTX(needy_tr, SOF_UUID(template_uuid), LOG_LEVEL_INFO);
static int needy_init(struct processing_module *mod) { return firmware_only_service(1); }
static const struct module_interface needy_interface = { .init = needy_init };
DECLARE_MODULE_ADAPTER(needy_interface, template_uuid, needy_tr);
SOF_MODULE_INIT(needy, sys_comp_module_needy_interface_init);
""")
        with open(os.path.join(mdir, "needy.toml"), "w") as f:
            f.write('[[module.entry]]\nname = "NEEDY"\nuuid = UUIDREG_STR_TEMPLATE\n')
        p = subprocess.run(["python3", TOOL, "--sof", SOF, mdir, "-o", os.path.join(d, "needy.so")],
                           capture_output=True, text=True)
        check(p.returncode != 0 and "firmware_only_service (used by" in p.stderr and
              not os.path.exists(os.path.join(d, "needy.so")),
              "a missing symbol fails the build, named: %s" % p.stderr.strip()[-160:])

        # Formats the module's IPC4 base config cannot describe are refused
        # at prepare, named: IPC4 modules pick their processing by bit depth
        # alone (float ran as S32: values near 1e38), none converts sample
        # formats, and with no init payload every pin has one format.
        eq = os.path.join(LIBS, "pt_sof_eq_iir.so")
        with open(os.path.join(d, "eq.bin"), "wb") as f:
            f.write(blobs["eq_iir"][1])
        for fin, fout, want in (("FLOAT_LE", "FLOAT_LE", "input 0 is FLOAT_LE"),
                                ("S32_LE", "S16_LE", "output 0 is S16_LE, input 0 S32_LE"),
                                ("S32_LE 1", "S32_LE", "output 0 is 48000 Hz, 2 channels")):
            fi = "{rate: 48000, channels: %s, sample: %s}" % (
                fin.split()[1] if " " in fin else 2, fin.split()[0])
            fo = "{rate: 48000, channels: 2, sample: %s}" % fout
            inst = "{name: m, library: %s, isolation: process, config_blob: eq.bin}" % eq
            body = """pipelines:
  - name: main
    instances:
      - {name: t, module: tone}
      - %s
      - {name: out, module: output, params: {file: "%s/f.wav"}}
    bindings:
      - {from: t.0, to: m.0, format: %s}
      - {from: m.0, to: out.0, format: %s}
""" % (inst, d, fi, fo)
            r = run(d, body, "--seconds", "0.1")
            check(r.returncode != 0 and want in r.stderr and "'m' (eqiir)" in r.stderr,
                  "eq_iir %s -> %s: refused at prepare, named (%s)" % (fin, fout, r.stderr.strip()[-200:]))

        # A firmware init that fails is named, with what it was not given:
        # volume reads its IPC4 init payload (init_blob:).
        inst = "{name: m, library: %s, isolation: process}" % os.path.join(LIBS, "pt_sof_volume.so")
        r = run(d, chain(d, inst, "m", FMT, FMT), "--seconds", "0.1")
        check(r.returncode == 1 and "'m' (peakvol)" in r.stderr and "firmware init failed: -22" in r.stderr
              and "no init payload" in r.stderr,
              "volume without its init payload: refused, naming it (%s)" % r.stderr.strip()[-200:])

        # partita-sof-build on odd input: a named error, never a traceback.
        odd = os.path.join(d, "odd")
        os.makedirs(os.path.join(odd, "src", "audio"))
        os.symlink(os.path.join(SOF, "src", "include"), os.path.join(odd, "src", "include"))
        shutil.copytree(os.path.join(SOF, "src", "audio", "dcblock"),
                        os.path.join(odd, "src", "audio", "dcblock"))
        bad = os.path.join(d, "bad")
        os.mkdir(bad)
        with open(os.path.join(bad, "bad.toml"), "w") as f:
            f.write('[[module.entry]]\nname = "BAD"\nuuid = UUIDREG_STR_TEMPLATE\n')
        nosrc = os.path.join(d, "nosrc")
        shutil.copytree(bad, nosrc)
        with open(os.path.join(bad, "bad.c"), "w") as f:
            f.write("int bad(void) { return 0 +; }\n")
        for args, want in (
                (["--sof", odd, "src/audio/dcblock"], "has no uuid-registry.txt"),
                (["--sof", SOF, nosrc], "has no C sources"),
                (["--sof", SOF, bad], "compiling %s failed" % os.path.join(bad, "bad.c")),
                (["--sof", SOF, "src/audio/dcblock", "-o", os.path.join(d, "no", "x.so")],
                 "folder %s does not exist" % os.path.join(d, "no")),
                (["--blob", os.path.join(d, "missing.conf")], "missing.conf"),
                # a manifest the host would refuse is not written
                (["--sof", SOF, "src/audio/dcblock", "--heap", "100"], "heap is 4096..268435456"),
                (["--sof", SOF, "src/audio/dcblock", "--stack", "-1"], "stack is 16384..8388608")):
            if "-o" not in args:
                args = args + ["-o", os.path.join(d, "odd.so")]
            p = subprocess.run(["python3", TOOL] + args, capture_output=True, text=True)
            check(p.returncode == 1 and want in p.stderr and "Traceback" not in p.stderr,
                  "partita-sof-build %s: a named error (%s)" % (" ".join(args[:3]), p.stderr.strip()[-160:]))

        # A module whose .toml names another module's UUID than the one it
        # registers: init says both.
        wrong = os.path.join(d, "wrong")
        os.mkdir(wrong)
        with open(os.path.join(mdir, "needy.c")) as f:
            src = f.read().replace("return firmware_only_service(1);", "return 0;")
        with open(os.path.join(wrong, "wrong.c"), "w") as f:
            f.write(src.replace("needy", "wrong"))
        with open(os.path.join(wrong, "wrong.toml"), "w") as f:
            f.write('[[module.entry]]\nname = "WRONG"\nuuid = UUIDREG_STR_DCBLOCK\n')
        wlib = os.path.join(d, "pt_sof_wrong.so")
        p = subprocess.run(["python3", TOOL, "--sof", SOF, wrong, "-o", wlib], capture_output=True,
                           text=True)
        inst = "{name: m, library: %s, isolation: process}" % wlib
        r = run(d, chain(d, inst, "m", FMT, FMT), "--seconds", "0.1")
        check(p.returncode == 0 and r.returncode != 0 and
              "has UUID %s, the manifest (the .toml entry) %s" % (
                  reg["template"][:23] + "-" + reg["template"][23:],
                  reg["dcblock"][:23] + "-" + reg["dcblock"][23:]) in r.stderr,
              "a module registered under another UUID than its .toml's: init names both (%s)" %
              (p.stderr.strip() + r.stderr.strip())[-240:])

        # A firmware module that crashes, hangs or lies, beside a healthy
        # branch whose output must not change.
        hostile = os.path.join(LIBS, "pt_sof_hostile.so")
        dc = os.path.join(LIBS, "pt_sof_dcblock.so")
        with open(os.path.join(d, "dc.bin"), "wb") as f:
            f.write(blobs["dcblock"][1])
        ref = None
        for how, what in ((0, "healthy"), (1, "crash"), (2, "hang"), (3, "lie")):
            with open(os.path.join(d, "how.bin"), "wb") as f:
                f.write(struct.pack("<I", how))
            body = """pipelines:
  - name: main
    instances:
      - {name: in1, module: input, params: {file: "%(d)s/in.wav"}}
      - {name: in2, module: input, params: {file: "%(d)s/in.wav"}}
      - {name: bad, library: %(h)s, isolation: process, config_blob: how.bin, hang_ms: 300, max_misses: 1000}
      - {name: dc, library: %(dc)s, isolation: process, config_blob: dc.bin, max_misses: 1000}
      - {name: out1, module: output, params: {file: "%(d)s/o1.wav"}}
      - {name: out2, module: output, params: {file: "%(d)s/o2.wav"}}
    bindings:
      - {from: in1.0, to: bad.0, format: %(f)s}
      - {from: bad.0, to: out1.0, format: %(f)s}
      - {from: in2.0, to: dc.0, format: %(f)s}
      - {from: dc.0, to: out2.0, format: %(f)s}
""" % {"d": d, "h": hostile, "dc": dc, "f": FMT}
            js = os.path.join(d, "s.json")
            r = run(d, body, "--stats-json", js)
            try:
                stats = {i["name"]: i for i in json.load(open(js))["instances"]}
            except (OSError, ValueError, KeyError):
                stats = {}
            n1, _ = frames_of(os.path.join(d, "o1.wav")) if os.path.exists(os.path.join(d, "o1.wav")) else (0, b"")
            n2, o2 = frames_of(os.path.join(d, "o2.wav")) if os.path.exists(os.path.join(d, "o2.wav")) else (0, b"")
            bad = stats.get("bad", {})
            if how == 0:
                ref = o2
                check(r.returncode == 0 and bad.get("faults") == 0, "hostile module healthy: runs (%s)" %
                      r.stderr.strip()[-200:])
                continue
            contained = (bad.get("faults", 0) >= 1 or bad.get("state") == "FAILED") if how != 3 else \
                ("process failed" in r.stderr or bad.get("faults", 0) >= 1)
            check(contained and n1 == FRAMES and n2 == FRAMES and o2 == ref,
                  "firmware module %s: contained (%s, faults %s, %s), both outputs %d/%d frames, the other branch bit-identical" %
                  (what, bad.get("state"), bad.get("faults"), bad.get("fault_reason", "")[:60], n1, n2))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
