/* tests/diff/gen.c: random instruction sequences from the CPU's own table.
 *
 * A case is 1-8 "main" instructions, each an instance of a testable form
 * of machine/insn.def chosen uniformly, with random registers, prefixes,
 * addressing modes and immediates.  Whatever a main instruction needs to
 * be well defined is arranged by short setup instructions emitted just
 * before it, so the random register file can stay random:
 *
 *   memory operands    base/index registers are loaded with `mov r, imm`
 *                      so the effective address lands in the scratch page
 *                      (or it is rip-relative, absolute, or rsp-based);
 *   string ops         rsi/rdi point into the scratch page, rcx <= 16;
 *   div/idiv           dividend and divisor chosen so the quotient fits
 *                      (a deliberate #DE now and then ends the case);
 *   bt Ev,Gv (memory)  the bit offset is small and keeps the access inside
 *                      the scratch page;
 *   flag readers       (adc, setcc, cmovcc, pushf, ...) are preceded by a
 *                      `cmp` when a flag they read is still undefined;
 *   fldcw/ldmxcsr/...  load only values with every exception masked.
 *
 * The generator tracks which RFLAGS bits (and x87 C0-C3) are undefined at
 * each point, from the table's flags_def/flags_undef, and records the set
 * before every instruction so the comparison can mask exactly those.
 *
 * Deliberate faults end a case: #PF (operand in the unmapped guard page,
 * sometimes straddling it), #GP (misaligned 16-byte SSE operand), #GP or
 * #SS (a non-canonical operand address: #SS when the base is rbp), #DE
 * and #UD (a LOCK prefix where none is allowed).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "sim/rng.h"
#include "tests/diff/gen.h"

struct dt_gen {
	uint16_t *pick;         /* ids of the forms drawn */
	size_t npick;
	size_t npick_x87;       /* how many of them are x87 forms */
};

static const struct insn_form *table;
static size_t ntable;

const struct insn_form *dt_gen_form(int id)
{
	if (id < 0 || (size_t)id >= ntable)
		return NULL;
	return &table[id];
}

/* Per-case state. */
struct g {
	struct rng r;
	struct dt_case *c;
	uint64_t rsp;           /* tracked: push/pop/leave are the only writers */
	uint16_t undef_flags;
	uint16_t undef_fsw;
	bool done;              /* a deliberate fault or a last-only form */
};

static uint64_t rnd(struct g *g, uint64_t n)
{
	return rng_below(&g->r, n);
}

static bool chance(struct g *g, unsigned num, unsigned den)
{
	return rng_below(&g->r, den) < num;
}

static uint64_t interesting64(struct g *g)
{
	static const uint64_t edge[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff,
		0x7fffffff, 0x80000000, 0xffffffff, 0x100000000ULL,
		0x7fffffffffffffffULL, 0x8000000000000000ULL, ~0ULL, ~1ULL,
	};
	switch (rnd(g, 8)) {
	case 0: return rnd(g, 256);
	case 1: return -(uint64_t)rnd(g, 256);
	case 2: return edge[rnd(g, sizeof edge / sizeof edge[0])];
	case 3: return 1ULL << rnd(g, 64);
	case 4: return rng_next(&g->r) & 0xffffffff;
	case 5: return (uint64_t)(int64_t)(int32_t)rng_next(&g->r);
	default: return rng_next(&g->r);
	}
}

static uint32_t interesting_f32(struct g *g)
{
	static const uint32_t special[] = {
		0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x3fc00000,
		0x3dcccccd, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000,
		0x7fa00000, 0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff,
		0x4f000000, 0xcf000000, 0x5f000000, 0xdf000000, 0x4effffff,
	};
	switch (rnd(g, 4)) {
	case 0: return special[rnd(g, sizeof special / sizeof special[0])];
	case 1: return (uint32_t)rng_next(&g->r);
	default: {
		uint32_t exp = 127 + (uint32_t)rnd(g, 61) - 30;
		return ((uint32_t)rnd(g, 2) << 31) | (exp << 23) | ((uint32_t)rng_next(&g->r) & 0x7fffff);
	}
	}
}

static uint64_t interesting_f64(struct g *g)
{
	static const uint64_t special[] = {
		0, 0x8000000000000000ULL, 0x3ff0000000000000ULL, 0xbff0000000000000ULL,
		0x3ff8000000000000ULL, 0x7ff0000000000000ULL, 0xfff0000000000000ULL,
		0x7ff8000000000000ULL, 0x7ff4000000000000ULL, 1, 0x000fffffffffffffULL,
		0x0010000000000000ULL, 0x7fefffffffffffffULL, 0x41e0000000000000ULL,
		0xc1e0000000000000ULL, 0x43e0000000000000ULL, 0x41dfffffffc00000ULL,
	};
	switch (rnd(g, 4)) {
	case 0: return special[rnd(g, sizeof special / sizeof special[0])];
	case 1: return rng_next(&g->r);
	default: {
		uint64_t exp = 1023 + rnd(g, 121) - 60;
		return (rnd(g, 2) << 63) | (exp << 52) | (rng_next(&g->r) & 0xfffffffffffffULL);
	}
	}
}

static void fill_xmm(struct g *g, uint8_t *x)
{
	switch (rnd(g, 4)) {
	case 0:
		rng_fill(&g->r, x, 16);
		break;
	case 1:
		for (int i = 0; i < 4; i++)
			dt_put_le(x + 4 * i, interesting_f32(g), 4);
		break;
	case 2:
		for (int i = 0; i < 2; i++)
			dt_put_le(x + 8 * i, interesting_f64(g), 8);
		break;
	default:
		for (int i = 0; i < 2; i++)
			dt_put_le(x + 8 * i, interesting64(g), 8);
		break;
	}
}

/* An 80-bit extended value in 10 little-endian bytes. */
static void fill_x87(struct g *g, uint8_t *p)
{
	uint64_t mant;
	unsigned exp, sign = (unsigned)rnd(g, 2);
	switch (rnd(g, 8)) {
	case 0: mant = 0; exp = 0; break;                                /* zero */
	case 1: mant = 1ULL << 63; exp = 0x7fff; break;                  /* inf */
	case 2: mant = 3ULL << 62; exp = 0x7fff; break;                  /* qnan */
	case 3: mant = rng_next(&g->r) >> 1; exp = 0; break;             /* denormal */
	case 4: {                                                        /* integer */
		uint64_t v = rnd(g, 1000) + 1;
		int top = 63 - __builtin_clzll(v);
		mant = v << (63 - top);
		exp = 16383 + (unsigned)top;
		break;
	}
	default:
		mant = (1ULL << 63) | rng_next(&g->r);
		exp = 16383 + (unsigned)rnd(g, 129) - 64;
		break;
	}
	dt_put_le(p, mant, 8);
	dt_put_le(p + 8, exp | (sign << 15), 2);
}

/* A valid FCW: every exception masked, precision and rounding random
 * (precision 01 is reserved). */
static uint16_t random_fcw(struct g *g)
{
	if (chance(g, 3, 4))
		return 0x037f;
	static const uint16_t pc[] = { 0, 2, 3 };
	return (uint16_t)(0x7f | (pc[rnd(g, 3)] << 8) | (rnd(g, 4) << 10));
}

