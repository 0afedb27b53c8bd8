/* machine/x87.c: the x87 FPU: loads/stores of every memory format, the
 * arithmetic families, compares, constants, fxam, frndint, fscale, fprem,
 * fsqrt, fxtract, the transcendentals, fcmov, control/status/environment
 * handling, and fxsave's x87 part -- what long double printf/strtold,
 * libm and fenv need in glibc and musl.
 *
 * The host is x86-64 and its long double is the same 80-bit format, so
 * each operation is the host instruction itself (inline asm), run with
 * the guest's control word loaded (rounding and precision control
 * honoured, exceptions masked), with the status word it produces read
 * back right after it:
 *
 *     uint16_t saved = fpu_enter(c);     // guest RC/PC, all masked
 *     asm("fadd %st(1), %st; fnstsw %1" ...);
 *     fpu_leave(c, saved);               // sticky flags -> guest FSW
 *     set_c1(c, sw);                     // C1 ("rounded up") from the insn
 *
 * What the SDM defines but the host cannot be asked for is done here:
 * stack overflow/underflow (masked response: the indefinite), the
 * pending-exception rule (#MF on the next waiting instruction, ES/B in
 * the status word), FIP/FCS of the last instruction.  Where the SDM
 * leaves condition bits undefined, the value is what hardware does
 * (checked against the host: instructions with "undefined" C bits get
 * the guest's bits loaded into the host FSW first, see WITH_C).
 *
 * Transcendental results (f2xm1, fyl2x, fyl2xp1, fpatan, fptan, fsin,
 * fcos, fsincos) are those of the host CPU model: Intel and AMD agree to
 * within the documented 1 ulp, and a given host is deterministic.
 *
 * Not implemented (#UD): fbld, fbstp.
 */
#if !defined(__x86_64__)
#error "machine/x87.c uses the host's x87 unit: build on an x86-64 host"
#endif

#include <math.h>

#include "machine/exec.h"

enum { C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, SW_IE = 1, SW_SF = 0x40 };

/* ---- host FPU bracket ---- */

static uint16_t fpu_enter_cw(uint16_t cw)
{
	uint16_t saved;
	__asm__ volatile("fnstcw %0" : "=m"(saved));
	__asm__ volatile("fnclex\n\tfldcw %0" : : "m"(cw) : "memory");
	return saved;
}

static uint16_t fpu_enter(const struct cpu *c)
{
	return fpu_enter_cw(c->x87.cw | 0x3F);
}

/* Arithmetic with register results runs with the guest's own exception
 * masks: x87 exceptions are delivered at the next waiting instruction,
 * so the host instruction completes exactly as the guest's would (for
 * an unmasked overflow/underflow: the rebiased result), and the asm
 * ends with fnstsw + fnclex so the host never takes the #MF itself. */
static uint16_t fpu_enter_guest(const struct cpu *c)
{
	return fpu_enter_cw(c->x87.cw);
}

static void fpu_leave(struct cpu *c, uint16_t saved)
{
	uint16_t sw;
	__asm__ volatile("fnstsw %0" : "=m"(sw) : : "memory");
	__asm__ volatile("fnclex\n\tfldcw %0" : : "m"(saved) : "memory");
	c->x87.sw |= sw & 0x3F;
}

/* ---- register stack ---- */

static unsigned phys(const struct cpu *c, unsigned i)
{
	return (c->x87.top + i) & 7;
}

static bool st_empty(const struct cpu *c, unsigned i)
{
	return (c->x87.tag_empty >> phys(c, i)) & 1;
}

static long double indefinite(void)
{
	return -__builtin_nanl("");     /* the x87 "real indefinite" QNaN */
}

static void stack_fault(struct cpu *c, bool overflow)
{
	c->x87.sw = (uint16_t)((c->x87.sw & ~C1) | SW_IE | SW_SF | (overflow ? C1 : 0));
}

/* ST(i); an empty register is a stack underflow yielding the indefinite. */
static long double st_get(struct cpu *c, unsigned i)
{
	if (st_empty(c, i)) {
		stack_fault(c, false);
		return indefinite();
	}
	return c->x87.st[phys(c, i)];
}

static void st_set(struct cpu *c, unsigned i, long double v)
{
	unsigned r = phys(c, i);
	c->x87.st[r] = v;
	c->x87.tag_empty &= (uint8_t)~(1u << r);
}

static void fpush(struct cpu *c, long double v)
{
	unsigned r = (c->x87.top - 1) & 7;
	c->x87.sw &= (uint16_t)~C1;     /* C1 = 0 unless the stack overflows */
	if (!((c->x87.tag_empty >> r) & 1)) {
		stack_fault(c, true);
		v = indefinite();
	}
	c->x87.top = (uint8_t)r;
	c->x87.st[r] = v;
	c->x87.tag_empty &= (uint8_t)~(1u << r);
}

static void fpop(struct cpu *c)
{
	c->x87.tag_empty |= (uint8_t)(1u << c->x87.top);
	c->x87.top = (c->x87.top + 1) & 7;
}

/* Masked stack underflow (SDM 8.5.1.1): if ST(a) or ST(b) is empty, the
 * operation is not performed, IE|SF are set, C1 = 0, and the caller puts
 * the indefinite in the destination.  Returns true in that case. */
static bool underflow(struct cpu *c, unsigned a, unsigned b)
{
	if (!st_empty(c, a) && !st_empty(c, b))
		return false;
	stack_fault(c, false);
	return true;
}

/* An exception flag the control word leaves unmasked is "pending": the
 * status word shows ES and B, and the next waiting x87 instruction
 * raises #MF instead of executing (SDM vol. 1, 8.6). */
static bool mf_pending(const struct cpu *c)
{
	return (c->x87.sw & ~c->x87.cw & 0x3F) != 0;
}

static void fwait_check(struct cpu *c)
{
	if (mf_pending(c))
		cpu_fault(c, CPU_EXC_MF, 0);
}

