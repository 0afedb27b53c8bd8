#!/bin/sh
# The test programs of tests/user/progs, built static with gcc and (when
# configure found it) musl-gcc: same stdout and exit status natively and
# under `phantom-sim user`.  segv checks a fault ends the guest as a
# SIGSEGV death does (status 139), and with "ss" that #SS ends it as the
# SIGBUS death Linux gives it (135).
. "${top_srcdir:-.}/tests/user/lib.sh"

PROGS="intmath float jmp sort alloc syscalls segv"
for p in $PROGS; do
	exe="$BLD/tests/user/progs/$p"
	if [ ! -x "$exe" ]; then
		bad "$p: $exe not built (make check builds it)"
		continue
	fi
	same_as_native "gcc-static $p" /dev/null "$exe"
done

# Non-canonical addresses: #GP (SIGSEGV, 139) through rax, #SS (SIGBUS,
# 135) through rbp, the stack segment.
same_as_native "gcc-static segv gp" /dev/null "$BLD/tests/user/progs/segv" gp
same_as_native "gcc-static segv ss" /dev/null "$BLD/tests/user/progs/segv" ss

# Static PIE: an ET_DYN the program relocates itself.
same_as_native "gcc-static-pie intmath" /dev/null "$BLD/tests/user/progs/intmath-pie"

musl=0
for p in $PROGS; do
	exe="$BLD/tests/user/progs/$p.musl"
	# An empty file stands for "musl-gcc not found at configure time".
	[ -s "$exe" ] || continue
	musl=1
	same_as_native "musl-static $p" /dev/null "$exe"
done
[ "$musl" -eq 1 ] || echo "# musl-gcc not found: musl builds not tested"

"$SIM" user "$BLD/tests/user/progs/segv" >/dev/null 2>"$WORK/err"
if grep -q '^phantom-sim: guest fault: #PF at rip=0x[0-9a-f]* addr=0 ' "$WORK/err"; then
	ok "segv reports the #PF"
else
	bad "segv: unexpected stderr: $(cat "$WORK/err")"
fi
"$SIM" user "$BLD/tests/user/progs/segv" ss >/dev/null 2>"$WORK/err"
if grep -q '^phantom-sim: guest fault: #SS at rip=0x[0-9a-f]* error=0 ' "$WORK/err"; then
	ok "segv ss reports the #SS"
else
	bad "segv ss: unexpected stderr: $(cat "$WORK/err")"
fi
finish
