#!/bin/sh
# Programs phantom-sim user cannot run: one line naming the file and the
# problem, exit status 2, and the guest never starts.
. "${top_srcdir:-.}/tests/user/lib.sh"

good="$BLD/tests/user/progs/intmath"
if [ ! -s "$good" ]; then
	bad "$good not built"
	finish
	exit 1
fi

printf '#!/bin/sh\necho not an ELF\n' >"$WORK/script"
expect_fail non-elf 2 "$WORK/script: not an ELF file" -- "$SIM" user "$WORK/script"

head -c 40 "$good" >"$WORK/short"
expect_fail short-header 2 "$WORK/short: truncated ELF header (40 of 64 bytes)" -- "$SIM" user "$WORK/short"

head -c 3000 "$good" >"$WORK/truncated"
expect_fail truncated 2 "$WORK/truncated: truncated ELF" -- "$SIM" user "$WORK/truncated"

cp "$good" "$WORK/elf32"
printf '\001' | dd of="$WORK/elf32" bs=1 seek=4 conv=notrunc 2>/dev/null
expect_fail 32-bit 2 "$WORK/elf32: not supported: 32-bit ELF" -- "$SIM" user "$WORK/elf32"

cp "$good" "$WORK/arm"
printf '\267\000' | dd of="$WORK/arm" bs=1 seek=18 conv=notrunc 2>/dev/null
expect_fail other-machine 2 "$WORK/arm: not supported: ELF machine 183" -- "$SIM" user "$WORK/arm"

dyn="$BLD/tests/user/progs/intmath-dynamic"
if file_is_static "$dyn"; then
	bad "$dyn should be dynamically linked"
else
	expect_fail dynamic 2 "$dyn: not supported: dynamically linked" -- "$SIM" user "$dyn"
fi

# p_memsz of the first PT_LOAD set to 0, below its p_filesz.
cp "$good" "$WORK/memsz"
phoff=$(le_at "$good" 32 8)
i=0
while [ "$(le_at "$good" $((phoff + i * 56)) 4)" -ne 1 ]; do i=$((i + 1)); done
printf '\000\000\000\000\000\000\000\000' | dd of="$WORK/memsz" bs=1 seek=$((phoff + i * 56 + 40)) conv=notrunc 2>/dev/null
expect_fail filesz-memsz 2 "$WORK/memsz: ELF program header $i: p_filesz larger than p_memsz" -- "$SIM" user "$WORK/memsz"

# e_phoff pointing past the end of the file.
cp "$good" "$WORK/phoff"
printf '\377\377\377\177' | dd of="$WORK/phoff" bs=1 seek=32 conv=notrunc 2>/dev/null
expect_fail phoff 2 "$WORK/phoff: truncated ELF: program header table" -- "$SIM" user "$WORK/phoff"

expect_fail missing 2 "$WORK/none: cannot open: No such file or directory" -- "$SIM" user "$WORK/none"
expect_fail directory 2 "$WORK: not a regular file" -- "$SIM" user "$WORK"
expect_fail no-program 2 "no PROGRAM given" -- "$SIM" user --seed 3
expect_fail bad-option 2 "unknown option '--frob'" -- "$SIM" user --frob "$good"
expect_fail bad-seed 2 "--seed: expected a non-negative integer" -- "$SIM" user --seed x "$good"
finish
