#!/bin/sh
# Fault-injection campaigns on the Phantom guest: the correct guest passes
# every crash point; each guest variant with a known persistence bug is
# caught with the right category; shards merge to the unsharded report;
# --only reproduces a point; bad options get one clear line.
. "${top_srcdir:-.}/tests/cli/lib.sh"

[ -e "${top_builddir:-.}/phantom-kernel.elf" ] || { echo "SKIP: no guest kernel"; exit 77; }
CFG="$SRC/configs/optane.json"
BASE="--config $CFG --set run.max_time_us=60000 --seed 3"
export TMPDIR="$WORK"

# The correct guest: every point passes.
"$SIM" campaign $BASE --crashes 24 --report "$WORK/ok.json" --junit "$WORK/ok.xml" >"$WORK/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && grep -q "24 crash points, 24 passed, 0 failed" "$WORK/out"; then
	ok "correct guest: 24 uniform points pass"
else
	bad "correct guest (exit $rc): $(cat "$WORK/out")"
fi
"$SIM" campaign $BASE --crashes 24 --points around-commits --around 150 --tearing >"$WORK/out" 2>&1 &&
	ok "correct guest: 24 points around commits, with tearing, pass" ||
	bad "correct guest around commits: $(grep -E 'FAIL|campaign' "$WORK/out" | head -5)"
[ "$(grep -c '<testcase ' "$WORK/ok.xml")" -eq 24 ] && ok "JUnit: one test case per point" || bad "JUnit test cases"
grep -q '"verdict":[[:space:]]*"pass"' "$WORK/ok.json" && grep -q '"repro":[[:space:]]*"phantom-sim campaign' "$WORK/ok.json" &&
	ok "JSON report has verdicts and reproducers" || bad "JSON report: $(head -c 400 "$WORK/ok.json")"

# configs/optane.json runs frames=pm (pages written since their snapshot
# live in PM); the same guest with frames=dram, which copies them at the
# snapshot, passes too.
"$SIM" campaign $BASE --set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 frames=dram" \
	--crashes 24 --points around-commits --around 150 --tearing >"$WORK/out" 2>&1 &&
	ok "frames=dram: 24 points around commits, with tearing, pass" ||
	bad "frames=dram around commits: $(grep -E 'FAIL|campaign' "$WORK/out" | head -5)"

# The fork server (one booted machine, forked per point) and the crash
# states from checkpoints give exactly the verdicts of a fresh boot on
# every crash image taken in a rerun from boot (--reboot).
"$SIM" campaign $BASE --crashes 6 --report "$WORK/fs.json" >/dev/null 2>&1
"$SIM" campaign $BASE --crashes 6 --reboot --report "$WORK/rb.json" >/dev/null 2>&1
cmp -s "$WORK/fs.json" "$WORK/rb.json" && ok "fork server and fresh reboots: identical reports" ||
	bad "fork server and --reboot differ: $(diff "$WORK/fs.json" "$WORK/rb.json" | head -6)"
# Recovery runs use fast timing; the config's (approximate) timing changes
# the simulated recovery times and nothing else.
"$SIM" campaign $BASE --crashes 6 --recovery-timing config --report "$WORK/ct.json" >/dev/null 2>&1
grep -q '"repro":.*--recovery-timing config --only' "$WORK/ct.json" &&
	grep -v -e '"recovery_ps"' -e '"repro"' "$WORK/fs.json" >"$WORK/fs.v" &&
	grep -v -e '"recovery_ps"' -e '"repro"' "$WORK/ct.json" >"$WORK/ct.v" &&
	cmp -s "$WORK/fs.v" "$WORK/ct.v" && ok "--recovery-timing config: the same verdicts" ||
	bad "--recovery-timing config differs: $(diff "$WORK/fs.v" "$WORK/ct.v" | head -6)"

# caught NAME CATEGORY ARGS...: the campaign fails, with at least one point
# of CATEGORY (or of any of "a|b") and none of another.
caught() {
	name=$1 cat=$2; shift 2
	"$SIM" campaign "$@" >"$WORK/out" 2>&1
	rc=$?
	n=$(grep -cE "FAIL ($cat) " "$WORK/out")
	other=$(grep '^  FAIL ' "$WORK/out" | grep -vcE "FAIL ($cat) ")
	if [ "$rc" -eq 1 ] && [ "$n" -gt 0 ] && [ "$other" -eq 0 ]; then
		ok "$name found: $n $cat failures"
	else
		bad "$name (exit $rc, $n $cat, $other other): $(grep -E 'FAIL|campaign' "$WORK/out" | head -4)"
	fi
}

# Each persistent-memory bug variant is found, with its category: lost
# commits are durability failures; a root recovered over data that never
# landed (no data fence, recovery trusting the order) fails the guest's
# own digest check.
for v in no-flush:durability no-data-flush:durability root-first:durability \
	 root-in-place:durability in-place:durability no-commit-fence:durability \
	 no-data-fence:selfcheck; do
	bug=${v%%:*}
	caught "bug=$bug" "${v#*:}" $BASE --set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 bug=$bug" \
		--crashes 30 --points around-commits --around 150 --report "$WORK/$bug.json"
