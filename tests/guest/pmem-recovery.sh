#!/bin/sh
# The pmem backend across boots.  QEMU's RAM is backed by a shared file,
# so the stretch named by pmem= keeps its contents from one QEMU run to
# the next, as persistent memory would.  -cpu max offers clwb, so the
# store writes back with it.
. "${top_srcdir:-.}/tests/guest/lib.sh"

RAM="-cpu max -object memory-backend-file,id=ram,size=512M,mem-path=$WORK/ram.img,share=on -machine memory-backend=ram"
ARGS="workload=cbank backend=pmem pmem=0x10000000,32M objspace_mb=8 snapshot_ms=20 work=20"

boot "$WORK/1.log" "$ARGS snapshots=3" $RAM
expect_status 1 "$WORK/1.log"
expect "$WORK/1.log" 'write-back with clwb$'
expect "$WORK/1.log" '^TRACE first_boot$'
digest=$(field "$WORK/1.log" '^TRACE commit gen=3 ' digest)
test -n "$digest" || fail "no commit of gen 3"

boot "$WORK/2.log" "$ARGS snapshots=1" $RAM
expect_status 1 "$WORK/2.log"
expect "$WORK/2.log" "^TRACE recovery_end gen=3 digest=$digest selfcheck=0 invariant=0\$"
expect "$WORK/2.log" '^TRACE commit gen=4 '
echo "PASS"
