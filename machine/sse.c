/* machine/sse.c: SSE and SSE2 (moves, packed integer, float arithmetic,
 * comparisons, shuffles, conversions).
 *
 * The host is x86-64, so every SSE2 operation exists on it with exactly
 * the semantics the SDM gives the guest, including NaN propagation, the
 * operand order of min/max, integer-indefinite results of conversions,
 * DAZ/FTZ and rounding.  Floating-point work therefore runs as the host
 * instruction (through <emmintrin.h>) with the guest's MXCSR loaded:
 *
 *     uint32_t saved = sse_host_enter(c);    // guest RC/DAZ/FTZ, all masked
 *     __asm__ volatile("addsd %1, %0" : "+x"(x) : "x"(y));
 *     sse_host_leave(c, saved);              // sticky flags -> guest MXCSR
 *
 * Each floating-point operation is a single `asm volatile` host
 * instruction, so the compiler can neither move it across the MXCSR
 * switches nor speculate it (a speculated packed op would raise flags
 * the scalar op does not).  Integer SIMD, which touches no MXCSR state,
 * uses the <emmintrin.h> intrinsics.  Exceptions are always masked on
 * the host; when the guest has one unmasked, sse_host_leave() raises #XM
 * before the result is stored (with overflow or underflow unmasked the
 * flags differ from the masked ones: see unbounded_post()).  rcpps/rsqrtps are approximations whose
 * bits differ between host CPUs, so they are computed here in software
 * (correctly rounded 1/x and 1/sqrt(x), within the SDM's error bound).
 */
#if !defined(__x86_64__)
#error "machine/sse.c uses the host's SSE2 unit: build on an x86-64 host"
#endif

#include <emmintrin.h>
#include <float.h>
#include <math.h>

#include "machine/exec.h"

uint32_t sse_host_enter(const struct cpu *c)
{
	uint32_t saved = _mm_getcsr();
	_mm_setcsr((c->mxcsr | 0x1F80) & ~0x3Fu & 0xFFFF);
	return saved;
}

/* The flags the host op raised; the host's MXCSR back. */
static uint32_t host_flags(uint32_t saved)
{
	uint32_t raised = _mm_getcsr() & 0x3F;
	_mm_setcsr(saved);
	return raised;
}

/* Report raised (an operation's MXCSR flags) to the guest. */
static void sse_raise(struct cpu *c, uint32_t raised)
{
	/* Exceptions the guest left unmasked: #XM, destination not written
	 * (SDM vol. 1, 11.5.1).  Invalid, denormal and divide-by-zero are
	 * detected before computing, so if one of those is unmasked the
	 * post-computation flags (overflow, underflow, precision) never
	 * arise. */
	uint32_t unmasked = ~(c->mxcsr >> 7) & 0x3F;
	uint32_t pre = raised & 0x7;
	if (pre & unmasked) {
		c->mxcsr |= pre;
		cpu_fault(c, CPU_EXC_XM, 0);
	}
	/* Post-computation exceptions report all their flags (with OE or
	 * UE unmasked, as fixed by unbounded_post() below). */
	c->mxcsr |= raised;
	if (raised & unmasked)
		cpu_fault(c, CPU_EXC_XM, 0);
}

void sse_host_leave(struct cpu *c, uint32_t saved)
{
	sse_raise(c, host_flags(saved));
}

/* ---- operand access ---- */

static void check_align(struct cpu *c, const struct insn *i, uint64_t a)
{
	if ((i->form->attr & INSN_ALIGN16) && (a & 15))
		cpu_gp0(c);
}

/* The W operand: xmm register, or len bytes of memory (rest zero). */
static __m128i load_w(struct cpu *c, const struct insn *i, unsigned len)
{
	__m128i v = _mm_setzero_si128();
	if (i->mod3) {
		memcpy(&v, c->xmm[i->rm], 16);
	} else {
		uint64_t a = insn_ea(c, i);
		if (len == 16)
			check_align(c, i, a);
		mem_read_buf(c, a, &v, len);
	}
	return v;
}

static __m128i load_v(const struct cpu *c, const struct insn *i)
{
	__m128i v;
	memcpy(&v, c->xmm[i->reg], 16);
	return v;
}

static void store_v(struct cpu *c, const struct insn *i, __m128i v)
{
	memcpy(c->xmm[i->reg], &v, 16);
}

static unsigned pfx(const struct insn *i)
{
	return i->form->mprefix;        /* MP_NONE ps, MP_66 pd, MP_F3 ss, MP_F2 sd */
}

/* ---- moves ---- */

void op_sse_mov_load(struct cpu *c, const struct insn *i)
{
	store_v(c, i, load_w(c, i, 16));
}