/* A non-control x87 instruction: remember it for fnstenv/fnsave/fxsave
 * (SDM vol. 1, 8.1.8-8.1.10): FIP/FCS, the opcode's low 11 bits, and for
 * memory operands FDP/FDS.  Control instructions
 * (fninit, fnclex, fldcw, fnstcw, fnstsw, fnstenv, fldenv, fnsave,
 * frstor) leave them alone; checked on hardware. */
static void note_insn(struct cpu *c, const struct insn *i)
{
	c->x87.fip = c->rip;
	c->x87.fcs = c->cpl == 3 ? 0x33 : 0x10;
	c->x87.fop = (uint16_t)(((i->opcode & 7) << 8) | i->modrm);
	if (!i->mod3) {
		/* The data selector is ss (Linux user: 0x2b) for rsp/rbp
		 * bases and ds (null) otherwise; cs/ss/ds/es overrides are
		 * ignored in 64-bit mode, fs/gs are null (checked on hardware). */
		bool stack = i->seg == SEG_NONE && (i->base == CPU_RSP || i->base == CPU_RBP);
		c->x87.fdp = insn_ea(c, i);
		c->x87.fds = stack ? (c->cpl == 3 ? 0x2b : 0x18) : 0;
	}
}

static void wait_and_note(struct cpu *c, const struct insn *i)
{
	fwait_check(c);
	note_insn(c, i);
}

/* Exceptions raised with their mask bit clear (SDM vol. 1, 8.7): the
 * pre-computation ones (invalid, including stack faults; denormal;
 * divide by zero) leave registers and TOP as they were -- only the
 * status word changes -- and a store is not performed for those nor for
 * overflow/underflow.  The #MF itself comes with the next waiting
 * instruction.  (An unmasked overflow/underflow of a register result
 * should deliver a rebiased exponent; that is not modelled: the masked
 * result is kept.) */
enum { PRE_BLOCKING = 0x07, STORE_BLOCKING = 0x1F };

static bool unmasked(const struct cpu *c, unsigned which)
{
	return (c->x87.sw & ~c->x87.cw & which) != 0;
}

/* Run an x87 instruction body with the unmasked-exception rule. */
static void guarded(struct cpu *c, const struct insn *i,
		    void (*body)(struct cpu *, const struct insn *))
{
	wait_and_note(c, i);
	struct cpu_x87 before = c->x87;
	body(c, i);
	unsigned op = (i->modrm >> 3) & 7, blocking = PRE_BLOCKING;
	bool store = false;
	if (!i->mod3 && i->opcode >= 0xD9 && (i->opcode & 1)) {
		/* D9/DB/DD/DF memory forms: loads and stores */
		store = op == 1 || op == 2 || op == 3 || (op == 7 && i->opcode != 0xD9);
		if (op == 0 && (i->opcode == 0xD9 || i->opcode == 0xDD))
			blocking &= ~0x2u;      /* fld m32/m64 of a denormal still loads */
	}
	if (store)
		blocking = STORE_BLOCKING;      /* nothing stored, nothing popped */
	if (unmasked(c, blocking)) {
		uint16_t sw = c->x87.sw;
		c->x87 = before;
		c->x87.sw = sw;
		if (store)
			c->x87.sw &= (uint16_t)~C1;
	}
}

uint16_t x87_status_word(const struct cpu *c)
{
	uint16_t sw = (uint16_t)((c->x87.sw & ~0xB880) | ((c->x87.top & 7) << 11));
	return mf_pending(c) ? sw | 0x8080 : sw;
}

void op_fwait(struct cpu *c, const struct insn *i)
{
	fwait_check(c);
}

/* emms empties the register stack for x87 code after MMX code; like the
 * MMX instructions it first takes a pending x87 exception.  Its reference
 * page only mentions the tag word, but every MMX instruction, emms
 * included, also sets TOP to 0 (SDM vol. 3, 12.2 "The MMX State and MMX
 * Register Aliasing" and table 12-2); the AMD host does the same. */
void op_emms(struct cpu *c, const struct insn *i)
{
	fwait_check(c);
	c->x87.tag_empty = 0xFF;
	c->x87.top = 0;
}

/* The full tag of a register from its bits (SDM 8.1.7): 0 valid, 1 zero,
 * 2 special (NaN, infinity, denormal, and the unsupported encodings:
 * unnormals and pseudo-denormals). */
static unsigned classify_tag(long double v)
{
	uint8_t b[16] = { 0 };
	memcpy(b, &v, 10);
	uint64_t mant;
	memcpy(&mant, b, 8);
	unsigned exp = (b[8] | (b[9] << 8)) & 0x7fff;
	if (exp == 0x7fff)
		return 2;
	if (exp == 0)
		return mant == 0 ? 1 : 2;
	return (mant >> 63) ? 0 : 2;
}

uint16_t x87_tag_word(const struct cpu *c)
{
	uint16_t tw = 0;
	for (unsigned r = 0; r < 8; r++) {
		unsigned t = ((c->x87.tag_empty >> r) & 1) ? 3 : classify_tag(c->x87.st[r]);
		tw |= (uint16_t)(t << (2 * r));
	}
	return tw;
}

/* ---- memory formats ---- */

static long double load_m80(struct cpu *c, uint64_t a)
{
	long double v = 0;
	mem_read_buf(c, a, &v, 10);
	return v;
}

static void store_m80(struct cpu *c, uint64_t a, long double v)
{
	mem_write_buf(c, a, &v, 10);
}

/* ---- arithmetic ---- */

/* C1 after an operation that rounds: the host instruction's own C1
 * ("rounded up"), captured by fnstsw right after it. */
static void set_c1(struct cpu *c, uint16_t insn_sw)
{
	c->x87.sw = (uint16_t)((c->x87.sw & ~C1) | (insn_sw & C1));
}

