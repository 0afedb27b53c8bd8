#!/bin/sh
# tests/pvm/asm-errors.sh: pvm-asm rejects bad sources with FILE:LINE errors.
#
# Each case writes a small .pvs, runs the assembler and expects exit 1 and
# an error naming the right line with the right message.  Also checks that
# good input assembles and that the disassembler reads the image back.
set -u
ASM="${top_builddir:-.}/pvm-asm"
SRC="${top_srcdir:-.}"
[ -x "$ASM" ] || { echo "no $ASM"; exit 77; }
WORK=$(mktemp -d /tmp/pvm-asm.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
passes=0
ok()  { passes=$((passes + 1)); echo "ok - $*"; }
bad() { fails=$((fails + 1)); echo "FAIL - $*"; }

# expect NAME LINE NEEDLE: $WORK/t.pvs (written by the caller) must fail
# with "t.pvs:LINE: error: ...NEEDLE..."
expect() {
	name=$1 line=$2 needle=$3
	"$ASM" -o "$WORK/t.pvi" "$WORK/t.pvs" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	if [ "$rc" -ne 1 ]; then bad "$name: exit $rc, expected 1"; return; fi
	if ! grep -q "t.pvs:$line: error: " "$WORK/err"; then
		bad "$name: no error at line $line: $(cat "$WORK/err")"; return
	fi
	if ! grep -qF -- "$needle" "$WORK/err"; then
		bad "$name: stderr lacks '$needle': $(cat "$WORK/err")"; return
	fi
	ok "$name"
}

src() { cat >"$WORK/t.pvs"; }

src <<'P'
class A
  method run 8
    frobnicate 3
  end
end
P
expect unknown-instruction 3 "unknown instruction 'frobnicate'"

src <<'P'
class A
  method run 8
    jmp nowhere
  end
end
P
expect undefined-label 3 "undefined label 'nowhere'"

src <<'P'
class A
  method run 8
  x:
  x:
    ret
  end
end
P
expect duplicate-label 4 "label 'x' defined twice"

src <<'P'
class A
  method run 8
    iconst_8bit 300
  end
end
P
expect operand-range 3 "out of range"

src <<'P'
class A
  method run 8
    isum 1
  end
end
P
expect extra-operand 3 "takes 0 operands"

src <<'P'
class A
  field f
  method run 8
    load g
  end
end
P
expect unknown-field 4 "has no field 'g'"

src <<'P'
class A
  method run 8
    get v
  end
end
P
expect unknown-variable 3 "unknown variable 'v'"

src <<'P'
class A
  method run 8
    spush "open
  end
end
P
expect unterminated-string 3 "unterminated string"

src <<'P'
class A : Nope
end
P
expect unknown-parent 1 "unknown parent class 'Nope'"

src <<'P'
class A
  method run 8
    ret
  end
P
expect missing-end 4 "missing 'end'"

src <<'P'
class A
  method a 8
  end
  method b 8
  end
end
P
expect duplicate-ordinal 4 "clashes with 'a'"

src <<'P'
class A
end
class A
end
P
expect duplicate-class 3 "class 'A' defined twice"

src <<'P'
class A
  method run 8
    call B.x 0
  end
end
P
expect unknown-class 3 "unknown class in 'B.x'"

src <<'P'
const K 1
const K 2
P
expect duplicate-const 2 "constant 'K' defined twice"

src <<'P'
class A
  method run 8
    nop | ret | ipush 1 2
  end
end
P
expect bar-separated 3 "takes 1 operand"

src <<'P'
field x
P
expect outside-class 1 "outside a class"

src <<'P'
class A
  method run 8
    nop
    ivar late
  end
end
P
expect late-variable 4 "must come before the first instruction"

src <<'P'
class A
  method run 8
    ipush 0x1G
  end
end
P
expect bad-number 3 "bad number"

# usage errors exit 2; an unreadable file too
"$ASM" >/dev/null 2>&1; [ $? -eq 2 ] && ok usage || bad "usage: expected exit 2"
"$ASM" -o "$WORK/x" "$WORK/missing.pvs" >/dev/null 2>&1; [ $? -eq 2 ] && ok missing-file || bad "missing-file: expected exit 2"

# the real workloads assemble, and the image disassembles
if "$ASM" -o "$WORK/all.pvi" "$SRC/pvm/workloads/lib.pvs" "$SRC/pvm/workloads/counter.pvs" \
	"$SRC/pvm/workloads/bank.pvs" "$SRC/pvm/workloads/kv.pvs" "$SRC/pvm/workloads/list.pvs" 2>"$WORK/err"; then
	ok workloads-assemble
else
	bad "workloads-assemble: $(cat "$WORK/err")"
fi
if "$ASM" --disasm "$WORK/all.pvi" >"$WORK/dis" && grep -q "class Bank" "$WORK/dis" &&
	grep -q "call_10 2" "$WORK/dis" && ! grep -q ".byte" "$WORK/dis"; then
	ok disassemble
else
	bad "disassemble"
fi

# every opcode of the table: assemble one of each, disassemble, and get
# the same mnemonics back in the same order
{
	echo "class X"
	echo "  method m 8"
	echo "  L:"
	sed -n 's/^PVM_OP(\([a-z0-9_]*\), *0x[0-9A-F]*, *\([A-Z0-9]*\)).*/\1 \2/p' "$SRC/pvm/vm/opcodes.def" |
	while read -r name kind; do
		case $kind in
		NONE) echo "    $name" ;;
		U8|I8|I32|I64|CALLN) echo "    $name 1" ;;
		REL32) echo "    $name L" ;;
		U8U8|U8I32|I32I32) echo "    $name 1 2" ;;
		STR) echo "    $name \"s\"" ;;
		SWITCH) echo "    $name 0 1 L L" ;;
		esac
	done
	echo "  end"
	echo "end"
} >"$WORK/all.pvs"
sed -n 's/^PVM_OP(\([a-z0-9_]*\),.*/\1/p' "$SRC/pvm/vm/opcodes.def" >"$WORK/want"
if "$ASM" -o "$WORK/ops.pvi" "$WORK/all.pvs" 2>"$WORK/err" &&
	"$ASM" --disasm "$WORK/ops.pvi" | awk '/^ +[0-9]+:/ { print $2 }' | tail -n +2 >"$WORK/got" &&
	cmp -s "$WORK/want" "$WORK/got"; then
	ok opcode-table-roundtrip
else
	bad "opcode-table-roundtrip: $(cat "$WORK/err"; diff "$WORK/want" "$WORK/got" | head -5)"
fi

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
