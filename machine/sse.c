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
 *     ... operands read from volatile, result stored to volatile ...
 *     sse_host_leave(c, saved);              // sticky flags -> guest MXCSR
 *
 * Operands pass through volatile objects so the compiler cannot move the
 * arithmetic across the MXCSR switches.  Exceptions are always masked on
 * the host; an unmasked guest exception only sets its flag (no #XM is
 * raised: documented limitation).  rcpps/rsqrtps are approximations whose
 * bits differ between host CPUs, so they are computed here in software
 * (correctly rounded 1/x and 1/sqrt(x), within the SDM's error bound).
 */
#if !defined(__x86_64__)
#error "machine/sse.c uses the host's SSE2 unit: build on an x86-64 host"
#endif

#include <emmintrin.h>
#include <math.h>

#include "machine/exec.h"

uint32_t sse_host_enter(const struct cpu *c)
{
	uint32_t saved = _mm_getcsr();
	_mm_setcsr((c->mxcsr | 0x1F80) & ~0x3Fu & 0xFFFF);
	return saved;
}

void sse_host_leave(struct cpu *c, uint32_t saved)
{
	uint32_t now = _mm_getcsr();
	_mm_setcsr(saved);
	c->mxcsr |= now & 0x3F;
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
	if (c->hooks && c->hooks->ntstore)
		c->hooks->ntstore(c->hooks->ctx, mem_phys(c, a), 16);
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
	if (i->mod3)            /* movhlps */
		memcpy(c->xmm[i->reg], c->xmm[i->rm] + 8, 8);
	else
		mem_read_buf(c, insn_ea(c, i), c->xmm[i->reg], 8);
}

void op_sse_movlp_store(struct cpu *c, const struct insn *i)
{
	mem_write_buf(c, insn_ea(c, i), c->xmm[i->reg], 8);
}

void op_sse_movhp(struct cpu *c, const struct insn *i)
{
	if (i->mod3)            /* movlhps */
		memcpy(c->xmm[i->reg] + 8, c->xmm[i->rm], 8);
	else
		mem_read_buf(c, insn_ea(c, i), c->xmm[i->reg] + 8, 8);
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
	if (c->hooks && c->hooks->ntstore)
		c->hooks->ntstore(c->hooks->ctx, mem_phys(c, di), 16);
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

static float soft_rcp(float x)
{
	return (float)(1.0 / (double)x);
}

static float soft_rsqrt(float x)
{
	if (x < 0)
		return -NAN;            /* the default QNaN, 0xFFC00000 */
	return (float)(1.0 / sqrt((double)x));
}

void op_sse_fp(struct cpu *c, const struct insn *i)
{
	unsigned p = pfx(i);
	unsigned len = p == MP_F3 ? 4 : p == MP_F2 ? 8 : 16;
	__m128i a = load_v(c, i), b = load_w(c, i, len);
	volatile __m128 va = _mm_castsi128_ps(a), vb = _mm_castsi128_ps(b);
	volatile __m128d da = _mm_castsi128_pd(a), db = _mm_castsi128_pd(b);
	volatile __m128i out;

	if (i->opcode == 0x52 || i->opcode == 0x53) {
		float f[4], g[4];
		memcpy(f, &a, 16);
		memcpy(g, &b, 16);
		for (unsigned k = 0; k < (p == MP_F3 ? 1u : 4u); k++)
			f[k] = i->opcode == 0x53 ? soft_rcp(g[k]) : soft_rsqrt(g[k]);
		memcpy(c->xmm[i->reg], f, 16);
		return;
	}

	uint32_t saved = sse_host_enter(c);
	if (p == MP_NONE || p == MP_F3) {
		__m128 x = va, y = vb, r;
		bool s = p == MP_F3;
		switch (i->opcode) {
		case 0x51: r = s ? _mm_move_ss(x, _mm_sqrt_ss(y)) : _mm_sqrt_ps(y); break;
		case 0x58: r = s ? _mm_add_ss(x, y) : _mm_add_ps(x, y); break;
		case 0x59: r = s ? _mm_mul_ss(x, y) : _mm_mul_ps(x, y); break;
		case 0x5C: r = s ? _mm_sub_ss(x, y) : _mm_sub_ps(x, y); break;
		case 0x5D: r = s ? _mm_min_ss(x, y) : _mm_min_ps(x, y); break;
		case 0x5E: r = s ? _mm_div_ss(x, y) : _mm_div_ps(x, y); break;
		default: r = s ? _mm_max_ss(x, y) : _mm_max_ps(x, y); break;
		}
		out = _mm_castps_si128(r);
	} else {
		__m128d x = da, y = db, r;
		bool s = p == MP_F2;
		switch (i->opcode) {
		case 0x51: r = s ? _mm_sqrt_sd(x, y) : _mm_sqrt_pd(y); break;
		case 0x58: r = s ? _mm_add_sd(x, y) : _mm_add_pd(x, y); break;
		case 0x59: r = s ? _mm_mul_sd(x, y) : _mm_mul_pd(x, y); break;
		case 0x5C: r = s ? _mm_sub_sd(x, y) : _mm_sub_pd(x, y); break;
		case 0x5D: r = s ? _mm_min_sd(x, y) : _mm_min_pd(x, y); break;
		case 0x5E: r = s ? _mm_div_sd(x, y) : _mm_div_pd(x, y); break;
		default: r = s ? _mm_max_sd(x, y) : _mm_max_pd(x, y); break;
		}
		out = _mm_castpd_si128(r);
	}
	sse_host_leave(c, saved);
	store_v(c, i, out);
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

void op_sse_cmp(struct cpu *c, const struct insn *i)
{
	unsigned p = pfx(i), pred = i->imm & 7;
	unsigned len = p == MP_F3 ? 4 : p == MP_F2 ? 8 : 16;
	__m128i a = load_v(c, i), b = load_w(c, i, len);
	volatile __m128 va = _mm_castsi128_ps(a), vb = _mm_castsi128_ps(b);
	volatile __m128d da = _mm_castsi128_pd(a), db = _mm_castsi128_pd(b);
	volatile __m128i out;
	uint32_t saved = sse_host_enter(c);
	if (p == MP_NONE || p == MP_F3) {
		__m128 x = va, y = vb, r;
		bool s = p == MP_F3;
		switch (pred) {
		case 0: r = s ? _mm_cmpeq_ss(x, y) : _mm_cmpeq_ps(x, y); break;
		case 1: r = s ? _mm_cmplt_ss(x, y) : _mm_cmplt_ps(x, y); break;
		case 2: r = s ? _mm_cmple_ss(x, y) : _mm_cmple_ps(x, y); break;
		case 3: r = s ? _mm_cmpunord_ss(x, y) : _mm_cmpunord_ps(x, y); break;
		case 4: r = s ? _mm_cmpneq_ss(x, y) : _mm_cmpneq_ps(x, y); break;
		case 5: r = s ? _mm_cmpnlt_ss(x, y) : _mm_cmpnlt_ps(x, y); break;
		case 6: r = s ? _mm_cmpnle_ss(x, y) : _mm_cmpnle_ps(x, y); break;
		default: r = s ? _mm_cmpord_ss(x, y) : _mm_cmpord_ps(x, y); break;
		}
		out = _mm_castps_si128(r);
	} else {
		__m128d x = da, y = db, r;
		bool s = p == MP_F2;
		switch (pred) {
		case 0: r = s ? _mm_cmpeq_sd(x, y) : _mm_cmpeq_pd(x, y); break;
		case 1: r = s ? _mm_cmplt_sd(x, y) : _mm_cmplt_pd(x, y); break;
		case 2: r = s ? _mm_cmple_sd(x, y) : _mm_cmple_pd(x, y); break;
		case 3: r = s ? _mm_cmpunord_sd(x, y) : _mm_cmpunord_pd(x, y); break;
		case 4: r = s ? _mm_cmpneq_sd(x, y) : _mm_cmpneq_pd(x, y); break;
		case 5: r = s ? _mm_cmpnlt_sd(x, y) : _mm_cmpnlt_pd(x, y); break;
		case 6: r = s ? _mm_cmpnle_sd(x, y) : _mm_cmpnle_pd(x, y); break;
		default: r = s ? _mm_cmpord_sd(x, y) : _mm_cmpord_pd(x, y); break;
		}
		out = _mm_castpd_si128(r);
	}
	sse_host_leave(c, saved);
	store_v(c, i, out);
}

void op_sse_comi(struct cpu *c, const struct insn *i)
{
	bool dbl = pfx(i) == MP_66, signal = i->opcode == 0x2F;
	__m128i a = load_v(c, i), b = load_w(c, i, dbl ? 8 : 4);
	volatile __m128i va = a, vb = b;
	/* The host instruction, for its exception flags only. */
	uint32_t saved = sse_host_enter(c);
	if (dbl) {
		__m128d x = _mm_castsi128_pd(va), y = _mm_castsi128_pd(vb);
		volatile int r = signal ? _mm_comieq_sd(x, y) : _mm_ucomieq_sd(x, y);
		(void)r;
	} else {
		__m128 x = _mm_castsi128_ps(va), y = _mm_castsi128_ps(vb);
		volatile int r = signal ? _mm_comieq_ss(x, y) : _mm_ucomieq_ss(x, y);
		(void)r;
	}
	sse_host_leave(c, saved);
	/* The flags by definition (SDM UCOMISD): unordered ZF PF CF = 111,
	 * greater 000, less 001, equal 100; OF SF AF cleared.  DAZ makes
	 * denormal inputs compare as zero. */
	double x, y;
	if (dbl) {
		memcpy(&x, &a, 8);
		memcpy(&y, &b, 8);
	} else {
		float fx, fy;
		memcpy(&fx, &a, 4);
		memcpy(&fy, &b, 4);
		if ((c->mxcsr & 0x40) && fpclassify(fx) == FP_SUBNORMAL)
			fx = copysignf(0.0f, fx);
		if ((c->mxcsr & 0x40) && fpclassify(fy) == FP_SUBNORMAL)
			fy = copysignf(0.0f, fy);
		x = fx, y = fy;
	}
	if (dbl && (c->mxcsr & 0x40)) {
		if (fpclassify(x) == FP_SUBNORMAL)
			x = copysign(0.0, x);
		if (fpclassify(y) == FP_SUBNORMAL)
			y = copysign(0.0, y);
	}
	uint64_t f;
	if (isnan(x) || isnan(y))
		f = FL_ZF | FL_PF | FL_CF;
	else if (isgreater(x, y))
		f = 0;
	else if (isless(x, y))
		f = FL_CF;
	else
		f = FL_ZF;
	set_flags(c, FL_STATUS, f);
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
	volatile __m128i out;
	uint32_t saved;

	if (op == 0x2A) {               /* cvtsi2ss/sd: integer from Ey */
		volatile int64_t v = (int64_t)sign_extend(rm_read(c, i, i->osz), i->osz);
		volatile __m128i a = load_v(c, i);
		saved = sse_host_enter(c);
		if (p == MP_F3)
			out = _mm_castps_si128(i->osz == 8 ? _mm_cvtsi64_ss(_mm_castsi128_ps(a), v)
					       : _mm_cvtsi32_ss(_mm_castsi128_ps(a), (int)v));
		else
			out = _mm_castpd_si128(i->osz == 8 ? _mm_cvtsi64_sd(_mm_castsi128_pd(a), v)
					       : _mm_cvtsi32_sd(_mm_castsi128_pd(a), (int)v));
		sse_host_leave(c, saved);
		store_v(c, i, out);
		return;
	}
	if (op == 0x2C || op == 0x2D) { /* to integer in Gy */
		volatile __m128i b = load_w(c, i, p == MP_F3 ? 4 : 8);
		volatile int64_t r;
		bool t = op == 0x2C, q = i->osz == 8;
		saved = sse_host_enter(c);
		if (p == MP_F3) {
			__m128 x = _mm_castsi128_ps(b);
			r = q ? (t ? _mm_cvttss_si64(x) : _mm_cvtss_si64(x))
			      : (t ? _mm_cvttss_si32(x) : _mm_cvtss_si32(x));
		} else {
			__m128d x = _mm_castsi128_pd(b);
			r = q ? (t ? _mm_cvttsd_si64(x) : _mm_cvtsd_si64(x))
			      : (t ? _mm_cvttsd_si32(x) : _mm_cvtsd_si32(x));
		}
		sse_host_leave(c, saved);
		reg_write(c, i, i->reg, i->osz, (uint64_t)r);
		return;
	}
	/* xmm to xmm.  Source widths: 8 bytes for cvtps2pd/cvtdq2pd,
	 * 4 for cvtss2sd, 8 for cvtsd2ss, else 16. */
	unsigned len = 16;
	if ((op == 0x5A && p == MP_NONE) || (op == 0xE6 && p == MP_F3) || (op == 0x5A && p == MP_F2))
		len = 8;
	else if (op == 0x5A && p == MP_F3)
		len = 4;
	volatile __m128i a = load_v(c, i), b = load_w(c, i, len);
	saved = sse_host_enter(c);
	__m128i x = a, y = b, r;
	switch (op << 4 | p) {
	case 0x5A0 | MP_NONE: r = _mm_castpd_si128(_mm_cvtps_pd(_mm_castsi128_ps(y))); break;
	case 0x5A0 | MP_66: r = _mm_castps_si128(_mm_cvtpd_ps(_mm_castsi128_pd(y))); break;
	case 0x5A0 | MP_F3: r = _mm_castpd_si128(_mm_cvtss_sd(_mm_castsi128_pd(x), _mm_castsi128_ps(y))); break;
	case 0x5A0 | MP_F2: r = _mm_castps_si128(_mm_cvtsd_ss(_mm_castsi128_ps(x), _mm_castsi128_pd(y))); break;
	case 0x5B0 | MP_NONE: r = _mm_castps_si128(_mm_cvtepi32_ps(y)); break;
	case 0x5B0 | MP_66: r = _mm_cvtps_epi32(_mm_castsi128_ps(y)); break;
	case 0x5B0 | MP_F3: r = _mm_cvttps_epi32(_mm_castsi128_ps(y)); break;
	case 0xE60 | MP_66: r = _mm_cvttpd_epi32(_mm_castsi128_pd(y)); break;
	case 0xE60 | MP_F3: r = _mm_castpd_si128(_mm_cvtepi32_pd(y)); break;
	default: r = _mm_cvtpd_epi32(_mm_castsi128_pd(y)); break;
	}
	out = r;
	sse_host_leave(c, saved);
	store_v(c, i, out);
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
