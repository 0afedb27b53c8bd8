/* machine/decode.c: bytes at rip -> struct insn, driven by machine/insn.def.
 *
 * Decoding follows the SDM (vol. 2, chapter 2) for 64-bit mode:
 *
 *   legacy prefixes (F0, F2, F3, 2E/36/3E/26, 64, 65, 66, 67) in any order,
 *   REX (40-4F) only if it immediately precedes the opcode,
 *   opcode: xx | 0F xx | 0F 38 xx | 0F 3A xx,
 *   ModRM, SIB, displacement (rip-relative for mod=00 rm=101),
 *   immediate.
 *
 * The candidate forms for (map, opcode) come from an index built once per
 * CPU from the table; the best match wins (exact mandatory prefix over
 * MP_ANY, exact /digit or rm over "any", operand size in the form's set).
 * No match is #UD; more than 15 bytes is #GP(0).  Bytes are fetched one
 * at a time with execute permission, so an instruction that runs into an
 * unmapped page faults on the first byte it needs there (#PF with I/D).
 */
#include <stdlib.h>

#include "machine/cpu_sys.h"
#include "machine/exec.h"

/* Handlers in table order. */
static insn_fn *const form_handler[] = {
#define INSN(h, ...) op_##h,
#include "machine/insn.def"
#undef INSN
};

void decode_init(struct cpu *c)
{
	size_t n;
	const struct insn_form *f = insn_forms(&n);
	unsigned count[4][256] = { { 0 } };

	for (size_t k = 0; k < n; k++) {
		unsigned span = (f[k].attr & INSN_OPREG) ? 8 : 1;
		for (unsigned r = 0; r < span; r++)
			count[f[k].map][(f[k].opcode + r) & 0xff]++;
	}
	unsigned pos = 0;
	for (int m = 0; m < 4; m++)
		for (int o = 0; o < 256; o++) {
			c->form_first[m][o] = (uint16_t)pos;
			c->form_count[m][o] = 0;
			pos += count[m][o];
		}
	c->form_order = calloc(pos ? pos : 1, sizeof *c->form_order);
	if (!c->form_order)
		return;
	for (size_t k = 0; k < n; k++) {
		unsigned span = (f[k].attr & INSN_OPREG) ? 8 : 1;
		for (unsigned r = 0; r < span; r++) {
			unsigned o = (f[k].opcode + r) & 0xff;
			c->form_order[c->form_first[f[k].map][o] + c->form_count[f[k].map][o]++] =
				(uint16_t)k;
		}
	}
}

struct fetch {
	struct cpu *c;
	uint64_t rip;
	unsigned len;
};

static uint8_t fetch8(struct fetch *ft)
{
	if (ft->len >= 15)
		cpu_gp0(ft->c);         /* SDM: instructions longer than 15 bytes */
	uint64_t la = ft->rip + ft->len++;
	uint64_t pg = la >> 12;
	const struct cpu_tlb_entry *e = &ft->c->tlb[pg & (CPU_TLB_SIZE - 1)];
	if (e->page == pg && (e->perm & BUS_X))
		return e->host[la & 4095];
	return mem_fetch_slow(ft->c, la);
}

static uint64_t fetchn(struct fetch *ft, unsigned n)
{
	uint64_t v = 0;
	for (unsigned k = 0; k < n; k++)
		v |= (uint64_t)fetch8(ft) << (8 * k);
	return v;
}

static unsigned size_bit(unsigned size)
{
	switch (size) {
	case 1: return OS_8;
	case 2: return OS_16;
	case 4: return OS_32;
	default: return OS_64;
	}
}

