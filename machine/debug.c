/* machine/debug.c: debug exceptions (#DB, vector 1) in system mode:
 * single-step, instruction and data breakpoints through DR0-DR3 and DR7,
 * the DR6 status bits, RF, general detect, mov to/from DRn, and INT1
 * (Intel SDM Vol. 3 ch. 17, "Debug, Branch Profile, TSC, and Intel RTM
 * Features"; Vol. 2 MOV—Move to/from Debug Registers).
 *
 * Debugging costs nothing while it is off.  c->debug is set while TF or
 * RF is 1, an instruction breakpoint is enabled, or a trap is pending;
 * run_loop then calls cpu_debug_after() after every retired instruction.
 * That is the instruction boundary of SDM 17.3.1: traps the instruction
 * earned (single-step, data breakpoints) are reported there with RIP at
 * the next instruction, and the next instruction is matched against the
 * instruction breakpoints, a fault reported before it executes.  Data
 * breakpoints keep their linear pages out of the software TLB
 * (cpu_debug_data_page), so every access to such a page takes the slow
 * path, which calls cpu_debug_data().
 *
 * When traps fire (SDM 17.3.1.4, 6.8.3):
 *   - TF is sampled as each instruction begins (s->step), so a POPF or
 *     IRET that sets TF traps after the instruction that follows it, and
 *     one that clears TF still traps after itself;
 *   - an instruction that delivers an event (a fault, INT n, INT3, INT1)
 *     reports no single-step trap: delivery clears TF and the handler
 *     starts clean (cpu_debug_delivered);
 *   - after MOV SS / POP SS the traps wait one more instruction;
 *   - a rep string instruction retires in chunks of CPU_REP_CHUNK
 *     iterations: its traps come after the chunk, not the iteration.
 */
#include "machine/cpu_sys.h"
#include "machine/exec.h"
#include "machine/paging.h"

/* DR6 (SDM 17.2.3) and DR7 (17.2.4) bits. */
#define DR6_BD (1u << 13)               /* general detect */
#define DR6_BS (1u << 14)               /* single-step */
#define DR7_GD (1ull << 13)
#define FL_RF 0x10000ull

static uint64_t lin(const struct cpu *c, uint64_t a)
{
	return (c->efer & EFER_LMA) ? a : (uint32_t)a;
}

/* Breakpoint n's R/W field and its length in bytes (LEN 00 01 10 11 =
 * 1 2 8 4). */
static unsigned bp_rw(const struct cpu_sys *s, unsigned n)
{
	return (s->dr[7] >> (16 + 4 * n)) & 3;
}

static unsigned bp_len(const struct cpu_sys *s, unsigned n)
{
	static const unsigned len[4] = { 1, 2, 8, 4 };
	return len[(s->dr[7] >> (18 + 4 * n)) & 3];
}

/* Does anything need the per-instruction hook? */
static void update(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	c->debug = (c->rflags & (FL_TF | FL_RF)) || s->step || s->bp_exec || s->db_hits ||
		   s->db_pending || s->db_shadow || s->rf_keep;
}

/* Raise #DB with these DR6 bits.  A hit replaces B0-B3 (the other
 * breakpoints' conditions did not occur this time); BS and BD are added
 * to what software left in DR6, which the processor never clears. */
static _Noreturn void raise_db(struct cpu *c, uint32_t bits)
{
	uint64_t *d6 = &c->sys->dr[6];
	if (bits & 0xF)
		*d6 = (*d6 & ~0xFull) | (bits & 0xF);
	*d6 |= bits & (DR6_BD | DR6_BS);
	cpu_fault(c, CPU_EXC_DB, 0);
}

/* An instruction breakpoint at the instruction about to execute: a
 * fault, unless RF says the handler asked to resume past it (17.3.1.1).
 * Only the first byte of an instruction matches, with LEN = 00. */
static void code_breakpoint(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	if (!s->bp_exec || (c->rflags & FL_RF))
		return;
	uint64_t rip = lin(c, c->rip);
	uint32_t hit = 0;
	for (unsigned n = 0; n < 4; n++)
		if (((s->bp_exec >> n) & 1) && lin(c, s->dr[n]) == rip)
			hit |= 1u << n;
	if (hit)
		raise_db(c, hit);
}

void cpu_debug_after(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	uint32_t pend = s->db_pending | s->db_hits | (s->step ? DR6_BS : 0);
	bool shadow = s->db_shadow;
	s->db_hits = 0;
	s->db_shadow = false;
	/* TF as the next instruction begins. */
	s->step = (c->rflags & FL_TF) != 0;
	/* RF is cleared as each instruction starts, after the breakpoint
	 * check (17.3.1.1): only an IRET that loaded RF = 1 keeps it for the
	 * boundary that follows. */
	if (s->rf_keep)
		s->rf_keep = false;
	else
		c->rflags &= ~FL_RF;
	if (shadow) {
		/* MOV SS / POP SS: traps and the next instruction's
		 * breakpoint wait one instruction (6.8.3). */
		s->db_pending = pend;
		update(c);
		return;
	}
	s->db_pending = 0;
	update(c);
	if (pend && (c->exit == CPU_EXIT_BUDGET || c->exit == CPU_EXIT_HALT)) {
		/* A trap after HLT is taken before the CPU would sleep; the
		 * handler returns past the HLT. */
		c->exit = CPU_EXIT_BUDGET;
		raise_db(c, pend);
	}
	if (c->exit == CPU_EXIT_BUDGET)
		code_breakpoint(c);
}

