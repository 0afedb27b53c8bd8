/* machine/alu.c: integer arithmetic, logic, shifts, bit operations,
 * multiply/divide and the atomic read-modify-write family.
 *
 * Semantics and flag rules follow the SDM instruction pages.  Where the
 * SDM leaves a flag undefined, the table (machine/insn.def) says so and
 * the value here is whatever falls out of the computation.  Locked forms
 * are atomic trivially (one CPU, one host thread); they report a
 * CPU_FENCE_LOCKED ordering event through the hooks after their store.
 */
#include "machine/cpu_sys.h"
#include "machine/exec.h"

static void locked_done(struct cpu *c, const struct insn *i)
{
	if (i->lock)
		hook_fence(c, CPU_FENCE_LOCKED);
}

/* The eight classic ALU operations, op = opcode bits 5:3 or ModRM.reg:
 * add or adc sbb and sub xor cmp. */
static uint64_t alu(struct cpu *c, unsigned op, uint64_t a, uint64_t b, unsigned size)
{
	uint64_t m = size_mask(size), r;
	switch (op) {
	case 0: return flags_add(c, a, b, 0, size);
	case 2: return flags_add(c, a, b, (c->rflags & FL_CF) != 0, size);
	case 3: return flags_sub(c, a, b, (c->rflags & FL_CF) != 0, size);
	case 5: case 7: return flags_sub(c, a, b, 0, size);
	case 1: r = (a | b) & m; break;
	case 4: r = (a & b) & m; break;
	default: r = (a ^ b) & m; break;
	}
	flags_logic(c, r, size);
	return r;
}

void op_alu_EG(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->opcode >> 3) & 7;
	uint64_t r = alu(c, op, rm_read(c, i, i->osz), reg_read(c, i, i->reg, i->osz), i->osz);
	if (op != 7) {
		rm_write(c, i, i->osz, r);
		locked_done(c, i);
	}
}

void op_alu_GE(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->opcode >> 3) & 7;
	uint64_t r = alu(c, op, reg_read(c, i, i->reg, i->osz), rm_read(c, i, i->osz), i->osz);
	if (op != 7)
		reg_write(c, i, i->reg, i->osz, r);
}

void op_alu_AI(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->opcode >> 3) & 7;
	uint64_t r = alu(c, op, reg_read(c, i, CPU_RAX, i->osz), i->imm, i->osz);
	if (op != 7)
		reg_write(c, i, CPU_RAX, i->osz, r);
}

void op_alu_EI(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7;
	uint64_t r = alu(c, op, rm_read(c, i, i->osz), i->imm, i->osz);
	if (op != 7) {
		rm_write(c, i, i->osz, r);
		locked_done(c, i);
	}
}

void op_test_EG(struct cpu *c, const struct insn *i)
{
	alu(c, 4, rm_read(c, i, i->osz), reg_read(c, i, i->reg, i->osz), i->osz);
}

void op_test_AI(struct cpu *c, const struct insn *i)
{
	alu(c, 4, reg_read(c, i, CPU_RAX, i->osz), i->imm, i->osz);
}

void op_test_EI(struct cpu *c, const struct insn *i)
{
	alu(c, 4, rm_read(c, i, i->osz), i->imm, i->osz);
}

void op_not(struct cpu *c, const struct insn *i)
{
	rm_write(c, i, i->osz, ~rm_read(c, i, i->osz));
	locked_done(c, i);
}

void op_neg(struct cpu *c, const struct insn *i)
{
	rm_write(c, i, i->osz, flags_sub(c, 0, rm_read(c, i, i->osz), 0, i->osz));
	locked_done(c, i);
}

void op_incdec(struct cpu *c, const struct insn *i)
{
	uint64_t cf = c->rflags & FL_CF, a = rm_read(c, i, i->osz), r;
	if ((i->modrm >> 3) & 1)
		r = flags_sub(c, a, 1, 0, i->osz);
	else
		r = flags_add(c, a, 1, 0, i->osz);
	c->rflags = (c->rflags & ~(uint64_t)FL_CF) | cf;   /* inc/dec keep CF */
	rm_write(c, i, i->osz, r);
	locked_done(c, i);
}