/* op: 0 add, 1 mul, 4 dest-src, 5 src-dest, 6 dest/src, 7 src/dest.  One
 * host instruction with ST0 = dest, ST1 = src, so flags and C1 are its. */
static long double arith(struct cpu *c, unsigned op, long double dest, long double src)
{
	long double r;
	uint16_t sw;
	uint16_t saved = fpu_enter_guest(c);
#define ARITH(ins) __asm__ volatile(ins " %%st(1), %%st\n\tfnstsw %1\n\tfnclex" \
				    : "=t"(r), "=m"(sw) : "0"(dest), "u"(src))
	switch (op) {
	case 0: ARITH("fadd"); break;
	case 1: ARITH("fmul"); break;
	case 4: ARITH("fsub"); break;
	case 5: ARITH("fsubr"); break;
	case 6: ARITH("fdiv"); break;
	default: ARITH("fdivr"); break;
	}
#undef ARITH
	volatile long double vr = r;
	fpu_leave(c, saved);
	c->x87.sw |= sw & 0x3F;
	set_c1(c, sw);
	return vr;
}

/* Compare for fcom/fucom (status C3 C2 C0) or fcomi/fucomi (ZF PF CF),
 * as the host instruction does it (IE/DE rules for NaNs and denormals
 * included).  C1 ends up 0. */
static void compare(struct cpu *c, long double a, long double b, bool quiet, bool to_eflags)
{
	uint16_t sw;
	uint8_t zf = 0, pf = 0, cf = 0;
	uint16_t saved = fpu_enter(c);
	if (to_eflags && quiet)
		__asm__ volatile("fucomi %%st(1), %%st\n\tsetz %0\n\tsetp %1\n\tsetc %2\n\tfnstsw %3"
				 : "=q"(zf), "=q"(pf), "=q"(cf), "=m"(sw) : "t"(a), "u"(b) : "cc");
	else if (to_eflags)
		__asm__ volatile("fcomi %%st(1), %%st\n\tsetz %0\n\tsetp %1\n\tsetc %2\n\tfnstsw %3"
				 : "=q"(zf), "=q"(pf), "=q"(cf), "=m"(sw) : "t"(a), "u"(b) : "cc");
	else if (quiet)
		__asm__ volatile("fucom %%st(1)\n\tfnstsw %0" : "=m"(sw) : "t"(a), "u"(b));
	else
		__asm__ volatile("fcom %%st(1)\n\tfnstsw %0" : "=m"(sw) : "t"(a), "u"(b));
	fpu_leave(c, saved);
	if (to_eflags) {
		/* fcomi: C1 = 0, C0 C2 C3 untouched */
		c->x87.sw &= (uint16_t)~C1;
		set_flags(c, FL_STATUS, (zf ? FL_ZF : 0) | (pf ? FL_PF : 0) | (cf ? FL_CF : 0));
	} else {
		c->x87.sw &= (uint16_t)~(C3 | C2 | C1 | C0);
		c->x87.sw |= sw & (C3 | C2 | C0);
	}
}

/* A compare whose operand is an empty register: unordered. */
static void compare_underflow(struct cpu *c, bool to_eflags)
{
	if (to_eflags)
		set_flags(c, FL_STATUS, FL_ZF | FL_PF | FL_CF);     /* C1 = 0 from the fault */
	else
		c->x87.sw = (uint16_t)((c->x87.sw & ~(C3 | C2 | C1 | C0)) | C3 | C2 | C0);
}

static long double int_to_ld(int64_t v)
{
	return (long double)v;  /* exact: 64-bit significand */
}

/* D8/DA/DC/DE with a memory operand, as the host instruction with the
 * same memory format: conversion, exceptions and C bits are exact. */
#define MEMOP(ins, m) __asm__ volatile(ins " %2\n\tfnstsw %1\n\tfnclex" \
				       : "=t"(r), "=m"(sw) : "m"(m), "0"(st0))
#define MEMOPS(sfx, m) do { switch (op) { \
	case 0: MEMOP("fadd" sfx, m); break; \
	case 1: MEMOP("fmul" sfx, m); break; \
	case 2: case 3: MEMOP("fcom" sfx, m); break; \
	case 4: MEMOP("fsub" sfx, m); break; \
	case 5: MEMOP("fsubr" sfx, m); break; \
	case 6: MEMOP("fdiv" sfx, m); break; \
	default: MEMOP("fdivr" sfx, m); break; \
	} } while (0)
#define MEMOPI(sfx, m) do { switch (op) { \
	case 0: MEMOP("fiadd" sfx, m); break; \
	case 1: MEMOP("fimul" sfx, m); break; \
	case 2: case 3: MEMOP("ficom" sfx, m); break; \
	case 4: MEMOP("fisub" sfx, m); break; \
	case 5: MEMOP("fisubr" sfx, m); break; \
	case 6: MEMOP("fidiv" sfx, m); break; \
	default: MEMOP("fidivr" sfx, m); break; \
	} } while (0)

static void op_x87_arith_m_body(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7;
	uint64_t a = insn_ea(c, i);
	uint32_t m32 = 0;
	uint64_t m64 = 0;
	uint16_t m16 = 0;
	switch (i->opcode) {
	case 0xD8: case 0xDA: m32 = (uint32_t)mem_read(c, a, 4); break;
	case 0xDC: m64 = mem_read(c, a, 8); break;
	default: m16 = (uint16_t)mem_read(c, a, 2); break;
	}
	bool cmp = op == 2 || op == 3;
	if (underflow(c, 0, 0)) {
		if (cmp)
			compare_underflow(c, false);
		else
			st_set(c, 0, indefinite());
		if (op == 3)
			fpop(c);
		return;
	}
	long double st0 = c->x87.st[phys(c, 0)], r;
	uint16_t sw;
	uint16_t saved = fpu_enter_guest(c);
	switch (i->opcode) {
	case 0xD8: MEMOPS("s", m32); break;
	case 0xDC: MEMOPS("l", m64); break;
	case 0xDA: MEMOPI("l", m32); break;
	default: MEMOPI("s", m16); break;
	}
	volatile long double vr = r;
	fpu_leave(c, saved);
	c->x87.sw |= sw & 0x3F;
	if (cmp) {
		c->x87.sw = (uint16_t)((c->x87.sw & ~(C3 | C2 | C1 | C0)) | (sw & (C3 | C2 | C0)));
		if (op == 3)
			fpop(c);
		return;
	}
	set_c1(c, sw);
	st_set(c, 0, vr);
}

