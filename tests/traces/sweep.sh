#!/bin/sh
# bench/sweep-snapshot-latency --quick: the paper sweep end to end on a
# small grid.  The CSV has its fixed header and a row per run with
# committed snapshots, and the figure's SVG is well-formed XML.
. "${top_srcdir:-.}/tests/traces/lib.sh"

if [ ! -r "$BLD/phantom-kernel.elf" ]; then
	echo "SKIP: $BLD/phantom-kernel.elf not built"
	exit 77
fi
out=$WORK/sweep
PHANTOM_SIM=$SIM "$SRC/bench/sweep-snapshot-latency" --quick -o "$out" >"$WORK/table" 2>"$WORK/err"
rc=$?
# 3: gnuplot is missing; everything but the images is written anyway.
if [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ]; then ok "sweep ran (exit $rc)"; else bad "sweep: exit $rc: $(head -5 "$WORK/err")"; fi

header=$(head -n 1 "$out/sweep.csv")
if [ "$header" = "workload,backend,config,interval_ms,seed,snapshots,latency_mean_us,latency_p50_us,latency_p90_us,latency_p99_us,latency_max_us,pause_mean_us,pause_p99_us,writeback_mean_us,commit_mean_us,snapshot_bytes,pm_stored_bytes,media_bytes,trace_digest" ]; then
	ok "csv header"
else
	bad "csv header: $header"
fi
# --quick: 2 workloads x 4 backends x 2 intervals, 2 commits each.
rows=$(awk -F, 'NR > 1 && NF == 19 && $6 == 2 && $7 > 0' "$out/sweep.csv" | wc -l)
if [ "$rows" -eq 16 ]; then ok "16 runs, each with 2 committed snapshots"; else bad "$rows good rows: $(cat "$out/sweep.csv")"; fi
for b in optane-adr optane-eadr nvme sata; do
	if grep -q ",$b," "$out/sweep.csv"; then ok "backend $b in the table"; else bad "backend $b missing"; fi
done
if grep -q '^kv ' "$WORK/table"; then ok "table printed"; else bad "no table on stdout"; fi
for f in sweep.dat sweep.gp; do
	if [ -s "$out/$f" ]; then ok "$f written"; else bad "$f missing"; fi
done

if [ "$rc" -eq 3 ]; then
	echo "# gnuplot not available: figure checks skipped"
elif command -v xmllint >/dev/null 2>&1; then
	check svg-well-formed xmllint --noout "$out/sweep.svg"
	if [ -s "$out/sweep.pdf" ]; then ok "pdf written"; else bad "pdf missing"; fi
else
	check svg-well-formed "$XML_CHECK" "$out/sweep.svg" svg
fi
finish