done

# The disk backend: the correct guest passes; writes without FLUSH lose
# reported commits.
DISK="--config $SRC/configs/nvme.json --set run.max_time_us=60000 --seed 3"
"$SIM" campaign $DISK --crashes 16 --report "$WORK/disk.json" >"$WORK/out" 2>&1 &&
	ok "disk: correct guest, 16 uniform points pass" ||
	bad "disk correct guest: $(grep -E 'FAIL|campaign' "$WORK/out" | head -5)"
"$SIM" campaign $DISK --crashes 16 --reboot --report "$WORK/disk-rb.json" >/dev/null 2>&1
cmp -s "$WORK/disk.json" "$WORK/disk-rb.json" && ok "disk: fork server and --reboot, identical reports" ||
	bad "disk: fork server and --reboot differ: $(diff "$WORK/disk.json" "$WORK/disk-rb.json" | head -6)"
caught "disk bug=no-disk-flush" durability $DISK \
	--set "guest.cmdline=backend=disk workload=bank snapshot_ms=10 bug=no-disk-flush" \
	--crashes 16 --points around-commits --around 10

# Under frames=pm the newest root's own pages are checked only once its
# seal record is written, and no-data-fence also turns checks off, so
# data that never landed is found by the workload's invariant or the
# digest.
caught "frames=pm bug=no-data-fence" "selfcheck|atomicity" $BASE \
	--set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 frames=pm bug=no-data-fence" \
	--crashes 30 --points around-commits --around 150

# Crash states from the pass-1 checkpoints are those of a rerun from boot
# (--reboot), around commits and with failures too.
"$SIM" campaign $BASE --set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 bug=in-place" \
	--crashes 30 --points around-commits --around 150 --reboot --report "$WORK/in-place-rb.json" >/dev/null 2>&1
cmp -s "$WORK/in-place.json" "$WORK/in-place-rb.json" && ok "checkpoints and a rerun from boot: identical reports" ||
	bad "checkpoints and --reboot differ: $(diff "$WORK/in-place.json" "$WORK/in-place-rb.json" | head -6)"

# --only reproduces exactly the point the report names.
ord=$(awk '/"ordinal":/ { gsub(/[^0-9]/, "", $2); o = $2 }
	/"verdict":/ && !/"pass"/ { print o; exit }' "$WORK/in-place.json")
if [ -n "$ord" ]; then
	"$SIM" campaign $BASE --set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 bug=in-place" \
		--crashes 30 --points around-commits --around 150 --only "$ord" >"$WORK/out" 2>&1
	grep -q "1 crash points, 0 passed, 1 failed" "$WORK/out" && ok "--only $ord reproduces the failure" ||
		bad "--only $ord: $(cat "$WORK/out")"
fi

# Shards merge into the unsharded report, byte for byte.
"$SIM" campaign $BASE --crashes 12 --report "$WORK/all.json" >/dev/null 2>&1
"$SIM" campaign $BASE --crashes 12 --shard 1/2 --report "$WORK/s1.json" >/dev/null 2>&1
"$SIM" campaign $BASE --crashes 12 --shard 2/2 --report "$WORK/s2.json" >/dev/null 2>&1
"$SIM" campaign merge -o "$WORK/merged.json" "$WORK/s1.json" "$WORK/s2.json" >/dev/null 2>&1
cmp -s "$WORK/all.json" "$WORK/merged.json" && ok "two shards merge into the unsharded report" ||
	bad "merged shards differ from the unsharded report"
"$SIM" campaign $BASE --crashes 12 --jobs 1 --report "$WORK/j1.json" >/dev/null 2>&1
"$SIM" campaign $BASE --crashes 12 --jobs 3 --report "$WORK/j3.json" >/dev/null 2>&1
cmp -s "$WORK/all.json" "$WORK/j1.json" && cmp -s "$WORK/all.json" "$WORK/j3.json" &&
	ok "--jobs 1, 2 and 3: identical reports" || bad "--jobs changes the report"

# Bad input.
expect_fail bad-policy 2 "--policy sometimes: expected strict, lenient or random" -- "$SIM" campaign $BASE --policy sometimes
expect_fail bad-shard 2 "--shard 3/2: expected K/M" -- "$SIM" campaign $BASE --shard 3/2
expect_fail bad-timing 2 "--recovery-timing slow: expected fast or config" -- "$SIM" campaign $BASE --recovery-timing slow
expect_fail bad-window 2 "--window 9..3: expected A..B" -- "$SIM" campaign $BASE --points exhaustive --window 9..3
expect_fail no-pmem 2 "campaigns need persistent memory" -- "$SIM" campaign --config "$SRC/configs/dram.json"
finish
