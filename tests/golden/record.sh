#!/bin/sh
# Records the golden runs (tests/test_golden.py replays them) with the
# etrace of this tree: sh tests/golden/record.sh VERSION (as root, after make).
# The programs run from a fixed directory, GOLDEN_DIR below, because a
# recording names them by the paths they ran from and a replay reads them
# there again: the test puts the copies kept in tests/golden/bin back there.
set -eu
ver=${1:?usage: record.sh VERSION}
top=$(cd "$(dirname "$0")/../.." && pwd)
etrace=$top/build/etrace
out=$top/tests/golden/$ver
bin=$top/tests/golden/bin
GOLDEN_DIR=/tmp/etrace-golden-v1   # the same for every version: the test installs bin/ there
mkdir -p "$out" "$bin/suite" "$GOLDEN_DIR/suite"
# the programs are copied once: earlier versions' recordings name these
# very files (their build-ids), so a new version records with them too
for p in crash_null heap_leaks connect_refused forkexec; do
	[ -e "$bin/$p" ] || cp "$top/build/testprogs/$p" "$bin/$p"
done
for f in test-parse test-version Makefile driver.sh; do
	[ -e "$bin/suite/$f" ] || cp "$top/build/testprogs/suite/$f" "$bin/suite/$f"
done
cp -r "$bin/." "$GOLDEN_DIR/"
cd "$GOLDEN_DIR"
rec() {
	name=$1; shift
	"$etrace" run --record "$out/$name.rec" -o /dev/null -- "$@" >/dev/null 2>&1 || true
	"$etrace" report "$out/$name.rec" >"$out/$name.txt"
	"$etrace" report -f json "$out/$name.rec" >"$out/$name.json"
}
rec crash ./crash_null
rec heap_leak ./heap_leaks stacks
rec net_refused ./connect_refused
rec forkexec ./forkexec
SUITE_FAIL=1 rec suite_failing make -C suite --no-print-directory check
ls -la "$out"
# the recordings are kept compressed (the suite's is ~4 MB raw)
gzip -9nf "$out"/*.rec
