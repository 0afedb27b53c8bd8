#!/bin/sh
# The runner's own promises: the seed alone decides the guest's random
# values, time is simulated, identities are fixed, and --stats,
# --max-insns and --strace do what --help says.
. "${top_srcdir:-.}/tests/user/lib.sh"

seeded="$BLD/tests/user/progs/seeded"
"$SIM" user --seed 7 "$seeded" >"$WORK/a" 2>&1
"$SIM" user --seed 7 "$seeded" >"$WORK/b" 2>&1
"$SIM" user --seed 8 "$seeded" >"$WORK/c" 2>&1
if cmp -s "$WORK/a" "$WORK/b"; then ok "same seed, same output"; else bad "same seed, different output: $(cat "$WORK/a" "$WORK/b")"; fi
if cmp -s "$WORK/a" "$WORK/c"; then bad "seeds 7 and 8 give the same output"; else ok "another seed, another output"; fi
# The clock starts at rtc.epoch (2026-01-01) and only simulated time
# passes; the identity and the CPU count are the runner's, not the host's.
if grep -q ' 1767225600\.[0-9]* pid 1000 uid 1000 cpus 1/1$' "$WORK/a"; then
	ok "simulated clock, fixed identity, one CPU"
else
	bad "clock/identity: $(cat "$WORK/a")"
fi

"$SIM" user --stats "$WORK/stats.json" "$BLD/tests/user/progs/jmp" >/dev/null
if grep -q '"cpu.insns": *[1-9]' "$WORK/stats.json" && grep -q '"user.syscalls": *[1-9]' "$WORK/stats.json"; then
	ok "--stats has cpu.insns and user.syscalls"
else
	bad "--stats: $(cat "$WORK/stats.json")"
fi

# abort(): SIGABRT sent to itself, status 134 and one line.
"$SIM" user "$BLD/tests/user/progs/abort" >"$WORK/out" 2>"$WORK/err"
rc=$?
if [ "$rc" -eq 134 ] && [ "$(cat "$WORK/out")" = aborting ] && [ "$(wc -l <"$WORK/err")" -eq 1 ] &&
   grep -q '^phantom-sim: guest killed by signal 6 ' "$WORK/err"; then
	ok "abort ends the guest with status 134"
else
	bad "abort: exit $rc: $(cat "$WORK/out" "$WORK/err")"
fi

expect_fail max-insns 124 "instruction limit reached (1000 instructions)" -- "$SIM" user --max-insns 1000 "$BLD/tests/user/progs/jmp"

"$SIM" user --strace "$BLD/tests/user/progs/jmp" >/dev/null 2>"$WORK/strace"
if grep -q '^\[user\] write(1, 0x[0-9a-f]*, [0-9]*) = ' "$WORK/strace" &&
   grep -q '^\[user\] exit_group(0) = ?$' "$WORK/strace"; then
	ok "--strace"
else
	bad "--strace: $(head -c 600 "$WORK/strace")"
fi

"$SIM" user --help >"$WORK/help"
if grep -q -- '--max-insns N' "$WORK/help"; then ok "--help"; else bad "--help: $(cat "$WORK/help")"; fi
finish
