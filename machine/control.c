/* machine/control.c: the stack, control transfer, and the system-ish
 * instructions user programs meet: syscall, int3/int n, hlt, rdtsc(p),
 * in/out, fences, cache-line flushes, fxsave/fxrstor, ldmxcsr/stmxcsr.
 *
 * Near branches set c->next_rip; a target that is not canonical raises
 * #GP(0) at the branch itself, as on hardware (SDM vol. 1, 3.3.7.1).
 */
#include "machine/cpu_sys.h"
#include "machine/exec.h"
#include "sim/sim.h"

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static void branch(struct cpu *c, uint64_t target)
{
	if (!canonical(target))
		cpu_gp0(c);
	c->next_rip = target;
}

/* ---- stack ---- */

void op_push_R(struct cpu *c, const struct insn *i)
{
	push(c, i->osz, reg_read(c, i, i->reg, i->osz));
}

void op_pop_R(struct cpu *c, const struct insn *i)
{
	uint64_t v = stack_read(c, c->gpr[CPU_RSP], i->osz);
	c->gpr[CPU_RSP] += i->osz;
	reg_write(c, i, i->reg, i->osz, v);     /* pop rsp: the loaded value wins */
}

void op_push_I(struct cpu *c, const struct insn *i)
{
	push(c, i->osz, i->imm);
}

void op_push_E(struct cpu *c, const struct insn *i)
{
	push(c, i->osz, rm_read(c, i, i->osz));
}

void op_pop_E(struct cpu *c, const struct insn *i)
{
	uint64_t old = c->gpr[CPU_RSP];
	uint64_t v = stack_read(c, old, i->osz);
	if (i->mod3) {
		c->gpr[CPU_RSP] = old + i->osz;
		reg_write(c, i, i->rm, i->osz, v);
		return;
	}
	/* A memory destination addressed through rsp sees rsp after the pop. */
	c->gpr[CPU_RSP] = old + i->osz;
	uint64_t a = insn_ea(c, i);
	c->gpr[CPU_RSP] = old;
	mem_write(c, a, i->osz, v);
	c->gpr[CPU_RSP] = old + i->osz;
}

void op_pushf(struct cpu *c, const struct insn *i)
{
	/* VM and RF read as 0 in the pushed image. */
	push(c, i->osz, c->rflags & ~0x30000ull);
}

void op_popf(struct cpu *c, const struct insn *i)
{
	uint64_t v = pop(c, i->osz);
	unsigned iopl = (c->rflags >> 12) & 3;
	uint64_t mask = FL_STATUS | FL_TF | FL_DF | FL_NT | FL_AC | FL_ID;
	if (c->cpl <= iopl)
		mask |= FL_IF;
	if (c->cpl == 0)
		mask |= 0x3000;         /* IOPL */
	if (i->osz == 2)
		mask &= 0xffff;
	uint64_t old = c->rflags;
	c->rflags = ((c->rflags & ~mask) | (v & mask)) | 2;
	if (c->sys && !(old & FL_IF) && (c->rflags & FL_IF))
		cpu_sys_if_raised(c);   /* the machine looks for interrupts */
	if (c->sys && (c->rflags & ~old & (FL_TF | FL_AC)))
		cpu_sys_flags_raised(c, old);   /* single-step, #AC checks */
}

void op_enter(struct cpu *c, const struct insn *i)
{
	unsigned level = i->imm2 & 31;
	uint64_t size = i->imm & 0xffff;
	uint64_t rsp = c->gpr[CPU_RSP], rbp = c->gpr[CPU_RBP];
	/* Everything the instruction will store, checked before any store. */
	uint64_t frame = rsp - 8;
	uint64_t low = frame - 8 * (uint64_t)level;
	stack_check_write(c, low, (unsigned)(rsp - low));
	uint64_t saved[32];
	for (unsigned k = 1; k < level; k++)
		saved[k] = stack_read(c, rbp - 8 * k, 8);
	stack_write(c, frame, 8, rbp);
	uint64_t sp = frame;
	for (unsigned k = 1; k < level; k++) {
		sp -= 8;
		stack_write(c, sp, 8, saved[k]);
	}
	if (level) {
		sp -= 8;
		stack_write(c, sp, 8, frame);
	}
	c->gpr[CPU_RBP] = frame;
	c->gpr[CPU_RSP] = sp - size;
}

