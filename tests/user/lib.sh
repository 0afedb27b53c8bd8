# tests/user/lib.sh: helpers for the user-mode runner's shell tests (sourced).
#
# The core check, same_as_native, runs one command natively and under
# `phantom-sim user` with the same stdin, and passes when stdout is
# byte-identical and the exit status is the same.
. "${top_srcdir:-.}/tests/lib.sh"

# A test that needs busybox is skipped, never passed, without it.
need_busybox() {
	BUSYBOX=${BUSYBOX:-}
	if [ -z "$BUSYBOX" ] || [ ! -x "$BUSYBOX" ]; then
		echo "SKIP: busybox not found (apt-get install busybox-static)"
		exit 77
	fi
	if ! file_is_static "$BUSYBOX"; then
		echo "SKIP: $BUSYBOX is not statically linked (apt-get install busybox-static)"
		exit 77
	fi
}

# le_at FILE OFFSET SIZE: the little-endian unsigned integer there.
le_at() {
	od -A n -t u1 -j "$2" -N "$3" "$1" | awk '{ for (i = 1; i <= NF; i++) b[n++] = $i }
		END { v = 0; for (i = n - 1; i >= 0; i--) v = v * 256 + b[i]; printf "%.0f\n", v }'
}

# True for an ELF64 with no PT_INTERP (3) program header.  Reads the
# headers with od, so no binutils are needed.
file_is_static() {
	local phoff phnum i
	[ "$(od -A n -t x1 -N 5 "$1" | tr -d ' ')" = 7f454c4602 ] || return 1
	phoff=$(le_at "$1" 32 8)
	phnum=$(le_at "$1" 56 2)
	i=0
	while [ "$i" -lt "$phnum" ]; do
		[ "$(le_at "$1" $((phoff + i * 56)) 4)" -eq 3 ] && return 1
		i=$((i + 1))
	done
	return 0
}

# same_as_native NAME INPUT CMD...: run CMD natively and as
# `phantom-sim user CMD`, stdin from INPUT (a file, or /dev/null).
same_as_native() {
	local name=$1 input=$2; shift 2
	"$@" <"$input" >"$WORK/native.out" 2>"$WORK/native.err"
	local nrc=$?
	"$SIM" user "$@" <"$input" >"$WORK/sim.out" 2>"$WORK/sim.err"
	local src=$?
	if [ "$nrc" -ne "$src" ]; then
		bad "$name: exit status $src under phantom-sim, $nrc natively; stderr: $(head -c 600 "$WORK/sim.err")"
	elif ! cmp -s "$WORK/native.out" "$WORK/sim.out"; then
		bad "$name: stdout differs: $(cmp "$WORK/native.out" "$WORK/sim.out" 2>&1 | head -1); stderr: $(head -c 600 "$WORK/sim.err")"
	else
		ok "$name (exit $nrc, $(wc -c <"$WORK/native.out") bytes)"
	fi
}

# expect_fail NAME STATUS NEEDLE -- CMD...: CMD exits STATUS and prints
# exactly one line on stderr that contains NEEDLE.
expect_fail() {
	local name=$1 status=$2 needle=$3; shift 4
	"$@" >"$WORK/out" 2>"$WORK/err"
	local rc=$?
	local lines; lines=$(wc -l <"$WORK/err")
	if [ "$rc" -ne "$status" ]; then bad "$name: exit $rc, expected $status: $(head -c 600 "$WORK/err")"; return; fi
	if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr: $(head -c 600 "$WORK/err")"; return; fi
	if ! grep -qF -- "$needle" "$WORK/err"; then bad "$name: stderr lacks '$needle': $(cat "$WORK/err")"; return; fi
	ok "$name"
}

# gen_file PATH BYTES: deterministic, varied test data, so gzip has real
# work: lines of numbers from a linear congruential generator whose
# products stay exact in awk's doubles.  Made with the shell's own tools
# so it exists without busybox.
gen_file() {
	awk -v n="$2" 'BEGIN { x = 12345;
		for (t = 0; t < n; t += length(x) + 1) { x = (x * 69069 + 1) % 4294967296; print x } }' |
		head -c "$2" >"$1"
}
