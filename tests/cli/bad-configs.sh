#!/bin/sh
# Bad configs and bad command lines: one clear line, exit status 2, and
# nothing written.
. "${top_srcdir:-.}/tests/cli/lib.sh"

printf '{\n "pmem": {"size_mb": 64,}\n}\n' >"$WORK/malformed.json"
printf '{"pmem": {"size_gb": 1}}\n' >"$WORK/unknown.json"
printf '{"pmem": {"enabled": "yes"}}\n' >"$WORK/type.json"
printf '{"pmem": {"size_mb": 99999999}}\n' >"$WORK/range.json"

expect_fail malformed 2 "$WORK/malformed.json:2:" -- "$SIM" --config "$WORK/malformed.json" --stats "$WORK/s1.json"
expect_fail unknown-key 2 "pmem.size_gb: unknown key" -- "$SIM" --config "$WORK/unknown.json" --stats "$WORK/s2.json"
expect_fail wrong-type 2 "pmem.enabled: expected true or false" -- "$SIM" --config "$WORK/type.json"
expect_fail out-of-range 2 "pmem.size_mb: expected an integer from 1 to" -- "$SIM" run --config "$WORK/range.json"
expect_fail missing-file 2 "$WORK/none.json: cannot open" -- "$SIM" --config "$WORK/none.json"
expect_fail set-bad-value 2 "--set: pmem.size_mb: expected an integer" -- "$SIM" --config "$SRC/configs/optane.json" --set pmem.size_mb=lots
expect_fail set-unknown 2 "--set: pmem.nope: unknown key" -- "$SIM" --config "$SRC/configs/optane.json" --set pmem.nope=1
expect_fail bad-seed 2 "--seed: expected a non-negative integer" -- "$SIM" --config "$SRC/configs/optane.json" --seed -4
expect_fail fail-at-kind 2 "--power-fail-at sometime:5: expected [random-]KIND:N" -- "$SIM" --config "$SRC/configs/optane.json" --power-fail-at sometime:5
expect_fail fail-at-zero 2 "--power-fail-at event:0: expected a positive integer" -- "$SIM" --config "$SRC/configs/optane.json" --power-fail-at event:0
printf '{"power": {"fail_kind": "event"}}\n' >"$WORK/failat.json"
expect_fail fail-at-missing 2 "power.fail_at: expected a positive point" -- "$SIM" --config "$WORK/failat.json"
expect_fail no-config 2 "--config FILE is required" -- "$SIM" run
expect_fail unknown-subcommand 2 "unknown subcommand 'frobnicate'" -- "$SIM" frobnicate

# An unwritable --stats path is a host error (3), after a valid run.
"$SIM" --config "$SRC/configs/dram.json" --stats "$WORK/no/such/dir/s.json" >/dev/null 2>"$WORK/err"
rc=$?
if [ "$rc" -eq 3 ] && grep -q -- "--stats $WORK/no/such/dir/s.json: cannot write" "$WORK/err"; then
	ok "unwritable --stats exits 3"
else
	bad "unwritable --stats: exit $rc: $(cat "$WORK/err")"
fi

# Nothing was written by the failed runs.
if [ -e "$WORK/s1.json" ] || [ -e "$WORK/s2.json" ] || [ -e "$WORK/s1.json.tmp" ]; then
	bad "a failed run wrote its stats file"
else
	ok "failed runs write nothing"
fi
finish
