#!/bin/sh
# Boot, banner, memory map, three snapshots into RAM standing in for
# persistent memory (pmem=), clean power-off (isa-debug-exit code 0 ->
# QEMU status 1).  Also: the other self-test workload (ccounter) running
# flat out (work=0), a boot without a store, and the ELF64 entry path.
. "${top_srcdir:-.}/tests/guest/lib.sh"

boot "$WORK/a.log" "workload=cbank backend=pmem pmem=0x10000000,32M objspace_mb=8 snapshot_ms=20 snapshots=3 work=20"
expect_status 1 "$WORK/a.log"
expect "$WORK/a.log" '^Phantom guest kernel'
expect "$WORK/a.log" '^TRACE boot abi=1'
expect "$WORK/a.log" '^mmap: 0000000000100000-[0-9a-f]+ RAM \(1\)$'
expect "$WORK/a.log" '^mmap: pmem= override: 0000000010000000-0000000011ffffff'
expect "$WORK/a.log" '^TRACE first_boot$'
for g in 1 2 3; do
	expect "$WORK/a.log" "^TRACE snapshot_begin gen=$g\$"
	expect "$WORK/a.log" "^TRACE pause_end gen=$g "
	expect "$WORK/a.log" "^TRACE pages_written gen=$g pages=[0-9]+\$"
	expect "$WORK/a.log" "^TRACE commit gen=$g digest=[0-9a-f]{16}\$"
done
expect "$WORK/a.log" '^workload: invariant ok$'
expect "$WORK/a.log" '^POWEROFF code=0$'

boot "$WORK/b.log" "workload=ccounter backend=pmem pmem=0x10000000,32M objspace_mb=4 snapshot_ms=10 snapshots=3 work=0"
expect_status 1 "$WORK/b.log"
expect "$WORK/b.log" '^TRACE commit gen=3 digest=[0-9a-f]{16}$'
expect "$WORK/b.log" '^workload: invariant ok$'

# No store at all: runs, counts intervals, powers off.
boot "$WORK/c.log" "backend=none objspace_mb=4 snapshot_ms=10 snapshots=2"
expect_status 1 "$WORK/c.log"
expect "$WORK/c.log" '^persist: backend=none'
if grep -q '^TRACE commit' "$WORK/c.log"; then
	fail "backend=none committed a snapshot"
fi

# The ELF64 entry (_start64, what phantom-sim's loader jumps to in long
# mode), reached here by the kernel jumping back to it once.
boot "$WORK/e.log" "selftest=entry64 backend=none objspace_mb=4 snapshot_ms=10 snapshots=1"
expect_status 1 "$WORK/e.log"
expect "$WORK/e.log" '^selftest: entry64: kmain re-entered through _start64$'
expect "$WORK/e.log" '^POWEROFF code=0$'
echo "PASS"
