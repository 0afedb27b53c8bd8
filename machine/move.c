/* machine/move.c: data movement between registers and memory: mov and
 * its sign/zero-extending forms, lea, xchg, movbe, movnti and the nops.
 */
#include "machine/cpu_sys.h"
#include "machine/exec.h"

void op_mov_EG(struct cpu *c, const struct insn *i)
{
	rm_write(c, i, i->osz, reg_read(c, i, i->reg, i->osz));
}

void op_mov_GE(struct cpu *c, const struct insn *i)
{
	reg_write(c, i, i->reg, i->osz, rm_read(c, i, i->osz));
}

void op_mov_EI(struct cpu *c, const struct insn *i)
{
	rm_write(c, i, i->osz, i->imm);
}

void op_mov_RI(struct cpu *c, const struct insn *i)
{
	reg_write(c, i, i->reg, i->osz, i->imm);
}

/* mov r/m, Sreg: the selectors of Linux's flat 64-bit user segments. */
void op_mov_ES(struct cpu *c, const struct insn *i)
{
	static const uint16_t sel[8] = { 0, 0x33, 0x2b, 0, 0, 0, 0, 0 };
	unsigned s = (i->modrm >> 3) & 7;
	if (s > 5)
		cpu_ud(c);
	if (c->sys) {
		rm_write(c, i, i->mod3 ? i->osz : 2, cpu_sys_selector(c, s));
		return;
	}
	/* A register destination takes the zero-extended selector; memory
	 * always gets 16 bits. */
	rm_write(c, i, i->mod3 ? i->osz : 2, c->cpl == 3 ? sel[s] : 0);
}

void op_lea(struct cpu *c, const struct insn *i)
{
	/* lea ignores segment overrides: it computes the offset only. */
	uint64_t a = (uint64_t)i->disp;
	if (i->base != NOREG)
		a += c->gpr[i->base];
	if (i->index != NOREG)
		a += c->gpr[i->index] << i->scale;
	if (i->asz == 4)
		a = (uint32_t)a;
	reg_write(c, i, i->reg, i->osz, a);
}

void op_movsxd(struct cpu *c, const struct insn *i)
{
	/* The source is 32 bits whatever the operand size (a 16-bit form
	 * still reads 4 bytes of memory, as hardware does). */
	uint64_t v = rm_read(c, i, 4);
	reg_write(c, i, i->reg, i->osz, i->osz == 8 ? sign_extend(v, 4) : v);
}

void op_movzx(struct cpu *c, const struct insn *i)
{
	unsigned from = (i->opcode & 1) ? 2 : 1;
	reg_write(c, i, i->reg, i->osz, rm_read(c, i, from));
}

void op_movsx(struct cpu *c, const struct insn *i)
{
	unsigned from = (i->opcode & 1) ? 2 : 1;
	reg_write(c, i, i->reg, i->osz, sign_extend(rm_read(c, i, from), from));
}

void op_xchg_EG(struct cpu *c, const struct insn *i)
{
	uint64_t a = rm_read(c, i, i->osz), b = reg_read(c, i, i->reg, i->osz);
	rm_write(c, i, i->osz, b);
	reg_write(c, i, i->reg, i->osz, a);
	/* xchg with memory is locked whether or not it says so (SDM). */
	if (!i->mod3)
		hook_fence(c, CPU_FENCE_LOCKED);
}

void op_xchg_AR(struct cpu *c, const struct insn *i)
{
	uint64_t a = reg_read(c, i, CPU_RAX, i->osz), b = reg_read(c, i, i->reg, i->osz);
	reg_write(c, i, CPU_RAX, i->osz, b);
	reg_write(c, i, i->reg, i->osz, a);
}

void op_movbe(struct cpu *c, const struct insn *i)
{
	unsigned size = i->osz;
	uint64_t a = insn_ea(c, i), v;
	if (i->opcode == 0xF0) {
		v = mem_read(c, a, size);
		v = size == 8 ? __builtin_bswap64(v) : size == 4 ? __builtin_bswap32((uint32_t)v)
			: __builtin_bswap16((uint16_t)v);
		reg_write(c, i, i->reg, size, v);
	} else {
		v = reg_read(c, i, i->reg, size);
		v = size == 8 ? __builtin_bswap64(v) : size == 4 ? __builtin_bswap32((uint32_t)v)
			: __builtin_bswap16((uint16_t)v);
		mem_write(c, a, size, v);
	}
}

void op_movnti(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	mem_write(c, a, i->osz, reg_read(c, i, i->reg, i->osz));
	if ((c->hooks && c->hooks->ntstore) || c->timing)
		hook_ntstore(c, mem_phys(c, a), i->osz);
}

void op_nop(struct cpu *c, const struct insn *i)
{
	(void)c, (void)i;
}