/* ---- multiply and divide ---- */

static void mul_flags(struct cpu *c, bool overflow, uint64_t low, unsigned size)
{
	uint64_t f = flags_szp(low, size);      /* SF ZF PF: undefined, any value */
	if (overflow)
		f |= FL_CF | FL_OF;
	set_flags(c, FL_STATUS, f);
}

/* Write the double-width product hi:lo to AX (size 1) or rDX:rAX. */
static void write_wide(struct cpu *c, const struct insn *i, unsigned size, uint64_t lo, uint64_t hi)
{
	if (size == 1) {
		reg_write(c, i, CPU_RAX, 2, (lo & 0xff) | ((hi & 0xff) << 8));
	} else {
		reg_write(c, i, CPU_RAX, size, lo);
		reg_write(c, i, CPU_RDX, size, hi);
	}
}

void op_mul1(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz, bits = 8 * size;
	uint64_t a = reg_read(c, i, CPU_RAX, size), b = rm_read(c, i, size), lo, hi;
	if (size == 8) {
		unsigned __int128 p = (unsigned __int128)a * b;
		lo = (uint64_t)p, hi = (uint64_t)(p >> 64);
	} else {
		uint64_t p = a * b;
		lo = p & size_mask(size), hi = p >> bits;
	}
	write_wide(c, i, size, lo, hi);
	mul_flags(c, hi != 0, lo, size);
}

void op_imul1(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz, bits = 8 * size;
	int64_t a = (int64_t)sign_extend(reg_read(c, i, CPU_RAX, size), size);
	int64_t b = (int64_t)sign_extend(rm_read(c, i, size), size);
	uint64_t lo, hi;
	bool ovf;
	if (size == 8) {
		__int128 p = (__int128)a * b;
		lo = (uint64_t)p, hi = (uint64_t)((unsigned __int128)p >> 64);
		ovf = p != (__int128)(int64_t)lo;
	} else {
		int64_t p = a * b;
		lo = (uint64_t)p & size_mask(size), hi = ((uint64_t)p >> bits) & size_mask(size);
		ovf = p != (int64_t)sign_extend(lo, size);
	}
	write_wide(c, i, size, lo, hi);
	mul_flags(c, ovf, lo, size);
}

static int64_t imul_trunc(struct cpu *c, int64_t a, int64_t b, unsigned size)
{
	__int128 p = (__int128)a * b;
	uint64_t lo = (uint64_t)p & size_mask(size);
	mul_flags(c, p != (__int128)(int64_t)sign_extend(lo, size), lo, size);
	return (int64_t)lo;
}

void op_imul_GE(struct cpu *c, const struct insn *i)
{
	int64_t a = (int64_t)sign_extend(reg_read(c, i, i->reg, i->osz), i->osz);
	int64_t b = (int64_t)sign_extend(rm_read(c, i, i->osz), i->osz);
	reg_write(c, i, i->reg, i->osz, (uint64_t)imul_trunc(c, a, b, i->osz));
}

void op_imul_GEI(struct cpu *c, const struct insn *i)
{
	int64_t a = (int64_t)sign_extend(rm_read(c, i, i->osz), i->osz);
	int64_t b = (int64_t)sign_extend(i->imm, i->osz);
	reg_write(c, i, i->reg, i->osz, (uint64_t)imul_trunc(c, a, b, i->osz));
}

void op_div(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz, bits = 8 * size;
	uint64_t d = rm_read(c, i, size);
	if (d == 0)
		cpu_fault(c, CPU_EXC_DE, 0);
	uint64_t q, r;
	if (size == 8) {
		unsigned __int128 n = ((unsigned __int128)c->gpr[CPU_RDX] << 64) | c->gpr[CPU_RAX];
		if (c->gpr[CPU_RDX] >= d)
			cpu_fault(c, CPU_EXC_DE, 0);    /* quotient does not fit */
		q = (uint64_t)(n / d), r = (uint64_t)(n % d);
	} else {
		uint64_t n = size == 1 ? reg_read(c, i, CPU_RAX, 2)
			: (reg_read(c, i, CPU_RDX, size) << bits) | reg_read(c, i, CPU_RAX, size);
		q = n / d, r = n % d;
		if (q > size_mask(size))
			cpu_fault(c, CPU_EXC_DE, 0);
	}
	if (size == 1)
		reg_write(c, i, CPU_RAX, 2, q | (r << 8));
	else
		write_wide(c, i, size, q, r);
}

