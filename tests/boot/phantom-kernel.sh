#!/bin/sh
# tests/boot/phantom-kernel.sh: the Phantom guest kernel boots under
# `phantom-sim boot`: banner, timer interrupts, a clean power-off
# (isa-debug-exit 0 -> status 1); then on the Optane machine of
# configs/optane.json with snapshots in persistent memory, twice, the
# second boot recovering what the first committed; and the same on the
# virtio block device of configs/nvme.json.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
top_builddir=$(cd "$top_builddir" && pwd)
top_srcdir=$(cd "$top_srcdir" && pwd)
SIM=$top_builddir/phantom-sim
KERNEL=$top_builddir/phantom-kernel.elf
if ! test -f "$KERNEL"; then
	echo "SKIP: $KERNEL not built (x86-64 hosts only)"
	exit 77
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/boot-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
fail() { echo "FAIL: $*"; cat "$WORK/out" "$WORK/err" 2>/dev/null; exit 1; }

# 1. No persistent memory: the C self-test workload, three periods.
timeout 120 "$SIM" boot "$KERNEL" --append "workload=ccounter backend=none snapshots=3" \
	--stats "$WORK/stats.json" >"$WORK/out" 2>"$WORK/err"
st=$?
test $st -eq 1 || fail "status $st, expected 1 (clean power-off)"
grep -q '^Phantom guest kernel (phantom-sim)' "$WORK/out" || fail "no banner"
grep -q '^TRACE boot abi=1 port=yes' "$WORK/out" || fail "no boot event"
grep -q '^workload: invariant ok' "$WORK/out" || fail "invariant"
grep -q '^POWEROFF code=0' "$WORK/out" || fail "no power-off"
grep -q '"cpu.interrupts": [1-9]' "$WORK/stats.json" || fail "no timer interrupts"
echo "ok: ccounter, backend=none"

# Deterministic: the same run gives the same output and instruction count.
timeout 120 "$SIM" boot "$KERNEL" --append "workload=ccounter backend=none snapshots=3" \
	--stats "$WORK/stats2.json" >"$WORK/out2" 2>/dev/null
cmp -s "$WORK/out" "$WORK/out2" || fail "serial output differs between two runs"
grep '"run.insns"' "$WORK/stats.json" >"$WORK/i1"
grep '"run.insns"' "$WORK/stats2.json" >"$WORK/i2"
cmp -s "$WORK/i1" "$WORK/i2" || fail "instruction counts differ between two runs"
echo "ok: deterministic"

# The ELF32 copy, entered in 32-bit protected mode (_start32), as QEMU does.
timeout 120 "$SIM" boot "$top_builddir/phantom-kernel.mb32" \
	--append "workload=ccounter backend=none snapshots=3" >"$WORK/out32" 2>"$WORK/err"
st=$?
test $st -eq 1 || fail "mb32: status $st, expected 1"
grep -q '^POWEROFF code=0' "$WORK/out32" || fail "mb32: no power-off"
echo "ok: phantom-kernel.mb32 (32-bit entry)"

# 2. Persistent memory (configs/optane.json): commit, then recover.
cd "$WORK" || exit 1
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
	--set run.max_time_us=0 --append "backend=pmem workload=ccounter snapshot_ms=10 snapshots=3" \
	>"$WORK/out" 2>"$WORK/err"
st=$?
test $st -eq 1 || fail "pmem boot: status $st, expected 1"
grep -q '^TRACE commit gen=' "$WORK/out" || fail "pmem boot: no commit"
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
	--set run.max_time_us=0 --append "backend=pmem workload=ccounter snapshot_ms=10 snapshots=1" \
	>"$WORK/out" 2>"$WORK/err"
st=$?
test $st -eq 1 || fail "pmem reboot: status $st, expected 1"
grep -q '^TRACE recovery_end gen=3 .*selfcheck=0 invariant=0' "$WORK/out" || fail "pmem reboot: no recovery of gen 3"
echo "ok: optane, commit and recovery"

# 3. The virtio block device (configs/nvme.json): commit, then recover.
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/nvme.json" \
	--set run.max_time_us=0 --append "backend=disk workload=ccounter snapshot_ms=10 snapshots=3" \
	>"$WORK/out" 2>"$WORK/err"
st=$?
test $st -eq 1 || fail "disk boot: status $st, expected 1"
grep -q '^TRACE commit gen=3' "$WORK/out" || fail "disk boot: no commit"
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/nvme.json" \
	--set run.max_time_us=0 --append "backend=disk workload=ccounter snapshot_ms=10 snapshots=1" \
	>"$WORK/out" 2>"$WORK/err"
