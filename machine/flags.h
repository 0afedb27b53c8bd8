/* machine/flags.h: arithmetic flags and condition codes.
 *
 * Flags are computed eagerly into c->rflags by the instruction that
 * defines them; the helpers here hold the bit tricks (SDM vol. 1, 3.4.3
 * and appendix A):
 *
 *   carry out of the top bit:  (a & b) | ((a ^ b) & ~res)   for a + b
 *   borrow:                    (~a & b) | ((~a ^ b) & res)   for a - b
 *   overflow:                  sign of (a ^ res) & (b ^ res) for a + b,
 *                              sign of (a ^ b) & (a ^ res)   for a - b
 *   adjust (AF):               bit 4 of a ^ b ^ res
 *
 * These hold with a carry/borrow in, so adc and sbb share them.  The
 * helpers are inline: they run on almost every instruction.
 */
#ifndef MACHINE_FLAGS_H
#define MACHINE_FLAGS_H

/* Included from machine/exec.h, after struct cpu, set_flags and the
 * size helpers. */


static inline uint64_t flags_szp(uint64_t res, unsigned size)
{
	uint64_t f = 0;
	res &= size_mask(size);
	if (!__builtin_parity((unsigned)(res & 0xff)))
		f |= FL_PF;
	if (res == 0)
		f |= FL_ZF;
	if (res >> (8 * size - 1))
		f |= FL_SF;
	return f;
}

static inline uint64_t flags_add(struct cpu *c, uint64_t a, uint64_t b, unsigned carry, unsigned size)
{
	uint64_t m = size_mask(size);
	unsigned top = 8 * size - 1;
	a &= m, b &= m;
	uint64_t res = (a + b + carry) & m;
	uint64_t f = flags_szp(res, size);
	if ((((a & b) | ((a ^ b) & ~res)) >> top) & 1)
		f |= FL_CF;
	if ((((a ^ res) & (b ^ res)) >> top) & 1)
		f |= FL_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= FL_AF;
	set_flags(c, FL_STATUS, f);
	return res;
}

static inline uint64_t flags_sub(struct cpu *c, uint64_t a, uint64_t b, unsigned borrow, unsigned size)
{
	uint64_t m = size_mask(size);
	unsigned top = 8 * size - 1;
	a &= m, b &= m;
	uint64_t res = (a - b - borrow) & m;
	uint64_t f = flags_szp(res, size);
	if ((((~a & b) | ((~a ^ b) & res)) >> top) & 1)
		f |= FL_CF;
	if ((((a ^ b) & (a ^ res)) >> top) & 1)
		f |= FL_OF;
	if ((a ^ b ^ res) & 0x10)
		f |= FL_AF;
	set_flags(c, FL_STATUS, f);
	return res;
}

static inline void flags_logic(struct cpu *c, uint64_t res, unsigned size)
{
	set_flags(c, FL_STATUS, flags_szp(res, size));
}

static inline bool cpu_cond(const struct cpu *c, unsigned cc)
{
	uint64_t f = c->rflags;
	bool r;
	switch (cc >> 1) {
	case 0: r = (f & FL_OF) != 0; break;                                /* o */
	case 1: r = (f & FL_CF) != 0; break;                                /* b */
	case 2: r = (f & FL_ZF) != 0; break;                                /* e */
	case 3: r = (f & (FL_CF | FL_ZF)) != 0; break;                      /* be */
	case 4: r = (f & FL_SF) != 0; break;                                /* s */
	case 5: r = (f & FL_PF) != 0; break;                                /* p */
	case 6: r = !!(f & FL_SF) != !!(f & FL_OF); break;                  /* l */
	default: r = (f & FL_ZF) || !!(f & FL_SF) != !!(f & FL_OF); break;  /* le */
	}
	return (cc & 1) ? !r : r;
}

#endif