void op_idiv(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz, bits = 8 * size;
	int64_t d = (int64_t)sign_extend(rm_read(c, i, size), size);
	if (d == 0)
		cpu_fault(c, CPU_EXC_DE, 0);
	__int128 n;
	if (size == 8)
		n = (__int128)(((unsigned __int128)c->gpr[CPU_RDX] << 64) | c->gpr[CPU_RAX]);
	else if (size == 1)
		n = (int16_t)reg_read(c, i, CPU_RAX, 2);
	else
		n = (int64_t)sign_extend((reg_read(c, i, CPU_RDX, size) << bits) |
					 reg_read(c, i, CPU_RAX, size), 2 * size);
	__int128 q, r;
	__int128 min128 = (__int128)((unsigned __int128)1 << 127);
	if (d == -1) {
		if (n == min128)
			cpu_fault(c, CPU_EXC_DE, 0);
		q = -n, r = 0;
	} else {
		q = n / d, r = n % d;
	}
	__int128 lim = (__int128)1 << (bits - 1);
	if (q >= lim || q < -lim)
		cpu_fault(c, CPU_EXC_DE, 0);
	if (size == 1)
		reg_write(c, i, CPU_RAX, 2, ((uint64_t)q & 0xff) | (((uint64_t)r & 0xff) << 8));
	else
		write_wide(c, i, size, (uint64_t)q, (uint64_t)r);
}

/* ---- shifts and rotates ---- */

static uint64_t msb(uint64_t v, unsigned bits)
{
	return (v >> (bits - 1)) & 1;
}

