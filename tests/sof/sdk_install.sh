#!/bin/sh
# partita-sof-build as the SDK installs it: from an install prefix, with a
# firmware tree, a module it builds loads and shows its manifest.
set -eu
build=$1
sof=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
"$tmp/prefix/bin/partita-sof-build" --sof "$sof" src/audio/template -o "$tmp/pt_sof_template.so" >/dev/null
out=$("$tmp/prefix/bin/partita" inspect "$tmp/pt_sof_template.so")
echo "$out" | grep -q "module:      template"
echo "$out" | grep -q "binary-init"
echo "installed partita-sof-build: ok"
