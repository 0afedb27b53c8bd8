# tests/lib.sh: what every shell test shares (sourced by each area's lib.sh).
# make check sets top_srcdir and top_builddir; each test counts its checks
# with ok/bad and ends with finish, whose last line is "N passed, N failed".
set -u
SIM="${top_builddir:-.}/phantom-sim"
SRC="${top_srcdir:-.}"
BLD="${top_builddir:-.}"
WORK=$(mktemp -d /tmp/phantom-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
passes=0
ok()   { passes=$((passes + 1)); echo "ok - $*"; }
bad()  { fails=$((fails + 1)); echo "FAIL - $*"; }
finish() { echo "$passes passed, $fails failed"; [ "$fails" -eq 0 ]; }
