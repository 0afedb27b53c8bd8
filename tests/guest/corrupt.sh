#!/bin/sh
# Damaged stores never hang the kernel:
#  - newest root record destroyed: recovery falls back to the previous
#    generation, with that generation's digest;
#  - a map page or a data page of the newest snapshot destroyed: the
#    same fallback, after the page checksum catches it;
#  - both root records destroyed: "no committed snapshot", first boot;
#  - superblock destroyed: the store is formatted, first boot;
#  - a disk full of garbage: formatted, first boot.
# Layout (docs/guest.md): 4 KiB blocks, superblock in block 0, root of
# generation g in block 1 + g % 2.
. "${top_srcdir:-.}/tests/guest/lib.sh"

DISK=$WORK/disk.img
DRIVE="-drive file=$DISK,if=virtio,format=raw"
ARGS="workload=cbank backend=disk objspace_mb=8 snapshot_ms=20 work=20"

# smash BLOCK: overwrite one 4 KiB block with a fixed non-zero pattern.
smash() {
	awk 'BEGIN { for (i = 0; i < 4096; i++) printf "%c", 65 + i % 26 }' >"$WORK/junk"
	dd if="$WORK/junk" of="$DISK" bs=4096 seek="$1" count=1 conv=notrunc 2>/dev/null
}

fresh_disk() {
	rm -f "$DISK"
	dd if=/dev/zero of="$DISK" bs=1M count=0 seek=32 2>/dev/null
	boot "$WORK/make.log" "$ARGS snapshots=3" $DRIVE
	expect_status 1 "$WORK/make.log"
	expect "$WORK/make.log" '^TRACE commit gen=3 '
}

# Newest root (gen 3 lives in block 1 + 3 % 2 = 2) destroyed.
fresh_disk
digest2=$(field "$WORK/make.log" '^TRACE commit gen=2 ' digest)
smash 2
boot "$WORK/a.log" "$ARGS snapshots=1" $DRIVE
expect_status 1 "$WORK/a.log"
expect "$WORK/a.log" "^TRACE recovery_end gen=2 digest=$digest2 selfcheck=0 invariant=0\$"
expect "$WORK/a.log" '^TRACE commit gen=3 '

# A map page of the newest snapshot damaged: its check in the root fails,
# and recovery falls back to generation 2, whose blocks gen 3 left alone.
# The root of gen 3 is block 2; its first map reference (u32 slot) is at
# byte 128; slot s is block 3 + s.
fresh_disk
digest2=$(field "$WORK/make.log" '^TRACE commit gen=2 ' digest)
slot=$(od -An -t u4 -j $((2 * 4096 + 128)) -N 4 "$DISK" | tr -d ' ')
test "$slot" -gt 0 || fail "gen 3 has no map page 0 (slot '$slot')"
smash $((3 + slot))
boot "$WORK/m.log" "$ARGS snapshots=1" $DRIVE
expect_status 1 "$WORK/m.log"
expect "$WORK/m.log" '^persist: ERROR: snapshot gen 3 is damaged: map page checksum mismatch$'
expect "$WORK/m.log" "^TRACE recovery_end gen=2 digest=$digest2 selfcheck=0 invariant=0\$"

# A data page of the newest snapshot damaged: object-space page 0 (the
# workload's header, written by every snapshot).  Its entry is in the
# root's delta if it is there (ndelta: u32 at byte 44; the entries
# { u32 page, slot, check } follow the nmap = 4 map references, from
# byte 128 + 4 * 8), else entry 0 of map page 0.
fresh_disk
digest2=$(field "$WORK/make.log" '^TRACE commit gen=2 ' digest)
u32() { od -An -t u4 -j "$1" -N 4 "$DISK" | tr -d ' '; }
ndelta=$(u32 $((2 * 4096 + 44)))
page0=
k=0
while [ "$k" -lt "$ndelta" ]; do
	e=$((2 * 4096 + 160 + 12 * k))
	if [ "$(u32 $e)" -eq 0 ]; then
		page0=$(u32 $((e + 4)))
		break
	fi
	k=$((k + 1))
done
if [ -z "$page0" ]; then
	slot=$(u32 $((2 * 4096 + 128)))
	page0=$(u32 $(((3 + slot) * 4096)))
fi
test "$page0" -gt 0 || fail "gen 3 does not store page 0 (slot '$page0')"
smash $((3 + page0))
boot "$WORK/p.log" "$ARGS snapshots=1" $DRIVE
expect_status 1 "$WORK/p.log"
expect "$WORK/p.log" '^persist: ERROR: snapshot gen 3 is damaged: page checksum mismatch$'
expect "$WORK/p.log" "^TRACE recovery_end gen=2 digest=$digest2 selfcheck=0 invariant=0\$"

# Both roots destroyed.
fresh_disk
smash 1
smash 2
boot "$WORK/b.log" "$ARGS snapshots=1" $DRIVE
expect_status 1 "$WORK/b.log"
expect "$WORK/b.log" '^persist: no committed snapshot on the disk store$'
expect "$WORK/b.log" '^TRACE first_boot$'
expect "$WORK/b.log" '^TRACE commit gen=1 '

# Superblock destroyed.
fresh_disk
smash 0
boot "$WORK/c.log" "$ARGS snapshots=1" $DRIVE
expect_status 1 "$WORK/c.log"
expect "$WORK/c.log" '^persist: no valid superblock on the disk store'
expect "$WORK/c.log" '^TRACE first_boot$'

# A disk of garbage.
rm -f "$DISK"
i=0
while test $i -lt 64; do cat "$WORK/junk"; i=$((i + 1)); done >"$WORK/junk64"
i=0
while test $i -lt 128; do cat "$WORK/junk64"; i=$((i + 1)); done >"$DISK"
boot "$WORK/d.log" "$ARGS snapshots=1" $DRIVE
expect_status 1 "$WORK/d.log"
expect "$WORK/d.log" '^TRACE first_boot$'
expect "$WORK/d.log" '^TRACE commit gen=1 '
echo "PASS"
