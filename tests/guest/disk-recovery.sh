#!/bin/sh
# The disk backend: three snapshots on a virtio-blk disk, power off, boot
# again on the same image.  Recovery must restore the last committed
# snapshot (same generation, same digest, self-check and invariant ok)
# and carry on committing from the next generation.
. "${top_srcdir:-.}/tests/guest/lib.sh"

DISK=$WORK/disk.img
dd if=/dev/zero of="$DISK" bs=1M count=0 seek=32 2>/dev/null
DRIVE="-drive file=$DISK,if=virtio,format=raw"
ARGS="workload=cbank backend=disk objspace_mb=8 snapshot_ms=20 work=20"

boot "$WORK/1.log" "$ARGS snapshots=3" $DRIVE
expect_status 1 "$WORK/1.log"
expect "$WORK/1.log" '^virtio-blk: .* flush yes$'
expect "$WORK/1.log" '^TRACE first_boot$'
expect "$WORK/1.log" '^TRACE commit gen=3 '
digest=$(field "$WORK/1.log" '^TRACE commit gen=3 ' digest)

boot "$WORK/2.log" "$ARGS snapshots=2" $DRIVE
expect_status 1 "$WORK/2.log"
expect "$WORK/2.log" '^TRACE recovery_begin$'
expect "$WORK/2.log" "^TRACE recovery_end gen=3 digest=$digest selfcheck=0 invariant=0\$"
expect "$WORK/2.log" '^TRACE commit gen=4 '
expect "$WORK/2.log" '^TRACE commit gen=5 '
if grep -q '^TRACE first_boot' "$WORK/2.log"; then
	fail "the second boot did not recover"
fi
digest5=$(field "$WORK/2.log" '^TRACE commit gen=5 ' digest)

# A third boot resumes from generation 5, this time with the BARs placed
# by the kernel (pci_assign=1), as on phantom-sim, which has no BIOS.
boot "$WORK/3.log" "$ARGS snapshots=1 pci_assign=1" $DRIVE
expect_status 1 "$WORK/3.log"
expect "$WORK/3.log" '^pci: .* BAR[0-9] assigned 0xe0000000 '
expect "$WORK/3.log" "^TRACE recovery_end gen=5 digest=$digest5 selfcheck=0 invariant=0\$"
echo "PASS"
