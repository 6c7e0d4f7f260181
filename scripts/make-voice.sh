#!/bin/sh
# Makes a noisy voice file for topologies/voice.yaml: a sentence spoken by
# espeak-ng, at 48 kHz mono 16-bit, with white noise mixed in at about
# 15 dB below the voice.
#   scripts/make-voice.sh noisy.wav
set -eu
out=${1:-noisy.wav}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
espeak-ng -w "$tmp/voice.wav" \
	"Isolation is worth something only when real signal processing runs inside it at full speed."
sox "$tmp/voice.wav" -r 48000 -c 1 -b 16 "$tmp/voice48.wav" norm -3
len=$(soxi -D "$tmp/voice48.wav")
sox -n -r 48000 -c 1 -b 16 "$tmp/noise.wav" synth "$len" whitenoise vol 0.06
sox -m "$tmp/voice48.wav" "$tmp/noise.wav" "$out"
echo "$out: $(soxi -D "$out") s of noisy voice at 48 kHz"
