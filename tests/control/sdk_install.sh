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
echo "sdk install: ok"