/* A valid MXCSR with every exception masked. */
static uint32_t random_mxcsr(struct g *g)
{
	uint32_t m = 0x1f80;
	if (chance(g, 1, 2))
		m |= (uint32_t)rnd(g, 4) << 13;          /* rounding */
	if (chance(g, 1, 8))
		m |= 1u << 15;                          /* FTZ */
	if (chance(g, 1, 8))
		m |= 1u << 6;                           /* DAZ */
	if (chance(g, 1, 4))
		m |= (uint32_t)rnd(g, 64);              /* sticky flags */
	return m;
}

static void init_state(struct g *g)
{
	struct dt_case *c = g->c;
	struct dt_regs *r = &c->init;
	for (int i = 0; i < 16; i++)
		r->gpr[i] = interesting64(g);
	g->rsp = DT_SCRATCH + 0xe40 + 8 * rnd(g, 24);
	r->gpr[4] = g->rsp;
	r->rip = DT_CODE;
	/* IF is set because user code always runs with it (pushf shows it). */
	r->rflags = 0x202 | (rng_next(&g->r) & DT_FL_STATUS);
	if (chance(g, 1, 4))
		r->rflags |= DT_FL_DF;

	struct dt_fx *fx = &r->fx;
	fx->fcw = random_fcw(g);
	unsigned top = (unsigned)rnd(g, 8);
	fx->fsw = (uint16_t)((top << 11) | (rng_next(&g->r) & 0x4700));
	if (chance(g, 1, 4))
		fx->fsw |= (uint16_t)rnd(g, 64);        /* sticky, masked: no ES */
	/* A random number of valid registers at the top of the stack. */
	unsigned nvalid = (unsigned)rnd(g, 9);
	fx->ftw = 0;
	for (unsigned i = 0; i < nvalid; i++) {
		fx->ftw |= (uint8_t)(1u << ((top + i) & 7));
		fill_x87(g, fx->st[i]);
	}
	fx->mxcsr = random_mxcsr(g);
	if (fx->mxcsr & 0x8040)
		c->uc_skip = true;              /* QEMU has no FTZ/DAZ */
	if (chance(g, 1, 50)) {
		/* Unmask one SIMD exception (IM DM ZM OM UM PM): the first
		 * SSE instruction that raises it ends the case with #XM. */
		fx->mxcsr &= ~(0x80u << rnd(g, 6));
		c->uc_skip = true;              /* QEMU raises no #XM */
	}
	for (int i = 0; i < 16; i++)
		fill_xmm(g, fx->xmm[i]);

	for (unsigned off = 0; off < DT_PAGE; off += 8) {
		uint64_t v;
		switch (rnd(g, 4)) {
		case 0: v = interesting64(g); break;
		case 1: v = interesting_f32(g) | (uint64_t)interesting_f32(g) << 32; break;
		case 2: v = interesting_f64(g); break;
		default: v = rng_next(&g->r); break;
		}
		dt_put_le(c->scratch + off, v, 8);
	}
	c->approx_xmm = -1;
	c->expect_vector = DT_VEC_NONE;
}

/* ---- emitting instructions ---- */

static void emit(struct g *g, int form, const uint8_t *b, size_t n)
{
	struct dt_case *c = g->c;
	c->insn_off[c->ninsns] = (uint16_t)c->len;
	c->insn_form[c->ninsns] = (int16_t)form;
	c->undef_flags_at[c->ninsns] = g->undef_flags;
	c->undef_fsw_at[c->ninsns] = g->undef_fsw;
	memcpy(c->code + c->len, b, n);
	c->len += (uint32_t)n;
	c->ninsns++;
	c->insn_off[c->ninsns] = (uint16_t)c->len;
}

static void mask_scratch(struct g *g, uint64_t addr, unsigned len)
{
	for (unsigned i = 0; i < len; i++) {
		uint64_t off = addr + i - DT_SCRATCH;
		if (off < DT_PAGE)
			g->c->scratch_mask[off / 8] |= (uint8_t)(1u << (off % 8));
	}
}

/* mov r64, imm (B8+r; imm32 zero-extended when it fits, else imm64). */
static void setup_mov_imm(struct g *g, unsigned reg, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;
	if (v <= 0xffffffffULL && chance(g, 1, 2)) {
		if (reg >= 8)
			b[n++] = 0x41;
		b[n++] = (uint8_t)(0xb8 + (reg & 7));
		dt_put_le(b + n, v, 4);
		n += 4;
	} else {
		b[n++] = (uint8_t)(0x48 | (reg >= 8));
		b[n++] = (uint8_t)(0xb8 + (reg & 7));
		dt_put_le(b + n, v, 8);
		n += 8;
	}
	emit(g, -1, b, n);
}

/* Absolute [disp32] addressing: ModRM rm=100, SIB base=101 index=100. */
static size_t put_abs(uint8_t *b, unsigned regfield, uint64_t addr)
{
	b[0] = (uint8_t)(((regfield & 7) << 3) | 4);
	b[1] = 0x25;
	dt_put_le(b + 2, addr, 4);
	return 6;
}

/* mov r64, qword [addr] */
static void setup_load(struct g *g, unsigned reg, uint64_t addr, bool q)
{
	uint8_t b[8];
	size_t n = 0;
	if (q || reg >= 8)
		b[n++] = (uint8_t)(0x40 | (q ? 8 : 0) | (reg >= 8 ? 4 : 0));
	b[n++] = 0x8b;
	n += put_abs(b + n, reg, addr);
	emit(g, -1, b, n);
}

/* mov {byte,word,dword,qword} [addr], imm (qword: sign-extended imm32) */
static void setup_store_imm(struct g *g, unsigned size, uint64_t addr, uint64_t v)
{
	uint8_t b[12];
	size_t n = 0;
	if (size == 2)
		b[n++] = 0x66;
	if (size == 8)
		b[n++] = 0x48;
	b[n++] = size == 1 ? 0xc6 : 0xc7;
	n += put_abs(b + n, 0, addr);
	unsigned isz = size == 8 ? 4 : size;
	dt_put_le(b + n, v, isz);
	n += isz;
	emit(g, -1, b, n);
}

/* mov rdst, rsrc (64-bit) */
static void setup_mov_rr(struct g *g, unsigned dst, unsigned src)
{
	uint8_t b[3] = { (uint8_t)(0x48 | (src >= 8 ? 4 : 0) | (dst >= 8 ? 1 : 0)), 0x89,
			 (uint8_t)(0xc0 | ((src & 7) << 3) | (dst & 7)) };
	emit(g, -1, b, 3);
}

/* cmp r64, r64 with random registers: defines all six status flags. */
static void setup_cmp(struct g *g)
{
	unsigned a = (unsigned)rnd(g, 16), b2 = (unsigned)rnd(g, 16);
	uint8_t b[3] = { (uint8_t)(0x48 | (b2 >= 8 ? 4 : 0) | (a >= 8 ? 1 : 0)), 0x39,
			 (uint8_t)(0xc0 | ((b2 & 7) << 3) | (a & 7)) };
	emit(g, -1, b, 3);
	g->undef_flags = 0;
}

/* fxam: defines C0-C3 whatever ST(0) holds. */
static void setup_fxam(struct g *g)
{
	static const uint8_t b[2] = { 0xd9, 0xe5 };
	emit(g, -1, b, 2);
	g->undef_fsw = 0;
}

/* ---- forms ---- */

