#!/bin/sh
# What a real run records beyond the guest's protocol: the write-pending
# queues of the approximate timing model and the snapshots' dirty pages.
# `bank` on optane.json (ADR, approximate timing) must give wpq_drain
# records whose totals the summary, the CSV and the Chrome counters agree
# on; fast timing has no queues and records none; dirty page counts, when
# the guest reports them (PAUSE_END's third argument), are what the
# summary's `dirtied` and the Chrome "dirty pages" counter show.
. "${top_srcdir:-.}/tests/traces/lib.sh"

KERNEL="$BLD/phantom-kernel.elf"
if [ ! -r "$KERNEL" ]; then
	echo "SKIP: $KERNEL not built"
	exit 77
fi

# run NAME ARGS...: 50 ms of bank (a few snapshots) recording NAME.trace.
# frames=dram: only the snapshot path stores to PM, and it writes back
# every line it stores (under optane.json's frames=pm the workload's own
# stores go to PM too, many to the same line, and the last interval's
# stay in the cache).
run() {
	local name=$1; shift
	rm -f "$WORK/pm.img"
	"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/pm.img" \
		--set "guest.cmdline=backend=pmem workload=bank snapshot_ms=10 frames=dram" \
		--set run.max_time_us=50000 --trace "$WORK/$name.trace" "$@" \
		>/dev/null 2>"$WORK/$name.err"
}

# value FILE KEY: the first number after "KEY": in a summary.
value() {
	grep -o "\"$2\": [0-9]*" "$1" | head -1 | sed 's/.*: //'
}

check run-approx run approx
check summary "$SIM" trace export --format summary "$WORK/approx.trace" -o "$WORK/approx.json"
check csv "$SIM" trace export --format csv "$WORK/approx.trace" -o "$WORK/approx.csv"
check chrome "$SIM" trace export --format chrome "$WORK/approx.trace" -o "$WORK/approx.chrome.json"
check chrome-structure "$CHROME_CHECK" "$WORK/approx.chrome.json"

S="$WORK/approx.json"
drains=$(value "$S" drains) lines=$(value "$S" lines) maxocc=$(value "$S" max_occupancy)
pm_media=$(value "$S" pm_media) media=$(value "$S" media) pm_stored=$(value "$S" pm_stored)
records=$(value "$S" wpq_drain)
if [ "${drains:-0}" -gt 0 ] && [ "${lines:-0}" -ge "$drains" ]; then
	ok "WPQ drains recorded: $drains drains, $lines lines"
else
	bad "no WPQ drains: drains=$drains lines=$lines"
fi
if [ "${pm_media:-0}" -eq $((lines * 64)) ] && [ "$media" -eq "$pm_media" ]; then
	ok "pm_media = media = 64 x lines drained ($pm_media bytes)"
else
	bad "pm_media $pm_media, media $media, lines $lines"
fi
# Every line bank stores is flushed: the queues drained no fewer bytes.
if [ "$pm_media" -ge "$pm_stored" ]; then ok "pm_media >= pm_stored ($pm_stored)"; else bad "pm_media $pm_media < pm_stored $pm_stored"; fi
# 6 DIMMs x 16 entries (machine/memctrl.c defaults, pmem.dimms = 6)
if [ "${maxocc:-0}" -gt 0 ] && [ "$maxocc" -le 96 ]; then
	ok "max WPQ occupancy $maxocc in 1..96"
else
	bad "max WPQ occupancy $maxocc"
fi

# The CSV rows add up to the summary, bytes are 64 per line, and
# occupancy changes between consecutive records (no empty records).
sums=$(awk -F, '$4 == "wpq_drain" { n++; l += $5; if ($6 != 64 * $5) bad++;
	if ($5 == 0 && $7 == prev) same++; prev = $7 }
	END { printf "%d %d %d %d", n, l, bad, same }' "$WORK/approx.csv")
set -- $sums
if [ "$1" -eq "$records" ] && [ "$2" -eq "$lines" ] && [ "$3" -eq 0 ] && [ "$4" -eq 0 ]; then
	ok "CSV: $1 wpq_drain rows, $2 lines, 64 bytes per line, each a change"
else
	bad "CSV: rows $1 (summary $records), lines $2 (summary $lines), bad bytes $3, empty $4"
fi

# Chrome: one WPQ occupancy counter event per record, and persisted bytes
# reaching pm_media.
wpq_c=$(grep -c '"name":"WPQ","cat":"counter","ph":"C"' "$WORK/approx.chrome.json")
if [ "$wpq_c" -eq "$records" ]; then ok "Chrome: $wpq_c WPQ occupancy counter events"; else bad "Chrome: $wpq_c WPQ events, $records records"; fi
last_persisted=$(grep -o '"args":{"bytes":[0-9]*}' "$WORK/approx.chrome.json" | tail -1 | tr -dc 0-9)
if [ "${last_persisted:-0}" -eq "$pm_media" ]; then ok "Chrome: persisted bytes end at $pm_media"; else bad "Chrome: persisted bytes end at $last_persisted, pm_media $pm_media"; fi

# Dirty pages: exact when the guest reports them, unknown otherwise.
ndirty=$(awk -F, '$4 == "snapshot_dirty"' "$WORK/approx.csv" | wc -l)
begun=$(value "$S" begun) unknown=$(value "$S" dirty_unknown) dirtied=$(value "$S" dirtied)
if [ "$ndirty" -gt 0 ]; then
	want=$(awk -F, '$4 == "snapshot_dirty" { s += $6 } END { printf "%d", s * 4096 }' "$WORK/approx.csv")
	if [ "$dirtied" -eq "$want" ] && [ "$unknown" -eq $((begun - ndirty)) ]; then
		ok "dirtied = 4096 x reported dirty pages ($dirtied), $unknown unknown"
	else
		bad "dirtied $dirtied (want $want), dirty_unknown $unknown of $begun with $ndirty reports"
	fi
	if grep -q '"name":"dirty","cat":"counter","ph":"C".*"args":{"pages":[1-9]' "$WORK/approx.chrome.json"; then
		ok "Chrome: the dirty pages counter rises"
	else
		bad "Chrome: the dirty pages counter never rises"
	fi
else
	# A guest without PAUSE_END's dirty count: every snapshot unknown.
	if [ "$dirtied" -eq 0 ] && [ "$unknown" -eq "$begun" ]; then
		ok "guest reports no dirty pages: dirtied 0, $unknown of $begun unknown"
	else
		bad "no snapshot_dirty, yet dirtied $dirtied and dirty_unknown $unknown of $begun"
	fi
fi

# Fast timing has no queue model: no WPQ records at all.
check run-fast run fast --set cpu.timing=fast
check summary-fast "$SIM" trace export --format summary "$WORK/fast.trace" -o "$WORK/fast.json"
n=$(value "$WORK/fast.json" wpq_drain)
if [ "$n" -eq 0 ] && [ "$(value "$WORK/fast.json" pm_media)" -eq 0 ]; then
	ok "fast timing records no WPQ events"
else
	bad "fast timing recorded $n wpq_drain records"
fi

# Recording the queues is deterministic (same name: the trace path is
# part of the config the header hashes).
mv "$WORK/approx.trace" "$WORK/first.trace"
check run-again run approx
if cmp -s "$WORK/approx.trace" "$WORK/first.trace"; then ok "same run, same trace bytes"; else bad "two runs gave different traces"; fi
finish