st=$?
test $st -eq 1 || fail "disk reboot: status $st, expected 1"
grep -q '^TRACE recovery_end gen=3 .*selfcheck=0 invariant=0' "$WORK/out" || fail "disk reboot: no recovery of gen 3"
echo "ok: virtio-blk, commit and recovery"

# 4. Write-behind (pageout=): pages dirtied in earlier ticks are written
# during the interval, so a snapshot finds them written; with pageout=0
# it writes them all itself.  Both recover to the committed digest.
for be in pmem:optane disk:nvme; do
	store=${be%%:*} cfg=${be#*:}
	for po in 64 0; do
		rm -f "$WORK"/*.pmem "$WORK"/*.img
		args="backend=$store workload=dirty dirty_pages=40 dirty_mode=spread objspace_mb=8 snapshot_ms=10 pageout=$po frames=dram"
		timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/$cfg.json" \
			--set run.max_time_us=0 --append "$args snapshots=4" >"$WORK/out" 2>"$WORK/err"
		st=$?
		test $st -eq 1 || fail "$store pageout=$po: status $st, expected 1"
		# gen 4 is a whole interval of the workload: 40 dirty pages.
		line=$(grep '^persist: gen 4: ' "$WORK/out")
		behind=$(echo "$line" | sed -n 's/.* 40 dirty pages (\([0-9]*\) written behind.*/\1/p')
		test -n "$behind" || fail "$store pageout=$po: gen 4: $line"
		# The root's delta: with write-behind the committed delta was
		# folded into map pages during the interval, so it holds just
		# this snapshot's 40 pages; without, it keeps growing.
		delta=$(echo "$line" | sed -n 's/.* \([0-9]*\) in the root.s delta.*/\1/p')
		if [ "$po" -eq 0 ]; then
			test "$behind" -eq 0 || fail "$store pageout=0: $behind pages written behind"
			test "$delta" -gt 40 || fail "$store pageout=0: delta of $delta pages"
		else
			# The last tick's pages (4 of 40) are the snapshot's own.
			test "$behind" -ge 30 || fail "$store pageout=$po: only $behind of 40 written behind"
			test "$delta" -eq 40 || fail "$store pageout=$po: delta of $delta pages, not 40"
		fi
		digest=$(sed -n 's/^TRACE commit gen=4 .*digest=\([0-9a-f]*\).*/\1/p' "$WORK/out")
		test -n "$digest" || fail "$store pageout=$po: no digest for gen 4"
		timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/$cfg.json" \
			--set run.max_time_us=0 --append "$args snapshots=1" >"$WORK/out" 2>"$WORK/err"
		grep -q "^TRACE recovery_end gen=4 digest=$digest selfcheck=0 invariant=0" "$WORK/out" ||
			fail "$store pageout=$po: recovery: $(grep recovery_end "$WORK/out")"
		echo "ok: $store, pageout=$po: $behind of 40 pages written behind, delta $delta, gen 4 recovered"
	done
done

# 5. A delta that outgrows the root (328 entries for 8 MiB): without
# write-behind, 200 new pages a snapshot overflow it by gen 2, whose
# commit writes map pages instead; the next deltas start afresh.
rm -f "$WORK"/*.pmem
args="backend=pmem workload=dirty dirty_pages=200 objspace_mb=8 snapshot_ms=10 pageout=0 frames=dram"
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
	--set run.max_time_us=0 --append "$args snapshots=3" >"$WORK/out" 2>"$WORK/err"
grep -q '^persist: gen 2: 200 dirty pages .* 0 in the root.s delta' "$WORK/out" ||
	fail "delta overflow: $(grep '^persist: gen' "$WORK/out")"
grep -q '^persist: gen 3: 200 dirty pages .* 200 in the root.s delta' "$WORK/out" ||
	fail "delta after overflow: $(grep '^persist: gen' "$WORK/out")"
digest=$(sed -n 's/^TRACE commit gen=3 .*digest=\([0-9a-f]*\).*/\1/p' "$WORK/out")
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
	--set run.max_time_us=0 --append "$args snapshots=1" >"$WORK/out" 2>"$WORK/err"
grep -q "^TRACE recovery_end gen=3 digest=$digest selfcheck=0 invariant=0" "$WORK/out" ||
	fail "delta overflow: recovery: $(grep recovery_end "$WORK/out")"
echo "ok: a delta that outgrows the root becomes map pages; recovered"

# 6. frames=pm: a page's first write after its snapshot moves it into a
# free slot, where the workload writes it; the snapshot writes back its
# lines instead of copying it, commits an unsealed root (the pages are
# hashed after the commit) and recovery takes those pages on the commit's
# order.  Without folding (pageout=0), 200 pages a snapshot overflow the
# delta at gen 2: that commit hashes first and writes map pages, so its
# root is sealed.  Each run recovers gen G and goes on for two more.
for run in 40:64:3 200:0:2; do
	n=${run%%:*} po=${run#*:} g=${po#*:} po=${po%%:*}
	rm -f "$WORK"/*.pmem
	args="backend=pmem workload=dirty dirty_pages=$n dirty_mode=late objspace_mb=8 snapshot_ms=10 frames=pm pageout=$po"
	timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
		--set run.max_time_us=0 --append "$args snapshots=$g" >"$WORK/out" 2>"$WORK/err"
	grep -q '^persist: frames=pm: pages written since their snapshot live in the store' "$WORK/out" ||
		fail "frames=pm not taken"
	grep -q "^persist: gen $g: $n dirty pages (0 written behind, $n written in PM)" \
		"$WORK/out" || fail "frames=pm $n: $(grep "^persist: gen $g" "$WORK/out")"
	[ "$n" -eq 40 ] || grep -q "^persist: gen 2: 200 dirty pages .* 0 in the root.s delta" "$WORK/out" ||
		fail "frames=pm: no delta overflow at gen 2"
	digest=$(sed -n "s/^TRACE commit gen=$g .*digest=\([0-9a-f]*\).*/\1/p" "$WORK/out")
	test -n "$digest" || fail "frames=pm $n: no digest for gen $g"
	timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
		--set run.max_time_us=0 --append "$args snapshots=2" >"$WORK/out" 2>"$WORK/err"
	grep -q "^TRACE recovery_end gen=$g digest=$digest selfcheck=0 invariant=0" "$WORK/out" ||
		fail "frames=pm $n: recovery: $(grep recovery_end "$WORK/out")"
	if [ "$n" -eq 40 ]; then
		grep -q "^persist: loading snapshot gen $g (root B, unsealed, with its seal record)" "$WORK/out" &&
		grep -q "^persist: restored gen $g: digest $digest (seal says $digest)" "$WORK/out" ||
			fail "frames=pm: gen $g not unsealed and sealed: $(grep '^persist: \(loading\|restored\)' "$WORK/out")"
	else
		grep -q "^persist: restored gen $g: digest $digest (root says $digest)" "$WORK/out" ||
			fail "frames=pm overflow: root not sealed: $(grep '^persist: restored' "$WORK/out")"
	fi
	# Pages moved into PM after recovery are written back, not copied.
	grep -q "^persist: gen $((g + 2)): $n dirty pages (0 written behind, $n written in PM)" "$WORK/out" ||
		fail "frames=pm $n after recovery: $(grep '^persist: gen' "$WORK/out")"
	echo "ok: frames=pm, $n pages a snapshot: written in PM, gen $g recovered"
done
# A store with too few slots to move every page: some pages stay in
# their DRAM frames and are copied at the snapshot; the snapshot holds
# both kinds and recovers.
rm -f "$WORK"/*.pmem
args="backend=pmem workload=dirty dirty_pages=1000 objspace_mb=8 snapshot_ms=10 frames=pm"
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" --set pmem.size_mb=12 \
	--set run.max_time_us=0 --append "$args snapshots=4" >"$WORK/out" 2>"$WORK/err"
inpm=$(sed -n 's/^persist: gen 4: 1000 dirty pages (0 written behind, \([0-9]*\) written in PM).*/\1/p' "$WORK/out")
digest=$(sed -n 's/^TRACE commit gen=4 .*digest=\([0-9a-f]*\).*/\1/p' "$WORK/out")
[ -n "$inpm" ] && [ "$inpm" -gt 0 ] && [ "$inpm" -lt 1000 ] && [ -n "$digest" ] ||
	fail "frames=pm, small store: $(grep '^persist: gen' "$WORK/out")"
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" --set pmem.size_mb=12 \
	--set run.max_time_us=0 --append "$args snapshots=1" >"$WORK/out" 2>"$WORK/err"
grep -q "^TRACE recovery_end gen=4 digest=$digest selfcheck=0 invariant=0" "$WORK/out" ||
	fail "frames=pm, small store: recovery: $(grep recovery_end "$WORK/out")"
echo "ok: frames=pm, small store: $inpm of 1000 pages in PM, the rest copied; gen 4 recovered"

# frames=pm and frames=dram snapshot the same states: workload=dirty does
# the same writes in each interval however long its faults take, so the
# digests of gens 1-3 are equal.
rm -f "$WORK"/*.pmem
for f in dram pm; do
	timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" --set run.max_time_us=0 \
		--append "backend=pmem workload=dirty dirty_pages=40 dirty_mode=spread objspace_mb=8 snapshot_ms=10 frames=$f snapshots=3 format=1" \
		>"$WORK/out" 2>"$WORK/err"
	grep '^TRACE commit gen=' "$WORK/out" | tr -d '\r' >"$WORK/commits.$f"
done
test "$(wc -l <"$WORK/commits.pm")" -eq 3 && cmp -s "$WORK/commits.dram" "$WORK/commits.pm" ||
	fail "frames=pm and frames=dram commit different digests: $(cat "$WORK/commits.dram" "$WORK/commits.pm")"
echo "ok: frames=pm and frames=dram commit the same digests"

# 7. frames=pm and damage: gen 3's root is unsealed, its seal record
# (block 3) gives the checks of its own pages.  A page of gen 3 smashed:
# the check from the seal catches it and recovery falls back to gen 2.
# The seal record smashed: gen 3 loads unchecked, with its digest.
u32() { od -An -t u4 -j "$1" -N 4 "$WORK/optane.pmem" | tr -d ' '; }
smash() {
	awk 'BEGIN { for (i = 0; i < 4096; i++) printf "%c", 65 + i % 26 }' |
		dd of="$WORK/optane.pmem" bs=4096 seek="$1" count=1 conv=notrunc 2>/dev/null
}
args="backend=pmem workload=dirty dirty_pages=40 dirty_mode=late objspace_mb=8 snapshot_ms=10 frames=pm"
for what in page seal; do
	rm -f "$WORK"/*.pmem
	timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
		--set run.max_time_us=0 --append "$args snapshots=3" >"$WORK/made" 2>"$WORK/err"
	digest2=$(sed -n 's/^TRACE commit gen=2 .*digest=\([0-9a-f]*\).*/\1/p' "$WORK/made")
	digest3=$(sed -n 's/^TRACE commit gen=3 .*digest=\([0-9a-f]*\).*/\1/p' "$WORK/made")
	# Root of gen 3: block 2; flags (u64) at byte 88, ndelta (u32) at 44,
	# entries { u32 page, slot, check } from byte 128 + 4 map references * 8.
	test "$(u32 $((2 * 4096 + 88)))" -eq 1 || fail "gen 3's root is not unsealed"
	if [ "$what" = page ]; then
		slot=
		k=0 ndelta=$(u32 $((2 * 4096 + 44)))
		while [ "$k" -lt "$ndelta" ] && [ -z "$slot" ]; do
			e=$((2 * 4096 + 160 + 12 * k))
			[ "$(u32 $e)" -ge 2147483648 ] && slot=$(u32 $((e + 4)))
			k=$((k + 1))
		done
		test -n "$slot" || fail "gen 3 has no unchecked delta entry"
		smash $((3 + slot))
	else
		smash 3
	fi
	timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/optane.json" \
		--set run.max_time_us=0 --append "$args snapshots=1" >"$WORK/out" 2>"$WORK/err"
	if [ "$what" = page ]; then
		grep -q '^persist: ERROR: snapshot gen 3 is damaged: page checksum mismatch' "$WORK/out" &&
		grep -q "^TRACE recovery_end gen=2 digest=$digest2 selfcheck=0 invariant=0" "$WORK/out" ||
			fail "frames=pm, page smashed: $(grep '^persist: ERROR\|recovery_end' "$WORK/out")"
		echo "ok: frames=pm: a smashed page of gen 3 is caught by its seal record; gen 2 recovered"
	else
		grep -q '^persist: loading snapshot gen 3 (root B, unsealed, no seal record)' "$WORK/out" &&
		grep -q "^TRACE recovery_end gen=3 digest=$digest3 selfcheck=0 invariant=0" "$WORK/out" ||
			fail "frames=pm, seal smashed: $(grep '^persist: loading\|recovery_end' "$WORK/out")"
		echo "ok: frames=pm: without its seal record gen 3 loads unchecked, with its digest"
	fi
done

rm -f "$WORK"/*.img
timeout 300 "$SIM" boot "$KERNEL" --config "$top_srcdir/configs/nvme.json" --set run.max_time_us=0 \
	--append "backend=disk workload=ccounter snapshot_ms=10 frames=pm snapshots=1" >"$WORK/out" 2>"$WORK/err"
grep -q '^persist: frames=pm needs the pmem backend' "$WORK/out" && grep -q '^TRACE commit gen=1 ' "$WORK/out" ||
	fail "frames=pm on disk: $(grep '^persist' "$WORK/out")"
echo "ok: frames=pm on the disk falls back to frames=dram"
exit 0