static void op_x87_arith_r_body(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7, sti = i->modrm & 7;
	if (i->opcode == 0xD8) {
		if (op == 2 || op == 3) {
			if (underflow(c, 0, sti))
				compare_underflow(c, false);
			else
				compare(c, st_get(c, 0), st_get(c, sti), false, false);
			if (op == 3)
				fpop(c);
			return;
		}
		if (underflow(c, 0, sti))
			st_set(c, 0, indefinite());
		else
			st_set(c, 0, arith(c, op, st_get(c, 0), st_get(c, sti)));
		return;
	}
	if (i->opcode == 0xDE && op == 3) {     /* fcompp */
		if (underflow(c, 0, 1))
			compare_underflow(c, false);
		else
			compare(c, st_get(c, 0), st_get(c, 1), false, false);
		fpop(c);
		fpop(c);
		return;
	}
	/* DC and DE: ST(i) = ST(i) op ST(0), with sub/subr and div/divr named
	 * the other way round (SDM FSUB/FSUBR tables). */
	unsigned aop = op >= 4 ? op ^ 1 : op;
	if (underflow(c, 0, sti))
		st_set(c, sti, indefinite());
	else
		st_set(c, sti, arith(c, aop, st_get(c, sti), st_get(c, 0)));
	if (i->opcode == 0xDE)
		fpop(c);
}

/* fist/fistp/fisttp on the host: rounding, the integer indefinite on
 * overflow or NaN, IE/PE and C1 exactly as the instruction gives them. */
static int64_t to_int(struct cpu *c, long double v, unsigned bytes, bool trunc)
{
	int16_t i16 = 0;
	int32_t i32 = 0;
	int64_t i64 = 0;
	uint16_t sw;
	uint16_t saved = fpu_enter(c);
	switch (bytes << 1 | trunc) {
	case 2 << 1: __asm__ volatile("fists %0\n\tfnstsw %1" : "=m"(i16), "=m"(sw) : "t"(v)); break;
	case 4 << 1: __asm__ volatile("fistl %0\n\tfnstsw %1" : "=m"(i32), "=m"(sw) : "t"(v)); break;
	case 8 << 1: __asm__ volatile("fld %%st(0)\n\tfistpll %0\n\tfnstsw %1" : "=m"(i64), "=m"(sw) : "t"(v)); break;
	case 2 << 1 | 1: __asm__ volatile("fld %%st(0)\n\tfisttps %0\n\tfnstsw %1" : "=m"(i16), "=m"(sw) : "t"(v)); break;
	case 4 << 1 | 1: __asm__ volatile("fld %%st(0)\n\tfisttpl %0\n\tfnstsw %1" : "=m"(i32), "=m"(sw) : "t"(v)); break;
	default: __asm__ volatile("fld %%st(0)\n\tfisttpll %0\n\tfnstsw %1" : "=m"(i64), "=m"(sw) : "t"(v)); break;
	}
	fpu_leave(c, saved);
	set_c1(c, sw);
	return bytes == 2 ? i16 : bytes == 4 ? i32 : i64;
}

