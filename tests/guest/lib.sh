# tests/guest/lib.sh: shared by the guest kernel tests (sourced).
#
# Boots phantom-kernel.mb32 under qemu-system-x86_64 the way docs/guest.md
# describes.  Skips (exit 77) without QEMU or without the kernel image.
# Every QEMU run is bounded by `timeout`, so a hung guest fails the test
# instead of hanging it.

: "${top_builddir:=.}"
: "${top_srcdir:=.}"
QEMU=${QEMU_SYSTEM:-}
if test -z "$QEMU"; then
	QEMU=$(command -v qemu-system-x86_64 2>/dev/null || true)
fi
if test -z "$QEMU" || ! test -x "$QEMU"; then
	echo "SKIP: qemu-system-x86_64 not found"
	exit 77
fi
KERNEL=$top_builddir/phantom-kernel.mb32
if ! test -f "$KERNEL"; then
	echo "SKIP: $KERNEL not built (x86-64 hosts only)"
	exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/guest-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

fail() {
	echo "FAIL: $*"
	exit 1
}

# boot OUT APPEND [extra qemu args...]: run the kernel, console to OUT;
# sets STATUS to QEMU's exit status ((code << 1) | 1 for isa-debug-exit).
boot() {
	out=$1
	append=$2
	shift 2
	STATUS=0
	timeout 60 "$QEMU" -kernel "$KERNEL" -append "$append" -accel tcg -display none \
		-serial stdio -monitor none -no-reboot -nodefaults -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-m 512 "$@" >"$out" 2>"$out.stderr" </dev/null || STATUS=$?
	tr -d '\r' <"$out" >"$out.tmp" && mv "$out.tmp" "$out"
	if test "$STATUS" = 124; then
		cat "$out"
		fail "QEMU timed out: $append"
	fi
}

# expect_status WANT OUT
expect_status() {
	if test "$STATUS" != "$1"; then
		echo "--- console ($2)"; cat "$2"; echo "--- stderr"; cat "$2.stderr"
		fail "QEMU exit status $STATUS, want $1"
	fi
}

# expect OUT REGEX: the console has a line matching REGEX.
expect() {
	grep -Eq -- "$2" "$1" || { echo "--- console ($1)"; cat "$1"; echo "--- stderr"; cat "$1.stderr"
		fail "no line matching '$2'"; }
}

# field OUT REGEX KEY: KEY's value on the last line matching REGEX.
field() {
	grep -E -- "$2" "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}
