#!/bin/sh
# Every shipped config loads, prints as JSON that loads again, and runs.
. "${top_srcdir:-.}/tests/cli/lib.sh"

for c in optane eadr nvme dram; do
	if "$SIM" --config "$SRC/configs/$c.json" --print-config >"$WORK/$c.eff.json" 2>"$WORK/err" &&
	   "$SIM" --config "$WORK/$c.eff.json" --print-config >"$WORK/$c.again.json" 2>>"$WORK/err" &&
	   cmp -s "$WORK/$c.eff.json" "$WORK/$c.again.json"; then
		ok "$c: --print-config round trips"
	else
		bad "$c: --print-config: $(cat "$WORK/err")"
	fi
done

"$SIM" --config "$SRC/configs/optane.json" --set run.seed=77 --set pmem.size_mb=128 --print-config >"$WORK/set.json"
if grep -q '"seed":[[:space:]]*77' "$WORK/set.json" && grep -q '"size_mb":[[:space:]]*128' "$WORK/set.json"; then
	ok "--set shows in --print-config"
else
	bad "--set did not show in --print-config"
fi
"$SIM" --config "$SRC/configs/optane.json" --seed 5 --print-config | grep -q '"seed":[[:space:]]*5' &&
	ok "--seed overrides run.seed" || bad "--seed did not override run.seed"

"$SIM" --config "$SRC/configs/optane.json" --power-fail-at random-event:900 --print-config >"$WORK/pf.json"
if grep -q '"fail_kind":[[:space:]]*"event"' "$WORK/pf.json" && grep -q '"fail_at":[[:space:]]*900' "$WORK/pf.json" &&
   grep -q '"fail_random":[[:space:]]*true' "$WORK/pf.json"; then
	ok "--power-fail-at sets power.fail_*"
else
	bad "--power-fail-at: $(cat "$WORK/pf.json")"
fi
if "$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/o.pmem" --set run.max_time_us=30000 \
	--stats "$WORK/stats.json" >/dev/null 2>"$WORK/err" &&
   grep -q '"run.seed": 1' "$WORK/stats.json"; then
	ok "run writes --stats JSON"
else
	bad "run with --stats: $(cat "$WORK/err")"
fi
"$SIM" --config "$SRC/configs/optane.json" --set pmem.image="$WORK/t.pmem" --set run.max_time_us=30000 \
	--trace "$WORK/run.trace" >/dev/null 2>&1
if "$SIM" trace export --format summary "$WORK/run.trace" 2>/dev/null | grep -q '"committed": [1-9]'; then
	ok "--trace records the run's snapshots"
else
	bad "--trace: no committed snapshots in the summary"
fi
"$SIM" --help | grep -q '^exit status:' && ok "--help documents exit statuses" || bad "--help lacks exit statuses"
"$SIM" --version | grep -q '^phantom-sim [0-9]' && ok "--version" || bad "--version"
finish