void cpu_debug_delivered(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	/* Delivery cleared TF and RF; whatever the interrupted instruction
	 * earned is gone with it. */
	s->step = false;
	s->db_hits = 0;
	s->db_pending = 0;
	s->db_shadow = false;
	s->rf_keep = false;
	update(c);
	code_breakpoint(c);
}

void cpu_debug_ss_shadow(struct cpu *c)
{
	if (c->debug)
		c->sys->db_shadow = true;
}

bool cpu_debug_data_page(const struct cpu *c, uint64_t lpg)
{
	const struct cpu_sys *s = c->sys;
	for (unsigned n = 0; n < 4; n++) {
		if (!((s->bp_data >> n) & 1))
			continue;
		unsigned len = bp_len(s, n);
		uint64_t a = lin(c, s->dr[n]) & ~(uint64_t)(len - 1);
		if (a >> 12 == lpg || (a + len - 1) >> 12 == lpg)
			return true;
	}
	return false;
}

/* Data breakpoints (17.2.5): R/W 01 breaks on writes, 11 on reads and
 * writes; the address is aligned down to LEN, and any overlap with the
 * access hits. */
void cpu_debug_data(struct cpu *c, uint64_t la, unsigned len, bool write)
{
	struct cpu_sys *s = c->sys;
	la = lin(c, la);
	for (unsigned n = 0; n < 4; n++) {
		if (!((s->bp_data >> n) & 1) || (bp_rw(s, n) == 1 && !write))
			continue;
		unsigned blen = bp_len(s, n);
		uint64_t a = lin(c, s->dr[n]) & ~(uint64_t)(blen - 1);
		if (la < a + blen && a < la + len) {
			s->db_hits |= (uint8_t)(1u << n);
			c->debug = true;
		}
	}
}

/* DR7 or DR0-DR3 changed: which breakpoints are armed, and the pages of
 * data breakpoints leave the TLB. */
static void breakpoints_changed(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	s->bp_exec = s->bp_data = 0;
	for (unsigned n = 0; n < 4; n++) {
		if (!((s->dr[7] >> (2 * n)) & 3))       /* neither Ln nor Gn */
			continue;
		unsigned rw = bp_rw(s, n);
		if (rw == 0)
			s->bp_exec |= (uint8_t)(1u << n);
		else if (rw == 1 || rw == 3)
			s->bp_data |= (uint8_t)(1u << n);
		/* rw == 2: I/O breakpoints (CR4.DE) are not modelled. */
	}
	cpu_sys_tlb_flush(c);
	update(c);
}

void cpu_debug_reset(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	memset(s->dr, 0, sizeof s->dr);
	s->dr[6] = 0xFFFF0FF0u;
	s->dr[7] = 0x400;
	s->step = s->db_shadow = s->rf_keep = false;
	s->db_hits = 0;
	s->db_pending = 0;
	s->bp_exec = s->bp_data = 0;
	c->debug = false;
}

/* mov r64, DRn / mov DRn, r64 (0F 21 / 0F 23), SDM Vol. 2 "MOV—Move
 * to/from Debug Registers": #UD for DR4/DR5 with CR4.DE (else they alias
 * DR6/DR7), #GP(0) above CPL 0, then #DB (a fault, BD) while DR7.GD is
 * set, which clears GD so the handler can use the registers. */
void op_sys_movdr(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	if (!s)
		cpu_gp0(c);
	unsigned n = i->reg;
	if (n > 7)
		cpu_ud(c);
	if (n == 4 || n == 5) {
		if (c->cr4 & CR4_DE)
			cpu_ud(c);
		n += 2;
	}
	if (c->cpl != 0)
		cpu_gp0(c);
	if (s->dr[7] & DR7_GD) {
		s->dr[7] &= ~DR7_GD;
		c->rflags |= FL_RF;     /* a fault-class #DB pushes RF = 1 */
		raise_db(c, DR6_BD);
	}
	if (i->opcode == 0x21) {
		reg_write(c, i, i->rm, 8, s->dr[n]);
		return;
	}
	uint64_t v = c->gpr[i->rm];
	if ((n == 6 || n == 7) && (v >> 32))
		cpu_gp0(c);
	if (n == 6)
		v = (v & 0x1E00F) | 0xFFFF0FF0u;        /* B0-B3 BD BS BT RTM */
	if (n == 7)
		v = (v & ~0xD800ull) | 0x400;           /* bits 11 12 14 15: 0, 10: 1 */
	s->dr[n] = v;
	if (n != 6)
		breakpoints_changed(c);
}

/* INT1 / ICEBP (F1): a #DB trap without DR6 bits, delivered like a
 * hardware exception (no gate DPL check).  In user mode it ends the run
 * like int3. */
void op_int1(struct cpu *c, const struct insn *i)
{
	(void)i;
	if (c->sys) {
		cpu_sys_int1(c);
		return;
	}
	cpu_retire_trap(c);
	cpu_fault(c, CPU_EXC_DB, 0);
}
