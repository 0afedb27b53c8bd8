#!/bin/sh
# The Phantom VM's workloads on the guest kernel: each boots fresh and
# commits snapshots with its invariant intact; bank also survives a
# reboot on the disk backend (recovered digest = last committed digest,
# invariant ok) and goes on committing.  Skips when the kernel was built
# without the VM.
. "${top_srcdir:-.}/tests/guest/lib.sh"

boot "$WORK/probe.log" "workload=counter backend=none objspace_mb=16 snapshot_ms=10 snapshots=1"
if grep -q "needs the Phantom VM" "$WORK/probe.log"; then
	echo "SKIP: the kernel was built without the Phantom VM"
	exit 77
fi
expect_status 1 "$WORK/probe.log"

for w in counter bank kv list; do
	boot "$WORK/$w.log" "workload=$w backend=pmem pmem=0x10000000,64M objspace_mb=16 snapshot_ms=20 snapshots=2 work=200"
	expect_status 1 "$WORK/$w.log"
	expect "$WORK/$w.log" "^workload: $w started"
	expect "$WORK/$w.log" '^TRACE commit gen=2 digest=[0-9a-f]{16}$'
	expect "$WORK/$w.log" '^workload: invariant ok$'
done

DISK=$WORK/disk.img
dd if=/dev/zero of="$DISK" bs=1M count=0 seek=64 2>/dev/null
DRIVE="-drive file=$DISK,if=virtio,format=raw"
ARGS="workload=bank backend=disk objspace_mb=16 snapshot_ms=20 work=200"
boot "$WORK/d1.log" "$ARGS snapshots=3" $DRIVE
expect_status 1 "$WORK/d1.log"
digest=$(field "$WORK/d1.log" '^TRACE commit gen=3 ' digest)
test -n "$digest" || fail "no commit of gen 3"
boot "$WORK/d2.log" "$ARGS snapshots=2" $DRIVE
expect_status 1 "$WORK/d2.log"
expect "$WORK/d2.log" "^TRACE recovery_end gen=3 digest=$digest selfcheck=0 invariant=0\$"
expect "$WORK/d2.log" '^workload: bank resumed at gen 3$'
expect "$WORK/d2.log" '^TRACE commit gen=5 '
expect "$WORK/d2.log" '^workload: invariant ok$'
echo "PASS"