void op_sse_mov_store(struct cpu *c, const struct insn *i)
{
	if (i->mod3) {
		memcpy(c->xmm[i->rm], c->xmm[i->reg], 16);
		return;
	}
	uint64_t a = insn_ea(c, i);
	check_align(c, i, a);
	mem_write_buf(c, a, c->xmm[i->reg], 16);
}

void op_sse_movnt(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	check_align(c, i, a);
	mem_write_buf(c, a, c->xmm[i->reg], 16);
	if ((c->hooks && c->hooks->ntstore) || c->timing)
		hook_ntstore(c, mem_phys(c, a), 16);
}

void op_sse_movs_load(struct cpu *c, const struct insn *i)
{
	unsigned len = pfx(i) == MP_F3 ? 4 : 8;
	if (i->mod3) {
		memcpy(c->xmm[i->reg], c->xmm[i->rm], len);
		return;
	}
	uint8_t v[16] = { 0 };
	mem_read_buf(c, insn_ea(c, i), v, len);
	memcpy(c->xmm[i->reg], v, 16);
}

void op_sse_movs_store(struct cpu *c, const struct insn *i)
{
	unsigned len = pfx(i) == MP_F3 ? 4 : 8;
	if (i->mod3)
		memcpy(c->xmm[i->rm], c->xmm[i->reg], len);
	else
		mem_write_buf(c, insn_ea(c, i), c->xmm[i->reg], len);
}

void op_sse_movlp(struct cpu *c, const struct insn *i)
{
	uint8_t v[8];
	if (i->mod3)            /* movhlps */
		memcpy(v, c->xmm[i->rm] + 8, 8);
	else
		mem_read_buf(c, insn_ea(c, i), v, 8);   /* may fault: nothing written yet */
	memcpy(c->xmm[i->reg], v, 8);
}

void op_sse_movlp_store(struct cpu *c, const struct insn *i)
{
	mem_write_buf(c, insn_ea(c, i), c->xmm[i->reg], 8);
}

void op_sse_movhp(struct cpu *c, const struct insn *i)
{
	uint8_t v[8];
	if (i->mod3)            /* movlhps */
		memcpy(v, c->xmm[i->rm], 8);
	else
		mem_read_buf(c, insn_ea(c, i), v, 8);
	memcpy(c->xmm[i->reg] + 8, v, 8);
}

void op_sse_movhp_store(struct cpu *c, const struct insn *i)
{
	mem_write_buf(c, insn_ea(c, i), c->xmm[i->reg] + 8, 8);
}

void op_sse_movd_load(struct cpu *c, const struct insn *i)
{
	uint64_t v = rm_read(c, i, i->osz);
	memset(c->xmm[i->reg], 0, 16);
	memcpy(c->xmm[i->reg], &v, i->osz);
}

void op_sse_movd_store(struct cpu *c, const struct insn *i)
{
	uint64_t v = 0;
	memcpy(&v, c->xmm[i->reg], i->osz);
	rm_write(c, i, i->osz, v);
}

void op_sse_movq_load(struct cpu *c, const struct insn *i)
{
	uint8_t v[16] = { 0 };
	if (i->mod3)
		memcpy(v, c->xmm[i->rm], 8);
	else
		mem_read_buf(c, insn_ea(c, i), v, 8);
	memcpy(c->xmm[i->reg], v, 16);
}

void op_sse_movq_store(struct cpu *c, const struct insn *i)
{
	if (i->mod3) {
		uint8_t v[16] = { 0 };
		memcpy(v, c->xmm[i->reg], 8);
		memcpy(c->xmm[i->rm], v, 16);
	} else {
		mem_write_buf(c, insn_ea(c, i), c->xmm[i->reg], 8);
	}
}

void op_sse_movmsk(struct cpu *c, const struct insn *i)
{
	__m128i v;
	memcpy(&v, c->xmm[i->rm], 16);
	int m;
	if (i->opcode == 0xD7)
		m = _mm_movemask_epi8(v);
	else if (pfx(i) == MP_66)
		m = _mm_movemask_pd(_mm_castsi128_pd(v));
	else
		m = _mm_movemask_ps(_mm_castsi128_ps(v));
	c->gpr[i->reg] = (uint32_t)m;
}

void op_sse_maskmov(struct cpu *c, const struct insn *i)
{
	uint64_t di = i->asz == 4 ? (uint32_t)c->gpr[CPU_RDI] : c->gpr[CPU_RDI];
	if (i->seg == SEG_FS)
		di += c->fs_base;
	else if (i->seg == SEG_GS)
		di += c->gs_base;
	const uint8_t *mask = c->xmm[i->rm], *src = c->xmm[i->reg];
	for (unsigned k = 0; k < 16; k++)
		if (mask[k] & 0x80)
			mem_check_write(c, di + k, 1);
	for (unsigned k = 0; k < 16; k++)
		if (mask[k] & 0x80)
			mem_write(c, di + k, 1, src[k]);
	if ((c->hooks && c->hooks->ntstore) || c->timing)
		hook_ntstore(c, mem_phys(c, di), 16);
}

