/* machine/x87.c: the x87 FPU subset that libc needs (long double printf,
 * strtold, fenv): loads/stores of every memory format, the arithmetic
 * families, compares, constants, fxam, frndint, fscale, fprem, fsqrt,
 * fxtract, control/status/environment handling, and fxsave's x87 part.
 *
 * The host is x86-64 and its long double is the same 80-bit format, so
 * arithmetic runs on the host FPU with the guest's control word loaded
 * (rounding and precision control honoured, exceptions masked), and the
 * host's exception flags are folded into the guest status word:
 *
 *     uint16_t saved = fpu_enter(c);     // guest RC/PC, all masked
 *     r = a + b;                         // through volatile long doubles
 *     fpu_leave(c, saved);               // sticky flags -> guest FSW
 *
 * The transcendental instructions (f2xm1, fyl2x, fyl2xp1, fpatan, fptan,
 * fsin, fcos, fsincos) also run on the host x87, so their last-bit
 * results are those of the host CPU model (Intel and AMD agree to within
 * the documented 1 ulp; a given host is deterministic).
 *
 * Limitations (documented, not silently wrong): unmasked exceptions only
 * set their flags (no #MF), FIP/FDP/FOP are not tracked (saved as 0), and
 * fbld/fbstp are not implemented (#UD).
 */
#if !defined(__x86_64__)
#error "machine/x87.c uses the host's x87 unit: build on an x86-64 host"
#endif

#include <math.h>

#include "machine/exec.h"

enum { C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000, SW_IE = 1, SW_SF = 0x40 };

/* ---- host FPU bracket ---- */