/* op: 0 rol 1 ror 2 rcl 3 rcr 4 shl 5 shr 7 sar; count already masked. */
static uint64_t shift(struct cpu *c, unsigned op, uint64_t a, unsigned count, unsigned size)
{
	unsigned bits = 8 * size;
	uint64_t m = size_mask(size), r = a & m, cf, of;
	a &= m;
	if (count == 0)
		return a;
	switch (op) {
	case 0: {
		unsigned k = count % bits;
		r = k ? ((a << k) | (a >> (bits - k))) & m : a;
		cf = r & 1;
		set_flags(c, FL_CF | FL_OF, (cf ? FL_CF : 0) | ((msb(r, bits) ^ cf) ? FL_OF : 0));
		return r;
	}
	case 1: {
		unsigned k = count % bits;
		r = k ? ((a >> k) | (a << (bits - k))) & m : a;
		cf = msb(r, bits);
		of = cf ^ msb(r << 1, bits);
		set_flags(c, FL_CF | FL_OF, (cf ? FL_CF : 0) | (of ? FL_OF : 0));
		return r;
	}
	case 2: case 3: {
		unsigned k = size == 1 ? count % 9 : size == 2 ? count % 17 : count;
		cf = (c->rflags & FL_CF) != 0;
		of = msb(a, bits) ^ cf;         /* rcr's OF, from the inputs */
		for (unsigned n = 0; n < k; n++) {
			uint64_t out;
			if (op == 2) {
				out = msb(r, bits);
				r = ((r << 1) | cf) & m;
			} else {
				out = r & 1;
				r = (r >> 1) | (cf << (bits - 1));
			}
			cf = out;
		}
		if (op == 2)
			of = msb(r, bits) ^ cf;
		set_flags(c, FL_CF | FL_OF, (cf ? FL_CF : 0) | (of ? FL_OF : 0));
		return r;
	}
	case 4: case 6:
		r = count >= bits ? 0 : (a << count) & m;
		cf = count <= bits ? (a >> (bits - count)) & 1 : 0;
		of = msb(r, bits) ^ cf;
		break;
	case 5:
		r = count >= bits ? 0 : a >> count;
		cf = count <= bits ? (a >> (count - 1)) & 1 : 0;
		of = msb(a, bits);
		break;
	default: {
		int64_t sa = (int64_t)sign_extend(a, size);
		r = (uint64_t)(sa >> (count > 63 ? 63 : count)) & m;
		cf = (uint64_t)(sa >> (count - 1 > 63 ? 63 : count - 1)) & 1;
		of = 0;
		break;
	}
	}
	set_flags(c, FL_STATUS, flags_szp(r, size) | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
	return r;
}

void op_shift(struct cpu *c, const struct insn *i)
{
	unsigned count;
	switch (i->opcode) {
	case 0xC0: case 0xC1: count = (unsigned)i->imm; break;
	case 0xD0: case 0xD1: count = 1; break;
	default: count = (unsigned)c->gpr[CPU_RCX]; break;
	}
	count &= i->osz == 8 ? 63 : 31;
	uint64_t a = rm_read(c, i, i->osz);
	rm_write(c, i, i->osz, shift(c, (i->modrm >> 3) & 7, a, count, i->osz));
}

static void double_shift(struct cpu *c, const struct insn *i, bool left)
{
	unsigned size = i->osz, bits = 8 * size;
	unsigned count = (i->opcode & 1) ? (unsigned)c->gpr[CPU_RCX] : (unsigned)i->imm;
	count &= size == 8 ? 63 : 31;
	uint64_t m = size_mask(size);
	uint64_t d = rm_read(c, i, size), s = reg_read(c, i, i->reg, size), r, cf;
	if (count == 0) {
		rm_write(c, i, size, d);
		return;
	}
	if (count > bits) {
		/* Only 16-bit operands get here; the result is undefined.  Act
		 * as a shift of the 48-bit value d:s:d. */
		unsigned k = count - bits;
		r = left ? ((s << k) | (d >> (bits - k))) & m
			 : ((s >> k) | (d << (bits - k))) & m;
		cf = left ? (s >> (bits - k)) & 1 : (s >> (k - 1)) & 1;
	} else if (left) {
		/* count == bits happens for 16-bit operands only: all of s. */
		r = count == bits ? s : ((d << count) | (s >> (bits - count))) & m;
		cf = (d >> (bits - count)) & 1;
	} else {
		r = count == bits ? s : ((d >> count) | (s << (bits - count))) & m;
		cf = (d >> (count - 1)) & 1;
	}
	uint64_t of = msb(r, bits) ^ msb(d, bits);
	set_flags(c, FL_STATUS, flags_szp(r, size) | (cf ? FL_CF : 0) | (of ? FL_OF : 0));
	rm_write(c, i, size, r);
}

void op_shld(struct cpu *c, const struct insn *i) { double_shift(c, i, true); }
void op_shrd(struct cpu *c, const struct insn *i) { double_shift(c, i, false); }

/* ---- bit operations ---- */

/* op: 0 bt, 1 bts, 2 btr, 3 btc.  A register bit offset may address
 * memory outside the operand (signed, SDM "BT"); an immediate may not. */
static void bit_op(struct cpu *c, const struct insn *i, unsigned op, int64_t off, bool from_reg)
{
	unsigned size = i->osz, bits = 8 * size;
	uint64_t v, addr = 0;
	unsigned bit;
	if (i->mod3) {
		bit = (unsigned)off & (bits - 1);
		v = reg_read(c, i, i->rm, size);
	} else {
		addr = insn_ea(c, i);
		if (from_reg)
			addr += (uint64_t)((off >> (__builtin_ctz(bits))) * (int64_t)size);
		bit = (unsigned)off & (bits - 1);
		v = mem_read(c, addr, size);
	}
	uint64_t mask = 1ull << bit;
	set_flags(c, FL_CF, (v & mask) ? FL_CF : 0);
	if (op == 0)
		return;
	v = op == 1 ? v | mask : op == 2 ? v & ~mask : v ^ mask;
	if (i->mod3)
		reg_write(c, i, i->rm, size, v);
	else
		mem_write(c, addr, size, v);
	locked_done(c, i);
}

void op_bt_EG(struct cpu *c, const struct insn *i)
{
	int64_t off = (int64_t)sign_extend(reg_read(c, i, i->reg, i->osz), i->osz);
	bit_op(c, i, (i->opcode >> 3) & 3, off, true);
}

void op_bt_EI(struct cpu *c, const struct insn *i)
{
	bit_op(c, i, ((i->modrm >> 3) & 7) - 4, (int64_t)(i->imm & 0xff), false);
}

void op_bsf(struct cpu *c, const struct insn *i)
{
	uint64_t v = rm_read(c, i, i->osz);
	if (v == 0) {
		/* Destination unchanged (AMD documents it, Intel does it). */
		set_flags(c, FL_ZF, FL_ZF);
		return;
	}
	set_flags(c, FL_ZF, 0);
	reg_write(c, i, i->reg, i->osz, (uint64_t)__builtin_ctzll(v));
}

void op_bsr(struct cpu *c, const struct insn *i)
{
	uint64_t v = rm_read(c, i, i->osz);
	if (v == 0) {
		set_flags(c, FL_ZF, FL_ZF);
		return;
	}
	set_flags(c, FL_ZF, 0);
	reg_write(c, i, i->reg, i->osz, (uint64_t)(63 - __builtin_clzll(v)));
}

void op_tzcnt(struct cpu *c, const struct insn *i)
{
	uint64_t v = rm_read(c, i, i->osz);
	uint64_t r = v ? (uint64_t)__builtin_ctzll(v) : 8u * i->osz;
	set_flags(c, FL_CF | FL_ZF, (v == 0 ? FL_CF : 0) | (r == 0 ? FL_ZF : 0));
	reg_write(c, i, i->reg, i->osz, r);
}

void op_lzcnt(struct cpu *c, const struct insn *i)
{
	uint64_t v = rm_read(c, i, i->osz);
	unsigned bits = 8 * i->osz;
	uint64_t r = v ? (uint64_t)(__builtin_clzll(v) - (64 - bits)) : bits;
	set_flags(c, FL_CF | FL_ZF, (v == 0 ? FL_CF : 0) | (r == 0 ? FL_ZF : 0));
	reg_write(c, i, i->reg, i->osz, r);
}

void op_popcnt(struct cpu *c, const struct insn *i)
{
	uint64_t v = rm_read(c, i, i->osz);
	set_flags(c, FL_STATUS, v == 0 ? FL_ZF : 0);
	reg_write(c, i, i->reg, i->osz, (uint64_t)__builtin_popcountll(v));
}

void op_bswap(struct cpu *c, const struct insn *i)
{
	uint64_t v = c->gpr[i->reg];
	if (i->osz == 8)
		c->gpr[i->reg] = __builtin_bswap64(v);
	else
		c->gpr[i->reg] = __builtin_bswap32((uint32_t)v);
}

/* ---- atomics ---- */

void op_cmpxchg(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz;
	uint64_t dest = rm_read(c, i, size), acc = reg_read(c, i, CPU_RAX, size);
	flags_sub(c, acc, dest, 0, size);
	if (acc == dest) {
		rm_write(c, i, size, reg_read(c, i, i->reg, size));
	} else {
		/* The destination is written back even on failure (SDM). */
		if (!i->mod3)
			rm_write(c, i, size, dest);
		reg_write(c, i, CPU_RAX, size, dest);
	}
	locked_done(c, i);
}

void op_cmpxchg8b(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	if (i->osz == 8) {
		if (a & 15)
			cpu_gp0(c);
		uint64_t lo = mem_read(c, a, 8), hi = mem_read(c, a + 8, 8);
		if (lo == c->gpr[CPU_RAX] && hi == c->gpr[CPU_RDX]) {
			uint64_t nv[2] = { c->gpr[CPU_RBX], c->gpr[CPU_RCX] };
			mem_write_buf(c, a, nv, 16);
			set_flags(c, FL_ZF, FL_ZF);
		} else {
			uint64_t ov[2] = { lo, hi };
			mem_write_buf(c, a, ov, 16);
			c->gpr[CPU_RAX] = lo;
			c->gpr[CPU_RDX] = hi;
			set_flags(c, FL_ZF, 0);
		}
	} else {
		uint64_t v = mem_read(c, a, 8);
		uint64_t cmp = ((uint64_t)(uint32_t)c->gpr[CPU_RDX] << 32) | (uint32_t)c->gpr[CPU_RAX];
		if (v == cmp) {
			mem_write(c, a, 8, ((uint64_t)(uint32_t)c->gpr[CPU_RCX] << 32) |
				  (uint32_t)c->gpr[CPU_RBX]);
			set_flags(c, FL_ZF, FL_ZF);
		} else {
			mem_write(c, a, 8, v);
			c->gpr[CPU_RAX] = (uint32_t)v;
			c->gpr[CPU_RDX] = v >> 32;
			set_flags(c, FL_ZF, 0);
		}
	}
	locked_done(c, i);
}

void op_xadd(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz;
	if (i->mod3) {
		uint64_t dest = reg_read(c, i, i->rm, size), src = reg_read(c, i, i->reg, size);
		uint64_t sum = flags_add(c, dest, src, 0, size);
		reg_write(c, i, i->reg, size, dest);
		reg_write(c, i, i->rm, size, sum);      /* same register: the sum wins */
		return;
	}
	/* The address is computed once: the register written first may be
	 * part of it. */
	uint64_t a = insn_ea(c, i);
	uint64_t dest = mem_read(c, a, size), src = reg_read(c, i, i->reg, size);
	uint64_t sum = flags_add(c, dest, src, 0, size);
	mem_write(c, a, size, sum);
	reg_write(c, i, i->reg, size, dest);
	locked_done(c, i);
}

/* ---- sign extension of the accumulator ---- */

void op_cbw(struct cpu *c, const struct insn *i)
{
	unsigned half = i->osz / 2;
	reg_write(c, i, CPU_RAX, i->osz, sign_extend(reg_read(c, i, CPU_RAX, half), half));
}

void op_cwd(struct cpu *c, const struct insn *i)
{
	uint64_t a = reg_read(c, i, CPU_RAX, i->osz);
	reg_write(c, i, CPU_RDX, i->osz, msb(a, 8 * i->osz) ? ~0ull : 0);
}

/* ---- flag instructions ---- */

void op_flagop(struct cpu *c, const struct insn *i)
{
	unsigned iopl = (c->rflags >> 12) & 3;
	switch (i->opcode) {
	case 0xF5: c->rflags ^= FL_CF; break;
	case 0xF8: c->rflags &= ~(uint64_t)FL_CF; break;
	case 0xF9: c->rflags |= FL_CF; break;
	case 0xFA: case 0xFB:
		if (c->cpl > iopl)
			cpu_gp0(c);
		if (i->opcode == 0xFA) {
			c->rflags &= ~(uint64_t)FL_IF;
		} else {
			bool was_if = c->rflags & FL_IF;
			c->rflags |= FL_IF;
			if (c->sys)
				cpu_sys_sti(c, was_if);         /* interrupt shadow */
		}
		break;
	case 0xFC: c->rflags &= ~(uint64_t)FL_DF; break;
	default: c->rflags |= FL_DF; break;
	}
}

void op_sahf(struct cpu *c, const struct insn *i)
{
	uint64_t ah = (c->gpr[CPU_RAX] >> 8) & 0xff;
	set_flags(c, FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF, ah);
}

void op_lahf(struct cpu *c, const struct insn *i)
{
	uint64_t f = (c->rflags & (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF)) | 2;
	c->gpr[CPU_RAX] = (c->gpr[CPU_RAX] & ~0xff00ull) | (f << 8);
}

void op_setcc(struct cpu *c, const struct insn *i)
{
	rm_write(c, i, 1, cpu_cond(c, i->opcode & 15));
}

void op_cmovcc(struct cpu *c, const struct insn *i)
{
	/* The source is read (and may fault) whatever the condition, and a
	 * 32-bit destination is zero-extended either way. */
	uint64_t v = rm_read(c, i, i->osz);
	if (cpu_cond(c, i->opcode & 15))
		reg_write(c, i, i->reg, i->osz, v);
	else if (i->osz == 4)
		reg_write(c, i, i->reg, 4, c->gpr[i->reg]);
}