void op_sse_pinsrw(struct cpu *c, const struct insn *i)
{
	uint16_t w = (uint16_t)rm_read(c, i, 2);
	memcpy(c->xmm[i->reg] + 2 * (i->imm & 7), &w, 2);
}

void op_sse_pextrw(struct cpu *c, const struct insn *i)
{
	uint16_t w;
	memcpy(&w, c->xmm[i->rm] + 2 * (i->imm & 7), 2);
	c->gpr[i->reg] = w;
}

/* ---- floating point ---- */

/* The approximations treat denormal inputs as zero and flush denormal
 * results to zero, whatever MXCSR says (observed on hardware). */
static float soft_rcp(float x)
{
	if (fpclassify(x) == FP_SUBNORMAL)
		x = copysignf(0.0f, x);
	float r = (float)(1.0 / (double)x);
	if (fpclassify(r) == FP_SUBNORMAL)
		r = copysignf(0.0f, r);
	return r;
}

static float soft_rsqrt(float x)
{
	if (fpclassify(x) == FP_SUBNORMAL)
		x = copysignf(0.0f, x);
	if (x < 0)
		return -NAN;            /* the default QNaN, 0xFFC00000 */
	return (float)(1.0 / sqrt((double)x));
}

/* One host instruction, "ins %src, %dest", on x (dest, V) and y (src, W).
 * asm volatile: the compiler may neither drop nor speculate it, so the
 * MXCSR flags it raises are exactly the instruction's. */
#define HOST2(ins) __asm__ volatile(ins " %1, %0" : "+x"(x) : "x"(y))

/* ---- unmasked overflow and underflow ----
 *
 * The host computes with every exception masked, and the masked
 * responses report different flags from the unmasked ones (SDM vol. 1,
 * 4.9.1.4 to 4.9.1.6 and 11.5.2):
 *
 *  - a masked overflow always reports PE (its result, infinity or the
 *    largest finite number, is inexact); an unmasked one reports PE only
 *    if rounding the result to the destination's precision with an
 *    unbounded exponent was inexact (2^127 + 2^127 in single: OE alone);
 *  - a masked underflow reports UE only for a tiny result that is also
 *    inexact; an unmasked one reports UE for every tiny result (nonzero
 *    and, after rounding with an unbounded exponent, below the smallest
 *    normal), exact or not, with PE again only if that rounding was
 *    inexact, and FTZ does not apply.  The destination is not written.
 *
 * So when the guest has OE unmasked and the host reports OE, or has UE
 * unmasked, the operation is redone lane by lane: the lane's masked
 * flags come from the scalar host instruction, and the unbounded result
 * from the host's x87 with precision control set to the destination's
 * 24 or 53 bits, whose 15-bit exponent cannot overflow or underflow for
 * float or double operands, so it rounds once, exactly as "rounding with
 * an unbounded exponent" reads, and its PE is that rounding's
 * inexactness.  (The AMD host agrees, e.g. OE without PE for an exact
 * overflow; docs/difftest.md.)
 */
enum { MX_IE = 1, MX_DE = 2, MX_OE = 8, MX_UE = 16, MX_PE = 32, MX_DAZ = 0x40 };
enum { U_ADD, U_MUL, U_SUB, U_DIV, U_CVT };     /* U_CVT: double to single */

/* An operand as a long double, with DAZ applied; false for a NaN or an
 * infinity (no overflow or underflow comes from those). */
static bool lane_value(uint64_t bits, bool dbl, uint32_t mxcsr, long double *out)
{
	bool sub;
	if (dbl) {
		if (((bits >> 52) & 0x7ff) == 0x7ff)
			return false;
		sub = ((bits >> 52) & 0x7ff) == 0 && (bits << 12);
		double d;
		memcpy(&d, &bits, 8);
		*out = d;
	} else {
		uint32_t u = (uint32_t)bits;
		if (((u >> 23) & 0xff) == 0xff)
			return false;
		sub = ((u >> 23) & 0xff) == 0 && (u << 9);
		float f;
		memcpy(&f, &u, 4);
		*out = f;
	}
	if (sub && (mxcsr & MX_DAZ))
		*out = (bits >> (dbl ? 63 : 31)) & 1 ? -0.0L : 0.0L;
	return true;
}

/* OE or UE, and PE, as an unmasked response would report them for one
 * lane: a op b rounded to 24 bits (dbl false) or 53 bits. */
