#!/bin/sh
# The CPU's instruction trace (--trace-insn, trace.insn*): a short boot of
# the Phantom guest records the kernel entry's first instructions, the
# range filter keeps only the addresses asked for, and recording changes
# nothing the run itself computes.
. "${top_srcdir:-.}/tests/traces/lib.sh"

KERNEL="$BLD/phantom-kernel.elf"
if [ ! -r "$KERNEL" ]; then
	echo "SKIP: $KERNEL not built"
	exit 77
fi
# e_entry, a little-endian u64 at offset 24 of the ELF header: _start64.
entry=$(od -An -tx1 -j24 -N8 "$KERNEL" | awk '{ for (i = NF; i >= 1; i--) s = s $i } END { print s }' |
	sed 's/^0*//')
entry=$(printf '0x%016x' "0x$entry")

# run NAME ARGS...: a 300 µs boot on optane.json recording NAME.trace.
run() {
	local name=$1; shift
	rm -f "$WORK/pm.img"
	"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/pm.img" \
		--set run.max_time_us=300 --stats "$WORK/$name.stats" \
		--trace "$WORK/$name.trace" "$@" >/dev/null 2>"$WORK/$name.err"
}

check run-all run all --trace-insn
check export-insn "$SIM" trace export --format insn "$WORK/all.trace" -o "$WORK/all.insn"
first=$(sed -n 2p "$WORK/all.insn")
# boot.S: _start64 begins with cli, then loads the boot stack.
case $first in
*" $entry fa "*cli*) ok "first instruction is the kernel entry's cli" ;;
*) bad "first instruction: '$first' (expected cli at $entry)" ;;
esac
if sed -n 3p "$WORK/all.insn" | grep -q "mov rsp, "; then ok "then mov rsp"; else bad "second: $(sed -n 3p "$WORK/all.insn")"; fi
n=$(grep -vc '^#' "$WORK/all.insn")
if [ "$n" -gt 10000 ]; then ok "$n instructions recorded"; else bad "only $n instructions"; fi
if grep -q '(bad)' "$WORK/all.insn"; then bad "undecodable bytes in the listing: $(grep -m1 '(bad)' "$WORK/all.insn")"; else ok "every record disassembles"; fi

check run-plain run plain
if cmp -s "$WORK/all.stats" "$WORK/plain.stats"; then
	ok "the instruction trace changes no counter and no simulated time"
else
	bad "stats differ with --trace-insn: $(diff "$WORK/plain.stats" "$WORK/all.stats" | head -4)"
fi

# [entry, entry + 0x20): the first few instructions of _start64 only.
hi=$(printf '0x%x' $((entry + 0x20)))
check run-range run range --trace-insn="$entry..$hi"
"$SIM" trace export --format insn "$WORK/range.trace" -o "$WORK/range.insn"
lo_pc=$(printf '0x%016x' "$entry") hi_pc=$(printf '0x%016x' "$hi")
outside=$(awk -v lo="$lo_pc" -v hi="$hi_pc" '!/^#/ && ($2 < lo || $2 >= hi)' "$WORK/range.insn" | head -1)
inside=$(grep -vc '^#' "$WORK/range.insn")
if [ -z "$outside" ] && [ "$inside" -gt 0 ]; then ok "range filter: $inside records, all in [$entry, $hi)"; else bad "range filter: $inside records, outside: $outside"; fi
if grep -q "$entry fa .*cli" "$WORK/range.insn"; then ok "range keeps the entry"; else bad "range lost the entry"; fi

# The same filter from the config keys gives the same bytes.
check run-keys run keys --set trace.insn=true --set trace.insn_from="$entry" --set trace.insn_to="$hi"
mv "$WORK/keys.trace" "$WORK/k.trace"
run range --trace-insn="$entry..$hi"
# The trace file name is part of the config, hence of the header's hash:
# compare the records only (summary digests differ with the header).
"$SIM" trace export --format insn "$WORK/k.trace" >"$WORK/k.insn"
check keys-equal-option cmp "$WORK/k.insn" "$WORK/range.insn"

# Two identical runs: byte-identical instruction traces.
mv "$WORK/all.trace" "$WORK/all1.trace"
run all --trace-insn
check insn-trace-deterministic cmp "$WORK/all1.trace" "$WORK/all.trace"

expect_fail needs-trace-file 2 "trace.insn: needs a trace file" -- \
	"$SIM" --config "$SRC/configs/optane.json" --trace-insn
expect_fail bad-range 2 "expected a range FROM..TO" -- \
	"$SIM" --config "$SRC/configs/optane.json" --trace "$WORK/x.trace" --trace-insn=0x1000
expect_fail empty-range 2 "trace.insn_to: expected 0" -- \
	"$SIM" --config "$SRC/configs/optane.json" --trace "$WORK/x.trace" --trace-insn=0x2000..0x1000
finish
