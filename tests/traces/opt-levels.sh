#!/bin/sh
# Determinism across runs and across compiler optimisation levels: the
# same config and seed give a byte-identical trace, trace summary and
# --stats JSON (simulated time, instructions, every counter) from two runs
# of this build's phantom-sim and from a copy of the simulator built with
# CFLAGS=-O0, in both CPU timing modes, on persistent memory and on a
# block device.  Optimisation changes host code only; a difference here
# means the simulation reads something it should not (uninitialised
# memory, host addresses, floating-point excess precision).
#
# The -O0 copy is configured out of tree from $top_srcdir into the test's
# work directory and builds `phantom-sim` only; the guest kernel comes from
# this build (guest.kernel), so both simulators run the very same image.
. "${top_srcdir:-.}/tests/traces/lib.sh"

cc=${PHANTOM_CC:-${CC:-cc}}
if ! command -v "${cc%% *}" >/dev/null 2>&1; then
	echo "SKIP: no C compiler ('$cc') for the -O0 build"
	exit 77
fi
if ! command -v "${MAKE:-make}" >/dev/null 2>&1; then
	echo "SKIP: no make for the -O0 build"
	exit 77
fi
KERNEL="$BLD/phantom-kernel.elf"
if [ ! -r "$KERNEL" ]; then
	echo "SKIP: $KERNEL not built"
	exit 77
fi

# An in-tree build leaves config.status in the source tree, which makes
# another configure of it refuse to work out of tree: configure a clean
# copy of the distributed sources instead.
src=$(cd "$SRC" && pwd)
if [ -f "$src/config.status" ]; then
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -s -C "$BLD" distdir distdir="$WORK/src" >"$WORK/distdir.log" 2>&1; then
		bad "make distdir for the -O0 build: $(tail -5 "$WORK/distdir.log")"
		finish
		exit 1
	fi
	src="$WORK/src"
fi
mkdir "$WORK/o0"
if ! (cd "$WORK/o0" && "$src/configure" CC="$cc" CFLAGS=-O0 >configure.log 2>&1); then
	bad "configure of the -O0 build: $(tail -5 "$WORK/o0/config.log")"
	finish
	exit 1
fi
# Not the jobserver nor the variables of a `make check CFLAGS=...` above us.
if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL "${MAKE:-make}" -C "$WORK/o0" phantom-sim \
	>"$WORK/o0/make.log" 2>&1; then
	bad "building phantom-sim at -O0: $(grep -m3 -i error "$WORK/o0/make.log")"
	finish
	exit 1
fi
ok "built phantom-sim with CFLAGS=-O0"
O0="$WORK/o0/phantom-sim"

# run BIN NAME CONFIG TIMING: a short run recording NAME.{trace,summary,stats}.
# Every path in the config (images, trace, kernel) is the same for all
# runs, because the effective config's hash is in the trace header.
run() {
	local bin=$1 name=$2 config=$3 timing=$4
	rm -f "$WORK/pm.img" "$WORK/disk.img" "$WORK/run.trace"
	"$bin" --config "$SRC/configs/$config.json" --seed 7 \
		--set cpu.timing="$timing" --set guest.kernel="$KERNEL" \
		--set pmem.image="$WORK/pm.img" --set block.image="$WORK/disk.img" \
		--set run.max_time_us=30000 --set "guest.cmdline=workload=bank snapshot_ms=2" \
		--trace "$WORK/run.trace" --stats "$WORK/$name.stats" >/dev/null 2>"$WORK/$name.err" ||
		{ bad "$name: exit status $?: $(tail -3 "$WORK/$name.err")"; return 1; }
	mv "$WORK/run.trace" "$WORK/$name.trace"
	"$SIM" trace export --format summary "$WORK/$name.trace" -o "$WORK/$name.summary" ||
		{ bad "$name: no summary"; return 1; }
}

# stat FILE KEY: one counter of a --stats JSON file.
stat() {
	sed -n "s/^ *\"$2\": \([0-9]*\),*$/\1/p" "$1"
}

for config in optane nvme; do
	for timing in fast approximate; do
		k=$config-$timing
		run "$SIM" "$k-a" "$config" "$timing" && run "$SIM" "$k-b" "$config" "$timing" &&
			run "$O0" "$k-o0" "$config" "$timing" || continue
		if grep -q '"committed": [1-9]' "$WORK/$k-a.summary"; then
			ok "$k: the run commits snapshots"
		else
			bad "$k: no committed snapshot in the summary"
		fi
		for other in b o0; do
			what="two runs"
			[ "$other" = o0 ] && what="-O0 and this build"
			for f in trace summary stats; do
				if cmp -s "$WORK/$k-a.$f" "$WORK/$k-$other.$f"; then
					ok "$k: $what give the same $f"
				else
					bad "$k: $what differ in the $f: $(cmp "$WORK/$k-a.$f" "$WORK/$k-$other.$f" 2>&1 | head -1)"
				fi
			done
		done
		# Named explicitly, so a failure says which clock diverged.
		for key in run.sim_time_ps run.insns; do
			a=$(stat "$WORK/$k-a.stats" "$key") o=$(stat "$WORK/$k-o0.stats" "$key")
			if [ -n "$a" ] && [ "$a" = "$o" ]; then ok "$k: $key $a at -O0 too"; else bad "$k: $key: $a here, $o at -O0"; fi
		done
	done
done
finish