static uint32_t unbounded_flags(unsigned op, bool dbl, long double a, long double b, uint32_t mxcsr)
{
	/* all masked, PC single (00) or double (10), RC as in the MXCSR
	 * (same encoding) */
	uint16_t cw = (uint16_t)(0x3F | (dbl ? 0x200 : 0) | ((mxcsr >> 13) & 3) << 10);
	uint16_t saved, sw;
	long double r;
	__asm__ volatile("fnstcw %0" : "=m"(saved));
	__asm__ volatile("fnclex\n\tfldcw %0" : : "m"(cw) : "memory");
#define X87(ins) __asm__ volatile(ins " %%st(1), %%st\n\tfnstsw %1\n\tfnclex" \
				  : "=t"(r), "=m"(sw) : "0"(a), "u"(b))
	switch (op) {
	case U_ADD: X87("fadd"); break;
	case U_MUL: X87("fmul"); break;
	case U_SUB: X87("fsub"); break;
	case U_DIV: X87("fdiv"); break;
	default: b = 0.0L; X87("fadd"); break;  /* a + 0: a rounded */
	}
#undef X87
	volatile long double vr = r;
	__asm__ volatile("fldcw %0" : : "m"(saved) : "memory");
	long double m = fabsl(vr);
	if ((sw & MX_IE) || m == 0 || isinf(m) || isnan(m))
		return 0;
	uint32_t pe = (sw & 0x20) ? MX_PE : 0;
	if (m > (dbl ? (long double)DBL_MAX : (long double)FLT_MAX))
		return MX_OE | pe;
	if (m < (dbl ? (long double)DBL_MIN : (long double)FLT_MIN))
		return MX_UE | pe;
	return pe;
}

/* The masked flags of one lane: the scalar host instruction. */
static uint32_t host_lane(const struct cpu *c, unsigned op, bool dbl, uint64_t a, uint64_t b)
{
	__m128i x = _mm_set_epi64x(0, (long long)a), y = _mm_set_epi64x(0, (long long)b);
	uint32_t saved = sse_host_enter(c);
	switch (op << 1 | dbl) {
	case U_ADD << 1: HOST2("addss"); break;
	case U_ADD << 1 | 1: HOST2("addsd"); break;
	case U_MUL << 1: HOST2("mulss"); break;
	case U_MUL << 1 | 1: HOST2("mulsd"); break;
	case U_SUB << 1: HOST2("subss"); break;
	case U_SUB << 1 | 1: HOST2("subsd"); break;
	case U_DIV << 1: HOST2("divss"); break;
	case U_DIV << 1 | 1: HOST2("divsd"); break;
	default: HOST2("cvtsd2ss"); break;
	}
	(void)x;
	return host_flags(saved);
}

/* raised (the whole operation's masked flags) fixed for unmasked OE/UE:
 * the pre-computation flags as raised, the post-computation ones lane by
 * lane.  x, y: the operands; lanes of 4 or 8 bytes (dbl: the operands'
 * format; for U_CVT the source is double and the result single). */
static uint32_t unbounded_post(const struct cpu *c, uint32_t raised, unsigned op,
			       unsigned lanes, bool dbl, __m128i x, __m128i y)
{
	uint32_t unmasked = ~(c->mxcsr >> 7) & 0x3F;
	if (!(unmasked & MX_UE) && !((unmasked & MX_OE) && (raised & MX_OE)))
		return raised;
	bool in_dbl = dbl || op == U_CVT, out_dbl = dbl && op != U_CVT;
	uint64_t xa[2], ya[2];
	memcpy(xa, &x, 16);
	memcpy(ya, &y, 16);
	uint32_t post = 0;
	for (unsigned k = 0; k < lanes; k++) {
		uint64_t a = in_dbl ? xa[k] : (uint32_t)(xa[k / 2] >> (32 * (k & 1)));
		uint64_t b = in_dbl ? ya[k] : (uint32_t)(ya[k / 2] >> (32 * (k & 1)));
		if (op == U_CVT)
			a = b;
		uint32_t m = host_lane(c, op, out_dbl, a, b) & (MX_OE | MX_UE | MX_PE);
		long double la, lb = 0;
		uint32_t u = 0;
		if (lane_value(a, in_dbl, c->mxcsr, &la) &&
		    (op == U_CVT || lane_value(b, in_dbl, c->mxcsr, &lb)))
			u = unbounded_flags(op, out_dbl, la, lb, c->mxcsr);
		if ((unmasked & MX_OE) && (u & MX_OE))
			m = u;
		else if ((unmasked & MX_UE) && (u & MX_UE))
			m = u;
		post |= m;
	}
	return (raised & 7) | post;
}