void op_leave(struct cpu *c, const struct insn *i)
{
	uint64_t v = stack_read(c, c->gpr[CPU_RBP], i->osz);
	c->gpr[CPU_RSP] = c->gpr[CPU_RBP] + i->osz;
	reg_write(c, i, CPU_RBP, i->osz, v);
}

/* ---- branches ---- */

void op_jcc(struct cpu *c, const struct insn *i)
{
	if (cpu_cond(c, i->opcode & 15))
		c->next_rip = i->imm;
}

void op_jmp_rel(struct cpu *c, const struct insn *i)
{
	c->next_rip = i->imm;
}

void op_jmp_E(struct cpu *c, const struct insn *i)
{
	branch(c, rm_read(c, i, 8));
}

void op_call_rel(struct cpu *c, const struct insn *i)
{
	push(c, 8, c->next_rip);
	c->next_rip = i->imm;
}

void op_call_E(struct cpu *c, const struct insn *i)
{
	uint64_t t = rm_read(c, i, 8);
	if (!canonical(t))
		cpu_gp0(c);
	push(c, 8, c->next_rip);
	c->next_rip = t;
}

void op_ret(struct cpu *c, const struct insn *i)
{
	uint64_t t = stack_read(c, c->gpr[CPU_RSP], 8);
	branch(c, t);
	c->gpr[CPU_RSP] += 8 + (i->opcode == 0xC2 ? (i->imm & 0xffff) : 0);
}

void op_loop(struct cpu *c, const struct insn *i)
{
	unsigned asz = i->asz;
	uint64_t cx = reg_read(c, i, CPU_RCX, asz);
	bool take;
	if (i->opcode == 0xE3) {
		take = cx == 0;
	} else {
		cx = (cx - 1) & size_mask(asz);
		reg_write(c, i, CPU_RCX, asz, cx);
		bool zf = (c->rflags & FL_ZF) != 0;
		take = cx != 0 && (i->opcode == 0xE2 || (i->opcode == 0xE1) == zf);
	}
	if (take)
		c->next_rip = i->imm;
}

/* ---- system ---- */

void op_syscall(struct cpu *c, const struct insn *i)
{
	/* What the hardware does before entering the kernel (SDM SYSCALL):
	 * rcx = return address, r11 = rflags.  In user mode the runner plays
	 * the kernel, so the instruction ends the run. */
	if (c->sys) {
		cpu_sys_syscall(c);     /* system mode: the real thing */
		return;
	}
	c->gpr[CPU_RCX] = c->next_rip;
	c->gpr[CPU_R11] = c->rflags & ~0x10000ull;
	c->exit = CPU_EXIT_SYSCALL;
}

void op_ud2(struct cpu *c, const struct insn *i)
{
	cpu_ud(c);
}

void op_int3(struct cpu *c, const struct insn *i)
{
	if (c->sys) {
		cpu_sys_softint(c, CPU_EXC_BP, true);   /* through the IDT */
		return;
	}
	cpu_retire_trap(c);     /* a trap: reported after the instruction */
	cpu_fault(c, CPU_EXC_BP, 0);
}

void op_intn(struct cpu *c, const struct insn *i)
{
	/* User mode has no IDT: report the vector, rip past the instruction,
	 * and let the runner decide (Linux: int 0x80, or SIGSEGV). */
	if (c->sys) {
		cpu_sys_softint(c, (unsigned)(i->imm & 0xff), false);
		return;
	}
	cpu_retire_trap(c);
	cpu_fault(c, (unsigned)(i->imm & 0xff), 0);
}

void op_hlt(struct cpu *c, const struct insn *i)
{
	if (c->cpl != 0)
		cpu_gp0(c);     /* privileged */
	c->exit = CPU_EXIT_HALT;
}

static uint64_t tsc_now(const struct cpu *c)
{
	uint64_t now = c->sim ? c->sim->now : c->cycles * c->ps_per_insn;
	return (uint64_t)((unsigned __int128)now * c->tsc_hz / 1000000000000ull);
}