static bool is(const struct insn_form *f, const char *m)
{
	return strcmp(f->mnemonic, m) == 0;
}

static bool starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

/* The operand token number k (0-based) of f, copied into buf. */
static const char *operand(const struct insn_form *f, int k, char *buf, size_t size)
{
	const char *s = f->operands;
	for (int i = 0; i < k && s; i++) {
		s = strchr(s, ',');
		if (s)
			s++;
	}
	buf[0] = 0;
	if (!s)
		return buf;
	size_t n = strcspn(s, ",");
	if (n >= size)
		n = size - 1;
	memcpy(buf, s, n);
	buf[n] = 0;
	return buf;
}

/* The r/m operand token (E.., M.., W.., R.., U.., m..), or "". */
static const char *rm_token(const struct insn_form *f, char *buf, size_t size)
{
	for (int k = 0; k < 3; k++) {
		operand(f, k, buf, size);
		if (strchr("EMWRUm", buf[0]) && buf[0])
			return buf;
	}
	buf[0] = 0;
	return buf;
}

static bool has_token(const struct insn_form *f, const char *tok)
{
	char buf[32];
	for (int k = 0; k < 3; k++)
		if (strcmp(operand(f, k, buf, sizeof buf), tok) == 0)
			return true;
	return false;
}

/* Bytes the memory operand of f covers at operand size osize. */
static unsigned mem_bytes(const struct insn_form *f, unsigned osize)
{
	char buf[32];
	const char *t = rm_token(f, buf, sizeof buf);
	const char *slash = strchr(t, '/');
	if (slash)
		t = slash + 1;                  /* "Ry/Mw" */
	if (f->attr & INSN_X87) {
		if (strstr(t, "80"))
			return 10;
		if (strstr(t, "64"))
			return 8;
		if (strstr(t, "32"))
			return 4;
		if (strstr(t, "28"))
			return 28;
		return 2;
	}
	if (is(f, "fxsave") || is(f, "fxsave64") || is(f, "fxrstor") || is(f, "fxrstor64"))
		return 512;
	if (is(f, "cmpxchg8b"))
		return 8;
	if (is(f, "cmpxchg16b"))
		return 16;
	if (strlen(t) < 2)
		return 16;
	const char *sz = t + 1;
	if (!strcmp(sz, "b"))
		return 1;
	if (!strcmp(sz, "w"))
		return 2;
	if (!strcmp(sz, "d") || !strcmp(sz, "ss"))
		return 4;
	if (!strcmp(sz, "q") || !strcmp(sz, "sd"))
		return 8;
	if (!strcmp(sz, "v") || !strcmp(sz, "y"))
		return osize;
	return 16;                              /* dq, ps, pd */
}

/* RFLAGS bits the form reads. */
static uint16_t flags_read(const struct insn_form *f)
{
	static const uint16_t cc[16] = {
		DT_FL_OF, DT_FL_OF, DT_FL_CF, DT_FL_CF, DT_FL_ZF, DT_FL_ZF,
		DT_FL_CF | DT_FL_ZF, DT_FL_CF | DT_FL_ZF, DT_FL_SF, DT_FL_SF,
		DT_FL_PF, DT_FL_PF, DT_FL_SF | DT_FL_OF, DT_FL_SF | DT_FL_OF,
		DT_FL_ZF | DT_FL_SF | DT_FL_OF, DT_FL_ZF | DT_FL_SF | DT_FL_OF,
	};
	const char *m = f->mnemonic;
	if (starts(m, "adc") || starts(m, "sbb") || starts(m, "rcl") || starts(m, "rcr") || is(f, "cmc"))
		return DT_FL_CF;
	if (f->map == MAP_0F && ((f->opcode & 0xf0) == 0x40 || (f->opcode & 0xf0) == 0x90) && !(f->attr & INSN_SSE))
		return cc[f->opcode & 15];             /* cmovcc, setcc */
	if (starts(m, "fcmov")) {
		static const uint16_t fc[4] = { DT_FL_CF, DT_FL_ZF, DT_FL_CF | DT_FL_ZF, DT_FL_PF };
		return fc[f->reg & 3];
	}
	if (starts(m, "pushf"))
		return DT_FL_STATUS;
	if (is(f, "lahf"))
		return DT_FL_STATUS & ~DT_FL_OF;
	return 0;
}

/* x87 C0-C3 after each instruction, per the "FPU Flags Affected" section
 * of each instruction in SDM vol. 2: compares, fxam and fprem define all
 * four; fninit, fldenv and fxrstor load them; the fcomi family clears C1
 * by the SDM but the AMD host leaves it alone, so C1 counts as undefined
 * after it; fnclex, ffree, fnop, fldcw and the fnst* stores leave all
 * four undefined; everything else defines C1 and leaves C0, C2 and C3
 * undefined. */
static void track_fsw(struct g *g, const struct insn_form *f)
{
	const char *m = f->mnemonic;
	if ((starts(m, "fcom") && !starts(m, "fcomi")) || (starts(m, "fucom") && !starts(m, "fucomi")) ||
	    starts(m, "ficom") || is(f, "ftst") || is(f, "fxam") || starts(m, "fprem") ||
	    is(f, "fninit") || is(f, "fldenv"))
		g->undef_fsw = 0;
	else if (starts(m, "fcomi") || starts(m, "fucomi"))
		g->undef_fsw |= 0x0200;         /* SDM: C1 = 0; the AMD host keeps it */
	else if (is(f, "fnclex") || is(f, "ffree") || is(f, "fnop") || is(f, "fldcw") || starts(m, "fnst"))
		g->undef_fsw = 0x4700;
	else if (starts(m, "fcmov"))
		/* C1 is only written on a stack underflow (SDM vol. 2, FCMOVcc):
		 * whatever it was stays as defined, or as undefined, as before. */
		g->undef_fsw = (uint16_t)(g->undef_fsw | 0x4500);
	else
		g->undef_fsw = (uint16_t)((g->undef_fsw | 0x4500) & ~0x0200);
}

static bool reads_fsw(const struct insn_form *f)
{
	return is(f, "fnstsw") || is(f, "fnstenv") || is(f, "fnsave") || starts(f->mnemonic, "fxsave");
}

/* Registers a form uses implicitly (never picked as base/index). */
static uint32_t implicit_regs(const struct insn_form *f)
{
	const char *m = f->mnemonic;
	uint32_t r = 1u << 4;
	if (is(f, "mul") || is(f, "imul") || is(f, "div") || is(f, "idiv"))
		r |= 1u << 0 | 1u << 2;
	if (starts(m, "cmpxchg"))
		r |= 1u << 0 | 1u << 1 | 1u << 2 | 1u << 3;
	if (f->attr & INSN_STRING)
		r |= 1u << 0 | 1u << 1 | 1u << 6 | 1u << 7;
	if (strstr(f->operands, "CL"))
		r |= 1u << 1;
	if (f->attr & INSN_STACK)
		r |= 1u << 5;
	return r;
}

/* Shift/rotate forms: flags are untouched when the masked count is 0. */
static bool is_shift(const struct insn_form *f)
{
	const char *m = f->mnemonic;
	return is(f, "rol") || is(f, "ror") || is(f, "rcl") || is(f, "rcr") || is(f, "shl") ||
	       is(f, "shr") || is(f, "sar") || is(f, "shld") || is(f, "shrd") || starts(m, "sal");
}

