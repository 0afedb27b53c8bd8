# tests/cli/lib.sh: helpers for the CLI shell tests (sourced).
. "${top_srcdir:-.}/tests/lib.sh"

# expect_fail NAME STATUS NEEDLE -- CMD...: CMD exits STATUS and prints
# exactly one line on stderr that contains NEEDLE.
expect_fail() {
	local name=$1 status=$2 needle=$3; shift 4
	"$@" >"$WORK/out" 2>"$WORK/err"
	local rc=$?
	local lines; lines=$(wc -l <"$WORK/err")
	if [ "$rc" -ne "$status" ]; then bad "$name: exit $rc, expected $status"; return; fi
	if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr: $(cat "$WORK/err")"; return; fi
	if ! grep -qF -- "$needle" "$WORK/err"; then bad "$name: stderr lacks '$needle': $(cat "$WORK/err")"; return; fi
	ok "$name"
}