static void op_x87_ldst_m_body(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7;
	uint64_t a = insn_ea(c, i);
	/* Stores: fault before any x87 state changes (flags, C1, the pop). */
	static const uint8_t store_size[4][8] = {
		[0] = { [2] = 4, [3] = 4 },                     /* D9: fst(p) m32 */
		[1] = { [1] = 4, [2] = 4, [3] = 4, [7] = 10 },  /* DB: fisttp/fist(p) m32, fstp m80 */
		[2] = { [1] = 8, [2] = 8, [3] = 8 },            /* DD: fisttp m64, fst(p) m64 */
		[3] = { [1] = 2, [2] = 2, [3] = 2, [7] = 8 },   /* DF: m16 int stores, fistp m64 */
	};
	unsigned ssize = store_size[(i->opcode - 0xD9) >> 1][op];
	if (ssize)
		mem_check_write(c, a, ssize);
	switch (i->opcode << 4 | op) {
	case 0xD90: case 0xDD0: case 0xDB5: case 0xDB0: case 0xDF0: case 0xDF5: {
		/* Loads: read memory (may fault), then push; a full stack means
		 * overflow and no conversion at all (so no #D/#I from it). */
		bool m80 = i->opcode == 0xDB && op == 5;
		unsigned sz = (i->opcode == 0xD9 || i->opcode == 0xDB) ? 4
			    : (i->opcode == 0xDF && op == 0) ? 2 : 8;
		uint64_t u = m80 ? 0 : mem_read(c, a, sz);
		long double v = m80 ? load_m80(c, a) : 0;
		if (!st_empty(c, 7)) {
			fpush(c, 0);    /* overflow: the indefinite */
			return;
		}
		switch (i->opcode << 4 | op) {
		case 0xD90: {
			uint32_t f32 = (uint32_t)u;
			uint16_t saved = fpu_enter(c);
			__asm__ volatile("flds %1" : "=t"(v) : "m"(f32));
			volatile long double vv = v;
			fpu_leave(c, saved);
			v = vv;
			break;
		}
		case 0xDD0: {
			uint16_t saved = fpu_enter(c);
			__asm__ volatile("fldl %1" : "=t"(v) : "m"(u));
			volatile long double vv = v;
			fpu_leave(c, saved);
			v = vv;
			break;
		}
		case 0xDB0: v = int_to_ld((int32_t)u); break;
		case 0xDF0: v = int_to_ld((int16_t)u); break;
		case 0xDF5: v = int_to_ld((int64_t)u); break;
		default: break;         /* m80 read above */
		}
		fpush(c, v);
		return;
	}
	case 0xD92: case 0xD93: case 0xDD2: case 0xDD3: {      /* fst(p) m32/m64 */
		long double v = st_get(c, 0);
		uint16_t sw, pe_before = c->x87.sw & 0x20;
		uint16_t saved = fpu_enter(c);
		if (i->opcode == 0xD9) {
			uint32_t u;
			__asm__ volatile("fsts %0\n\tfnstsw %1" : "=m"(u), "=m"(sw) : "t"(v));
			fpu_leave(c, saved);
			if (!unmasked(c, STORE_BLOCKING))
				mem_write(c, a, 4, u);
		} else {
			uint64_t u;
			__asm__ volatile("fstl %0\n\tfnstsw %1" : "=m"(u), "=m"(sw) : "t"(v));
			fpu_leave(c, saved);
			if (!unmasked(c, STORE_BLOCKING))
				mem_write(c, a, 8, u);
		}
		set_c1(c, sw);
		/* An unmasked overflow/underflow stores nothing, so nothing
		 * is inexact either. */
		if (sw & ~c->x87.cw & 0x18)
			c->x87.sw = (uint16_t)((c->x87.sw & ~0x20) | pe_before);
		if (op == 3)
			fpop(c);
		return;
	}
	case 0xDB7: {                   /* fstp m80 */
		long double v = st_get(c, 0);
		if (!unmasked(c, STORE_BLOCKING))
			store_m80(c, a, v);
		c->x87.sw &= (uint16_t)~C1;
		fpop(c);
		return;
	}
	default: {                      /* fist, fistp, fisttp */
		unsigned bytes = i->opcode == 0xDB ? 4 : i->opcode == 0xDF ? 2 : 8;
		if (i->opcode == 0xDF && op == 7)
			bytes = 8;
		bool trunc = op == 1;
		int64_t v = to_int(c, st_get(c, 0), bytes, trunc);
		if (!unmasked(c, STORE_BLOCKING))
			mem_write(c, a, bytes, (uint64_t)v);
		if (op != 2)
			fpop(c);
		return;
	}
	}
}

/* ---- environment ---- */

/* A loaded control word keeps the bits that exist (masks, PC, RC, the
 * old infinity control); bit 6 reads as 1 (hardware). */
static uint16_t fcw_value(uint64_t v)
{
	return (uint16_t)((v & 0x1F3F) | 0x40);
}

void op_x87_env(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	unsigned op = (i->modrm >> 3) & 7;
	if ((i->opcode == 0xDD && op == 4) || (i->opcode == 0xD9 && (op == 4 || op == 5)))
		fwait_check(c);         /* frstor, fldenv, fldcw wait; the fn* forms do not */
	switch (i->opcode << 4 | ((i->modrm >> 3) & 7)) {
	case 0xD95: c->x87.cw = fcw_value(mem_read(c, a, 2)); return;
	case 0xD97: mem_write(c, a, 2, c->x87.cw); return;
	case 0xDD7: mem_write(c, a, 2, x87_status_word(c)); return;
	case 0xD96: case 0xDD6: {       /* fnstenv, fnsave: 28-byte protected-mode image */
		uint32_t env[7] = { c->x87.cw | 0xFFFF0000u, x87_status_word(c) | 0xFFFF0000u,
				    x87_tag_word(c) | 0xFFFF0000u, (uint32_t)c->x87.fip,
				    c->x87.fcs | (uint32_t)c->x87.fop << 16, (uint32_t)c->x87.fdp,
				    c->x87.fds | 0xFFFF0000u };
		if (i->opcode == 0xD9) {
			mem_write_buf(c, a, env, sizeof env);
			c->x87.cw |= 0x3F;      /* fnstenv masks all exceptions */
			return;
		}
		/* fnsave: the environment, ST0..ST7 (10 bytes each), then fninit */
		uint8_t img[108];
		memcpy(img, env, sizeof env);
		for (unsigned k = 0; k < 8; k++)
			memcpy(img + 28 + 10 * k, &c->x87.st[phys(c, k)], 10);
		mem_write_buf(c, a, img, sizeof img);
		c->x87.cw = 0x37F;
		c->x87.sw = 0;
		c->x87.top = 0;
		c->x87.tag_empty = 0xFF;
		c->x87.fop = c->x87.fcs = c->x87.fds = 0;
		c->x87.fip = c->x87.fdp = 0;
		return;
	}
	default: {                      /* fldenv, frstor */
		uint8_t img[108];
		uint32_t env[7];
		mem_read_buf(c, a, img, i->opcode == 0xD9 ? 28 : 108);
		memcpy(env, img, sizeof env);
		c->x87.cw = fcw_value(env[0]);
		c->x87.sw = (uint16_t)env[1] & ~0x3800;
		c->x87.top = (env[1] >> 11) & 7;
		uint8_t empty = 0;
		for (unsigned r = 0; r < 8; r++)
			if (((env[2] >> (2 * r)) & 3) == 3)
				empty |= (uint8_t)(1u << r);
		c->x87.tag_empty = empty;
		c->x87.fip = env[3];
		c->x87.fcs = (uint16_t)env[4];
		c->x87.fop = (env[4] >> 16) & 0x7FF;
		c->x87.fdp = env[5];
		c->x87.fds = (uint16_t)env[6];
		if (i->opcode == 0xDD)
			for (unsigned k = 0; k < 8; k++) {
				long double v = 0;
				memcpy(&v, img + 28 + 10 * k, 10);
				c->x87.st[phys(c, k)] = v;
			}
		return;
	}
	}
}

