#!/bin/sh
# tests/guests/run.sh: the test kernels under phantom-sim boot (the ELF64
# entered in long mode, and the ELF32 copy entered in 32-bit protected
# mode, which switches to long mode itself) and, when installed, under
# qemu-system-x86_64 (QEMU_SYSTEM), comparing the serial output.  Each kernel prints its checks and "RESULT PASS", and exits
# through isa-debug-exit with 0, so both must exit with status 1.
# Lines starting "SDM " check behaviour QEMU 7.2 gets wrong
# (docs/machine.md, "Deviations"); they are left out of the comparison.
# mce needs poisoned persistent memory (pmem.poison), which QEMU cannot
# model: it runs under phantom-sim only.
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
SIM=$top_builddir/phantom-sim
DIR=$top_builddir/tests/guests
if ! test -f "$DIR/kernels.stamp"; then
	echo "SKIP: test kernels not built (x86-64 hosts only)"
	exit 77
fi
QEMU=${QEMU_SYSTEM:-}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/guests-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
KERNELS=${KERNELS:-"mode paging ring3 exceptions fxsave timers uart rtc triple prot32 debug align mce"}
failed=0
for t in $KERNELS; do
	if test "$t" = mce; then
		# Machine checks need poisoned persistent memory, which QEMU
		# cannot model: phantom-sim only.  A handled #MC (status 1,
		# RESULT PASS), then the two ways #MC shuts the CPU down
		# (CR4.MCE = 0, a second #MC with MCIP set: status 6).
		pm="--set pmem.enabled=true --set pmem.base=0x40000000 --set pmem.size_mb=2"
		pm="$pm --set pmem.image=$WORK/mce.img --set pmem.poison=0x40001040,0x40003000"
		args="poison=0x40001040 page=0x40003000"
		for mode in check shutdown nested; do
			want=6
			test $mode = check && want=1
			# shellcheck disable=SC2086
			timeout 120 "$SIM" boot "$DIR/$t.elf" $pm --append "$args mode=$mode" \
				--serial "$WORK/$t.$mode" --max-time-us 20000000 2>"$WORK/$t.err"
			st=$?
			if test $st -ne $want ||
			   { test $mode = check && ! grep -q '^RESULT PASS' "$WORK/$t.$mode"; } ||
			   { test $mode != check && { grep -q '^RESULT' "$WORK/$t.$mode" ||
			     ! grep -q 'triple fault' "$WORK/$t.err"; }; }; then
				echo "FAIL: $t mode=$mode under phantom-sim (status $st, expected $want)"
				cat "$WORK/$t.$mode" "$WORK/$t.err"
				failed=1
				continue 2
			fi
		done
		echo "ok: $t under phantom-sim (not under QEMU: it cannot poison memory)"
		continue
	fi
	if test "$t" = triple; then
		# A triple fault: status 6 here, a reset (status 0 with
		# -no-reboot) under QEMU; the output up to it must agree.
		timeout 120 "$SIM" boot "$DIR/$t.elf" --serial "$WORK/$t.sim" 2>"$WORK/$t.err"
		st=$?
		if test $st -ne 6 || ! grep -q 'triple fault' "$WORK/$t.err"; then
			echo "FAIL: $t under phantom-sim (status $st, expected 6)"
			cat "$WORK/$t.sim" "$WORK/$t.err"
			failed=1
			continue
		fi
		echo "ok: $t under phantom-sim"
		test -n "$QEMU" && test -x "$QEMU" || continue
		timeout 120 "$QEMU" -kernel "$DIR/$t.mb32" -accel tcg -display none -nodefaults \
			-serial "file:$WORK/$t.qemu" -monitor none -no-reboot \
			-device isa-debug-exit,iobase=0xf4,iosize=0x04 >/dev/null 2>&1
		st=$?
		if test $st -ne 0 || ! tr -d '\r' <"$WORK/$t.qemu" | cmp -s - "$WORK/$t.sim"; then
			echo "FAIL: $t: QEMU (status $st) and phantom-sim differ"
			failed=1
			continue
		fi
		echo "ok: $t matches QEMU"
		continue
	fi
	elf=$DIR/$t.elf
	test "$t" = prot32 && elf=$DIR/$t.mb32     # 32-bit protected mode throughout
	timeout 120 "$SIM" boot "$elf" --serial "$WORK/$t.sim" --max-time-us 20000000 \
		2>"$WORK/$t.err"
	st=$?
	if test $st -ne 1 || ! grep -q '^RESULT PASS' "$WORK/$t.sim"; then
		echo "FAIL: $t under phantom-sim (status $st)"
		cat "$WORK/$t.sim" "$WORK/$t.err"
		failed=1
		continue
	fi
	echo "ok: $t under phantom-sim"
	if test "$t" = prot32; then
		cp "$WORK/$t.sim" "$WORK/$t.sim32"     # ELF32 only: no long-mode copy
	fi
	# The same kernel as ELF32, entered in 32-bit protected mode through
	# _start32 (the path QEMU takes): the same output.
	timeout 120 "$SIM" boot "$DIR/$t.mb32" --serial "$WORK/$t.sim32" --max-time-us 20000000 \
		2>"$WORK/$t.err32"
	st=$?
	if test $st -ne 1 || ! cmp -s "$WORK/$t.sim" "$WORK/$t.sim32"; then
		echo "FAIL: $t.mb32 under phantom-sim (status $st) differs from $t.elf"
		diff "$WORK/$t.sim" "$WORK/$t.sim32"
		cat "$WORK/$t.err32"
		failed=1
		continue
	fi
	echo "ok: $t.mb32 (32-bit entry) under phantom-sim"
	test -n "$QEMU" && test -x "$QEMU" || continue
	timeout 120 "$QEMU" -kernel "$DIR/$t.mb32" -accel tcg -display none -nodefaults \
		-serial "file:$WORK/$t.qemu" -monitor none -no-reboot \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 >/dev/null 2>&1
	st=$?
	tr -d '\r' <"$WORK/$t.qemu" | grep -v '^SDM ' >"$WORK/$t.q"
	grep -v '^SDM ' "$WORK/$t.sim" >"$WORK/$t.s"
	if test $st -ne 1 || ! cmp -s "$WORK/$t.s" "$WORK/$t.q"; then
		echo "FAIL: $t: QEMU (status $st) and phantom-sim differ"
		diff "$WORK/$t.q" "$WORK/$t.s"
		failed=1
		continue
	fi
	echo "ok: $t matches QEMU"
	grep '^SDM ' "$WORK/$t.qemu" | tr -d '\r' | sed 's/^/  qemu: /'
done
exit $failed
