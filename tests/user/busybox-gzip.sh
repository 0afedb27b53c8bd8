#!/bin/sh
# gzip and gunzip as two phantom-sim processes chained by the shell: the
# compressed bytes equal native busybox's, and the round trip gives the
# input back.
. "${top_srcdir:-.}/tests/user/lib.sh"
need_busybox
BB=$BUSYBOX

gen_file "$WORK/data" 1048576
same_as_native gzip "$WORK/data" "$BB" gzip -c
"$BB" gzip -c <"$WORK/data" >"$WORK/data.gz"
same_as_native gunzip "$WORK/data.gz" "$BB" gunzip -c

"$SIM" user "$BB" gzip -c <"$WORK/data" | "$SIM" user "$BB" gunzip -c >"$WORK/round" 2>"$WORK/err"
rc=$?
if [ "$rc" -eq 0 ] && cmp -s "$WORK/data" "$WORK/round"; then
	ok "gzip -c | gunzip -c round trip"
else
	bad "gzip -c | gunzip -c round trip: exit $rc: $(head -c 600 "$WORK/err")"
fi
finish
