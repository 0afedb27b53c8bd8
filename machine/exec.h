/* machine/exec.h: what the interpreter's files share (not a public API).
 *
 * A decoded instruction (struct insn) is produced once per code address by
 * machine/decode.c and executed many times by its handler op_<name>(),
 * where <name> is the handler column of machine/insn.def.  Handlers read
 * operands through the helpers below, compute, and write results last, so
 * a fault (cpu_fault(), which longjmps back to cpu_run) never leaves an
 * instruction half done.
 *
 *     void op_lea(struct cpu *c, const struct insn *i)
 *     {
 *         reg_write(c, i, i->reg, i->osz, insn_ea_noseg(c, i));
 *     }
 */
#ifndef MACHINE_EXEC_H
#define MACHINE_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/insn.h"

#define NOREG 0xff

/* Segment override: only fs and gs mean anything in 64-bit mode. */
enum { SEG_NONE, SEG_FS, SEG_GS };

typedef void insn_fn(struct cpu *c, const struct insn *i);

struct insn {
	uint64_t rip;                   /* cache key */
	struct insn *next;              /* dcache hash chain */
	struct insn *page_next;         /* other insns of the same code page */
	insn_fn *fn;
	const struct insn_form *form;
	int64_t disp;                   /* rip-relative: absolute address */
	uint64_t imm;                   /* branches: absolute target */
	uint8_t len;
	uint8_t osz;                    /* operand size in bytes: 1, 2, 4, 8 */
	uint8_t asz;                    /* address size: 4 or 8 */
	uint8_t reg;                    /* ModRM.reg + REX.R, or opcode register */
	uint8_t rm;                     /* ModRM.rm + REX.B (register operand) */
	uint8_t mod3;                   /* operand E is a register */
	uint8_t base, index, scale;     /* memory operand (NOREG = none) */
	uint8_t seg;                    /* SEG_* */
	uint8_t rep;                    /* 0, 0xF2 or 0xF3 */
	uint8_t lock;
	uint8_t rex;                    /* REX byte, or 0 */
	uint8_t opcode;                 /* last opcode byte */
	uint8_t modrm;                  /* raw ModRM byte */
	uint8_t imm2;                   /* enter's second immediate */
	/* Timing (machine/cpu_timing.c, approximate mode only). */
	uint8_t tclass;                 /* enum tclass */
	uint8_t bp;                     /* 2-bit branch counter: >= 2 predicts taken */
	uint64_t btb;                   /* last target of an indirect branch */
	uint64_t fetch_pa;              /* physical address of the first byte */
};

/* ---- faults ---- */

_Noreturn void cpu_fault(struct cpu *c, unsigned vector, uint32_t error);
/* A trap (int3, int n): retire the instruction, then report it. */
void cpu_retire_trap(struct cpu *c);
static inline _Noreturn void cpu_ud(struct cpu *c) { cpu_fault(c, CPU_EXC_UD, 0); }
static inline _Noreturn void cpu_gp0(struct cpu *c) { cpu_fault(c, CPU_EXC_GP, 0); }
/* A non-canonical linear address for an access of kind acc (BUS_R/W/X):
 * #SS(0) through SS, #GP(0) otherwise (machine/cpu.c). */
_Noreturn void cpu_noncanonical(struct cpu *c, unsigned acc);

/* ---- memory (machine/cpu.c) ---- */

uint8_t mem_fetch_slow(struct cpu *c, uint64_t la);
uint64_t mem_read_slow(struct cpu *c, uint64_t la, unsigned size);
void mem_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v);
void mem_read_buf(struct cpu *c, uint64_t la, void *dst, unsigned len);
void mem_write_buf(struct cpu *c, uint64_t la, const void *src, unsigned len);
/* Fault now if [la, la+len) cannot be written (for multi-part stores). */
void mem_check_write(struct cpu *c, uint64_t la, unsigned len);
/* Fault now if la cannot be accessed with acc (BUS_R/W/X). */
void mem_check(struct cpu *c, uint64_t la, unsigned acc);
/* Physical address of la (user mode: identity), for the hooks. */
uint64_t mem_phys(struct cpu *c, uint64_t la);

static inline uint64_t load_le(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1: return *p;
	case 2: { uint16_t v; memcpy(&v, p, 2); return v; }
	case 4: { uint32_t v; memcpy(&v, p, 4); return v; }
	default: { uint64_t v; memcpy(&v, p, 8); return v; }
	}
}

