#!/bin/sh
# `phantom-sim campaign merge`: shards combine into one report; reports of
# different campaigns and broken files are refused with one clear line.
. "${top_srcdir:-.}/tests/cli/lib.sh"

shard() {   # shard K M FILE: a report holding the points of shard K of M
	k=$1 m=$2
	{
		printf '{"campaign": {"config": "configs/optane.json", "config_hash": "00000000000000ab",'
		printf ' "seed": 3, "policy": "strict", "points": "uniform", "crashes": 6, "shard": "%s/%s"},\n' "$k" "$m"
		printf ' "results": ['
		sep=""
		for i in 0 1 2 3 4 5; do
			[ $((i % m)) -eq $((k - 1)) ] || continue
			verdict=pass; why=ok
			[ "$i" -eq 4 ] && verdict=durability && why="lost generation 2"
			printf '%s{"ordinal": %d, "event": %d, "time_ps": %d, "verdict": "%s", "why": "%s",' \
				"$sep" "$i" $((10 * i + 1)) $((1000 * i)) "$verdict" "$why"
			printf ' "durable_generation": 1, "recovered_generation": 1, "recovery_ps": 50,'
			printf ' "repro": "phantom-sim campaign --config configs/optane.json --seed 3 --only %d"}' "$i"
			sep=", "
		done
		printf ']}\n'
	}
}
shard 1 2 >"$WORK/s1.json"
shard 2 2 >"$WORK/s2.json"
shard 1 1 >"$WORK/whole.json"

"$SIM" campaign merge -o "$WORK/merged.json" --junit "$WORK/merged.xml" "$WORK/s2.json" "$WORK/s1.json" >"$WORK/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && ok "merge exits 1 when a point failed" || bad "merge exit $rc: $(cat "$WORK/out")"
grep -q "6 crash points, 5 passed, 1 failed" "$WORK/out" && ok "summary counts" || bad "summary: $(cat "$WORK/out")"
"$SIM" campaign merge -o "$WORK/whole2.json" "$WORK/whole.json" >/dev/null 2>&1
cmp -s "$WORK/merged.json" "$WORK/whole2.json" && ok "merged shards equal the unsharded report" ||
	bad "merged report differs from the unsharded one"
[ "$(grep -c '<testcase ' "$WORK/merged.xml")" -eq 6 ] && grep -q 'failures="1"' "$WORK/merged.xml" &&
	ok "JUnit has one test case per point" || bad "JUnit: $(cat "$WORK/merged.xml")"
if command -v xmllint >/dev/null 2>&1; then
	xmllint --noout "$WORK/merged.xml" && ok "JUnit is well-formed XML" || bad "JUnit is not well-formed"
fi

sed 's/"seed": 3/"seed": 4/' "$WORK/s2.json" >"$WORK/other.json"
expect_fail other-campaign 2 "not a shard of the same campaign" -- "$SIM" campaign merge -o "$WORK/x.json" "$WORK/s1.json" "$WORK/other.json"
expect_fail overlap 2 "appears in two reports" -- "$SIM" campaign merge -o "$WORK/x.json" "$WORK/s1.json" "$WORK/s1.json"
printf '{"campaign": 1}' >"$WORK/broken.json"
expect_fail broken 2 "broken.json: campaign: expected an object" -- "$SIM" campaign merge -o "$WORK/x.json" "$WORK/broken.json"
[ -e "$WORK/x.json" ] && bad "a failed merge wrote its output" || ok "failed merges write nothing"
finish
