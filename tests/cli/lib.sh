# tests/cli/lib.sh: helpers for the CLI shell tests (sourced).
set -u
SIM="${top_builddir:-.}/phantom-sim"
SRC="${top_srcdir:-.}"
WORK=$(mktemp -d /tmp/phantom-cli.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
passes=0
ok()   { passes=$((passes + 1)); echo "ok - $*"; }
bad()  { fails=$((fails + 1)); echo "FAIL - $*"; }
finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]; }

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