static inline void store_le(uint8_t *p, unsigned size, uint64_t v)
{
	switch (size) {
	case 1: *p = (uint8_t)v; break;
	case 2: { uint16_t w = (uint16_t)v; memcpy(p, &w, 2); break; }
	case 4: { uint32_t w = (uint32_t)v; memcpy(p, &w, 4); break; }
	default: memcpy(p, &v, 8); break;
	}
}

/* Approximate timing: charge a data access whose translation is in e
 * (machine/cpu.c). */
void mem_timing(struct cpu *c, const struct cpu_tlb_entry *e, uint64_t la, bool write);

static inline uint64_t mem_read(struct cpu *c, uint64_t la, unsigned size)
{
	uint64_t pg = la >> 12;
	const struct cpu_tlb_entry *e = &c->tlb[pg & (CPU_TLB_SIZE - 1)];
	if (e->page == pg && (e->perm & BUS_R) && (la & 4095) + size <= 4096) {
		if (__builtin_expect(c->timing != NULL, 0))
			mem_timing(c, e, la, false);
		return load_le(e->host + (la & 4095), size);
	}
	return mem_read_slow(c, la, size);
}

static inline void mem_write(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	uint64_t pg = la >> 12;
	const struct cpu_tlb_entry *e = &c->tlb[pg & (CPU_TLB_SIZE - 1)];
	if (e->page == pg && (e->perm & BUS_W) && (la & 4095) + size <= 4096) {
		if (__builtin_expect(c->timing != NULL, 0))
			mem_timing(c, e, la, true);
		store_le(e->host + (la & 4095), size, v);
		return;
	}
	mem_write_slow(c, la, size, v);
}

/* ---- registers ---- */

static inline uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static inline uint64_t sign_extend(uint64_t v, unsigned size)
{
	switch (size) {
	case 1: return (uint64_t)(int64_t)(int8_t)v;
	case 2: return (uint64_t)(int64_t)(int16_t)v;
	case 4: return (uint64_t)(int64_t)(int32_t)v;
	default: return v;
	}
}

/* Byte registers 4-7 are ah, ch, dh, bh unless a REX prefix is present. */
static inline uint64_t reg_read(const struct cpu *c, const struct insn *i, unsigned r, unsigned size)
{
	switch (size) {
	case 1:
		if (!i->rex && r >= 4 && r < 8)
			return (c->gpr[r - 4] >> 8) & 0xff;
		return c->gpr[r] & 0xff;
	case 2: return c->gpr[r] & 0xffff;
	case 4: return (uint32_t)c->gpr[r];
	default: return c->gpr[r];
	}
}

/* 32-bit writes zero the upper half; 8- and 16-bit writes merge. */
static inline void reg_write(struct cpu *c, const struct insn *i, unsigned r, unsigned size, uint64_t v)
{
	switch (size) {
	case 1:
		if (!i->rex && r >= 4 && r < 8)
			c->gpr[r - 4] = (c->gpr[r - 4] & ~0xff00ull) | ((v & 0xff) << 8);
		else
			c->gpr[r] = (c->gpr[r] & ~0xffull) | (v & 0xff);
		break;
	case 2: c->gpr[r] = (c->gpr[r] & ~0xffffull) | (v & 0xffff); break;
	case 4: c->gpr[r] = (uint32_t)v; break;
	default: c->gpr[r] = v; break;
	}
}

/* Effective address of the memory operand, with the fs/gs base. */
static inline uint64_t insn_ea(const struct cpu *c, const struct insn *i)
{
	uint64_t a = (uint64_t)i->disp;
	if (i->base != NOREG)
		a += c->gpr[i->base];
	if (i->index != NOREG)
		a += c->gpr[i->index] << i->scale;
	if (i->asz == 4)
		a = (uint32_t)a;
	if (i->seg == SEG_FS)
		a += c->fs_base;
	else if (i->seg == SEG_GS)
		a += c->gs_base;
	return a;
}

/* The E operand (register or memory) at size. */
static inline uint64_t rm_read(struct cpu *c, const struct insn *i, unsigned size)
{
	if (i->mod3)
		return reg_read(c, i, i->rm, size);
	return mem_read(c, insn_ea(c, i), size);
}

static inline void rm_write(struct cpu *c, const struct insn *i, unsigned size, uint64_t v)
{
	if (i->mod3)
		reg_write(c, i, i->rm, size, v);
	else
		mem_write(c, insn_ea(c, i), size, v);
}