void op_sse_fp(struct cpu *c, const struct insn *i)
{
	unsigned p = pfx(i);
	unsigned len = p == MP_F3 ? 4 : p == MP_F2 ? 8 : 16;
	__m128i x = load_v(c, i), y = load_w(c, i, len);

	if (i->opcode == 0x52 || i->opcode == 0x53) {
		float f[4], g[4];
		memcpy(f, &x, 16);
		memcpy(g, &y, 16);
		for (unsigned k = 0; k < (p == MP_F3 ? 1u : 4u); k++)
			f[k] = i->opcode == 0x53 ? soft_rcp(g[k]) : soft_rsqrt(g[k]);
		memcpy(c->xmm[i->reg], f, 16);
		return;
	}

	__m128i x0 = x;
	uint32_t saved = sse_host_enter(c);
	switch (i->opcode << 4 | p) {
	case 0x510 | MP_NONE: HOST2("sqrtps"); break;
	case 0x510 | MP_66: HOST2("sqrtpd"); break;
	case 0x510 | MP_F3: HOST2("sqrtss"); break;
	case 0x510 | MP_F2: HOST2("sqrtsd"); break;
	case 0x580 | MP_NONE: HOST2("addps"); break;
	case 0x580 | MP_66: HOST2("addpd"); break;
	case 0x580 | MP_F3: HOST2("addss"); break;
	case 0x580 | MP_F2: HOST2("addsd"); break;
	case 0x590 | MP_NONE: HOST2("mulps"); break;
	case 0x590 | MP_66: HOST2("mulpd"); break;
	case 0x590 | MP_F3: HOST2("mulss"); break;
	case 0x590 | MP_F2: HOST2("mulsd"); break;
	case 0x5C0 | MP_NONE: HOST2("subps"); break;
	case 0x5C0 | MP_66: HOST2("subpd"); break;
	case 0x5C0 | MP_F3: HOST2("subss"); break;
	case 0x5C0 | MP_F2: HOST2("subsd"); break;
	case 0x5D0 | MP_NONE: HOST2("minps"); break;
	case 0x5D0 | MP_66: HOST2("minpd"); break;
	case 0x5D0 | MP_F3: HOST2("minss"); break;
	case 0x5D0 | MP_F2: HOST2("minsd"); break;
	case 0x5E0 | MP_NONE: HOST2("divps"); break;
	case 0x5E0 | MP_66: HOST2("divpd"); break;
	case 0x5E0 | MP_F3: HOST2("divss"); break;
	case 0x5E0 | MP_F2: HOST2("divsd"); break;
	case 0x5F0 | MP_NONE: HOST2("maxps"); break;
	case 0x5F0 | MP_66: HOST2("maxpd"); break;
	case 0x5F0 | MP_F3: HOST2("maxss"); break;
	default: HOST2("maxsd"); break;
	}
	uint32_t raised = host_flags(saved);
	/* add, mul, sub, div: the operations that overflow or underflow */
	int op = i->opcode == 0x58 ? U_ADD : i->opcode == 0x59 ? U_MUL
	       : i->opcode == 0x5C ? U_SUB : i->opcode == 0x5E ? U_DIV : -1;
	if (op >= 0)
		raised = unbounded_post(c, raised, (unsigned)op,
					p == MP_NONE ? 4 : p == MP_66 ? 2 : 1,
					p == MP_66 || p == MP_F2, x0, y);
	sse_raise(c, raised);
	store_v(c, i, x);
}

void op_sse_logic(struct cpu *c, const struct insn *i)
{
	__m128i a = load_v(c, i), b = load_w(c, i, 16), r;
	switch (i->opcode) {
	case 0x54: r = _mm_and_si128(a, b); break;
	case 0x55: r = _mm_andnot_si128(a, b); break;
	case 0x56: r = _mm_or_si128(a, b); break;
	default: r = _mm_xor_si128(a, b); break;
	}
	store_v(c, i, r);
}

/* cmpXX with the predicate as an immediate: one case per predicate. */
#define HOSTCMP(ins) do { switch (pred) { \
	case 0: __asm__ volatile(ins " $0, %1, %0" : "+x"(x) : "x"(y)); break; \
	case 1: __asm__ volatile(ins " $1, %1, %0" : "+x"(x) : "x"(y)); break; \
	case 2: __asm__ volatile(ins " $2, %1, %0" : "+x"(x) : "x"(y)); break; \
	case 3: __asm__ volatile(ins " $3, %1, %0" : "+x"(x) : "x"(y)); break; \
	case 4: __asm__ volatile(ins " $4, %1, %0" : "+x"(x) : "x"(y)); break; \
	case 5: __asm__ volatile(ins " $5, %1, %0" : "+x"(x) : "x"(y)); break; \
	case 6: __asm__ volatile(ins " $6, %1, %0" : "+x"(x) : "x"(y)); break; \
	default: __asm__ volatile(ins " $7, %1, %0" : "+x"(x) : "x"(y)); break; \
	} } while (0)

