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

# Each bug variant is found, as a durability failure.
for bug in no-flush no-data-flush root-first root-in-place in-place; do
	"$SIM" campaign $BASE --set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 bug=$bug" \
		--crashes 30 --points around-commits --around 150 --report "$WORK/$bug.json" >"$WORK/out" 2>&1
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q "FAIL durability" "$WORK/out"; then
		ok "bug=$bug found: $(grep -c 'FAIL' "$WORK/out") failing points"
	else
		bad "bug=$bug not found (exit $rc): $(grep -E 'campaign' "$WORK/out")"
	fi
done

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

# Bad input.
expect_fail bad-policy 2 "--policy sometimes: expected strict, lenient or random" -- "$SIM" campaign $BASE --policy sometimes
expect_fail bad-shard 2 "--shard 3/2: expected K/M" -- "$SIM" campaign $BASE --shard 3/2
expect_fail bad-window 2 "--window 9..3: expected A..B" -- "$SIM" campaign $BASE --points exhaustive --window 9..3
expect_fail no-pmem 2 "campaigns need persistent memory" -- "$SIM" campaign --config "$SRC/configs/dram.json"
finish