void x87_fxsave(struct cpu *c, uint8_t img[512], bool rexw)
{
	uint16_t cw = c->x87.cw, sw = x87_status_word(c);
	uint8_t ftw = (uint8_t)~c->x87.tag_empty;
	memcpy(img + 0, &cw, 2);
	memcpy(img + 2, &sw, 2);
	img[4] = ftw;
	memcpy(img + 6, &c->x87.fop, 2);
	/* fxsave64: 64-bit FIP and FDP; fxsave: FIP, FCS, FDP, FDS. */
	memcpy(img + 8, &c->x87.fip, rexw ? 8 : 4);
	memcpy(img + 16, &c->x87.fdp, rexw ? 8 : 4);
	if (!rexw) {
		memcpy(img + 12, &c->x87.fcs, 2);
		memcpy(img + 20, &c->x87.fds, 2);
	}
	for (unsigned k = 0; k < 8; k++)
		memcpy(img + 32 + 16 * k, &c->x87.st[phys(c, k)], 10);
}

void x87_fxrstor(struct cpu *c, const uint8_t img[512], bool rexw)
{
	uint16_t sw;
	uint16_t cw;
	memcpy(&cw, img + 0, 2);
	c->x87.cw = fcw_value(cw);
	memcpy(&sw, img + 2, 2);
	c->x87.sw = sw & ~0x3800;
	c->x87.top = (sw >> 11) & 7;
	c->x87.tag_empty = (uint8_t)~img[4];
	memcpy(&c->x87.fop, img + 6, 2);
	c->x87.fip = c->x87.fdp = 0;
	memcpy(&c->x87.fip, img + 8, rexw ? 8 : 4);
	memcpy(&c->x87.fdp, img + 16, rexw ? 8 : 4);
	if (!rexw) {
		memcpy(&c->x87.fcs, img + 12, 2);
		memcpy(&c->x87.fds, img + 20, 2);
	}
	for (unsigned k = 0; k < 8; k++) {
		long double v = 0;
		memcpy(&v, img + 32 + 16 * k, 10);
		c->x87.st[phys(c, k)] = v;
	}
}

/* ---- register forms and the D9 Ex/Fx group ---- */

static void fxam(struct cpu *c)
{
	uint16_t cc;
	long double v = c->x87.st[phys(c, 0)];
	if (st_empty(c, 0)) {
		cc = C3 | C0;
	} else {
		uint8_t b[16] = { 0 };
		memcpy(b, &v, 10);
		uint64_t mant;
		memcpy(&mant, b, 8);
		unsigned exp = (b[8] | (b[9] << 8)) & 0x7fff;
		if (exp != 0 && !(mant >> 63))
			cc = 0;                 /* unsupported (unnormal, pseudo-NaN/inf) */
		else if (exp == 0x7fff)
			cc = (mant << 1) ? C0 : (C2 | C0);      /* NaN : infinity */
		else if (exp == 0)
			cc = mant == 0 ? C3 : (C3 | C2);        /* zero : denormal */
		else
			cc = C2;                /* normal */
	}
	if (signbit(v))
		cc |= C1;
	c->x87.sw = (uint16_t)((c->x87.sw & ~(C3 | C2 | C1 | C0)) | cc);
}

static long double constant(struct cpu *c, unsigned which)
{
	volatile long double r;
	long double t;
	uint16_t saved = fpu_enter(c);
	switch (which) {
	case 0xE8: __asm__ volatile("fld1" : "=t"(t)); break;
	case 0xE9: __asm__ volatile("fldl2t" : "=t"(t)); break;
	case 0xEA: __asm__ volatile("fldl2e" : "=t"(t)); break;
	case 0xEB: __asm__ volatile("fldpi" : "=t"(t)); break;
	case 0xEC: __asm__ volatile("fldlg2" : "=t"(t)); break;
	case 0xED: __asm__ volatile("fldln2" : "=t"(t)); break;
	default: __asm__ volatile("fldz" : "=t"(t)); break;
	}
	r = t;
	fpu_leave(c, saved);
	return r;
}

/* The host instructions below leave some condition bits "undefined",
 * which in practice means unchanged, and fprem leaves them all alone for
 * invalid operands.  So the guest's C0-C3 are put into the host status
 * word (fnstenv/patch/fldenv keeps the host's TOP and tags) right before
 * the instruction, and all four are taken back from it afterwards. */
struct x87_env28 {
	uint16_t cw, pad0, sw, pad1, tw, pad2;
	uint32_t ip, cs, dp, ds;
};

#define WITH_C(ins) \
	"fnstenv %[env]\n\tandw $0xb8ff, %[esw]\n\torw %[cb], %[esw]\n\tfldenv %[env]\n\t" \
	ins "\n\tfnstsw %[sw]\n\tfnclex"
#define C_ARGS [env] "+m"(env), [esw] "+m"(env.sw), [sw] "=m"(sw)
#define C_IN [cb] "r"(cb)

static void take_c(struct cpu *c, uint16_t sw)
{
	c->x87.sw = (uint16_t)((c->x87.sw & ~(C3 | C2 | C1 | C0)) | (sw & (C3 | C2 | C1 | C0)));
}

/* f2xm1, fyl2x, fyl2xp1, fpatan, fptan, fsin, fcos, fsincos.  The
 * trigonometric ones leave ST0 alone and set C2 when |ST0| >= 2^63 (SDM
 * FSIN); that case is decided here, so the host's stack never differs
 * from what the asm constraints promise the compiler (for NaN, infinity
 * and unsupported operands the host pushes like the guest, checked on
 * hardware). */
