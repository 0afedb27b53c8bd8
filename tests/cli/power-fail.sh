#!/bin/sh
# Power failures of the main job: cut the power at a persistence event,
# keep what the policy allows, reboot the Phantom guest on it in the same
# run, and check that recovery found the last commit the guest reported
# before the failure, with the digest it reported then.
. "${top_srcdir:-.}/tests/cli/lib.sh"

[ -e "${top_builddir:-.}/phantom-kernel.elf" ] || { echo "SKIP: no guest kernel"; exit 77; }

# ref_digest GEN ARGS...: the digest generation GEN commits with in the
# same run without the power failure.
ref_digest() {
	g=$1; shift
	ref_args=""
	while [ $# -gt 0 ]; do
		case $1 in
		--power-fail-at) shift 2 ;;
		*) ref_args="$ref_args '$1'"; shift ;;
		esac
	done
	eval "set -- $ref_args"
	rm -f "$WORK/ref.img"
	"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/ref.img" \
		--set run.max_time_us=100000 "$@" 2>&1 | tr -d '\r' |
		grep "^TRACE commit gen=$g " | head -1 | sed 's/.*digest=//'
}

# check NAME ARGS...: one run with a power failure and a reboot.
check() {
	name=$1; shift
	rm -f "$WORK/pm.img"
	"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/pm.img" \
		--set run.max_time_us=100000 "$@" 2>&1 | tr -d '\r' >"$WORK/out"
	rc=$?
	before=$(sed -n '1,/power failure/p' "$WORK/out")
	after=$(sed -n '/rebooting on what survived/,$p' "$WORK/out")
	last=$(printf '%s\n' "$before" | grep '^TRACE commit' | tail -1)
	rec=$(printf '%s\n' "$after" | grep '^TRACE recovery_end' | head -1)
	if [ "$rc" -ne 0 ] || [ -z "$after" ]; then
		bad "$name: exit $rc, no power failure or no reboot: $(grep phantom-sim: "$WORK/out")"
		return
	fi
	if [ -z "$last" ] && [ -z "$rec" ]; then
		# Nothing was committed before the failure: an empty store is right.
		if printf '%s\n' "$after" | grep -q '^TRACE first_boot' &&
		   printf '%s\n' "$after" | grep -q '^TRACE commit gen=1 '; then
			ok "$name: nothing committed yet, clean first boot"
		else
			bad "$name: no commit before the failure, and no clean first boot after it"
		fi
		return
	fi
	if [ -z "$rec" ]; then
		bad "$name: $last before the failure, but no recovery after it"
		return
	fi
	gen=$(printf '%s' "$rec" | sed 's/.*gen=\([0-9]*\).*/\1/')
	dig=$(printf '%s' "$rec" | sed 's/.*digest=\([0-9a-f]*\).*/\1/')
	case "$rec" in *"selfcheck=0 invariant=0"*) ;; *) bad "$name: $rec"; return ;; esac
	lgen=0
	if [ -n "$last" ]; then
		lgen=$(printf '%s' "$last" | sed 's/.*gen=\([0-9]*\).*/\1/')
		if [ "$gen" -lt "$lgen" ]; then bad "$name: recovered $gen < committed $lgen"; return; fi
	fi
	want=$(printf '%s\n' "$before" | grep "^TRACE commit gen=$gen " | tail -1 | sed 's/.*digest=//')
	# Under lenient or random, the generation whose commit was under way
	# may survive (its record landed before the guest reported it).
	if [ "$gen" -gt 0 ] && [ -z "$want" ] && [ "$gen" -eq $((${lgen:-0} + 1)) ]; then
		want=$(ref_digest "$gen" "$@")
	fi
	if [ "$gen" -gt 0 ] && [ "$want" != "$dig" ]; then
		bad "$name: generation $gen recovered as $dig, committed as $want"; return
	fi
	printf '%s\n' "$after" | grep -q "^TRACE commit gen=$((gen + 1)) " ||
		{ bad "$name: no progress after recovery"; return; }
	ok "$name: recovered generation $gen"
}

# The points must fall inside the 100 ms run: the default guest (bank,
# 10 ms snapshots, frames=pm) makes about 54 K persistence events in it,
# the first commit at about 15.7 K (the workload's own stores to the
# object space are PM stores).
for ev in 9000 20000 38000; do
	check "strict at event $ev" --power-fail-at "event:$ev"
	check "lenient at event $ev" --power-fail-at "event:$ev" --set power.policy=lenient
done
for seed in 1 2 3; do
	check "random seed $seed" --power-fail-at random-event:50000 --set power.policy=random --seed "$seed"
	check "random+tearing seed $seed" --power-fail-at random-event:50000 --set power.policy=random \
		--set power.tearing=true --seed "$seed"
done
check "at a simulated time" --power-fail-at time_us:25000
check "at an instruction count" --power-fail-at insn:4000000

# power.after=stop leaves the image for the next run, which recovers it.
rm -f "$WORK/pm.img"
"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/pm.img" --set run.max_time_us=60000 \
	--power-fail-at event:30000 --set power.after=stop 2>&1 | tr -d '\r' >"$WORK/out1"
"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/pm.img" --set run.max_time_us=20000 \
	2>&1 | tr -d '\r' >"$WORK/out2"
# The generation recovered is the last one reported, or the next one if
# its commit was durable before the guest reported it (frames=pm reports
# a commit's digest after hashing its pages).
lgen=$(grep '^TRACE commit' "$WORK/out1" | tail -1 | sed 's/.*gen=\([0-9]*\).*/\1/')
rec=$(grep '^TRACE recovery_end' "$WORK/out2" | head -1)
gen=$(printf '%s' "$rec" | sed -n 's/.*gen=\([0-9]*\) .*/\1/p')
want=$(grep "^TRACE commit gen=$gen " "$WORK/out1" | tail -1 | sed 's/.*digest=//')
[ -z "$want" ] && [ "${gen:-0}" -eq $((${lgen:-0} + 1)) ] && want=$(ref_digest "$gen")
if grep -q "rebooting" "$WORK/out1"; then
	bad "power.after=stop rebooted"
elif [ -n "$want" ] && printf '%s' "$rec" | grep -q "^TRACE recovery_end gen=$gen digest=$want selfcheck=0 invariant=0"; then
	ok "power.after=stop: the next run recovers gen $gen (last reported: $lgen)"
else
	bad "power.after=stop: last commit $lgen, then: $rec (want digest '$want')"
fi

# The same seed cuts at the same point and recovers the same state.
for i in 1 2; do
	rm -f "$WORK/pm.img"
	"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/pm.img" --set run.max_time_us=40000 \
		--power-fail-at random-event:50000 --set power.policy=random --seed 7 2>&1 |
		grep -E '^TRACE|power failure' >"$WORK/det$i"
done
cmp -s "$WORK/det1" "$WORK/det2" && ok "same seed, same crash and recovery" || bad "runs with seed 7 differ"
finish
