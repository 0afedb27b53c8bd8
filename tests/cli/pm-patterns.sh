#!/bin/sh
# Guest store patterns against the crash rules (docs/crash-model.md, "Guest
# pattern tests").  tests/guests/pmpattern.elf stores to persistent memory
# with and without clwb, clflushopt, clflush, movnti, movntdq and fences.
# A run without power failure, traced, tells which persistence events each
# step caused; then the power is cut after EVERY event of the script, in
# each domain and policy below, with a fresh image each time
# (power.after=stop), and tests/guests/pmcheck checks the image left behind
# against the rules, computed independently of the simulator:
#   strict:  unflushed data is gone; flushed-and-fenced, clflushed and
#            ntstore+fence data survive (ADR); eADR keeps cached stores;
#   lenient: everything issued;
#   random:  each line one of its versions (a later store to a line never
#            survives without the earlier ones); torn: each 8-byte word one
#            of its versions.
# The last line counts the crash states checked per policy.
. "${top_srcdir:-.}/tests/cli/lib.sh"

KERNEL="$BLD/tests/guests/pmpattern.elf"
CHECK="$BLD/tests/guests/pmcheck"
[ -e "$KERNEL" ] && [ -x "$CHECK" ] || { echo "SKIP: no pattern kernel (x86-64 hosts only)"; exit 77; }
SEEDS=${PM_PATTERN_SEEDS:-4}

cat >"$WORK/pm.json" <<EOF
{
  "cpu": { "timing": "fast" },
  "memory": { "dram_mb": 64 },
  "pmem": { "enabled": true, "base": "0x100000000", "size_mb": 1, "image": "$WORK/pm.img" },
  "guest": { "kernel": "$KERNEL", "cmdline": "pm=0x100000000" },
  "serial": { "output": "stdio" },
  "power": { "after": "stop" },
  "run": { "max_time_us": 1000000 }
}
EOF

# The reference run: the description on COM1, the markers in the trace.
rm -f "$WORK/pm.img"
"$SIM" --config "$WORK/pm.json" --trace "$WORK/ref.trace" 2>"$WORK/ref.err" |
	tr -d '\r' >"$WORK/desc"
if ! grep -q '^RESULT PASS' "$WORK/desc"; then
	bad "reference run: $(cat "$WORK/desc" "$WORK/ref.err" | head -20)"
	finish
	exit
fi
"$SIM" trace export --format csv "$WORK/ref.trace" -o "$WORK/ref.csv" ||
	{ bad "trace export"; finish; exit; }
window=$("$CHECK" window "$WORK/desc" "$WORK/ref.csv") || { bad "event accounting: $window"; finish; exit; }
first=${window% *}
last=${window#* }
nsteps=$(grep -c '^pm: step' "$WORK/desc")
ok "reference run: $nsteps steps, one persistence event each (lfence none): events $first..$last"

n_strict=0 n_lenient=0 n_random=0

# sweep NAME DOMAIN POLICY TEARING SEED...: a power failure after every
# event of the window, for each seed.
sweep() {
	name=$1 domain=$2 policy=$3 tearing=$4; shift 4
	count=0 failed=0
	: >"$WORK/sigs"
	for seed in "$@"; do
		n=$first
		while [ "$n" -le "$last" ]; do
			rm -f "$WORK/pm.img"
			"$SIM" --config "$WORK/pm.json" --seed "$seed" --set pmem.persistence_domain="$domain" \
				--set power.policy="$policy" --set power.tearing="$tearing" \
				--power-fail-at "event:$n" >/dev/null 2>"$WORK/err"
			rc=$?
			if [ "$rc" -ne 0 ] || ! grep -q "power failure ($policy policy) after $n persistence events" "$WORK/err"; then
				bad "$name: event $n seed $seed: exit $rc: $(grep phantom-sim: "$WORK/err")"
				failed=1
				break
			fi
			[ "$tearing" = true ] && t=1 || t=0
			if ! sig=$("$CHECK" check "$WORK/desc" "$WORK/ref.csv" "$n" "$domain" "$policy" "$t" \
				"$WORK/pm.img" 2>"$WORK/chk"); then
				bad "$name: event $n seed $seed: $(cat "$WORK/chk")"
				failed=1
				break
			fi
			echo "$n $sig" >>"$WORK/sigs"
			count=$((count + 1))
			n=$((n + 1))
		done
		[ "$failed" -eq 0 ] || break
	done
	# distinct: (point, image) pairs; images: different images overall.
	distinct=$(sort -u "$WORK/sigs" | wc -l)
	images=$(cut -d' ' -f2 "$WORK/sigs" | sort -u | wc -l)
	[ "$failed" -eq 0 ] && ok "$name: $count crash states legal ($images different images)"
	case $policy in
	strict) n_strict=$((n_strict + count)) ;;
	lenient) n_lenient=$((n_lenient + count)) ;;
	random) n_random=$((n_random + count)) ;;
	esac
}

seeds=$(seq 1 "$SEEDS")
sweep "adr strict" adr strict false 1
sweep "eadr strict" eadr strict false 1
sweep "none strict" none strict false 1
sweep "adr lenient" adr lenient false 1
sweep "adr random" adr random false $seeds
points=$((last - first + 1))
# Random must do more than one state per point: some lines are pending
# with several versions at most points.
if [ "$distinct" -le "$points" ]; then
	bad "adr random: only $distinct different (point, image) pairs over $points points"
fi
sweep "adr random torn" adr random true $seeds
sweep "eadr random" eadr random false $seeds

echo "crash states checked: strict $n_strict, lenient $n_lenient, random $n_random"
finish