static void transcendental(struct cpu *c, unsigned b)
{
	bool two = b == 0xF1 || b == 0xF9 || b == 0xF3;
	bool trig = b == 0xF2 || b == 0xFE || b == 0xFF || b == 0xFB;
	if (underflow(c, 0, two ? 1 : 0)) {
		if (trig)
			c->x87.sw &= (uint16_t)~C2;     /* "in range" */
		if (two) {
			st_set(c, 1, indefinite());
			fpop(c);
		} else {
			st_set(c, 0, indefinite());
			if (b == 0xF2 || b == 0xFB)
				fpush(c, indefinite());
		}
		return;
	}
	if ((b == 0xF2 || b == 0xFB) && !st_empty(c, 7)) {
		/* The push overflows: both results are the indefinite. */
		st_set(c, 0, indefinite());
		fpush(c, indefinite());
		return;
	}
	long double x = st_get(c, 0), y = two ? st_get(c, 1) : 0, r = 0, r2 = 0;
	if (trig && isfinite(x) && fabsl(x) >= 0x1p63L) {
		c->x87.sw = (uint16_t)((c->x87.sw & ~C1) | C2);
		return;
	}
	struct x87_env28 env = { 0 };
	uint16_t sw, cb = c->x87.sw & (C3 | C2 | C1 | C0);
	uint16_t saved = fpu_enter_guest(c);
	switch (b) {
	case 0xF0: __asm__ volatile(WITH_C("f2xm1") : "=t"(r), C_ARGS : "0"(x), C_IN); break;
	case 0xF1: __asm__ volatile(WITH_C("fyl2x") : "=t"(r), C_ARGS : "0"(x), "u"(y), C_IN : "st(1)"); break;
	case 0xF9: __asm__ volatile(WITH_C("fyl2xp1") : "=t"(r), C_ARGS : "0"(x), "u"(y), C_IN : "st(1)"); break;
	case 0xF3: __asm__ volatile(WITH_C("fpatan") : "=t"(r), C_ARGS : "0"(x), "u"(y), C_IN : "st(1)"); break;
	case 0xF2: __asm__ volatile(WITH_C("fptan") : "=t"(r2), "=u"(r), C_ARGS : "0"(x), C_IN); break;
	case 0xFE: __asm__ volatile(WITH_C("fsin") : "=t"(r), C_ARGS : "0"(x), C_IN); break;
	case 0xFF: __asm__ volatile(WITH_C("fcos") : "=t"(r), C_ARGS : "0"(x), C_IN); break;
	default: __asm__ volatile(WITH_C("fsincos") : "=t"(r2), "=u"(r), C_ARGS : "0"(x), C_IN); break;
	}
	volatile long double vr = r, vr2 = r2;
	fpu_leave(c, saved);
	c->x87.sw |= sw & 0x3F;
	take_c(c, sw);
	switch (b) {
	case 0xF1: case 0xF9: case 0xF3:        /* result in ST1, then pop */
		st_set(c, 1, vr);
		fpop(c);
		break;
	case 0xF2: case 0xFB: {                 /* ST0 = tan/sin, push 1.0/cos */
		uint16_t keep = c->x87.sw & (C3 | C2 | C1 | C0);
		st_set(c, 0, vr);
		fpush(c, vr2);
		take_c(c, keep);
		break;
	}
	default:
		st_set(c, 0, vr);
		break;
	}
}

/* fprem/fprem1/fscale/fsqrt/frndint/fxtract on the host, C bits kept. */
static void special(struct cpu *c, unsigned b)
{
	bool two = b == 0xF8 || b == 0xF5 || b == 0xFD;
	if (underflow(c, 0, two ? 1 : 0)) {
		if (b == 0xF8 || b == 0xF5)
			c->x87.sw &= (uint16_t)~C2;     /* "reduction complete" (hardware) */
		st_set(c, 0, indefinite());
		if (b == 0xF4) {
			/* The underflow is what is reported (C1 = 0), even if
			 * the push overflows too, as for fld st(i). */
			fpush(c, indefinite());
			c->x87.sw &= (uint16_t)~C1;
		}
		return;
	}
	if (b == 0xF4 && !st_empty(c, 7)) {
		st_set(c, 0, indefinite());
		fpush(c, indefinite());
		return;
	}
	long double x = st_get(c, 0), y = two ? st_get(c, 1) : 0, r = 0, r2 = 0;
	struct x87_env28 env = { 0 };
	uint16_t sw, cb = c->x87.sw & (C3 | C2 | C1 | C0);
	uint16_t saved = fpu_enter_guest(c);
	switch (b) {
	case 0xF8: __asm__ volatile(WITH_C("fprem") : "=t"(r), C_ARGS : "0"(x), "u"(y), C_IN); break;
	case 0xF5: __asm__ volatile(WITH_C("fprem1") : "=t"(r), C_ARGS : "0"(x), "u"(y), C_IN); break;
	case 0xFD: __asm__ volatile(WITH_C("fscale") : "=t"(r), C_ARGS : "0"(x), "u"(y), C_IN); break;
	case 0xFA: __asm__ volatile(WITH_C("fsqrt") : "=t"(r), C_ARGS : "0"(x), C_IN); break;
	case 0xFC: __asm__ volatile(WITH_C("frndint") : "=t"(r), C_ARGS : "0"(x), C_IN); break;
	default: __asm__ volatile(WITH_C("fxtract") : "=t"(r), "=u"(r2), C_ARGS : "0"(x), C_IN); break;
	}
	volatile long double vr = r, vr2 = r2;
	fpu_leave(c, saved);
	c->x87.sw |= sw & 0x3F;
	take_c(c, sw);
	if (b == 0xF4) {                /* fxtract: ST0 = exponent, push significand */
		uint16_t keep = c->x87.sw & (C3 | C2 | C1 | C0);
		st_set(c, 0, vr2);
		fpush(c, vr);
		take_c(c, keep);
		return;
	}
	st_set(c, 0, vr);
}