/* ---- stack ---- */

/* Implicit stack accesses (push, pop, call, ret, enter, leave, iret,
 * far transfers, event delivery) go through SS, so a non-canonical
 * address raises #SS(0), not #GP(0) (SDM Vol. 3 6.15, interrupt 12).
 * The fast path is mem_read/mem_write's own; only a slow-path access is
 * marked (c->stack_acc, which cpu_fault() clears), since only the slow
 * path can fault.  An explicit operand based on rsp/rbp is recognized on
 * the fault path from the instruction itself (cpu_noncanonical()). */
uint64_t stack_read_slow(struct cpu *c, uint64_t la, unsigned size);
void stack_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v);
void stack_check_write(struct cpu *c, uint64_t la, unsigned len);

static inline bool tlb_hit(const struct cpu *c, uint64_t la, unsigned size, unsigned acc)
{
	const struct cpu_tlb_entry *e = &c->tlb[(la >> 12) & (CPU_TLB_SIZE - 1)];
	return e->page == la >> 12 && (e->perm & acc) && (la & 4095) + size <= 4096;
}

static inline uint64_t stack_read(struct cpu *c, uint64_t la, unsigned size)
{
	if (tlb_hit(c, la, size, BUS_R))
		return mem_read(c, la, size);   /* the same test: its fast path */
	return stack_read_slow(c, la, size);
}

static inline void stack_write(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	if (tlb_hit(c, la, size, BUS_W))
		mem_write(c, la, size, v);
	else
		stack_write_slow(c, la, size, v);
}

static inline void push(struct cpu *c, unsigned size, uint64_t v)
{
	uint64_t sp = c->gpr[CPU_RSP] - size;
	stack_write(c, sp, size, v);
	c->gpr[CPU_RSP] = sp;
}

static inline uint64_t pop(struct cpu *c, unsigned size)
{
	uint64_t v = stack_read(c, c->gpr[CPU_RSP], size);
	c->gpr[CPU_RSP] += size;
	return v;
}

/* ---- flags ---- */

#define FL_STATUS (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

static inline void set_flags(struct cpu *c, uint64_t mask, uint64_t val)
{
	c->rflags = (c->rflags & ~mask) | (val & mask);
}

/* flags_szp, flags_add, flags_sub, flags_logic, cpu_cond */
#include "machine/flags.h"

/* ---- hooks ---- */

/* Ordering and persistence events go to the persistence model (hooks)
 * and, in approximate mode, to the timing model (machine/cpu.c). */
void timing_fence(struct cpu *c, int kind);
void timing_flush(struct cpu *c, uint64_t pa, int kind);
void timing_ntstore(struct cpu *c, uint64_t pa, unsigned len);

static inline void hook_fence(struct cpu *c, int kind)
{
	if (c->hooks && c->hooks->fence)
		c->hooks->fence(c->hooks->ctx, kind);
	if (c->timing)
		timing_fence(c, kind);
}

static inline void hook_flush(struct cpu *c, uint64_t pa, int kind)
{
	if (c->hooks && c->hooks->flush)
		c->hooks->flush(c->hooks->ctx, pa, kind);
	if (c->timing)
		timing_flush(c, pa, kind);
}

static inline void hook_ntstore(struct cpu *c, uint64_t pa, unsigned len)
{
	if (c->hooks && c->hooks->ntstore)
		c->hooks->ntstore(c->hooks->ctx, pa, len);
	if (c->timing)
		timing_ntstore(c, pa, len);
}

/* ---- pieces shared between files ---- */

/* machine/decode.c */
void decode_init(struct cpu *c);
void decode_insn(struct cpu *c, uint64_t rip, struct insn *out);

/* machine/sse.c: the guest MXCSR on the host around a floating-point op. */
uint32_t sse_host_enter(const struct cpu *c);
void sse_host_leave(struct cpu *c, uint32_t saved);

/* machine/x87.c: fxsave/fxrstor pieces. */
void x87_fxsave(struct cpu *c, uint8_t img[512], bool rexw);
void x87_fxrstor(struct cpu *c, const uint8_t img[512], bool rexw);

/* Handler prototypes, one per handler name in the table. */
#define INSN(h, ...) void op_##h(struct cpu *c, const struct insn *i);
#include "machine/insn.def"
#undef INSN

#endif
