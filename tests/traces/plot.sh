#!/bin/sh
# trace plot: figures as PDF and SVG with their .dat and .gp beside them.
# Skipped (77) without gnuplot; a missing gnuplot is one clear line.
. "${top_srcdir:-.}/tests/traces/lib.sh"

"$GEN" -o "$WORK/t.trace" --seed 5 --snapshots 40 --power-fail

expect_fail no-gnuplot 3 "gnuplot not found" -- \
	env GNUPLOT=/nonexistent/gnuplot "$SIM" trace plot "$WORK/t.trace" -o "$WORK/nog"
"$GEN" -o "$WORK/none.trace" --snapshots 0
expect_fail nothing-to-plot 2 "no committed snapshots to plot" -- \
	"$SIM" trace plot "$WORK/none.trace" -o "$WORK/none"

if ! command -v "${GNUPLOT:-gnuplot}" >/dev/null 2>&1; then
	echo "SKIP: gnuplot is not installed"
	exit 77
fi

check plot "$SIM" trace plot "$WORK/t.trace" -o "$WORK/fig"
check plot-again "$SIM" trace plot "$WORK/t.trace" -o "$WORK/fig2"
for name in latency-cdf latency-time; do
	for ext in dat gp pdf svg; do
		if [ -s "$WORK/fig/$name.$ext" ]; then ok "$name.$ext written"; else bad "$name.$ext missing"; fi
	done
	check "$name.dat deterministic" cmp "$WORK/fig/$name.dat" "$WORK/fig2/$name.dat"
	check "$name.gp deterministic" cmp "$WORK/fig/$name.gp" "$WORK/fig2/$name.gp"
	check "$name.svg deterministic" cmp "$WORK/fig/$name.svg" "$WORK/fig2/$name.svg"
	check "$name.svg well-formed" "$XML_CHECK" "$WORK/fig/$name.svg" svg
	if head -c 5 "$WORK/fig/$name.pdf" | grep -q '^%PDF-'; then ok "$name.pdf is a PDF"; else bad "$name.pdf is not a PDF"; fi
done
# one point per committed snapshot (39 of 40: one power failure)
points=$(grep -vc '^#' "$WORK/fig/latency-time.dat")
if [ "$points" -eq 39 ]; then ok "latency-time has 39 points"; else bad "latency-time has $points points"; fi
last=$(tail -n 1 "$WORK/fig/latency-cdf.dat" | cut -d' ' -f2)
if [ "$last" = "1.000000" ]; then ok "cdf ends at 1"; else bad "cdf ends at $last"; fi
# the scripts regenerate the figures by themselves
rm "$WORK/fig/latency-cdf.svg"
(cd "$WORK/fig" && "${GNUPLOT:-gnuplot}" latency-cdf.gp) >/dev/null 2>&1
check "gp script reruns" cmp "$WORK/fig/latency-cdf.svg" "$WORK/fig2/latency-cdf.svg"
finish