void decode_insn(struct cpu *c, uint64_t rip, struct insn *d)
{
	struct fetch ft = { c, rip, 0 };
	bool p66 = false, p67 = false;
	uint8_t rep = 0, rex = 0, seg = SEG_NONE, lock = 0;
	uint8_t b;
	/* 32-bit code (protected or compatibility mode, machine/cpu_sys.h):
	 * no REX, 32-bit addresses, no RIP-relative form, no D64. */
	bool m32 = c->sys && c->sys->code32;

	memset(d, 0, sizeof *d);
	for (;;) {
		b = fetch8(&ft);
		switch (b) {
		case 0xF0: lock = 1; rex = 0; continue;
		case 0xF2: case 0xF3: rep = b; rex = 0; continue;
		case 0x2E: case 0x36: case 0x3E: case 0x26: rex = 0; continue;
		case 0x64: seg = SEG_FS; rex = 0; continue;
		case 0x65: seg = SEG_GS; rex = 0; continue;
		case 0x66: p66 = true; rex = 0; continue;
		case 0x67: p67 = true; rex = 0; continue;
		default: break;
		}
		if (!m32 && (b & 0xF0) == 0x40) {
			rex = b;        /* a later legacy prefix cancels it (above) */
			continue;
		}
		break;
	}

	unsigned map = MAP_1B;
	if (b == 0x0F) {
		b = fetch8(&ft);
		map = MAP_0F;
		if (b == 0x38) {
			map = MAP_0F38;
			b = fetch8(&ft);
		} else if (b == 0x3A) {
			map = MAP_0F3A;
			b = fetch8(&ft);
		}
	}
	unsigned ncand = c->form_count[map][b];
	if (!c->form_order || ncand == 0)
		cpu_ud(c);
	const uint16_t *cand = &c->form_order[c->form_first[map][b]];
	size_t nforms;
	const struct insn_form *forms = insn_forms(&nforms);

	/* Which mandatory prefix the bytes carry: F2/F3 win over 66. */
	unsigned mp = rep == 0xF3 ? MP_F3 : rep == 0xF2 ? MP_F2 : p66 ? MP_66 : MP_NONE;

	/* ModRM presence is the same for every form of one opcode. */
	bool has_modrm = forms[cand[0]].modrm != MR_NONE;
	uint8_t modrm = 0, mod = 3;
	if (has_modrm) {
		modrm = fetch8(&ft);
		mod = modrm >> 6;
	}
	unsigned mreg = (modrm >> 3) & 7, mrm = modrm & 7;

	const struct insn_form *best = NULL;
	int best_score = -1;
	unsigned best_size = 4;
	for (unsigned k = 0; k < ncand; k++) {
		const struct insn_form *f = &forms[cand[k]];
		int score = 0;
		if ((f->attr & INSN_NO64) && !m32)
			continue;

		if (f->mprefix == MP_NONE) {
			/* No F2/F3; 66 only as an operand-size prefix. */
			if (rep || (p66 && !(f->osz & OS_16)))
				continue;
			score += 4;
		} else if (f->mprefix != MP_ANY) {
			if (f->mprefix != mp)
				continue;
			score += 4;
		}
		if (map == MAP_1B && b == 0x90) {
			/* 90 is nop unless REX.B makes it xchg r8, rax. */
			bool xchg = (f->attr & INSN_OPREG) != 0;
			if (xchg != ((rex & 1) != 0))
				continue;
		}
		if (has_modrm) {
			if (f->modrm == MR_MEM && mod == 3)
				continue;
			if (f->modrm == MR_REG && mod != 3)
				continue;
			if (f->reg >= 0) {
				if ((unsigned)f->reg != mreg)
					continue;
				score += 2;
			}
			if (f->rm >= 0) {
				if (mod != 3 || (unsigned)f->rm != mrm)
					continue;
				score += 2;
			}
		}
		unsigned size;
		if (f->osz == OS_8)
			size = 1;
		else if (rex & 8)
			size = 8;
		else if (p66 && f->mprefix != MP_66)
			size = 2;
		else if ((f->attr & INSN_D64) && !m32)
			size = 8;
		else
			size = 4;
		if (f->osz) {
			/* D64 forms (OS_64) take 32-bit operands in 32-bit code. */
			bool d32 = m32 && (f->attr & INSN_D64) && size == 4;
			if (!(f->osz & size_bit(size)) && !d32)
				continue;
			score += 1;
		}
		if (score > best_score) {
			best = f;
			best_score = score;
			best_size = size;
		}
	}
	if (!best)
		cpu_ud(c);

	d->form = best;
	d->fn = form_handler[best->id];
	d->osz = (uint8_t)best_size;
	d->asz = p67 ? 4 : 8;
	if (m32) {
		if (p67)
			cpu_ud(c);      /* 16-bit addressing is not modelled */
		d->asz = 4;
	}
	d->rex = rex;
	d->rep = rep;
	d->lock = lock;
	d->seg = seg;
	d->opcode = b;
	d->modrm = modrm;
	d->base = d->index = NOREG;
	d->mod3 = 1;
	if (best->attr & INSN_OPREG) {
		d->reg = (uint8_t)((b & 7) | ((rex & 1) << 3));
		d->rm = d->reg;
	}

	bool riprel = false;
	if (has_modrm) {
		d->reg = (uint8_t)(mreg | ((rex & 4) << 1));
		d->rm = (uint8_t)(mrm | ((rex & 1) << 3));
		if (mod != 3) {
			d->mod3 = 0;
			if (mrm == 4) {
				uint8_t sib = fetch8(&ft);
				unsigned sbase = sib & 7, sindex = (sib >> 3) & 7;
				d->scale = sib >> 6;
				sindex |= (rex & 2) << 2;
				if (sindex != 4)
					d->index = (uint8_t)sindex;
				if (sbase == 5 && mod == 0) {
					d->disp = (int32_t)fetchn(&ft, 4);
				} else {
					d->base = (uint8_t)(sbase | ((rex & 1) << 3));
				}
			} else if (mrm == 5 && mod == 0) {
				riprel = !m32;  /* 32-bit code: an absolute disp32 */
				d->disp = (int32_t)fetchn(&ft, 4);
			} else {
				d->base = (uint8_t)(mrm | ((rex & 1) << 3));
			}
			if (mod == 1)
				d->disp += (int8_t)fetch8(&ft);
			else if (mod == 2)
				d->disp += (int32_t)fetchn(&ft, 4);
		}
	}

	/* lock needs a lockable form with a memory destination. */
	if (lock && (!(best->attr & INSN_LOCK) || d->mod3))
		cpu_ud(c);

	unsigned isz = insn_imm_size(best, best_size);
	if (best->imm == IMM_MOFFS)
		isz = p67 || m32 ? 4 : 8;       /* the address size, not the operand size */
	if (best->imm == IMM_FARPTR) {
		d->imm = fetchn(&ft, best_size == 2 ? 2 : 4);
		d->disp = (int64_t)fetchn(&ft, 2);
		isz = 0;
	}
	if (best->imm == IMM_16_8) {
		d->imm = fetchn(&ft, 2);
		d->imm2 = fetch8(&ft);
	} else if (isz) {
		uint64_t v = fetchn(&ft, isz);
		if (best->imm == IMM_16 || best->imm == IMM_V || best->imm == IMM_MOFFS)
			d->imm = v;
		else
			d->imm = sign_extend(v, isz);
	}
	d->len = (uint8_t)ft.len;
	d->rip = rip;
	if (riprel)
		d->disp += (int64_t)(rip + ft.len);
	if (best->operands[0] == 'J') {
		d->imm += rip + ft.len;         /* Jb/Jz: store the absolute target */
		if (m32)
			d->imm = (uint32_t)d->imm;
	}
}
