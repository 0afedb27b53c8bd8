#!/bin/sh
# make check-long: longer campaigns than make check runs.  The correct
# guest must pass every point under each policy, on persistent memory
# (frames=pm and frames=dram) and on the disk; every bug variant must be
# caught, with its category only.
set -u
SIM="${top_builddir:-.}/phantom-sim"
CFG="${top_srcdir:-.}/configs/optane.json"
WORK=$(mktemp -d /tmp/phantom-long.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
export TMPDIR="$WORK"
fails=0
passes=0
run() {  # run NAME WANT_STATUS WANT_CATEGORY ARGS...
	name=$1 want=$2 cat=$3; shift 3
	"$SIM" campaign "$@" >"$WORK/out" 2>&1
	rc=$?
	other=0
	[ -n "$cat" ] && other=$(grep '^  FAIL ' "$WORK/out" | grep -vc "FAIL $cat ")
	if [ "$rc" -eq "$want" ] && [ "$other" -eq 0 ]; then
		passes=$((passes + 1)); echo "ok - $name: $(grep 'crash points,' "$WORK/out")"
	else
		fails=$((fails + 1)); echo "FAIL - $name (exit $rc, wanted $want; $other not $cat):"
		grep -E 'FAIL|campaign' "$WORK/out" | head -5
	fi
}
PM="--config $CFG"
DISK="--config ${top_srcdir:-.}/configs/nvme.json"
for policy in strict lenient random; do
	run "correct guest, $policy, 400 uniform points" 0 "" $PM --policy "$policy" --crashes 400 --seed 11
done
run "correct guest, random+tearing, 400 points around commits" 0 "" $PM --policy random --tearing \
	--crashes 400 --points around-commits --around 400 --seed 12
# optane.json runs frames=pm; frames=dram, and frames=pm with every page
# of a snapshot dirtied in the tick before its pause, pass as well.
run "correct guest, frames=dram, random+tearing, 400 points around commits" 0 "" $PM \
	--set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 frames=dram" --policy random \
	--tearing --crashes 400 --points around-commits --around 400 --seed 12
run "frames=pm workload=dirty late, random+tearing, 300 points around commits" 0 "" $PM \
	--set "guest.cmdline=backend=pmem workload=dirty dirty_pages=40 dirty_mode=late objspace_mb=8 snapshot_ms=10 frames=pm" \
	--set run.max_time_us=100000 --policy random --tearing --crashes 300 --points around-commits \
	--around 300 --seed 12
run "correct guest on the disk, random, 60 points" 0 "" $DISK --crashes 60 --seed 11
for v in no-flush:durability no-data-flush:durability root-first:durability \
	 root-in-place:durability in-place:durability no-commit-fence:durability \
	 no-data-fence:selfcheck; do
	bug=${v%%:*}
	run "bug=$bug, 200 points around commits" 1 "${v#*:}" $PM \
		--set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 bug=$bug" \
		--crashes 200 --points around-commits --around 300 --seed 13
done
run "disk bug=no-disk-flush, 60 points around commits" 1 durability $DISK \
	--set "guest.cmdline=backend=disk workload=bank snapshot_ms=10 bug=no-disk-flush" \
	--crashes 60 --points around-commits --around 10 --seed 13
echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