static void op_x87_reg_body(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7, sti = i->modrm & 7;
	switch (i->opcode << 4 | op) {
	case 0xD90:                                            /* fld st(i) */
		if (st_empty(c, sti)) {
			/* Underflow is reported even when the push overflows
			 * too (C1 = 0), and the indefinite is pushed. */
			fpush(c, indefinite());
			stack_fault(c, false);
			return;
		}
		fpush(c, st_get(c, sti));
		return;
	case 0xD91: {                                          /* fxch */
		long double a = st_get(c, 0), b = st_get(c, sti);
		st_set(c, 0, b);
		st_set(c, sti, a);
		c->x87.sw &= (uint16_t)~C1;
		return;
	}
	case 0xD92: return;                                    /* fnop */
	case 0xDD0:                                            /* ffree */
		c->x87.tag_empty |= (uint8_t)(1u << phys(c, sti));
		c->x87.sw &= (uint16_t)~C1;     /* undefined in the SDM; hardware clears it */
		return;
	case 0xDD2: case 0xDD3:                                /* fst(p) st(i) */
		c->x87.sw &= (uint16_t)~C1;
		st_set(c, sti, st_get(c, 0));
		if (op == 3)
			fpop(c);
		return;
	case 0xDD4: case 0xDD5:                                /* fucom(p) */
		if (underflow(c, 0, sti))
			compare_underflow(c, false);
		else
			compare(c, st_get(c, 0), st_get(c, sti), true, false);
		if (op == 5)
			fpop(c);
		return;
	case 0xDA5:                                            /* fucompp */
		if (underflow(c, 0, 1))
			compare_underflow(c, false);
		else
			compare(c, st_get(c, 0), st_get(c, 1), true, false);
		fpop(c);
		fpop(c);
		return;
	case 0xDA0: case 0xDA1: case 0xDA2: case 0xDA3:
	case 0xDB0: case 0xDB1: case 0xDB2: case 0xDB3: {     /* fcmovcc */
		static const uint64_t cond[4] = { FL_CF, FL_ZF, FL_CF | FL_ZF, FL_PF };
		bool t = (c->rflags & cond[op]) != 0;
		if (i->opcode == 0xDB)
			t = !t;
		if (st_empty(c, 0) || st_empty(c, sti)) {
			/* Underflow whatever the condition: ST0 = indefinite. */
			stack_fault(c, false);
			st_set(c, 0, indefinite());
		} else if (t) {
			st_set(c, 0, st_get(c, sti));
		}
		return;
	}
	case 0xDB5: case 0xDB6: case 0xDF5: case 0xDF6:        /* f(u)comi(p) */
		if (underflow(c, 0, sti)) {
			compare_underflow(c, true);
			c->x87.sw &= (uint16_t)~C1;
		} else {
			compare(c, st_get(c, 0), st_get(c, sti), op == 5, true);
		}
		if (i->opcode == 0xDF)
			fpop(c);
		return;
	case 0xDB4:
		if (sti == 2) {                                /* fnclex */
			c->x87.sw &= 0x7F00;
		} else {                                       /* fninit */
			c->x87.cw = 0x37F;
			c->x87.sw = 0;
			c->x87.top = 0;
			c->x87.tag_empty = 0xFF;
			c->x87.fop = c->x87.fcs = c->x87.fds = 0;
			c->x87.fip = c->x87.fdp = 0;
		}
		return;
	case 0xDF4:                                            /* fnstsw ax */
		c->gpr[CPU_RAX] = (c->gpr[CPU_RAX] & ~0xffffull) | x87_status_word(c);
		return;
	default:
		break;
	}
	/* D9 E0-FF */
	unsigned b = i->modrm;
	switch (b) {
	case 0xE0: case 0xE1: {                                /* fchs, fabs */
		if (underflow(c, 0, 0)) {
			st_set(c, 0, indefinite());
			return;
		}
		long double v = st_get(c, 0);
		uint8_t bytes[16] = { 0 };
		memcpy(bytes, &v, 10);
		if (b == 0xE0)
			bytes[9] ^= 0x80;
		else
			bytes[9] &= 0x7f;
		memcpy(&v, bytes, 10);
		st_set(c, 0, v);
		c->x87.sw &= (uint16_t)~C1;
		return;
	}
	case 0xE4:                                             /* ftst */
		if (underflow(c, 0, 0))
			compare_underflow(c, false);
		else
			compare(c, st_get(c, 0), 0.0L, false, false);
		return;
	case 0xE5: fxam(c); return;
	case 0xE8: case 0xE9: case 0xEA: case 0xEB: case 0xEC: case 0xED: case 0xEE:
		fpush(c, st_empty(c, 7) ? constant(c, b) : 0);
		return;
	case 0xF6: c->x87.top = (c->x87.top - 1) & 7; c->x87.sw &= (uint16_t)~C1; return;
	case 0xF7: c->x87.top = (c->x87.top + 1) & 7; c->x87.sw &= (uint16_t)~C1; return;
	case 0xF0: case 0xF1: case 0xF2: case 0xF3: case 0xF9: case 0xFB: case 0xFE: case 0xFF:
		transcendental(c, b);
		return;
	default:
		special(c, b);
		return;
	}
}

void op_x87_arith_m(struct cpu *c, const struct insn *i)
{
	guarded(c, i, op_x87_arith_m_body);
}

void op_x87_arith_r(struct cpu *c, const struct insn *i)
{
	guarded(c, i, op_x87_arith_r_body);
}

void op_x87_ldst_m(struct cpu *c, const struct insn *i)
{
	guarded(c, i, op_x87_ldst_m_body);
}

void op_x87_reg(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7;
	/* fnclex, fninit and fnstsw ax do not wait for pending exceptions. */
	if ((i->opcode == 0xDB && op == 4) || (i->opcode == 0xDF && op == 4))
		op_x87_reg_body(c, i);
	else
		guarded(c, i, op_x87_reg_body);
}
