# tests/traces/lib.sh: helpers for the trace shell tests (sourced).
. "${top_srcdir:-.}/tests/lib.sh"
GEN="${top_builddir:-.}/tests/traces/gen-trace"
CHROME_CHECK="${top_builddir:-.}/tests/traces/chrome-check"
XML_CHECK="${top_builddir:-.}/tests/traces/xml-check"

# check NAME CMD...: CMD succeeds.
check() {
	local name=$1; shift
	if "$@" >"$WORK/out" 2>"$WORK/err"; then ok "$name"; else bad "$name: $(cat "$WORK/err" "$WORK/out" | head -5)"; fi
}

# expect_fail NAME STATUS NEEDLE -- CMD...: CMD exits STATUS and prints
# exactly one line on stderr that contains NEEDLE.
expect_fail() {
	local name=$1 status=$2 needle=$3; shift 4
	"$@" >"$WORK/out" 2>"$WORK/err"
	local rc=$?
	local lines; lines=$(wc -l <"$WORK/err")
	if [ "$rc" -ne "$status" ]; then bad "$name: exit $rc, expected $status: $(cat "$WORK/err")"; return; fi
	if [ "$lines" -ne 1 ]; then bad "$name: $lines lines on stderr: $(cat "$WORK/err")"; return; fi
	if ! grep -qF -- "$needle" "$WORK/err"; then bad "$name: stderr lacks '$needle': $(cat "$WORK/err")"; return; fi
	ok "$name"
}

# Until sim/cmd_trace.c is linked in, phantom-sim has only a placeholder
# `trace` command: skip rather than fail every check.
if ! "$SIM" trace --help 2>/dev/null | grep -q "phantom-sim trace export"; then
	case $0 in
	*checkers.sh) ;;
	*) echo "SKIP: $SIM has no 'trace' command (sim/cmd_trace.c not linked)"; exit 77 ;;
	esac
fi
