#!/bin/sh
# The module SDK end to end: install into a temporary prefix, find it with
# pkg-config, build the template module with its own Makefile, and check
# the result with `partita inspect`, unsigned and then signed.
set -eu
build=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/share/pkgconfig"
pkg-config --exists partita-module
cflags=$(pkg-config --cflags partita-module)
case "$cflags" in *"/include"*) ;; *) echo "cflags without include dir: $cflags"; exit 1;; esac
test -f "$tmp/prefix/include/partita/module.h"
test -f "$tmp/prefix/include/partita/control.h"
test -f "$tmp/prefix/include/partita/params.h"
tdir=$(pkg-config --variable=templatedir partita-module)
test -f "$tdir/Makefile"
cp -r "$tdir" "$tmp/mod"
partita="$tmp/prefix/bin/partita"
make -s -C "$tmp/mod" NAME=mine PARTITA="$partita" >/dev/null
test -f "$tmp/mod/pt_mine.so"
out=$(make -s -C "$tmp/mod" NAME=mine PARTITA="$partita" inspect)
echo "$out" | grep -q "module:      template"
echo "$out" | grep -q "signature:   unsigned"
make -s -C "$tmp/mod" NAME=mine PARTITA="$partita" sign >/dev/null
out=$("$partita" inspect --trust "$tmp/mod/module.key.pub" --require-signed "$tmp/mod/pt_mine.so")
echo "$out" | grep -q "signed, trusted key"
# a changed library no longer verifies
printf 'x' >> "$tmp/mod/pt_mine.so"
if "$partita" inspect "$tmp/mod/pt_mine.so" 2>"$tmp/err"; then
	echo "a tampered library was accepted"; exit 1
fi
grep -q "does not verify" "$tmp/err"
# The template refuses a misspelt parameter (partita/params.h), from the
# installed command, which finds its domain binary beside it.
cat > "$tmp/mod/t.yaml" <<EOF
pipelines:
  - name: main
    instances:
      - {name: tone1, module: tone}
      - {name: m, library: pt_mine.so, params: {gain_bd: -6}}
      - {name: out, module: output, params: {file: t.wav}}
    bindings:
      - {from: tone1.0, to: m.0}
      - {from: m.0, to: out.0}
EOF
make -s -C "$tmp/mod" NAME=mine clean all >/dev/null
if "$partita" run "$tmp/mod/t.yaml" --seconds 0.1 --quiet 2>"$tmp/err"; then
	echo "a misspelt parameter was accepted"; exit 1
fi
grep -q "unknown parameter 'gain_bd'" "$tmp/err"
sed -i 's/gain_bd/gain_db/' "$tmp/mod/t.yaml"
"$partita" run "$tmp/mod/t.yaml" --seconds 0.1 --quiet
test -f "$tmp/mod/t.wav"
echo "sdk install: ok"
