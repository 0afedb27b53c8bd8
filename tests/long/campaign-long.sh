#!/bin/sh
# make check-long: longer campaigns than make check runs.  The correct
# guest must pass every point under each policy; every detected bug
# variant must still be caught.
set -u
SIM="${top_builddir:-.}/phantom-sim"
CFG="${top_srcdir:-.}/configs/optane.json"
WORK=$(mktemp -d /tmp/phantom-long.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export TMPDIR="$WORK"
fails=0
passes=0
run() {  # run NAME WANT_STATUS ARGS...
	name=$1 want=$2; shift 2
	"$SIM" campaign --config "$CFG" "$@" >"$WORK/out" 2>&1
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		passes=$((passes + 1)); echo "ok - $name: $(head -1 "$WORK/out")"
	else
		fails=$((fails + 1)); echo "FAIL - $name (exit $rc, wanted $want):"; head -5 "$WORK/out"
	fi
}
for policy in strict lenient random; do
	run "correct guest, $policy, 400 uniform points" 0 --policy "$policy" --crashes 400 --seed 11
done
run "correct guest, random+tearing, 400 points around commits" 0 --policy random --tearing \
	--crashes 400 --points around-commits --around 400 --seed 12
for bug in no-flush no-data-flush root-first root-in-place in-place; do
	run "bug=$bug, 200 points around commits" 1 \
		--set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 bug=$bug" \
		--crashes 200 --points around-commits --around 300 --seed 13
done
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