void op_sse_cmp(struct cpu *c, const struct insn *i)
{
	unsigned p = pfx(i), pred = i->imm & 7;        /* imm8[7:3] reserved */
	unsigned len = p == MP_F3 ? 4 : p == MP_F2 ? 8 : 16;
	__m128i x = load_v(c, i), y = load_w(c, i, len);
	uint32_t saved = sse_host_enter(c);
	switch (p) {
	case MP_NONE: HOSTCMP("cmpps"); break;
	case MP_66: HOSTCMP("cmppd"); break;
	case MP_F3: HOSTCMP("cmpss"); break;
	default: HOSTCMP("cmpsd"); break;
	}
	sse_host_leave(c, saved);
	store_v(c, i, x);
}

void op_sse_comi(struct cpu *c, const struct insn *i)
{
	bool dbl = pfx(i) == MP_66, signal = i->opcode == 0x2F;
	__m128i x = load_v(c, i), y = load_w(c, i, dbl ? 8 : 4);
	uint8_t zf, pf, cf;
	uint32_t saved = sse_host_enter(c);
#define HOSTCOMI(ins) __asm__ volatile(ins " %3, %4\n\tsetz %0\n\tsetp %1\n\tsetc %2" \
		: "=q"(zf), "=q"(pf), "=q"(cf) : "x"(y), "x"(x) : "cc")
	if (dbl) {
		if (signal)
			HOSTCOMI("comisd");
		else
			HOSTCOMI("ucomisd");
	} else {
		if (signal)
			HOSTCOMI("comiss");
		else
			HOSTCOMI("ucomiss");
	}
#undef HOSTCOMI
	sse_host_leave(c, saved);
	/* OF, SF and AF are cleared (SDM COMISD). */
	set_flags(c, FL_STATUS, (zf ? FL_ZF : 0) | (pf ? FL_PF : 0) | (cf ? FL_CF : 0));
}

void op_sse_shuf(struct cpu *c, const struct insn *i)
{
	uint32_t a[4], b[4], r[4];
	__m128i va = load_v(c, i), vb = load_w(c, i, 16);
	unsigned imm = (unsigned)i->imm;
	memcpy(a, &va, 16);
	memcpy(b, &vb, 16);
	if (pfx(i) == MP_66) {
		uint64_t qa[2], qb[2], qr[2];
		memcpy(qa, a, 16);
		memcpy(qb, b, 16);
		qr[0] = qa[imm & 1];
		qr[1] = qb[(imm >> 1) & 1];
		memcpy(c->xmm[i->reg], qr, 16);
		return;
	}
	r[0] = a[imm & 3];
	r[1] = a[(imm >> 2) & 3];
	r[2] = b[(imm >> 4) & 3];
	r[3] = b[(imm >> 6) & 3];
	memcpy(c->xmm[i->reg], r, 16);
}

void op_sse_unpck(struct cpu *c, const struct insn *i)
{
	__m128i a = load_v(c, i), b = load_w(c, i, 16), r;
	bool hi = i->opcode == 0x15;
	if (pfx(i) == MP_66)
		r = hi ? _mm_unpackhi_epi64(a, b) : _mm_unpacklo_epi64(a, b);
	else
		r = hi ? _mm_unpackhi_epi32(a, b) : _mm_unpacklo_epi32(a, b);
	store_v(c, i, r);
}

/* ---- conversions ---- */

