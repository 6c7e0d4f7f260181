#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, from its seeds.
set -euo pipefail
build=$1 secs=$2
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build"/fuzz/fuzz_*)
[ ${#targets[@]} -gt 0 ] || { echo "fuzz: no targets built in $build/fuzz" >&2; exit 1; }
for t in "${targets[@]}"; do
	name=$(basename "$t")
	corpus=$(mktemp -d)
	seeds="$root/tests/fuzz/seeds/${name#fuzz_}"
	[ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
	echo "fuzz: $name for ${secs}s"
	"$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$corpus" \
		>"$corpus.log" 2>&1 || { tail -40 "$corpus.log" >&2; echo "fuzz: $name found a failure" >&2; exit 1; }
	grep -E '^stat::number_of_executed_units' "$corpus.log" || true
	rm -rf "$corpus" "$corpus.log"
done