/* Forms Unicorn 2.0.1 gets wrong; cases using them are judged by the host
 * alone.  docs/difftest.md lists why for each. */
static bool unicorn_lacks(const struct insn_form *f, unsigned osize)
{
	static const char *const bad[] = {
		"popcnt", "movbe", "clwb", "clflushopt", "prefetch",    /* #UD */
		"cmpxchg8b", "cmpxchg16b",      /* clobber the flags besides ZF */
		"rcpps", "rcpss", "rsqrtps", "rsqrtss", /* denormal inputs */
		"stmxcsr", "fxsave", "fxsave64", /* store MXCSR's flags */
		"fxrstor", "fxrstor64",         /* (their setup is an fxsave) */
		"emms",                         /* leaves TOP (SDM: TOP = 0) */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (is(f, bad[i]))
			return true;
	/* A successful 32-bit cmpxchg must not write rax. */
	if (is(f, "cmpxchg") && osize == 4)
		return true;
	return false;
}

static unsigned pick_gpr(struct g *g, uint32_t avoid)
{
	unsigned r;
	do
		r = (unsigned)rnd(g, 16);
	while (avoid & (1u << r));
	return r;
}

/* A scratch address for an operand of len bytes, aligned to align. */
static uint64_t pick_target(struct g *g, unsigned len, unsigned align)
{
	unsigned span = 0xd00 - (len < 16 ? 16 : len);
	uint64_t off = rnd(g, span);
	if (align > 1)
		off &= ~(uint64_t)(align - 1);
	return DT_SCRATCH + off;
}

/* The encoding of one instruction, built field by field. */
struct enc {
	uint8_t pfx[8];
	int npfx;
	bool rex_w, rex_r, rex_x, rex_b, rex_force;
	uint8_t op[3];
	int nop;
	bool modrm;
	uint8_t mod, reg, rm;
	bool sib;
	uint8_t scale, index, base;
	int dispsz;
	int64_t disp;
	bool riprel;
	uint64_t riptarget;
	uint8_t imm[8];
	int immsz;
};

static size_t encode(const struct enc *e, uint8_t *b, uint64_t at)
{
	size_t n = 0;
	for (int i = 0; i < e->npfx; i++)
		b[n++] = e->pfx[i];
	if (e->rex_w || e->rex_r || e->rex_x || e->rex_b || e->rex_force)
		b[n++] = (uint8_t)(0x40 | e->rex_w << 3 | e->rex_r << 2 | e->rex_x << 1 | e->rex_b);
	for (int i = 0; i < e->nop; i++)
		b[n++] = e->op[i];
	if (e->modrm)
		b[n++] = (uint8_t)(e->mod << 6 | (e->reg & 7) << 3 | (e->rm & 7));
	if (e->sib)
		b[n++] = (uint8_t)(e->scale << 6 | (e->index & 7) << 3 | (e->base & 7));
	size_t disp_at = n;
	n += (size_t)e->dispsz;
	for (int i = 0; i < e->immsz; i++)
		b[n++] = e->imm[i];
	int64_t disp = e->disp;
	if (e->riprel)
		disp = (int64_t)(e->riptarget - (at + n));
	dt_put_le(b + disp_at, (uint64_t)disp, (unsigned)e->dispsz);
	return n;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Address [target] through a random addressing mode; may emit setups.
 * A non-canonical target needs a base register that holds it. */
static void address(struct g *g, struct enc *e, uint64_t target, uint32_t avoid, bool rsp_ok)
{
	e->modrm = true;
	unsigned mode = (unsigned)rnd(g, rsp_ok ? 5 : 4);
	if (!canonical(target))
		mode = 2 + (unsigned)rnd(g, 2);
	switch (mode) {
	case 0:                                 /* [disp32] */
		e->mod = 0;
		e->rm = 4;
		e->sib = true;
		e->scale = (uint8_t)rnd(g, 4);
		e->index = 4;
		e->base = 5;
		e->dispsz = 4;
		e->disp = (int64_t)target;
		return;
	case 1:                                 /* [rip + disp32] */
		e->mod = 0;
		e->rm = 5;
		e->dispsz = 4;
		e->riprel = true;
		e->riptarget = target;
		return;
	case 2: {                               /* [base + disp] */
		unsigned base = pick_gpr(g, avoid);
		int64_t disp = chance(g, 1, 3) ? 0 : chance(g, 1, 2) ? (int64_t)rnd(g, 256) - 128
							 : (int64_t)rnd(g, 0x20000) - 0x10000;
		setup_mov_imm(g, base, target - (uint64_t)disp);
		e->rex_b = base >= 8;
		if ((base & 7) == 4) {                  /* r12 needs a SIB */
			e->rm = 4;
			e->sib = true;
			e->scale = 0;
			e->index = 4;
			e->base = 4;
		} else {
			e->rm = (uint8_t)(base & 7);
		}
		if (disp == 0 && (base & 7) != 5) {
			e->mod = 0;
		} else if (disp >= -128 && disp < 128) {
			e->mod = 1;
			e->dispsz = 1;
		} else {
			e->mod = 2;
			e->dispsz = 4;
		}
		e->disp = disp;
		return;
	}
	case 3: {                               /* [base + index*scale + disp] */
		unsigned base = pick_gpr(g, avoid);
		unsigned index = pick_gpr(g, avoid | 1u << base);
		unsigned scale = (unsigned)rnd(g, 4);
		int64_t iv = (int64_t)rnd(g, 128) - 32;
		int64_t disp = chance(g, 1, 2) ? (int64_t)rnd(g, 256) - 128 : (int64_t)rnd(g, 0x20000) - 0x10000;
		setup_mov_imm(g, index, (uint64_t)iv);
		setup_mov_imm(g, base, target - (uint64_t)disp - ((uint64_t)iv << scale));
		e->rex_b = base >= 8;
		e->rex_x = index >= 8;
		e->rm = 4;
		e->sib = true;
		e->scale = (uint8_t)scale;
		e->index = (uint8_t)(index & 7);
		e->base = (uint8_t)(base & 7);
		if (disp >= -128 && disp < 128) {
			e->mod = 1;
			e->dispsz = 1;
		} else {
			e->mod = 2;
			e->dispsz = 4;
		}
		e->disp = disp;
		return;
	}
	default: {                              /* [rsp + disp] */
		int64_t disp = (int64_t)(target - g->rsp);
		e->rm = 4;
		e->sib = true;
		e->scale = 0;
		e->index = 4;
		e->base = 4;
		if (disp >= -128 && disp < 128) {
			e->mod = 1;
			e->dispsz = 1;
		} else {
			e->mod = 2;
			e->dispsz = 4;
		}
		e->disp = disp;
		return;
	}
	}
}

static void put_imm(struct enc *e, uint64_t v, unsigned size)
{
	e->immsz = (int)size;
	dt_put_le(e->imm, v, size);
}

/* Set rdx:rax (or dx:ax, edx:eax, ax) and the divisor so that the
 * quotient fits, or, when fault is set, so that it does not.  divreg is
 * the divisor's register number, plus 16 for ah..bh (a byte register 4-7
 * without REX). */
static void setup_divide(struct g *g, const struct insn_form *f, unsigned osize,
			 bool mem, unsigned divreg, uint64_t target, bool fault)
{
	bool sgn = is(f, "idiv");
	unsigned bits = osize * 8;
	uint64_t mask = bits == 64 ? ~0ULL : (1ULL << bits) - 1;
	uint64_t d = interesting64(g) & mask;
	if (!d)
		d = 1 + rnd(g, 100);
	unsigned __int128 hi_lo;                /* the 2*bits-wide dividend */
	if (fault) {
		if (chance(g, 1, 2))
			d = 0;
		hi_lo = (unsigned __int128)(mask) << bits;      /* overflows */
		if (!sgn && d)
			hi_lo = (unsigned __int128)d << bits;
	} else if (!sgn) {
		uint64_t hi = rnd(g, d);       /* hi < d: the quotient fits */
		uint64_t lo = rng_next(&g->r) & mask;
		hi_lo = ((unsigned __int128)hi << bits) | lo;
	} else {
		/* dividend = q*d + r with |r| < |d| and r of the dividend's sign */
		__int128 sd = (__int128)(int64_t)(d << (64 - bits)) >> (64 - bits);
		__int128 qmax = (__int128)1 << (bits - 1);
		__int128 q = (__int128)(rng_next(&g->r) % (uint64_t)(2 * qmax - 1)) - (qmax - 1);
		if (chance(g, 1, 4))
			q = (__int128)rnd(g, 7) - 3;
		__int128 ad = sd < 0 ? -sd : sd;
		__int128 rr = (__int128)(rng_next(&g->r) % (uint64_t)ad);
		__int128 prod = q * sd;
		if (prod < 0 || (prod == 0 && chance(g, 1, 2)))
			rr = -rr;
		hi_lo = (unsigned __int128)(prod + rr);
	}
	uint64_t lo = (uint64_t)hi_lo & mask;
	uint64_t hi = (uint64_t)(hi_lo >> bits) & mask;
	if (mem && osize == 8 && (d >> 31) && (d >> 31) != 0x1ffffffffULL) {
		/* A qword store of imm32 would sign-extend: store the divisor
		 * from rax, which the dividend overwrites next (rax and rdx
		 * are never the operand's base or index, implicit_regs();
		 * any other register may be). */
		setup_mov_imm(g, 0, d);
		uint8_t b[8] = { 0x48, 0x89 };
		size_t n = 2 + put_abs(b + 2, 0, target);
		emit(g, -1, b, n);
	} else if (mem) {
		setup_store_imm(g, osize, target, d);
	} else if (divreg >= 16) {
		setup_mov_imm(g, divreg - 16 - 4, d << 8);      /* ch, dh, bh */
	} else {
		setup_mov_imm(g, divreg, d);            /* whole register */
	}
	if (osize == 1) {
		setup_mov_imm(g, 0, (hi << 8) | lo);    /* ax */
	} else {
		setup_mov_imm(g, 0, lo);
		setup_mov_imm(g, 2, hi);
	}
}

static bool stack_room(const struct g *g, const struct insn_form *f)
{
	const char *m = f->mnemonic;
	if (!(f->attr & INSN_STACK))
		return true;
	if (starts(m, "push"))
		return g->rsp >= DT_SCRATCH + 0xd80;
	if (starts(m, "pop") || is(f, "leave"))
		return g->rsp <= DT_SCRATCH + 0xfe0;
	return true;
}

/* Emit one instance of form f, with its setups.  Returns false if the
 * form cannot be placed now (the caller draws another). */
static bool emit_form(struct g *g, const struct insn_form *f)
{
	struct dt_case *c = g->c;
	const char *m = f->mnemonic;
	struct enc e;
	memset(&e, 0, sizeof e);
	if (!stack_room(g, f))
		return false;

	/* Operand size. */
	unsigned osize = 0;
	if (f->osz) {
		unsigned opts[4], n = 0;
		for (unsigned b = 0; b < 4; b++)
			if (f->osz & (1u << b))
				opts[n++] = 1u << b;
		osize = opts[rnd(g, n)];
		if (is(f, "cmpxchg8b"))
			osize = 4;
	}

	bool x87 = f->attr & INSN_X87;
	bool sse = f->attr & INSN_SSE;
	bool mem = false;
	if (f->modrm == MR_MEM)
		mem = true;
	else if (f->modrm == MR_ANY && f->rm < 0)
		mem = chance(g, 1, 2);

	char tok[32];
	bool byte_g = false, byte_e = false, byte_z = false;
	bool moffs = false;             /* mov AL/rAX <-> moffs (Ob, Ov) */
	for (int k = 0; k < 3; k++) {
		operand(f, k, tok, sizeof tok);
		if (tok[0] == 'O')
			moffs = true;
		if (!strcmp(tok, "Gb"))
			byte_g = true;
		if (!strcmp(tok, "Eb") && !mem)
			byte_e = true;
		if (!strcmp(tok, "Zb"))
			byte_z = true;
	}

	uint32_t avoid = implicit_regs(f);
	bool last_only = false;
	bool lock_ud = false;

	/* Registers. */
	unsigned greg = 0, rmreg = 0, zreg = 0;
	if (f->attr & INSN_OPREG) {
		zreg = pick_gpr(g, 1u << 4 | (is(f, "xchg") ? 1u : 0));
	}
	if (f->modrm != MR_NONE) {
		if (f->reg >= 0)
			greg = (unsigned)f->reg;
		else if (f->attr & INSN_XMM_REG)
			greg = (unsigned)rnd(g, 16);
		else
			greg = pick_gpr(g, byte_g ? 0 : 1u << 4);
		if (f->rm >= 0)
			rmreg = (unsigned)f->rm;
		else if (x87)
			rmreg = (unsigned)rnd(g, 8);
		else if (f->attr & INSN_XMM_RM)
			rmreg = (unsigned)rnd(g, 16);
		else
			rmreg = pick_gpr(g, byte_e ? 0 : 1u << 4);
	}
	/* The G register may double as base or index (aliasing is worth
	 * testing), except for bt*, whose setup below loads it with the bit
	 * offset after the address setup. */
	bool greg_is_gpr = f->modrm != MR_NONE && f->reg < 0 && !(f->attr & INSN_XMM_REG);
	if (greg_is_gpr && starts(m, "bt"))
		avoid |= 1u << greg;
	/* div: a divisor register that is also the dividend would fault. */
	if ((is(f, "div") || is(f, "idiv")) && !mem)
		while (rmreg == 0 || rmreg == 2 || (osize == 1 && rmreg == 4))
			rmreg = pick_gpr(g, 1u << 4);

	/* Prefixes. */
	if (chance(g, 1, 24) && !(f->attr & INSN_REP)) {
		static const uint8_t seg[4] = { 0x2e, 0x3e, 0x26, 0x36 };
		e.pfx[e.npfx++] = seg[rnd(g, 4)];
	}
	bool lockable_mem = (f->attr & INSN_LOCK) && mem;
	if (lockable_mem && chance(g, 1, 4))
		e.pfx[e.npfx++] = 0xf0;
	else if (!lockable_mem && chance(g, 1, 150)) {
		e.pfx[e.npfx++] = 0xf0;         /* #UD */
		lock_ud = true;
	}
	int rep = 0;
	if (f->attr & INSN_REP) {
		unsigned k = (unsigned)rnd(g, 3);
		bool cond = starts(m, "cmps") || starts(m, "scas");
		if (k == 1)
			rep = 0xf3;
		else if (k == 2)
			rep = cond ? 0xf2 : 0xf3;
		if (rep)
			e.pfx[e.npfx++] = (uint8_t)rep;
	}
	/* Address-size override: 32-bit addressing still reaches the
	 * scratch page, which lies below 4 GiB; string ops use esi/edi/ecx. */
	bool a32 = false;
	if ((mem || moffs || (f->attr & INSN_STRING)) && chance(g, 1, 16)) {
		e.pfx[e.npfx++] = 0x67;
		a32 = true;
	}
	if (osize == 2 && !(f->mprefix == MP_66))
		e.pfx[e.npfx++] = 0x66;
	switch (f->mprefix) {
	case MP_66: e.pfx[e.npfx++] = 0x66; break;
	case MP_F3: e.pfx[e.npfx++] = 0xf3; break;
	case MP_F2: e.pfx[e.npfx++] = 0xf2; break;
	default: break;
	}
	e.rex_w = osize == 8 && !(f->attr & INSN_D64);
	if (osize == 8 && (f->attr & INSN_D64) && chance(g, 1, 4))
		e.rex_w = true;
	if (f->modrm != MR_NONE) {
		e.rex_r = greg >= 8 && !(f->reg >= 0);
		if (!mem)
			e.rex_b = rmreg >= 8;
	}
	if (f->attr & INSN_OPREG)
		e.rex_b = zreg >= 8;

	/* Byte registers: with any REX, 4-7 mean spl/bpl/sil/dil, and spl is
	 * the stack pointer.  Add a bare REX now and then to test that. */
	bool anybyte = byte_g || byte_e || byte_z;
	if (anybyte && !e.rex_w && !e.rex_r && !e.rex_b && chance(g, 1, 4))
		e.rex_force = true;
	if (anybyte) {
		bool rex = e.rex_w || e.rex_r || e.rex_b || e.rex_force;
		if (rex) {
			if (byte_g && greg == 4)
				greg = 5;
			if (byte_e && rmreg == 4)
				rmreg = 5;
			if (byte_z && zreg == 4)
				zreg = 5;
		}

	}

	/* Opcode. */
	if (f->map == MAP_0F) {
		e.op[e.nop++] = 0x0f;
	} else if (f->map == MAP_0F38) {
		e.op[e.nop++] = 0x0f;
		e.op[e.nop++] = 0x38;
	} else if (f->map == MAP_0F3A) {
		e.op[e.nop++] = 0x0f;
		e.op[e.nop++] = 0x3a;
	}
	e.op[e.nop++] = (uint8_t)(f->opcode + ((f->attr & INSN_OPREG) ? (zreg & 7) : 0));

	/* Memory operand. */
	uint64_t target = 0;
	unsigned mlen = mem ? mem_bytes(f, osize) : moffs ? osize : 0;
	int fault = 0;
	if (mem || moffs) {
		unsigned align = 1;
		if ((f->attr & INSN_ALIGN16) || is(f, "cmpxchg16b"))
			align = 16;
		else if (chance(g, 1, 2) && mlen <= 16)
			align = mlen;
		while (align & (align - 1))
			align &= align - 1;
		target = pick_target(g, mlen, align);
		bool accesses = !is(f, "lea") && !is(f, "nop") && !starts(m, "prefetch");
		if (accesses && !lock_ud && chance(g, 1, 80)) {
			fault = 14;
			if (mlen > 1 && mlen <= 16 && chance(g, 1, 2) && align < 2) {
				target = DT_GUARD - 1 - rnd(g, mlen - 1);
				/* QEMU reports another fault address and
				 * stores the first part. */
				c->uc_skip = true;
			} else {
				target = DT_GUARD + rnd(g, 0x100) * (align ? align : 1);
			}
			if (starts(m, "clflush"))
				c->uc_skip = true;      /* QEMU: no fault */
		} else if (align == 16 && accesses && !lock_ud && chance(g, 1, 60)) {
			fault = 13;
			target += 8;
			c->uc_skip = true;
		} else if (mem && accesses && !lock_ud && !a32 && chance(g, 1, 100)) {
			/* A non-canonical address (address() then uses a base
			 * register): #SS(0) through SS, #GP(0) otherwise, set
			 * below.  Unicorn does not check canonicality. */
			static const uint64_t nc[] = {
				0x0000800000000000ULL, 0x8000000000000000ULL,
				0xdead000000000000ULL, 0x7ffffffffffff000ULL, 0xffff7ffffffff000ULL,
			};
			target = nc[rnd(g, sizeof nc / sizeof nc[0])] | (target & 0xfff);
			fault = 13;
			c->uc_skip = true;
		}
		/* pop [rsp+x] computes the address after popping: keep rsp out. */
		bool rsp_ok = !(f->attr & INSN_STACK);
		if (mem)
			address(g, &e, target, avoid, rsp_ok);
		if (fault == 13 && !canonical(target)) {
			/* The segment is SS for a base of rsp or rbp (not
			 * r12/r13, not an index); the cs/ds/es/ss prefixes drawn
			 * above are ignored in 64-bit mode (SDM Vol. 3 6.15). */
			unsigned base = (e.sib ? e.base : e.rm) | (e.rex_b ? 8u : 0u);
			if ((base == 4 || base == 5) && !(e.sib && e.base == 5 && e.mod == 0))
				fault = 12;
		}
	} else if (f->modrm != MR_NONE) {
		e.mod = 3;
		e.rm = (uint8_t)rmreg;
		e.modrm = true;
	}
	/* address() may have added REX.B or REX.X (r8-r15 as base or
	 * index), which turns a byte register 4 from ah into spl. */
	if (byte_g && greg == 4 && (e.rex_b || e.rex_x))
		greg = 5;
	if (f->modrm != MR_NONE)
		e.reg = (uint8_t)greg;

	/* Immediate. */
	unsigned isz = f->imm ? insn_imm_size(f, osize ? osize : 4) : 0;
	uint64_t imm = interesting64(g);
	if (f->imm == IMM_8) {
		if (is_shift(f) || (sse && f->modrm == MR_REG))
			imm = chance(g, 3, 4) ? rnd(g, osize ? 2 * 8 * osize + 2 : 40) : rnd(g, 256);
		if ((is(f, "shld") || is(f, "shrd")) && osize == 2)
			imm = (rnd(g, 8) << 5) | rnd(g, 17);
		if (is(f, "cmpps") || is(f, "cmppd") || is(f, "cmpss") || is(f, "cmpsd"))
			imm = rnd(g, 8);
	}
	if (isz)
		put_imm(&e, imm, isz);
	/* The moffs of mov AL/rAX <-> memory is an address-size offset in
	 * place of an immediate (SDM vol. 2, MOV 8-byte moffs). */
	if (moffs)
		put_imm(&e, target, a32 ? 4 : 8);

	/* Semantic setups. */
	if (is(f, "div") || is(f, "idiv")) {
		bool de = fault == 0 && !lock_ud && chance(g, 1, 40);
		bool rex = e.rex_w || e.rex_r || e.rex_b || e.rex_x || e.rex_force;
		unsigned divreg = osize == 1 && !rex && rmreg >= 4 && rmreg < 8 ? rmreg + 16 : rmreg;
		if (!(mem && fault))
			setup_divide(g, f, osize, mem, divreg, target, de);
		if (de) {
			/* Unicorn reports #DE as vector 8 or not at all. */
			fault = 0, c->expect_vector = 0, g->done = true;
			c->uc_skip = true;
		}
	}
	if (starts(m, "xlat"))          /* [rbx + al]: keep it in the page */
		setup_mov_imm(g, 3, DT_SCRATCH + 0x100 + rnd(g, 0xb00));
	uint64_t rep_count = 1;
	if (f->attr & INSN_STRING) {
		setup_mov_imm(g, 6, DT_SCRATCH + 0x200 + rnd(g, 0x900));
		setup_mov_imm(g, 7, DT_SCRATCH + 0x200 + rnd(g, 0x900));
		if (rep) {
			rep_count = chance(g, 1, 8) ? 0 : 1 + rnd(g, 16);
			setup_mov_imm(g, 1, rep_count);
		}
	}
	int64_t clcount = -1;                   /* the CL count, if set here */
	if ((is(f, "shld") || is(f, "shrd")) && !strcmp(f->operands, "Ev,Gv,CL") && osize == 2)
		clcount = (int64_t)((rnd(g, 8) << 5) | rnd(g, 17));
	else if (is_shift(f) && strstr(f->operands, "CL") && chance(g, 1, 2))
		clcount = (int64_t)rnd(g, 2 * 8 * (osize ? osize : 4) + 2);
	if (clcount >= 0)
		setup_mov_imm(g, 1, (uint64_t)clcount);
	if (mem && (is(f, "bt") || is(f, "bts") || is(f, "btr") || is(f, "btc")) && has_token(f, "Gv")) {
		/* A register bit offset is signed and selects the osize-byte
		 * unit at target + osize * floor(bit / (8 * osize)) (SDM
		 * "BT").  Keep that unit inside the scratch page: below it
		 * lies the code page, whose bytes after the sequence are each
		 * runner's own exit stub.  A deliberate #PF keeps the unit at
		 * the target, in (or straddling into) the guard page. */
		int64_t bits = 8 * (int64_t)osize, bit, unit;
		int64_t lo = (int64_t)(DT_SCRATCH - target);
		int64_t hi = (int64_t)(DT_GUARD - target) - (int64_t)osize;
		do {
			bit = fault ? (int64_t)rnd(g, (uint64_t)bits) : (int64_t)rnd(g, 512) - 256;
			unit = (bit >= 0 ? bit / bits : -((-bit + bits - 1) / bits)) * (int64_t)osize;
		} while (!fault && (unit < lo || unit > hi));
		setup_mov_imm(g, greg, osize == 4 ? ((uint64_t)bit & 0xffffffff) : (uint64_t)bit);
	}
	if (is(f, "cmpxchg") && chance(g, 1, 2) && !fault) {
		if (mem)
			setup_load(g, 0, target, true);
		else
			setup_mov_rr(g, 0, rmreg);
	}
	if ((is(f, "cmpxchg8b") || is(f, "cmpxchg16b")) && chance(g, 1, 2) && !fault) {
		bool q = is(f, "cmpxchg16b");
		setup_load(g, 0, target, q);
		setup_load(g, 2, target + (q ? 8 : 4), q);
	}
	if ((is(f, "bsf") || is(f, "bsr")) && !fault) {
		/* A zero source leaves the destination undefined: make it
		 * non-zero (or byte 0 of it, which covers every size). */
		uint8_t b[10];
		size_t n = 0;
		uint8_t v = (uint8_t)(1 + rnd(g, 255));
		if (mem) {
			b[n++] = 0x80;                  /* or byte [abs], imm8 */
			n += put_abs(b + n, 1, target);
		} else {
			if (rmreg >= 8)
				b[n++] = 0x41;
			b[n++] = 0x80;                  /* or r8, imm8 (no REX: low 4) */
			b[n++] = (uint8_t)(0xc8 | (rmreg & 7));
			if (rmreg >= 4 && rmreg < 8) {
				memmove(b + 1, b, n);   /* REX makes 4-7 spl..dil */
				b[0] = 0x40;
				n++;
			}
		}
		b[n++] = v;
		emit(g, -1, b, n);
		g->undef_flags = (uint16_t)((g->undef_flags & ~(DT_FL_STATUS)) | DT_FL_AF);
	}
	if (is(f, "leave")) {
		uint64_t rbp = g->rsp + 8 * rnd(g, 8);
		if (rbp > DT_SCRATCH + 0xfe0)
			rbp = g->rsp;
		setup_mov_imm(g, 5, rbp);
		g->rsp = rbp;
	}
	if (is(f, "popfq")) {
		uint64_t v = 0x202 | (rng_next(&g->r) & DT_FL_STATUS) | (chance(g, 1, 4) ? DT_FL_DF : 0);
		uint8_t b[5] = { 0x68 };
		dt_put_le(b + 1, v, 4);
		emit(g, -1, b, 5);
		g->rsp -= 8;
	}
	if ((is(f, "fxrstor") || is(f, "fxrstor64")) && !fault) {
		uint8_t b[12] = { 0x48, 0x0f, 0xae };
		size_t n = 3 + put_abs(b + 3, 0, target);
		if (g->undef_fsw)
			setup_fxam(g);
		emit(g, -1, b, n);
	}
	if (is(f, "fldenv") && !fault) {
		uint8_t b[8] = { 0xd9 };
		size_t n = 1 + put_abs(b + 1, 6, target);
		if (g->undef_fsw)
			setup_fxam(g);
		emit(g, -1, b, n);
	}
	if (is(f, "ldmxcsr") && !fault) {
		uint32_t mx = random_mxcsr(g);
		setup_store_imm(g, 4, target, mx);
		if (mx & 0x8040)
			c->uc_skip = true;      /* QEMU has no FTZ/DAZ */
	}
	if (is(f, "fldcw") && !fault)
		setup_store_imm(g, 2, target, random_fcw(g));
	if (reads_fsw(f) && g->undef_fsw)
		setup_fxam(g);
	if (flags_read(f) & g->undef_flags)
		setup_cmp(g);
	if (lock_ud) {
		/* QEMU ignores a misplaced LOCK instead of raising #UD. */
		c->expect_vector = 6, g->done = true;
		c->uc_skip = true;
	}
	if (unicorn_lacks(f, osize))
		c->uc_skip = true;
	/* QEMU: lock neg computes the flags of the wrong operands; shld/shrd
	 * with an imm8 forget the immediate in rip-relative addresses. */
	if ((is(f, "neg") && e.npfx && memchr(e.pfx, 0xf0, (size_t)e.npfx)) ||
	    ((is(f, "shld") || is(f, "shrd")) && mem && f->imm == IMM_8))
		c->uc_skip = true;
	if (fault)
		c->expect_vector = fault, g->done = true;
	/* x87 transcendentals: accuracy is per implementation (SDM vol. 1,
	 * 8.3.10), so the last bits and C1 differ; nothing may consume them. */
	static const char *const transc[] = { "f2xm1", "fyl2x", "fyl2xp1", "fptan", "fpatan",
					      "fsin", "fcos", "fsincos" };
	for (size_t t = 0; t < sizeof transc / sizeof transc[0]; t++) {
		if (is(f, transc[t])) {
			last_only = true;
			c->approx_st = is(f, "fptan") || is(f, "fsincos") ? 3 : 1;
		}
	}
	/* rcp/rsqrt approximations differ between implementations (SDM:
	 * relative error <= 1.5*2^-12): nothing may consume them. */
	if (starts(m, "rcp") || starts(m, "rsqrt")) {
		last_only = true;
		c->approx_xmm = (int8_t)greg;
		c->approx_lanes = (uint8_t)(m[strlen(m) - 1] == 's' && m[strlen(m) - 2] == 's' ? 1 : 4);
	}

	uint8_t b[32];
	size_t n = encode(&e, b, DT_CODE + c->len);
	emit(g, f->id, b, n);

	/* FXSAVE and FNSTENV images hold implementation-specific bytes (the
	 * masked ones below), so nothing may read them afterwards. */
	if (starts(m, "fxsave") || starts(m, "fxrstor") || is(f, "fnstenv") || is(f, "fldenv") ||
	    is(f, "fnsave") || is(f, "frstor"))
		last_only = true;

	/* What the instruction leaves defined. */
	if (mem && (starts(m, "fxsave"))) {
		mask_scratch(g, target + 6, 18);        /* fop, fip, fdp */
		mask_scratch(g, target + 28, 4);        /* mxcsr_mask */
		for (unsigned i = 0; i < 8; i++)
			mask_scratch(g, target + 32 + 16 * i + 10, 6);
		mask_scratch(g, target + 416, 96);
	}
	/* FNSAVE starts with the same 28-byte environment as FNSTENV, whose
	 * instruction and data pointers hosts fill in differently. */
	if (mem && (is(f, "fnstenv") || is(f, "fnsave"))) {
		mask_scratch(g, target + 2, 2);
		mask_scratch(g, target + 6, 2);
		mask_scratch(g, target + 10, 2);
		mask_scratch(g, target + 12, 16);
	}
	if ((is(f, "fxrstor") || is(f, "fxrstor64")) && !fault) {
		mask_scratch(g, target + 6, 18);
		mask_scratch(g, target + 28, 4);
		for (unsigned i = 0; i < 8; i++)
			mask_scratch(g, target + 32 + 16 * i + 10, 6);
		mask_scratch(g, target + 416, 96);
	}
	if (is(f, "fldenv") && !fault) {
		mask_scratch(g, target + 2, 2);
		mask_scratch(g, target + 6, 2);
		mask_scratch(g, target + 10, 2);
		mask_scratch(g, target + 12, 16);
	}
	uint16_t def = (uint16_t)(f->flags_def & DT_FL_COMPARED);
	uint16_t und = (uint16_t)(f->flags_undef & DT_FL_COMPARED);
	bool maybe_untouched = false;
	if (is_shift(f) && (f->imm == IMM_8 || strstr(f->operands, "CL"))) {
		/* A masked count of 0 leaves the flags alone; a count of 1
		 * defines OF (SDM "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR",
		 * "SHLD", "SHRD"); rcl/rcr of bytes and words by a multiple
		 * of 9 or 17 leave CF alone.  A CL count not set by the setup
		 * above is unknown: then only the undefined flags are added.
		 * (The by-1 forms define OF in the table itself.) */
		int64_t count = f->imm == IMM_8 ? (int64_t)imm : clcount;
		count = count < 0 ? -1 : count & (osize == 8 ? 63 : 31);
		if (count < 0)
			maybe_untouched = true;
		else if (count == 0)
			def = und = 0;
		else if (count == 1) {
			def |= DT_FL_OF;
			und &= (uint16_t)~DT_FL_OF;
		} else if ((is(f, "rcl") || is(f, "rcr")) && osize <= 2 && count % (osize == 1 ? 9 : 17) == 0)
			maybe_untouched = true;
	}
	if ((f->attr & INSN_STRING) && rep && rep_count == 0)
		def = und = 0;
	if (maybe_untouched)
		g->undef_flags |= und;
	else
		g->undef_flags = (uint16_t)((g->undef_flags & ~def) | und);
	if (x87) {
		track_fsw(g, f);
		if (c->approx_st)
			g->undef_fsw |= 0x0200;
		/* QEMU's x87 has no stack faults, C1 or exception flags: the
		 * host alone judges x87 cases (docs/difftest.md). */
		c->uc_skip = true;
	}
	if (starts(m, "fxrstor"))
		g->undef_fsw = 0;

	/* The stack pointer. */
	unsigned ssz = osize == 2 ? 2 : 8;
	if (!(f->attr & INSN_STACK))
		;                               /* popcnt is no pop */
	else if (starts(m, "push"))
		g->rsp -= ssz;
	else if (starts(m, "pop"))
		g->rsp += ssz;
	else if (is(f, "leave"))
		g->rsp += ssz;
	if (last_only)
		g->done = true;
	return true;
}

struct dt_gen *dt_gen_new(const char *filter)
{
	table = insn_forms(&ntable);
	struct dt_gen *G = calloc(1, sizeof *G);
	if (!G)
		return NULL;
	G->pick = calloc(ntable ? ntable : 1, sizeof *G->pick);
	if (!G->pick) {
		free(G);
		return NULL;
	}
	for (size_t i = 0; i < ntable; i++) {
		const struct insn_form *f = &table[i];
		if (f->attr & INSN_NOTEST)
			continue;
		if (filter && *filter) {
			bool hit = false;
			const char *s = filter;
			size_t len = strlen(f->mnemonic);
			while (*s && !hit) {
				size_t n = strcspn(s, ",");
				hit = n == len && !strncmp(s, f->mnemonic, n);
				s += n + (s[n] == ',');
			}
			if (!hit)
				continue;
		}
		G->pick[G->npick++] = (uint16_t)i;
		if (f->attr & INSN_X87)
			G->npick_x87++;
	}
	return G;
}

void dt_gen_free(struct dt_gen *G)
{
	if (!G)
		return;
	free(G->pick);
	free(G);
}

size_t dt_gen_nforms(const struct dt_gen *G)
{
	return G->npick;
}

void dt_gen_case(struct dt_gen *G, uint64_t seed, uint64_t index, struct dt_case *c)
{
	struct g g;
	memset(&g, 0, sizeof g);
	memset(c, 0, offsetof(struct dt_case, init));
	g.c = c;
	/* One stream per case, so --index reproduces a case on its own. */
	rng_stream(&g.r, seed + index * 0x9e3779b97f4a7c15ULL, "difftest");
	init_state(&g);
	unsigned nmain = 1 + (unsigned)rnd(&g, 8);
	/* Half the cases leave the x87 out, so that Unicorn (which cannot
	 * judge x87 cases) still sees half of everything else. */
	bool no_x87 = chance(&g, 1, 2) && G->npick_x87 < G->npick;
	for (unsigned i = 0, tries = 0; i < nmain && !g.done && G->npick && tries < 1000; tries++) {
		if (c->ninsns + 12 > DT_MAX_INSNS || c->len + 128 > DT_CODE_MAX - 16)
			break;
		const struct insn_form *f = &table[G->pick[rnd(&g, G->npick)]];
		if (no_x87 && (f->attr & INSN_X87))
			continue;
		if (emit_form(&g, f))
			i++;
	}
	c->undef_flags_at[c->ninsns] = g.undef_flags;
	c->undef_fsw_at[c->ninsns] = g.undef_fsw;
}