void op_sse_cvt(struct cpu *c, const struct insn *i)
{
	unsigned p = pfx(i), op = i->opcode;
	uint32_t saved;

	if (op == 0x2A) {               /* cvtsi2ss/sd: integer from Ey */
		uint64_t v = rm_read(c, i, i->osz);
		uint32_t v32 = (uint32_t)v;
		__m128i x = load_v(c, i);
		saved = sse_host_enter(c);
		if (p == MP_F3 && i->osz == 8)
			__asm__ volatile("cvtsi2ssq %1, %0" : "+x"(x) : "r"(v));
		else if (p == MP_F3)
			__asm__ volatile("cvtsi2ssl %1, %0" : "+x"(x) : "r"(v32));
		else if (i->osz == 8)
			__asm__ volatile("cvtsi2sdq %1, %0" : "+x"(x) : "r"(v));
		else
			__asm__ volatile("cvtsi2sdl %1, %0" : "+x"(x) : "r"(v32));
		sse_host_leave(c, saved);
		store_v(c, i, x);
		return;
	}
	if (op == 0x2C || op == 0x2D) { /* to integer in Gy */
		__m128i y = load_w(c, i, p == MP_F3 ? 4 : 8);
		uint64_t r = 0;
		uint32_t r32 = 0;
		bool q = i->osz == 8;
		saved = sse_host_enter(c);
		switch ((op == 0x2C) << 2 | (p == MP_F3) << 1 | q) {
		case 0: __asm__ volatile("cvtsd2si %1, %0" : "=r"(r32) : "x"(y)); break;
		case 1: __asm__ volatile("cvtsd2si %1, %0" : "=r"(r) : "x"(y)); break;
		case 2: __asm__ volatile("cvtss2si %1, %0" : "=r"(r32) : "x"(y)); break;
		case 3: __asm__ volatile("cvtss2si %1, %0" : "=r"(r) : "x"(y)); break;
		case 4: __asm__ volatile("cvttsd2si %1, %0" : "=r"(r32) : "x"(y)); break;
		case 5: __asm__ volatile("cvttsd2si %1, %0" : "=r"(r) : "x"(y)); break;
		case 6: __asm__ volatile("cvttss2si %1, %0" : "=r"(r32) : "x"(y)); break;
		default: __asm__ volatile("cvttss2si %1, %0" : "=r"(r) : "x"(y)); break;
		}
		sse_host_leave(c, saved);
		reg_write(c, i, i->reg, i->osz, q ? r : r32);
		return;
	}
	/* xmm to xmm.  Source widths: 8 bytes for cvtps2pd/cvtdq2pd,
	 * 4 for cvtss2sd, 8 for cvtsd2ss, else 16. */
	unsigned len = 16;
	if ((op == 0x5A && p == MP_NONE) || (op == 0xE6 && p == MP_F3) || (op == 0x5A && p == MP_F2))
		len = 8;
	else if (op == 0x5A && p == MP_F3)
		len = 4;
	__m128i x = load_v(c, i), y = load_w(c, i, len);
	saved = sse_host_enter(c);
	switch (op << 4 | p) {
	case 0x5A0 | MP_NONE: HOST2("cvtps2pd"); break;
	case 0x5A0 | MP_66: HOST2("cvtpd2ps"); break;
	case 0x5A0 | MP_F3: HOST2("cvtss2sd"); break;
	case 0x5A0 | MP_F2: HOST2("cvtsd2ss"); break;
	case 0x5B0 | MP_NONE: HOST2("cvtdq2ps"); break;
	case 0x5B0 | MP_66: HOST2("cvtps2dq"); break;
	case 0x5B0 | MP_F3: HOST2("cvttps2dq"); break;
	case 0xE60 | MP_66: HOST2("cvttpd2dq"); break;
	case 0xE60 | MP_F3: HOST2("cvtdq2pd"); break;
	default: HOST2("cvtpd2dq"); break;
	}
	uint32_t raised = host_flags(saved);
	if (op == 0x5A && (p == MP_66 || p == MP_F2))   /* cvtpd2ps, cvtsd2ss */
		raised = unbounded_post(c, raised, U_CVT, p == MP_66 ? 2 : 1, false, y, y);
	sse_raise(c, raised);
	store_v(c, i, x);
}

/* ---- packed integer ---- */

