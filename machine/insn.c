/* machine/insn.c: the instruction table (machine/insn.def) as an array.
 *
 * This is the only place the table is expanded into struct insn_form; the
 * decoder indexes it by (map, opcode) and the differential test generator
 * walks it through insn_forms().
 */
#include "machine/insn.h"

/* __COUNTER__ numbers the entries, so id == index without a second list. */
enum { FORM_BASE = __COUNTER__ + 1 };

static const struct insn_form forms[] = {
#define INSN(h, mn, ops, map, opc, mp, mr, reg, rm, osz, imm, attr, fdef, fundef) \
	{ mn, ops, MAP_##map, opc, MP_##mp, MR_##mr, reg, rm, osz, IMM_##imm, attr, fdef, fundef, \
	  __COUNTER__ - FORM_BASE },
#include "machine/insn.def"
#undef INSN
};

#define NFORMS (sizeof forms / sizeof forms[0])

const struct insn_form *insn_forms(size_t *n)
{
	if (n)
		*n = NFORMS;
	return forms;
}

unsigned insn_imm_size(const struct insn_form *f, unsigned osize)
{
	switch (f->imm) {
	case IMM_8: return 1;
	case IMM_16: return 2;
	case IMM_Z: return osize == 2 ? 2 : 4;
	case IMM_V: return osize;
	case IMM_16_8: return 3;
	case IMM_32: return 4;
	default: return 0;
	}
}
