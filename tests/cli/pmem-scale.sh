#!/bin/sh
# Host memory follows what the guest touches, not what is configured
# (issue 5, "Scale and memory"): a machine shaped like the reference Optane
# server, 64 GiB of DRAM and 6 x 256 GB of persistent memory (plus a 4 TiB
# disk), boots on a small host with a peak RSS under 1 GiB, and its images
# stay sparse.  A property of the allocation (lazy mappings, sparse files,
# bookkeeping for pending lines only), not a timing: bench/pmem-scale
# prints the actual figures.
. "${top_srcdir:-.}/tests/cli/lib.sh"

RSS="$BLD/bench/peak-rss"
[ -x "$RSS" ] || { echo "SKIP: bench/peak-rss not built"; exit 77; }
LIMIT_KIB=1048576       # 1 GiB
ALLOC_LIMIT=$((64 * 1024 * 1024))

# server NAME KERNEL CMDLINE: the Optane-server shape around a kernel.
server() {
	cat >"$WORK/$1.json" <<EOF
{
  "cpu": { "timing": "approximate" },
  "memory": { "dram_mb": 65536 },
  "pmem": { "enabled": true, "base": "0x1040000000", "size_mb": 1572864,
            "image": "$WORK/$1.pmem", "dimms": 6 },
  "block": { "enabled": true, "size_mb": 4194304, "image": "$WORK/$1.disk" },
  "guest": { "kernel": "$2", "cmdline": "$3" },
  "power": { "after": "stop" },
  "run": { "max_time_us": 100000 }
}
EOF
}

allocated() { echo $(( $(stat -c %b "$1") * $(stat -c %B "$1") )); }

# check NAME: exit status, peak RSS and image sizes of the last run.
check() {
	rc=$1 name=$2
	kib=$(cat "$WORK/rss" 2>/dev/null || echo 0)
	if [ "$rc" -ne 0 ]; then
		bad "$name: exit $rc: $(grep phantom-sim: "$WORK/err" | head -3)"
		return 1
	fi
	[ "$kib" -gt 0 ] && [ "$kib" -lt "$LIMIT_KIB" ] &&
		ok "$name: peak RSS $kib KiB < 1 GiB" ||
		bad "$name: peak RSS $kib KiB, expected under $LIMIT_KIB"
	for img in "$WORK/$name.pmem" "$WORK/$name.disk"; do
		size=$(stat -c %s "$img") alloc=$(allocated "$img")
		[ "$alloc" -lt "$ALLOC_LIMIT" ] &&
			ok "$name: $(basename "$img"): $size bytes, $alloc allocated" ||
			bad "$name: $(basename "$img"): $alloc bytes allocated, expected a sparse image"
	done
}

# The pattern kernel: stores, flushes and fences at the start of the region.
K="$BLD/tests/guests/pmpattern.elf"
if [ -e "$K" ]; then
	server pattern "$K" "pm=0x1040000000"
	"$RSS" -o "$WORK/rss" "$SIM" --config "$WORK/pattern.json" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	# isa-debug-exit with 0 is a clean power-off (exit 0); the kernel
	# prints RESULT PASS after its script.
	grep -q '^RESULT PASS' "$WORK/out" || { bad "pattern: $(tail -3 "$WORK/out")"; rc=1; }
	check "$rc" pattern
else
	echo "# no pattern kernel (x86-64 hosts only)"
fi

# The Phantom guest, through the normal run path: it formats the store and
# commits snapshots.
if [ -e "$BLD/phantom-kernel.elf" ]; then
	server phantom "" "backend=pmem workload=bank snapshot_ms=10"
	"$RSS" -o "$WORK/rss" "$SIM" --config "$WORK/phantom.json" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if check "$rc" phantom; then
		n=$(tr -d '\r' <"$WORK/out" | grep -c '^TRACE commit')
		[ "$n" -ge 1 ] && ok "phantom: $n snapshots committed on 1.5 TiB of PM" ||
			bad "phantom: no snapshot committed: $(tail -3 "$WORK/out")"
	fi
else
	echo "# no guest kernel"
fi
finish