void op_sse_pint(struct cpu *c, const struct insn *i)
{
	__m128i a = load_v(c, i), b = load_w(c, i, 16), r;
	switch (i->opcode) {
	case 0x60: r = _mm_unpacklo_epi8(a, b); break;
	case 0x61: r = _mm_unpacklo_epi16(a, b); break;
	case 0x62: r = _mm_unpacklo_epi32(a, b); break;
	case 0x63: r = _mm_packs_epi16(a, b); break;
	case 0x64: r = _mm_cmpgt_epi8(a, b); break;
	case 0x65: r = _mm_cmpgt_epi16(a, b); break;
	case 0x66: r = _mm_cmpgt_epi32(a, b); break;
	case 0x67: r = _mm_packus_epi16(a, b); break;
	case 0x68: r = _mm_unpackhi_epi8(a, b); break;
	case 0x69: r = _mm_unpackhi_epi16(a, b); break;
	case 0x6A: r = _mm_unpackhi_epi32(a, b); break;
	case 0x6B: r = _mm_packs_epi32(a, b); break;
	case 0x6C: r = _mm_unpacklo_epi64(a, b); break;
	case 0x6D: r = _mm_unpackhi_epi64(a, b); break;
	case 0x74: r = _mm_cmpeq_epi8(a, b); break;
	case 0x75: r = _mm_cmpeq_epi16(a, b); break;
	case 0x76: r = _mm_cmpeq_epi32(a, b); break;
	case 0xD1: r = _mm_srl_epi16(a, b); break;
	case 0xD2: r = _mm_srl_epi32(a, b); break;
	case 0xD3: r = _mm_srl_epi64(a, b); break;
	case 0xD4: r = _mm_add_epi64(a, b); break;
	case 0xD5: r = _mm_mullo_epi16(a, b); break;
	case 0xD8: r = _mm_subs_epu8(a, b); break;
	case 0xD9: r = _mm_subs_epu16(a, b); break;
	case 0xDA: r = _mm_min_epu8(a, b); break;
	case 0xDB: r = _mm_and_si128(a, b); break;
	case 0xDC: r = _mm_adds_epu8(a, b); break;
	case 0xDD: r = _mm_adds_epu16(a, b); break;
	case 0xDE: r = _mm_max_epu8(a, b); break;
	case 0xDF: r = _mm_andnot_si128(a, b); break;
	case 0xE0: r = _mm_avg_epu8(a, b); break;
	case 0xE1: r = _mm_sra_epi16(a, b); break;
	case 0xE2: r = _mm_sra_epi32(a, b); break;
	case 0xE3: r = _mm_avg_epu16(a, b); break;
	case 0xE4: r = _mm_mulhi_epu16(a, b); break;
	case 0xE5: r = _mm_mulhi_epi16(a, b); break;
	case 0xE8: r = _mm_subs_epi8(a, b); break;
	case 0xE9: r = _mm_subs_epi16(a, b); break;
	case 0xEA: r = _mm_min_epi16(a, b); break;
	case 0xEB: r = _mm_or_si128(a, b); break;
	case 0xEC: r = _mm_adds_epi8(a, b); break;
	case 0xED: r = _mm_adds_epi16(a, b); break;
	case 0xEE: r = _mm_max_epi16(a, b); break;
	case 0xEF: r = _mm_xor_si128(a, b); break;
	case 0xF1: r = _mm_sll_epi16(a, b); break;
	case 0xF2: r = _mm_sll_epi32(a, b); break;
	case 0xF3: r = _mm_sll_epi64(a, b); break;
	case 0xF4: r = _mm_mul_epu32(a, b); break;
	case 0xF5: r = _mm_madd_epi16(a, b); break;
	case 0xF6: r = _mm_sad_epu8(a, b); break;
	case 0xF8: r = _mm_sub_epi8(a, b); break;
	case 0xF9: r = _mm_sub_epi16(a, b); break;
	case 0xFA: r = _mm_sub_epi32(a, b); break;
	case 0xFB: r = _mm_sub_epi64(a, b); break;
	case 0xFC: r = _mm_add_epi8(a, b); break;
	case 0xFD: r = _mm_add_epi16(a, b); break;
	default: r = _mm_add_epi32(a, b); break;
	}
	store_v(c, i, r);
}

void op_sse_pshuf(struct cpu *c, const struct insn *i)
{
	__m128i b = load_w(c, i, 16);
	unsigned imm = (unsigned)i->imm;
	if (pfx(i) == MP_66) {
		uint32_t s[4], r[4];
		memcpy(s, &b, 16);
		for (unsigned k = 0; k < 4; k++)
			r[k] = s[(imm >> (2 * k)) & 3];
		memcpy(c->xmm[i->reg], r, 16);
		return;
	}
	uint16_t s[8], r[8];
	memcpy(s, &b, 16);
	memcpy(r, s, 16);
	unsigned base = pfx(i) == MP_F3 ? 4 : 0;     /* pshufhw: high quadword */
	for (unsigned k = 0; k < 4; k++)
		r[base + k] = s[base + ((imm >> (2 * k)) & 3)];
	memcpy(c->xmm[i->reg], r, 16);
}

void op_sse_pshift_imm(struct cpu *c, const struct insn *i)
{
	uint8_t *x = c->xmm[i->rm];
	unsigned n = (unsigned)(i->imm & 0xff), op = (i->modrm >> 3) & 7;
	__m128i a, r, cnt = _mm_cvtsi32_si128((int)n);
	memcpy(&a, x, 16);
	if (i->opcode == 0x73 && (op == 3 || op == 7)) {
		/* psrldq / pslldq: whole-register byte shifts */
		uint8_t s[16], d[16] = { 0 };
		memcpy(s, x, 16);
		if (n > 16)
			n = 16;
		for (unsigned k = 0; k < 16; k++) {
			if (op == 3 && k + n < 16)
				d[k] = s[k + n];
			if (op == 7 && k >= n)
				d[k] = s[k - n];
		}
		memcpy(x, d, 16);
		return;
	}
	switch (i->opcode << 4 | op) {
	case 0x712: r = _mm_srl_epi16(a, cnt); break;
	case 0x714: r = _mm_sra_epi16(a, cnt); break;
	case 0x716: r = _mm_sll_epi16(a, cnt); break;
	case 0x722: r = _mm_srl_epi32(a, cnt); break;
	case 0x724: r = _mm_sra_epi32(a, cnt); break;
	case 0x726: r = _mm_sll_epi32(a, cnt); break;
	case 0x732: r = _mm_srl_epi64(a, cnt); break;
	default: r = _mm_sll_epi64(a, cnt); break;
	}
	memcpy(x, &r, 16);
}