void op_rdtsc(struct cpu *c, const struct insn *i)
{
	if ((c->cr4 & 4) && c->cpl != 0)
		cpu_gp0(c);     /* CR4.TSD */
	uint64_t t = tsc_now(c);
	if (c->sys)
		t += c->sys->tsc_offset;        /* IA32_TSC writes */
	c->gpr[CPU_RAX] = (uint32_t)t;
	c->gpr[CPU_RDX] = t >> 32;
}

void op_rdtscp(struct cpu *c, const struct insn *i)
{
	op_rdtsc(c, i);
	c->gpr[CPU_RCX] = c->tsc_aux;
}

void op_inout(struct cpu *c, const struct insn *i)
{
	unsigned iopl = (c->rflags >> 12) & 3;
	if (c->cpl > iopl)
		cpu_gp0(c);     /* no TSS I/O bitmap is modelled */
	uint16_t port = (i->opcode & 8) ? (uint16_t)c->gpr[CPU_RDX] : (uint8_t)i->imm;
	unsigned size = i->osz == 1 ? 1 : i->osz == 2 ? 2 : 4;
	hook_fence(c, CPU_FENCE_IO);
	if (i->opcode & 2)
		bus_pio_out(c->bus, port, size, (uint32_t)c->gpr[CPU_RAX]);
	else
		reg_write(c, i, CPU_RAX, size, bus_pio_in(c->bus, port, size));
}

void op_fence(struct cpu *c, const struct insn *i)
{
	static const int kind[8] = { [5] = CPU_FENCE_LFENCE, [6] = CPU_FENCE_MFENCE,
				     [7] = CPU_FENCE_SFENCE };
	hook_fence(c, kind[(i->modrm >> 3) & 7]);
}

void op_clflush(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	int kind = i->form->mprefix != MP_66 ? CPU_FLUSH_CLFLUSH
		 : ((i->modrm >> 3) & 7) == 7 ? CPU_FLUSH_CLFLUSHOPT : CPU_FLUSH_CLWB;
	mem_check(c, a, BUS_R);         /* faults like a byte load would */
	if ((c->hooks && c->hooks->flush) || c->timing)
		hook_flush(c, mem_phys(c, a) & ~63ull, kind);
}

/* ---- SSE/x87 state ---- */

/* MXCSR bits that exist: flags, DAZ, masks, RC, FTZ. */
#define MXCSR_MASK 0xFFFFu

void op_ldmxcsr(struct cpu *c, const struct insn *i)
{
	uint32_t v = (uint32_t)mem_read(c, insn_ea(c, i), 4);
	if (v & ~MXCSR_MASK)
		cpu_gp0(c);
	c->mxcsr = v;
}

void op_stmxcsr(struct cpu *c, const struct insn *i)
{
	mem_write(c, insn_ea(c, i), 4, c->mxcsr);
}

void op_fxsave(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	if (a & 15)
		cpu_gp0(c);
	/* The hardware probes the far end first: a fault in the image
	 * reports its last byte (observed on hardware, cr2 = a + 511). */
	mem_check_write(c, a + 511, 1);
	uint8_t img[512];
	memset(img, 0, sizeof img);
	x87_fxsave(c, img, i->osz == 8);
	memcpy(img + 24, &c->mxcsr, 4);
	uint32_t mask = MXCSR_MASK;
	memcpy(img + 28, &mask, 4);
	memcpy(img + 160, c->xmm, 256);
	mem_write_buf(c, a, img, 512);
}

void op_fxrstor(struct cpu *c, const struct insn *i)
{
	uint64_t a = insn_ea(c, i);
	if (a & 15)
		cpu_gp0(c);
	mem_check(c, a + 511, BUS_R);  /* far end first, as for fxsave */
	uint8_t img[512];
	mem_read_buf(c, a, img, 512);
	uint32_t mx;
	memcpy(&mx, img + 24, 4);
	if (mx & ~MXCSR_MASK)
		cpu_gp0(c);
	x87_fxrstor(c, img, i->osz == 8);
	c->mxcsr = mx;
	memcpy(c->xmm, img + 160, 256);
}

