#!/bin/sh
# CPU exceptions are reported on the console (vector, name, error code,
# RIP, CR2) and through the trace port, then the kernel powers off with
# code 2 (QEMU status 5).
. "${top_srcdir:-.}/tests/guest/lib.sh"

boot "$WORK/ud.log" "selftest=ud"
expect_status 5 "$WORK/ud.log"
expect "$WORK/ud.log" '^EXCEPTION vector=6 \(#UD invalid opcode\) error=0x0 rip=0x[0-9a-f]+ '
expect "$WORK/ud.log" '^TRACE exception vector=6 error=0x0 rip=0x[0-9a-f]+$'
expect "$WORK/ud.log" '^POWEROFF code=2$'

boot "$WORK/pf.log" "selftest=pf"
expect_status 5 "$WORK/pf.log"
# A read (error bit 1 clear) of a not-present page (bit 0 clear).
expect "$WORK/pf.log" '^EXCEPTION vector=14 \(#PF page fault\) error=0x0 rip=0x[0-9a-f]+ cr2=0x7f0000001234 '
expect "$WORK/pf.log" '^TRACE exception vector=14 error=0x0 '

boot "$WORK/gp.log" "selftest=gp"
expect_status 5 "$WORK/gp.log"
expect "$WORK/gp.log" '^EXCEPTION vector=13 \(#GP general protection\)'

# A bad command line is a clear error, not a hang.
boot "$WORK/bad.log" "objspace_mb=100000"
expect_status 3 "$WORK/bad.log"
expect "$WORK/bad.log" "^PANIC: cmdline: bad value in 'objspace_mb=100000'"

# So is an unknown persistence-bug variant.
boot "$WORK/bug.log" "backend=pmem pmem=0x10000000,16M objspace_mb=4 bug=no-fence"
expect_status 3 "$WORK/bug.log"
expect "$WORK/bug.log" "^PANIC: bug=: unknown variant 'no-fence'"
echo "PASS"
