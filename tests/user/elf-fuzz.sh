#!/bin/sh
# Mutated executables: whatever the mutation, phantom-sim answers with a
# one-line refusal (2), a run of the guest (its status, a guest fault
# line, or the instruction limit), and never a host crash.  The
# mutations come from a fixed seed, so a failure reproduces; under the
# sanitizer build this is where a parser overflow would show.
. "${top_srcdir:-.}/tests/user/lib.sh"

good="$BLD/tests/user/progs/intmath"
[ -s "$good" ] || { bad "$good not built"; finish; exit 1; }
size=$(wc -c <"$good")
phoff=$(le_at "$good" 32 8)
hdr=$((phoff + 56 * $(le_at "$good" 56 2)))
runs=${USER_FUZZ_RUNS:-150}

# One line per run: "offset byte offset byte ...", mostly in the headers.
awk -v runs="$runs" -v hdr="$hdr" -v size="$size" 'BEGIN {
	x = 2024
	for (r = 0; r < runs; r++) {
		x = (x * 69069 + 1) % 4294967296; n = 1 + x % 6; line = ""
		for (k = 0; k < n; k++) {
			x = (x * 69069 + 1) % 4294967296; off = (x % 10 < 9) ? x % hdr : x % size
			x = (x * 69069 + 1) % 4294967296; line = line " " off " " x % 256
		}
		print line
	} }' >"$WORK/mutations"

crashes=0
i=0
while read -r line; do
	i=$((i + 1))
	cp "$good" "$WORK/m"
	set -- $line
	while [ $# -ge 2 ]; do
		printf "$(printf '\\%03o' "$2")" | dd of="$WORK/m" bs=1 seek="$1" conv=notrunc 2>/dev/null
		shift 2
	done
	rm -f "$WORK/stats.json"
	"$SIM" user --max-insns 200000 --stats "$WORK/stats.json" "$WORK/m" </dev/null >/dev/null 2>"$WORK/err"
	rc=$?
	# A load that fails exits 2 before running; anything that ran ends
	# normally, so it wrote its --stats file, whatever status the guest
	# left (a guest death included).
	if grep -q -e 'Sanitizer' -e 'runtime error' "$WORK/err" ||
	   { [ "$rc" -ne 2 ] && [ ! -s "$WORK/stats.json" ]; }; then
		crashes=$((crashes + 1))
		cp "$WORK/m" "$WORK/../phantom-fuzz-$i.elf" 2>/dev/null
		bad "mutation $i ($line): exit $rc: $(head -c 600 "$WORK/err")"
	fi
done <"$WORK/mutations"
[ "$crashes" -eq 0 ] && ok "$runs mutated executables, no host crash"
finish
