#!/bin/sh
# Truncated, corrupted and foreign files, and bad command lines: one line
# naming the file and the offset, exit status 2, and no output file left.
. "${top_srcdir:-.}/tests/traces/lib.sh"

"$GEN" -o "$WORK/good.trace" --seed 3 --snapshots 5
size=$(wc -c <"$WORK/good.trace")

head -c $((size - 5)) "$WORK/good.trace" >"$WORK/cut.trace"
expect_fail truncated-end 2 "$WORK/cut.trace: truncated record at offset " -- \
	"$SIM" trace export --format summary "$WORK/cut.trace" -o "$WORK/cut.json"
head -c 1000 "$WORK/good.trace" >"$WORK/cut2.trace"
expect_fail truncated-middle 2 "$WORK/cut2.trace: truncated" -- \
	"$SIM" trace export --format chrome "$WORK/cut2.trace" -o "$WORK/cut2.json"
head -c 20 "$WORK/good.trace" >"$WORK/cut3.trace"
expect_fail truncated-header 2 "$WORK/cut3.trace: truncated header at offset 20" -- \
	"$SIM" trace export --format csv "$WORK/cut3.trace"

# flip one byte in the middle: the digest (or the structure) gives it away
cp "$WORK/good.trace" "$WORK/flip.trace"
printf '\377' | dd of="$WORK/flip.trace" bs=1 seek=600 conv=notrunc 2>/dev/null
expect_fail corrupted 2 "$WORK/flip.trace: corrupt" -- \
	"$SIM" trace export --format csv "$WORK/flip.trace" -o "$WORK/flip.csv"
# a structural corruption names the record's offset (the header is 34 bytes
# plus the version string "gen-trace")
cp "$WORK/good.trace" "$WORK/type.trace"
printf '\177' | dd of="$WORK/type.trace" bs=1 seek=43 conv=notrunc 2>/dev/null
expect_fail bad-type 2 "$WORK/type.trace: corrupt record at offset 43: unknown record type 0x7f" -- \
	"$SIM" trace info "$WORK/type.trace"

echo '{"not": "a trace"}' >"$WORK/foreign.trace"
expect_fail foreign 2 "$WORK/foreign.trace: not a phantom-sim trace (bad magic at offset 0)" -- \
	"$SIM" trace export --format summary "$WORK/foreign.trace"
expect_fail missing 2 "$WORK/none.trace: cannot open trace" -- \
	"$SIM" trace export --format summary "$WORK/none.trace"

for f in cut.json cut2.json flip.csv; do
	if [ -e "$WORK/$f" ]; then bad "a failed export left $f"; else ok "no $f left behind"; fi
done

expect_fail bad-format 2 "unknown format 'xml'" -- "$SIM" trace export --format xml "$WORK/good.trace"
expect_fail no-format 2 "--format is required" -- "$SIM" trace export "$WORK/good.trace"
expect_fail no-trace 2 "no trace file given" -- "$SIM" trace export --format csv
expect_fail bad-option 2 "unknown option '--frob'" -- "$SIM" trace export --frob "$WORK/good.trace"
expect_fail bad-command 2 "unknown command 'frob'" -- "$SIM" trace frob
expect_fail snapshots-not-csv 2 "--snapshots goes with --format csv" -- \
	"$SIM" trace export --format chrome --snapshots "$WORK/good.trace"
expect_fail plot-no-dir 2 "-o DIR is required" -- "$SIM" trace plot "$WORK/good.trace"
expect_fail unwritable 3 "$WORK/no/dir/x.json: cannot create" -- \
	"$SIM" trace export --format chrome "$WORK/good.trace" -o "$WORK/no/dir/x.json"

# A failed write to something that is not a regular file leaves it alone.
if [ -c /dev/full ]; then
	ln -s /dev/full "$WORK/full"
	expect_fail device-full 3 "$WORK/full: write failed" -- \
		"$SIM" trace export --format csv "$WORK/good.trace" -o "$WORK/full"
	if [ -L "$WORK/full" ] && [ -c /dev/full ]; then ok "a device output is not removed"; else bad "the device output was removed"; fi
fi
finish
