#!/usr/bin/env bash
# Installs the Debian packages Partita builds and tests with, when missing.
set -euo pipefail

pkgs=(gcc make cmake pkg-config clang libclang-rt-14-dev
      libseccomp-dev libyaml-dev libsndfile1-dev libelf-dev libsodium-dev
      libspeexdsp-dev libcmocka-dev libasound2-dev alsa-utils
      espeak-ng sox strace python3
      liblilv-dev lv2-dev ladspa-sdk lilv-utils
      swh-lv2 mda-lv2 fomp cmt tap-plugins)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "partita: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "partita: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
	sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "partita: apt-get could not install: ${missing[*]}" >&2
	exit 1
fi
rm -f "$log"
