#!/bin/sh
# Busybox text applets under `phantom-sim user`: same stdout, same exit
# status as natively.  Skipped (77) without a static busybox.
. "${top_srcdir:-.}/tests/user/lib.sh"
need_busybox
BB=$BUSYBOX

seq 1 3000 | awk '{ print ($1 * 7919) % 10007 }' >"$WORK/numbers"
printf 'hello world\nthe quick brown fox\njumps over\nthe lazy dog\n' >"$WORK/text"

same_as_native echo /dev/null "$BB" echo hello, world
same_as_native echo-e /dev/null "$BB" echo -e 'a\tb\n\0101'
same_as_native seq /dev/null "$BB" seq 1 100000
same_as_native sort-n "$WORK/numbers" "$BB" sort -n
same_as_native sort-rn "$WORK/numbers" "$BB" sort -r -n
same_as_native sed "$WORK/text" "$BB" sed -e 's/o/0/g' -e '/lazy/d' -e '1i header'
same_as_native wc "$WORK/numbers" "$BB" wc
same_as_native wc-file /dev/null "$BB" wc -l "$WORK/numbers" "$WORK/text"
# od -t x1z: Debian's busybox 1.35 rejects the z suffix (exit 1) natively
# too, so this compares the failure; x1 compares a real dump.
same_as_native od-x1z "$WORK/text" "$BB" od -A x -t x1z
same_as_native od-x1 "$WORK/text" "$BB" od -A x -t x1
same_as_native factor /dev/null "$BB" factor 600851475143 9999999967 1234567890123 2 1
same_as_native expr-mul /dev/null "$BB" expr 12345 \* 6789
same_as_native expr-false /dev/null "$BB" expr 5 \< 3
same_as_native expr-match /dev/null "$BB" expr "phantom-sim" : 'phan\(.*\)-'
# sqrt: Debian's busybox awk is built without math (exit 1 natively too);
# the second program exercises awk's floating point without libm.
same_as_native awk-sqrt /dev/null "$BB" awk 'BEGIN{for(i=0;i<100000;i++)s+=sqrt(i);printf "%.6f\n",s}'
same_as_native awk-float /dev/null "$BB" awk 'BEGIN{for(i=1;i<=100000;i++)s+=1/i+i*0.5;printf "%.6f %d\n",s,s}'
same_as_native awk-fields "$WORK/numbers" "$BB" awk '{ t += $1; if ($1 > m) m = $1 } END { print NR, t, m, t / NR }'
# More applets over the same inputs: file I/O, stdio and string paths.
same_as_native head "$WORK/numbers" "$BB" head -n 7
same_as_native tail "$WORK/numbers" "$BB" tail -n 7
same_as_native cut "$WORK/numbers" "$BB" cut -c 2-3
same_as_native tr "$WORK/text" "$BB" tr a-z A-Z
same_as_native uniq "$WORK/numbers" "$BB" uniq -c
same_as_native grep "$WORK/numbers" "$BB" grep -c -E '^(1|77)'
same_as_native base64 "$WORK/text" "$BB" base64
same_as_native hexdump "$WORK/text" "$BB" hexdump -C
same_as_native printf /dev/null "$BB" printf '%5.2f|%-4s|%x\n' 3.14159 ab 255
same_as_native tac "$WORK/text" "$BB" tac
# sleep passes simulated time only: an hour returns at once on the host.
start=$(date +%s)
"$SIM" user "$BB" sleep 3600 </dev/null >"$WORK/out" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ $(($(date +%s) - start)) -lt 60 ] && [ ! -s "$WORK/out" ]; then
	ok "sleep 3600 in simulated time"
else
	bad "sleep 3600: exit $rc after $(($(date +%s) - start)) s: $(head -c 600 "$WORK/out")"
fi
same_as_native false /dev/null "$BB" false
same_as_native cat-missing /dev/null "$BB" cat "$WORK/no-such-file"
finish