static uint16_t fpu_enter(const struct cpu *c)
{
	uint16_t saved, cw = c->x87.cw | 0x3F;
	__asm__ volatile("fnstcw %0" : "=m"(saved));
	__asm__ volatile("fnclex\n\tfldcw %0" : : "m"(cw) : "memory");
	return saved;
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

uint16_t x87_status_word(const struct cpu *c)
{
	return (uint16_t)((c->x87.sw & ~0x3800) | ((c->x87.top & 7) << 11));
}

static unsigned classify_tag(long double v)
{
	switch (fpclassify(v)) {
	case FP_ZERO: return 1;
	case FP_NORMAL: return 0;
	default: return 2;
	}
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

static bool is_snan(long double v)
{
	uint8_t b[16] = { 0 };
	memcpy(b, &v, 10);
	uint64_t mant;
	memcpy(&mant, b, 8);
	unsigned exp = (b[8] | (b[9] << 8)) & 0x7fff;
	return exp == 0x7fff && (mant << 1) != 0 && !(mant & (1ull << 62));
}

/* op: 0 add, 1 mul, 4 dest-src, 5 src-dest, 6 dest/src, 7 src/dest. */
static long double arith(struct cpu *c, unsigned op, long double dest, long double src)
{
	volatile long double a = dest, b = src, r;
	uint16_t saved = fpu_enter(c);
	switch (op) {
	case 0: r = a + b; break;
	case 1: r = a * b; break;
	case 4: r = a - b; break;
	case 5: r = b - a; break;
	case 6: r = a / b; break;
	default: r = b / a; break;
	}
	fpu_leave(c, saved);
	return r;
}

/* Compare for fcom/fucom (status C3 C2 C0) or fcomi/fucomi (ZF PF CF). */
static void compare(struct cpu *c, long double a, long double b, bool quiet, bool to_eflags)
{
	bool unord = isnan(a) || isnan(b);
	if (unord && (!quiet || is_snan(a) || is_snan(b)))
		c->x87.sw |= SW_IE;
	if (!unord && (fpclassify(a) == FP_SUBNORMAL || fpclassify(b) == FP_SUBNORMAL))
		c->x87.sw |= 2;         /* DE */
	unsigned lt = !unord && a < b, eq = !unord && a == b;
	if (to_eflags) {
		uint64_t f = unord ? (FL_ZF | FL_PF | FL_CF) : lt ? FL_CF : eq ? FL_ZF : 0;
		set_flags(c, FL_STATUS, f);
		c->x87.sw &= (uint16_t)~C1;
		return;
	}
	uint16_t cc = unord ? (C3 | C2 | C0) : lt ? C0 : eq ? C3 : 0;
	c->x87.sw = (uint16_t)((c->x87.sw & ~(C3 | C2 | C1 | C0)) | cc);
}

static long double int_to_ld(int64_t v)
{
	return (long double)v;  /* exact: 64-bit significand */
}

/* The memory operand of D8/DA/DC/DE, by opcode. */
static long double load_arith_src(struct cpu *c, const struct insn *i, uint64_t a)
{
	switch (i->opcode) {
	case 0xD8: {
		uint32_t u = (uint32_t)mem_read(c, a, 4);
		float f;
		memcpy(&f, &u, 4);
		volatile float vf = f;
		volatile long double r;
		uint16_t saved = fpu_enter(c);
		r = vf;
		fpu_leave(c, saved);
		return r;
	}
	case 0xDC: {
		uint64_t u = mem_read(c, a, 8);
		double d;
		memcpy(&d, &u, 8);
		volatile double vd = d;
		volatile long double r;
		uint16_t saved = fpu_enter(c);
		r = vd;
		fpu_leave(c, saved);
		return r;
	}
	case 0xDA: return int_to_ld((int32_t)mem_read(c, a, 4));
	default: return int_to_ld((int16_t)mem_read(c, a, 2));
	}
}

void op_x87_arith_m(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7;
	long double src = load_arith_src(c, i, insn_ea(c, i));
	long double st0 = st_get(c, 0);
	if (op == 2 || op == 3) {
		compare(c, st0, src, false, false);
		if (op == 3)
			fpop(c);
		return;
	}
	c->x87.sw &= (uint16_t)~C1;
	st_set(c, 0, arith(c, op, st0, src));
}

void op_x87_arith_r(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7, sti = i->modrm & 7;
	if (i->opcode == 0xD8) {
		long double a = st_get(c, 0), b = st_get(c, sti);
		if (op == 2 || op == 3) {
			compare(c, a, b, false, false);
			if (op == 3)
				fpop(c);
			return;
		}
		c->x87.sw &= (uint16_t)~C1;
		st_set(c, 0, arith(c, op, a, b));
		return;
	}
	if (i->opcode == 0xDE && op == 3) {     /* fcompp */
		compare(c, st_get(c, 0), st_get(c, 1), false, false);
		fpop(c);
		fpop(c);
		return;
	}
	/* DC and DE: ST(i) = ST(i) op ST(0), with sub/subr and div/divr named
	 * the other way round (SDM FSUB/FSUBR tables). */
	unsigned aop = op >= 4 ? op ^ 1 : op;
	long double dest = st_get(c, sti), src = st_get(c, 0);
	c->x87.sw &= (uint16_t)~C1;
	st_set(c, sti, arith(c, aop, dest, src));
	if (i->opcode == 0xDE)
		fpop(c);
}

/* Round to an integer under the guest's rounding control (or toward zero
 * for fisttp) and check the range of a bytes-wide signed integer. */
static int64_t to_int(struct cpu *c, long double v, unsigned bytes, bool trunc)
{
	int64_t lim_hi = (int64_t)(size_mask(bytes) >> 1), lim_lo = -lim_hi - 1;
	volatile long double in = v, r;
	uint16_t saved = fpu_enter(c);
	r = trunc ? truncl(in) : rintl(in);
	fpu_leave(c, saved);
	if (r != in && !isnan(in))
		c->x87.sw |= 0x20;      /* PE */
	if (isnan(r) || r > (long double)lim_hi || r < (long double)lim_lo) {
		c->x87.sw |= SW_IE;
		return lim_lo;          /* the integer indefinite */
	}
	return (int64_t)r;
}

void op_x87_ldst_m(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7;
	uint64_t a = insn_ea(c, i);
	c->x87.sw &= (uint16_t)~C1;
	switch (i->opcode << 4 | op) {
	case 0xD90: case 0xDD0: {       /* fld m32fp / m64fp */
		uint16_t saved;
		volatile long double r;
		if (i->opcode == 0xD9) {
			uint32_t u = (uint32_t)mem_read(c, a, 4);
			volatile float f;
			memcpy((void *)&f, &u, 4);
			saved = fpu_enter(c);
			r = f;
		} else {
			uint64_t u = mem_read(c, a, 8);
			volatile double d;
			memcpy((void *)&d, &u, 8);
			saved = fpu_enter(c);
			r = d;
		}
		fpu_leave(c, saved);
		fpush(c, r);
		return;
	}
	case 0xDB5:                     /* fld m80 */
		fpush(c, load_m80(c, a));
		return;
	case 0xDB0: fpush(c, int_to_ld((int32_t)mem_read(c, a, 4))); return;
	case 0xDF0: fpush(c, int_to_ld((int16_t)mem_read(c, a, 2))); return;
	case 0xDF5: fpush(c, int_to_ld((int64_t)mem_read(c, a, 8))); return;
	case 0xD92: case 0xD93: case 0xDD2: case 0xDD3: {      /* fst(p) m32/m64 */
		volatile long double v = st_get(c, 0);
		uint16_t saved = fpu_enter(c);
		if (i->opcode == 0xD9) {
			volatile float f = (float)v;
			fpu_leave(c, saved);
			uint32_t u;
			memcpy(&u, (const void *)&f, 4);
			mem_write(c, a, 4, u);
		} else {
			volatile double d = (double)v;
			fpu_leave(c, saved);
			uint64_t u;
			memcpy(&u, (const void *)&d, 8);
			mem_write(c, a, 8, u);
		}
		if (op == 3)
			fpop(c);
		return;
	}
	case 0xDB7:                     /* fstp m80 */
		store_m80(c, a, st_get(c, 0));
		fpop(c);
		return;
	default: {                      /* fist, fistp, fisttp */
		unsigned bytes = i->opcode == 0xDB ? 4 : i->opcode == 0xDF ? 2 : 8;
		if (i->opcode == 0xDF && op == 7)
			bytes = 8;
		bool trunc = op == 1;
		int64_t v = to_int(c, st_get(c, 0), bytes, trunc);
		mem_write(c, a, bytes, (uint64_t)v);
		if (op != 2)
			fpop(c);
		return;
	}
	}
}

/* ---- environment ---- */

void op_x87_env(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	switch (i->opcode << 4 | ((i->modrm >> 3) & 7)) {
	case 0xD95: c->x87.cw = (uint16_t)(mem_read(c, a, 2) | 0x40); return;
	case 0xD97: mem_write(c, a, 2, c->x87.cw); return;
	case 0xDD7: mem_write(c, a, 2, x87_status_word(c)); return;
	case 0xD96: {                   /* fnstenv: 28-byte protected-mode image */
		uint32_t env[7] = { c->x87.cw | 0xFFFF0000u, x87_status_word(c) | 0xFFFF0000u,
				    x87_tag_word(c) | 0xFFFF0000u, 0, 0, 0, 0xFFFF0000u };
		mem_write_buf(c, a, env, sizeof env);
		c->x87.cw |= 0x3F;      /* fnstenv masks all exceptions */
		return;
	}
	default: {                      /* fldenv */
		uint32_t env[7];
		mem_read_buf(c, a, env, sizeof env);
		c->x87.cw = (uint16_t)(env[0] | 0x40);
		c->x87.sw = (uint16_t)env[1] & ~0x3800;
		c->x87.top = (env[1] >> 11) & 7;
		uint8_t empty = 0;
		for (unsigned r = 0; r < 8; r++)
			if (((env[2] >> (2 * r)) & 3) == 3)
				empty |= (uint8_t)(1u << r);
		c->x87.tag_empty = empty;
		return;
	}
	}
}

void x87_fxsave(struct cpu *c, uint8_t img[512])
{
	uint16_t cw = c->x87.cw, sw = x87_status_word(c);
	uint8_t ftw = (uint8_t)~c->x87.tag_empty;
	memcpy(img + 0, &cw, 2);
	memcpy(img + 2, &sw, 2);
	img[4] = ftw;
	memcpy(img + 6, &c->x87.fop, 2);
	memcpy(img + 8, &c->x87.fip, 8);
	memcpy(img + 16, &c->x87.fdp, 8);
	for (unsigned k = 0; k < 8; k++)
		memcpy(img + 32 + 16 * k, &c->x87.st[phys(c, k)], 10);
}

void x87_fxrstor(struct cpu *c, const uint8_t img[512])
{
	uint16_t sw;
	memcpy(&c->x87.cw, img + 0, 2);
	memcpy(&sw, img + 2, 2);
	c->x87.sw = sw & ~0x3800;
	c->x87.top = (sw >> 11) & 7;
	c->x87.tag_empty = (uint8_t)~img[4];
	memcpy(&c->x87.fop, img + 6, 2);
	memcpy(&c->x87.fip, img + 8, 8);
	memcpy(&c->x87.fdp, img + 16, 8);
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

/* f2xm1, fyl2x, fyl2xp1, fpatan, fptan, fsin, fcos, fsincos.  The
 * trigonometric ones leave ST0 alone and set C2 when |ST0| >= 2^63 (SDM
 * FSIN); that case is decided here, so the host's stack never differs
 * from what the asm constraints promise the compiler. */
static void transcendental(struct cpu *c, unsigned b)
{
	long double x = st_get(c, 0), r = 0, r2 = 0;
	bool trig = b == 0xF2 || b == 0xFE || b == 0xFF || b == 0xFB;
	c->x87.sw &= (uint16_t)~(C3 | C2 | C1 | C0);
	if (trig && isfinite(x) && fabsl(x) >= 0x1p63L) {
		c->x87.sw |= C2;
		return;
	}
	if (trig && !isfinite(x)) {
		/* Infinity is invalid; either way the result is a NaN. */
		if (isinf(x) || is_snan(x))
			c->x87.sw |= SW_IE;
		long double nan = isnan(x) ? x : indefinite();
		st_set(c, 0, nan);
		if (b == 0xF2 || b == 0xFB)
			fpush(c, b == 0xF2 ? 1.0L : nan);
		return;
	}
	long double y = (b == 0xF1 || b == 0xF9 || b == 0xF3) ? st_get(c, 1) : 0;
	uint16_t saved = fpu_enter(c);
	switch (b) {
	case 0xF0: __asm__ volatile("f2xm1" : "=t"(r) : "0"(x)); break;
	case 0xF1: __asm__ volatile("fyl2x" : "=t"(r) : "0"(x), "u"(y) : "st(1)"); break;
	case 0xF9: __asm__ volatile("fyl2xp1" : "=t"(r) : "0"(x), "u"(y) : "st(1)"); break;
	case 0xF3: __asm__ volatile("fpatan" : "=t"(r) : "0"(x), "u"(y) : "st(1)"); break;
	case 0xF2: __asm__ volatile("fptan" : "=t"(r2), "=u"(r) : "0"(x)); break;
	case 0xFE: __asm__ volatile("fsin" : "=t"(r) : "0"(x)); break;
	case 0xFF: __asm__ volatile("fcos" : "=t"(r) : "0"(x)); break;
	default: __asm__ volatile("fsincos" : "=t"(r2), "=u"(r) : "0"(x)); break;
	}
	volatile long double vr = r, vr2 = r2;
	fpu_leave(c, saved);
	switch (b) {
	case 0xF1: case 0xF9: case 0xF3:        /* result in ST1, then pop */
		st_set(c, 1, vr);
		fpop(c);
		break;
	case 0xF2: case 0xFB:                   /* ST0 = tan/sin, push 1.0/cos */
		st_set(c, 0, vr);
		fpush(c, vr2);
		break;
	default:
		st_set(c, 0, vr);
		break;
	}
}

/* fprem/fprem1/fscale/fsqrt/frndint/fxtract on the host, C bits kept. */
static void special(struct cpu *c, unsigned b)
{
	long double x = st_get(c, 0), r = 0, r2 = 0;
	uint16_t sw = 0;
	uint16_t saved = fpu_enter(c);
	switch (b) {
	case 0xF8: case 0xF5: {
		long double y = st_get(c, 1);
		if (b == 0xF8)
			__asm__ volatile("fprem\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(x), "u"(y));
		else
			__asm__ volatile("fprem1\n\tfnstsw %1" : "=t"(r), "=m"(sw) : "0"(x), "u"(y));
		break;
	}
	case 0xFD: {
		long double y = st_get(c, 1);
		__asm__ volatile("fscale" : "=t"(r) : "0"(x), "u"(y));
		break;
	}
	case 0xFA: __asm__ volatile("fsqrt" : "=t"(r) : "0"(x)); break;
	case 0xFC: __asm__ volatile("frndint" : "=t"(r) : "0"(x)); break;
	default: __asm__ volatile("fxtract" : "=t"(r), "=u"(r2) : "0"(x)); break;
	}
	volatile long double vr = r, vr2 = r2;
	fpu_leave(c, saved);
	c->x87.sw &= (uint16_t)~(C3 | C2 | C1 | C0);
	if (b == 0xF8 || b == 0xF5)
		c->x87.sw |= sw & (C3 | C2 | C1 | C0);
	if (b == 0xF4) {                /* fxtract: ST0 = exponent, push significand */
		st_set(c, 0, vr2);
		fpush(c, vr);
		return;
	}
	st_set(c, 0, vr);
}

void op_x87_reg(struct cpu *c, const struct insn *i)
{
	unsigned op = (i->modrm >> 3) & 7, sti = i->modrm & 7;
	switch (i->opcode << 4 | op) {
	case 0xD90: fpush(c, st_get(c, sti)); return;          /* fld st(i) */
	case 0xD91: {                                          /* fxch */
		long double a = st_get(c, 0), b = st_get(c, sti);
		st_set(c, 0, b);
		st_set(c, sti, a);
		c->x87.sw &= (uint16_t)~C1;
		return;
	}
	case 0xD92: return;                                    /* fnop */
	case 0xDD0: c->x87.tag_empty |= (uint8_t)(1u << phys(c, sti)); return;  /* ffree */
	case 0xDD2: st_set(c, sti, st_get(c, 0)); return;      /* fst st(i) */
	case 0xDD3: st_set(c, sti, st_get(c, 0)); fpop(c); return;
	case 0xDD4: compare(c, st_get(c, 0), st_get(c, sti), true, false); return;
	case 0xDD5: compare(c, st_get(c, 0), st_get(c, sti), true, false); fpop(c); return;
	case 0xDA5:                                            /* fucompp */
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
		long double v = st_get(c, sti);
		if (t)
			st_set(c, 0, v);
		return;
	}
	case 0xDB5: compare(c, st_get(c, 0), st_get(c, sti), true, true); return;   /* fucomi */
	case 0xDB6: compare(c, st_get(c, 0), st_get(c, sti), false, true); return;  /* fcomi */
	case 0xDF5: compare(c, st_get(c, 0), st_get(c, sti), true, true); fpop(c); return;
	case 0xDF6: compare(c, st_get(c, 0), st_get(c, sti), false, true); fpop(c); return;
	case 0xDB4:
		if (sti == 2) {                                /* fnclex */
			c->x87.sw &= 0x7F00;
		} else {                                       /* fninit */
			c->x87.cw = 0x37F;
			c->x87.sw = 0;
			c->x87.top = 0;
			c->x87.tag_empty = 0xFF;
			c->x87.fop = 0;
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
	case 0xE4: compare(c, st_get(c, 0), 0.0L, false, false); return;    /* ftst */
	case 0xE5: fxam(c); return;
	case 0xE8: case 0xE9: case 0xEA: case 0xEB: case 0xEC: case 0xED: case 0xEE:
		fpush(c, constant(c, b));
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
