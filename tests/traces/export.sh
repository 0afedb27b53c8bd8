#!/bin/sh
# Every export of a synthetic trace: well-formed, with its fixed layout,
# and byte-identical when run twice or on a trace regenerated from the
# same seed.
. "${top_srcdir:-.}/tests/traces/lib.sh"

check gen "$GEN" -o "$WORK/a.trace" --seed 7 --snapshots 30 --power-fail --insn
check gen-again "$GEN" -o "$WORK/b.trace" --seed 7 --snapshots 30 --power-fail --insn
check same-seed-same-trace cmp "$WORK/a.trace" "$WORK/b.trace"
"$GEN" -o "$WORK/c.trace" --seed 8 --snapshots 30 --power-fail --insn
if cmp -s "$WORK/a.trace" "$WORK/c.trace"; then bad "seeds 7 and 8 gave the same trace"; else ok "another seed, another trace"; fi
check info "$SIM" trace info "$WORK/a.trace"

for fmt in chrome csv summary insn; do
	check "export-$fmt" "$SIM" trace export --format "$fmt" "$WORK/a.trace" -o "$WORK/a.$fmt"
	"$SIM" trace export --format "$fmt" "$WORK/b.trace" >"$WORK/b.$fmt"
	check "export-$fmt-deterministic" cmp "$WORK/a.$fmt" "$WORK/b.$fmt"
done
check export-snapshots "$SIM" trace export --format csv --snapshots "$WORK/a.trace" -o "$WORK/a.snap.csv"

check chrome-structure "$CHROME_CHECK" "$WORK/a.chrome"
check summary-is-json "$CHROME_CHECK" --json "$WORK/a.summary"

header=$(head -n 1 "$WORK/a.csv")
if [ "$header" = "seq,time_ps,time_us,type,arg1,arg2,arg3,arg4,name" ]; then ok "csv header"; else bad "csv header: $header"; fi
header=$(head -n 1 "$WORK/a.snap.csv")
if [ "$header" = "generation,outcome,begin_ps,end_ps,latency_ps,pause_ps,writeback_ps,commit_ps,dirty_pages,pages_written,digest" ]; then
	ok "snapshot csv header"
else
	bad "snapshot csv header: $header"
fi
# every events row has the header's 9 columns (names here have no commas)
cols=$(awk -F, 'NR > 1 && NF != 9 { print NR ": " $0; exit }' "$WORK/a.csv")
if [ -z "$cols" ]; then ok "csv rows have 9 columns"; else bad "csv row: $cols"; fi
rows=$(($(wc -l <"$WORK/a.snap.csv") - 1))
if [ "$rows" -eq 30 ]; then ok "one row per snapshot"; else bad "snapshot rows: $rows"; fi
if grep -q "^15,aborted," "$WORK/a.snap.csv"; then ok "power failure aborts snapshot 15"; else bad "no aborted snapshot 15"; fi

if grep -q '"committed": 29,' "$WORK/a.summary" && grep -q '"power_fail": 1,' "$WORK/a.summary"; then
	ok "summary counts"
else
	bad "summary counts: $(head -c 600 "$WORK/a.summary")"
fi
if grep -q 'clwb byte ptr \[rax\]' "$WORK/a.insn" && grep -q '(bad)' "$WORK/a.insn"; then
	ok "insn listing disassembles"
else
	bad "insn listing: $(head -5 "$WORK/a.insn")"
fi
# the generator's filter keeps pcs in [0x401000, 0x401300)
outside=$(awk '!/^#/ && ($2 < "0x0000000000401000" || $2 >= "0x0000000000401300")' "$WORK/a.insn" | head -1)
if [ -z "$outside" ]; then ok "insn filter respected"; else bad "insn outside the filter: $outside"; fi

# A trace with no events at all still exports.
check gen-empty "$GEN" -o "$WORK/e.trace" --snapshots 0
for fmt in chrome csv summary insn; do
	check "empty-$fmt" "$SIM" trace export --format "$fmt" "$WORK/e.trace" -o "$WORK/e.$fmt"
done
check empty-chrome-structure "$CHROME_CHECK" "$WORK/e.chrome"
check empty-summary-is-json "$CHROME_CHECK" --json "$WORK/e.summary"
finish
