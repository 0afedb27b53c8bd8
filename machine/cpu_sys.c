/* machine/cpu_sys.c: system state and semantics of the amd64 CPU.
 *
 * Everything here follows the Intel SDM (Vol. 2 for the instructions,
 * Vol. 3A chapters 2-6 for control registers, segmentation, paging and
 * interrupts).  machine/cpu_sys.h is the overview; this file is, in order:
 *
 *   state and reset          cpu_sys_enable, cpu_sys_reset, cpu_sys_boot
 *   memory with paging       the TLB fill from paging_walk(), the slow
 *                            paths cpu.c calls, implicit supervisor
 *                            accesses to descriptor tables
 *   control registers, MSRs  with their #GP checks and TLB side effects
 *   segments                 descriptor loads for mov Sreg, far transfers
 *   delivery                 exceptions, interrupts, int n, #DF, triple
 *                            fault (long-mode IDT gates)
 *   alignment checks         #AC at CPL 3 with CR0.AM and RFLAGS.AC
 *   instructions             the handlers of machine/insn_sys.def, plus
 *                            syscall/sysret/swapgs/iret
 *
 * Debug exceptions live in machine/debug.c and machine checks in
 * machine/mce.c; this file calls them from the memory slow paths and
 * event delivery.  Error codes and checks are those of the SDM's
 * pseudo-code; where QEMU 7.2 (TCG) differs, docs/machine.md says so.
 */
#include <stdio.h>
#include <stdlib.h>

#include "devices/irq.h"
#include "devices/lapic.h"
#include "machine/cpu_sys.h"
#include "machine/cpu_timing.h"
#include "machine/exec.h"
#include "machine/multiboot.h"
#include "machine/paging.h"
#include "sim/sim.h"

enum { EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12 };

/* How an event reached the CPU (SDM 6.4-6.5). */
enum ev_kind { EV_FAULT, EV_SOFT, EV_EXTERNAL };

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

static _Noreturn void fault_err(struct cpu *c, unsigned v, uint32_t err)
{
	cpu_fault(c, v, err);
}

bool cpu_sys_long64(const struct cpu *c)
{
	return (c->efer & EFER_LMA) && (c->sys->seg[SR_CS].attr & SEG_ATTR_L);
}

static void charge(struct cpu *c)
{
	/* Exception and interrupt deliveries cost one instruction's time, so
	 * a guest stuck in a fault loop still advances the clock and meets
	 * the run limits. */
	if (c->budget)
		c->budget--;
	c->cycles++;
	if (c->sim) {
		c->sim->now += c->ps_per_insn;
		c->sim->insns++;
	}
}

/* ---- state ---- */

static void seg_flat(struct seg *s, uint16_t sel, bool code, bool l, unsigned dpl)
{
	s->sel = sel;
	s->base = 0;
	s->limit = 0xFFFFFFFFu;
	s->attr = (uint16_t)((code ? 0xB : 0x3) | SEG_ATTR_S | (dpl << 5) | SEG_ATTR_P |
			     SEG_ATTR_G | (l ? SEG_ATTR_L : SEG_ATTR_DB));
}

void cpu_sys_tlb_flush(struct cpu *c)
{
	for (unsigned k = 0; k < CPU_TLB_SIZE; k++)
		c->tlb[k].page = ~0ull;
	if (c->sys && c->sys->st_tlb_flushes)
		++*c->sys->st_tlb_flushes;
}

/* Drop the TLB and every decoded instruction (the linear-to-physical map
 * of code may have changed). */
static void flush_all(struct cpu *c)
{
	cpu_flush_caches(c);
	memset(c->sys->code_lin, 0, sizeof c->sys->code_lin);
	if (c->sys->st_tlb_flushes)
		++*c->sys->st_tlb_flushes;
}

static void set_cpl(struct cpu *c, unsigned cpl)
{
	if (c->cpl != cpl) {
		c->cpl = (uint8_t)cpl;
		cpu_sys_tlb_flush(c);   /* TLB permissions are per CPL */
	}
}

/* Load CS (cache included) and follow the code size: the decode cache
 * holds instructions decoded for one mode only. */
static void set_cs(struct cpu *c, const struct seg *cs)
{
	struct cpu_sys *s = c->sys;
	s->seg[SR_CS] = *cs;
	bool code32 = !((c->efer & EFER_LMA) && (cs->attr & SEG_ATTR_L));
	if (code32 != s->code32) {
		s->code32 = code32;
		flush_all(c);
	}
}

void cpu_sys_reset(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	struct intc *ic = s->intc;
	struct lapic *la = s->lapic;
	uint64_t *st[6] = { s->st_interrupts, s->st_exceptions, s->st_tlb_flushes, s->st_walks,
			    s->st_double_faults, s->st_triple_faults };
	uint64_t *poison = s->poison;           /* the media's, not the CPU's state */
	size_t npoison = s->npoison;
	memset(s, 0, sizeof *s);
	s->intc = ic;
	s->lapic = la;
	s->poison = poison;
	s->npoison = npoison;
	s->st_interrupts = st[0], s->st_exceptions = st[1], s->st_tlb_flushes = st[2];
	s->st_walks = st[3], s->st_double_faults = st[4], s->st_triple_faults = st[5];
	s->delivering = -1;

	memset(c->gpr, 0, sizeof c->gpr);
	memset(c->xmm, 0, sizeof c->xmm);
	c->rip = 0;
	c->rflags = 2;
	c->cr0 = CR0_ET | CR0_NE;       /* no real mode: see cpu_sys.h */
	c->cr2 = c->cr3 = c->cr4 = 0;
	c->efer = 0;
	c->cpl = 0;
	c->fs_base = c->gs_base = 0;
	c->tsc_aux = 0;
	c->mxcsr = 0x1F80;
	c->x87.cw = 0x37F;
	c->x87.sw = 0;
	c->x87.top = 0;
	c->x87.tag_empty = 0xFF;
	for (int k = 0; k < SR_COUNT; k++)
		seg_flat(&s->seg[k], 0, k == SR_CS, false, 0);
	s->code32 = true;
	s->gdtr_limit = s->idtr_limit = 0xFFFF;
	s->ldtr.limit = s->tr.limit = 0xFFFF;
	s->tr.attr = 0xB | SEG_ATTR_P;
	cpu_debug_reset(c);                     /* DR6, DR7 */
	s->pat = 0x0007040600070406ull;         /* SDM 11.12.4: power-up PAT */
	s->misc_enable = 1;                     /* fast strings */
	flush_all(c);
}

int cpu_sys_enable(struct cpu *c, struct intc *intc, struct lapic *lapic)
{
	struct cpu_sys *s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	c->sys = s;
	s->intc = intc;
	s->lapic = lapic;
	if (c->sim) {
		struct stats *st = &c->sim->stats;
		s->st_interrupts = stats_counter(st, "cpu.interrupts");
		s->st_exceptions = stats_counter(st, "cpu.exceptions_delivered");
		s->st_tlb_flushes = stats_counter(st, "cpu.tlb_flushes");
		s->st_walks = stats_counter(st, "cpu.page_walks");
		s->st_double_faults = stats_counter(st, "cpu.double_faults");
		s->st_triple_faults = stats_counter(st, "cpu.triple_faults");
	}
	cpu_sys_reset(c);
	return 0;
}

void cpu_sys_free(struct cpu *c)
{
	if (c->sys)
		free(c->sys->poison);
	free(c->sys);
	c->sys = NULL;
}

/* ---- memory ---- */

static struct paging_regs paging_regs_of(const struct cpu *c)
{
	return (struct paging_regs){
		.cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer,
		.maxphyaddr = CPU_SYS_PHYS_BITS, .gbpages = true,
		.smap_ac = (c->rflags & FL_AC) != 0,
	};
}

/* Outside 64-bit mode linear addresses are 32 bits wide. */
static uint64_t linear(const struct cpu *c, uint64_t la)
{
	return (c->efer & EFER_LMA) ? la : (uint32_t)la;
}

/* Alignment checking (SDM 6.15, "Interrupt 17"): data accesses at CPL 3
 * with CR0.AM = 1 and RFLAGS.AC = 1.  While it is on, xlate() caches
 * nothing, so every access reaches the slow paths below, which check;
 * cpu_sys_flags_raised() drops the TLB when AC turns it on at CPL 3 (a
 * CPL change drops it anyway, and CR0 is written at CPL 0 only). */
static inline bool ac_active(const struct cpu *c)
{
	return c->cpl == 3 && (c->cr0 & CR0_AM) && (c->rflags & FL_AC);
}

/* An access of size bytes at la, misaligned for its size (Table 6-7:
 * word 2, doubleword 4, quadword 8).  Faults on the pages themselves
 * come first, then #AC(0). */
static _Noreturn void alignment_fault(struct cpu *c, uint64_t la, unsigned size, unsigned acc)
{
	cpu_sys_check(c, la, size, acc);
	cpu_fault(c, CPU_EXC_AC, 0);
}

/* May the fast path use this page?  Not while alignment checks are on,
 * not for the page of a data breakpoint (machine/debug.c), not for a
 * page with a poisoned line (machine/mce.c). */
static bool tlb_cacheable(const struct cpu *c, uint64_t lpg, uint64_t ppg)
{
	const struct cpu_sys *s = c->sys;
	if (ac_active(c))
		return false;
	if (s->bp_data && cpu_debug_data_page(c, lpg))
		return false;
	if (s->npoison && cpu_mce_page(c, ppg))
		return false;
	return true;
}

/* Linear to physical for an access of kind acc (BUS_R/W/X) at the
 * current CPL, faulting like the MMU; caches plain RAM pages in the TLB. */
static uint64_t xlate(struct cpu *c, uint64_t la, unsigned acc)
{
	if (c->bus->generation != c->bus_generation)
		flush_all(c);
	if ((c->efer & EFER_LMA) && !canonical(la))
		cpu_noncanonical(c, acc);       /* #SS(0) through SS */
	la = linear(c, la);
	uint64_t pa, psize = 0;
	unsigned perm;
	if (!(c->cr0 & CR0_PG)) {
		pa = la;
		perm = BUS_RWX;
	} else {
		struct paging_regs r = paging_regs_of(c);
		unsigned access = acc == BUS_W ? PAGING_WRITE : acc == BUS_X ? PAGING_EXEC : PAGING_READ;
		if (c->cpl == 3)
			access |= PAGING_USER;
		struct paging_xlat x;
		uint32_t err;
		if (c->sys->st_walks)
			++*c->sys->st_walks;
		if (paging_walk(c->bus, &r, la, access, &x, &err)) {
			c->cr2 = la;
			fault_err(c, CPU_EXC_PF, err);
		}
		pa = x.pa;
		psize = x.page_size;
		perm = BUS_R;
		if (acc == BUS_X || !(c->efer & EFER_NXE))
			perm |= BUS_X;
		/* A store is cached only once its walk has set D. */
		if (acc == BUS_W || (x.writable && x.dirty))
			perm |= BUS_W;
	}
	uint64_t lpg = la >> 12, ppg = pa >> 12, start = ppg << 12;
	if (!tlb_cacheable(c, lpg, ppg)) {
		struct cpu_tlb_entry *e = &c->tlb[lpg & (CPU_TLB_SIZE - 1)];
		if (e->page == lpg)
			e->page = ~0ull;
		return pa;
	}
	struct bus_region *r = bus_find(c->bus, start);
	if (r && r->host && r->base <= start && r->base + r->size - 1 >= start + 4095) {
		struct cpu_tlb_entry *e = &c->tlb[lpg & (CPU_TLB_SIZE - 1)];
		uint8_t *host = r->host + (start - r->base);
		if (e->page == lpg && e->host == host)
			perm |= e->perm;
		perm &= r->flags & BUS_RWX;
		if ((r->flags & BUS_STORE_HOOK) || cpu_code_page(c, ppg))
			perm &= ~(unsigned)BUS_W;
		e->page = lpg;
		e->host = host;
		e->ppage = ppg;
		/* The TLB model needs the page size (no paging: nothing to miss). */
		e->pshift = !(c->cr0 & CR0_PG) ? 63 : psize >= (1ull << 30) ? 30 :
			    psize >= (1ull << 22) ? 22 : psize >= (1ull << 21) ? 21 : 12;
		e->perm = perm;
	}
	return pa;
}

uint8_t cpu_sys_fetch_slow(struct cpu *c, uint64_t la)
{
	uint64_t pa = xlate(c, la, BUS_X);
	if (c->sys->npoison)
		cpu_mce_check(c, pa, 1, true);
	return (uint8_t)bus_read(c->bus, pa, 1);
}

uint64_t cpu_sys_read_slow(struct cpu *c, uint64_t la, unsigned size)
{
	struct cpu_sys *s = c->sys;
	if ((la & (size - 1)) && ac_active(c))
		alignment_fault(c, la, size, BUS_R);
	if (s->bp_data)
		cpu_debug_data(c, la, size, false);
	if ((la & 4095) + size <= 4096) {
		uint64_t pa = xlate(c, la, BUS_R);
		if (s->npoison)
			cpu_mce_check(c, pa, size, false);
		return bus_read(c->bus, pa, size);
	}
	uint64_t v = 0;
	for (unsigned k = 0; k < size; k++) {
		uint64_t pa = xlate(c, la + k, BUS_R);
		if (s->npoison)
			cpu_mce_check(c, pa, 1, false);
		v |= (uint64_t)bus_read(c->bus, pa, 1) << (8 * k);
	}
	return v;
}

void cpu_sys_check(struct cpu *c, uint64_t la, unsigned len, unsigned acc)
{
	if (!len)
		return;
	for (uint64_t a = la;;) {
		xlate(c, a, acc);
		uint64_t next = (a | 4095) + 1;
		if (next - la >= len)
			break;
		a = next;
	}
}

void cpu_sys_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	if ((la & (size - 1)) && ac_active(c))
		alignment_fault(c, la, size, BUS_W);
	if (c->sys->bp_data)
		cpu_debug_data(c, la, size, true);
	if ((la & 4095) + size <= 4096) {
		bus_write(c->bus, xlate(c, la, BUS_W), size, v);
		return;
	}
	/* Both pages first: a faulting store must not land halfway. */
	cpu_sys_check(c, la, size, BUS_W);
	for (unsigned k = 0; k < size; k++)
		bus_write(c->bus, xlate(c, la + k, BUS_W), 1, v >> (8 * k));
}

uint64_t cpu_sys_phys(struct cpu *c, uint64_t la)
{
	return xlate(c, la, BUS_R);
}

uint64_t cpu_sys_code_page(struct cpu *c, uint64_t la)
{
	uint64_t lpg = linear(c, la) >> 12;
	c->sys->code_lin[(lpg >> 6) & 63] |= 1ull << (lpg & 63);
	return xlate(c, la, BUS_X) >> 12;
}

/* Implicit supervisor accesses (descriptor tables, the TSS): privilege
 * checks as for CPL 0 whatever the CPL, and never cached in the TLB,
 * which holds the current CPL's permissions. */
static uint64_t super_pa(struct cpu *c, uint64_t la, bool write)
{
	if ((c->efer & EFER_LMA) && !canonical(la))
		cpu_gp0(c);
	la = linear(c, la);
	if (!(c->cr0 & CR0_PG))
		return la;
	struct paging_regs r = paging_regs_of(c);
	r.smap_ac = true;       /* implicit accesses are never SMAP-blocked */
	struct paging_xlat x;
	uint32_t err;
	if (paging_walk(c->bus, &r, la, write ? PAGING_WRITE : PAGING_READ, &x, &err)) {
		c->cr2 = la;
		fault_err(c, CPU_EXC_PF, err);
	}
	return x.pa;
}

static uint64_t super_read(struct cpu *c, uint64_t la, unsigned size)
{
	if ((la & 4095) + size <= 4096)
		return bus_read(c->bus, super_pa(c, la, false), size);
	uint64_t v = 0;
	for (unsigned k = 0; k < size; k++)
		v |= (uint64_t)bus_read(c->bus, super_pa(c, la + k, false), 1) << (8 * k);
	return v;
}

static void super_write8(struct cpu *c, uint64_t la, uint8_t v)
{
	bus_write(c->bus, super_pa(c, la, true), 1, v);
}

/* ---- control registers ---- */

#define CR0_VALID (CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | \
		   CR0_NW | CR0_CD | CR0_PG)
/* CR4: TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT.  The bits
 * of features CPUID does not advertise are reserved (#GP). */
#define CR4_VALID 0x7FCull
#define CR4_OSFXSR (1ull << 9)

uint64_t cpu_sys_read_cr(struct cpu *c, unsigned n)
{
	switch (n) {
	case 0: return c->cr0;
	case 2: return c->cr2;
	case 3: return c->cr3;
	case 4: return c->cr4;
	case 8: return c->sys->lapic ? lapic_get_cr8(c->sys->lapic) : 0;
	default: return 0;
	}
}

int cpu_sys_write_cr(struct cpu *c, unsigned n, uint64_t v)
{
	switch (n) {
	case 0: {
		if (v & ~(uint64_t)0xFFFFFFFF)
			return -1;
		v |= CR0_ET;                    /* ET is hardwired to 1 */
		v &= CR0_VALID;
		if ((v & CR0_PG) && !(v & CR0_PE))
			return -1;
		if ((v & CR0_NW) && !(v & CR0_CD))
			return -1;
		uint64_t efer = c->efer;
		if ((v & CR0_PG) && !(c->cr0 & CR0_PG) && (c->efer & EFER_LME)) {
			/* Activating IA-32e mode (SDM 9.8.5): PAE on, not from
			 * a 64-bit code segment. */
			if (!(c->cr4 & CR4_PAE) || (c->sys->seg[SR_CS].attr & SEG_ATTR_L))
				return -1;
			efer |= EFER_LMA;
		}
		if (!(v & CR0_PG) && (c->cr0 & CR0_PG) && (c->efer & EFER_LMA)) {
			if (cpu_sys_long64(c))
				return -1;      /* leave long mode from compatibility mode */
			efer &= ~EFER_LMA;
		}
		uint64_t changed = v ^ c->cr0;
		c->cr0 = v;
		c->efer = efer;
		set_cs(c, &c->sys->seg[SR_CS]);
		if (changed & (CR0_PG | CR0_WP | CR0_PE))
			flush_all(c);
		else if (changed & (CR0_TS | CR0_EM | CR0_MP))
			flush_all(c);   /* decoded SSE/x87 forms depend on TS/EM */
		return 0;
	}
	case 2:
		c->cr2 = v;
		return 0;
	case 3:
		if (v >> CPU_SYS_PHYS_BITS)
			return -1;
		c->cr3 = v;
		flush_all(c);
		if (c->timing)          /* the modelled TLBs too (no PCID, no G kept) */
			cpu_timing_tlb_flush(c->timing, ~0ull);
		return 0;
	case 4: {
		if (v & ~CR4_VALID)
			return -1;
		if ((c->efer & EFER_LMA) && !(v & CR4_PAE))
			return -1;
		uint64_t changed = v ^ c->cr4;
		c->cr4 = v;
		if (changed & (CR4_PSE | CR4_PAE | CR4_PGE | CR4_OSFXSR))
			flush_all(c);
		if ((changed & (CR4_PSE | CR4_PAE | CR4_PGE)) && c->timing)
			cpu_timing_tlb_flush(c->timing, ~0ull);
		return 0;
	}
	case 8:
		if (v >> 4)
			return -1;
		if (c->sys->lapic)
			lapic_set_cr8(c->sys->lapic, (uint32_t)v);
		cpu_request_exit(c);    /* a lower TPR can unmask an interrupt */
		return 0;
	default:
		return -1;
	}
}

/* ---- MSRs ---- */

static uint64_t tsc_value(const struct cpu *c)
{
	uint64_t now = c->sim ? c->sim->now : c->cycles * c->ps_per_insn;
	return (uint64_t)((unsigned __int128)now * c->tsc_hz / 1000000000000ull);
}

static bool pat_valid(uint64_t v)
{
	for (int k = 0; k < 8; k++) {
		unsigned t = (v >> (8 * k)) & 0xFF;
		if (t == 2 || t == 3 || t > 7)
			return false;
	}
	return true;
}

int cpu_sys_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v)
{
	struct cpu_sys *s = c->sys;
	switch (msr) {
	case MSR_TSC: *v = tsc_value(c) + s->tsc_offset; return 0;
	case MSR_APIC_BASE:
		if (!s->lapic)
			return -1;
		*v = lapic_get_base_msr(s->lapic);
		return 0;
	case MSR_FEATURE_CONTROL: *v = 1; return 0;     /* locked, VMX off */
	case MSR_TSC_ADJUST: *v = s->tsc_offset; return 0;
	case MSR_MTRRCAP: *v = 0; return 0;             /* no variable/fixed MTRRs */
	case MSR_SYSENTER_CS: *v = s->sysenter_cs; return 0;
	case MSR_SYSENTER_ESP: *v = s->sysenter_esp; return 0;
	case MSR_SYSENTER_EIP: *v = s->sysenter_eip; return 0;
	case MSR_MISC_ENABLE: *v = s->misc_enable; return 0;
	case MSR_MISC_FEATURE_CONTROL: *v = s->misc_feature; return 0;
	case MSR_PAT: *v = s->pat; return 0;
	case MSR_MTRR_DEF_TYPE: *v = s->mtrr_def_type; return 0;
	case MSR_EFER: *v = c->efer; return 0;
	case MSR_STAR: *v = s->star; return 0;
	case MSR_LSTAR: *v = s->lstar; return 0;
	case MSR_CSTAR: *v = s->cstar; return 0;
	case MSR_FMASK: *v = s->fmask; return 0;
	case MSR_FS_BASE: *v = c->fs_base; return 0;
	case MSR_GS_BASE: *v = c->gs_base; return 0;
	case MSR_KERNEL_GS_BASE: *v = s->kernel_gs_base; return 0;
	case MSR_TSC_AUX: *v = c->tsc_aux; return 0;
	default:
		/* Machine-check MSRs (machine/mce.c), or unknown. */
		return cpu_mce_rdmsr(c, msr, v) ? -1 : 0;
	}
}

int cpu_sys_wrmsr(struct cpu *c, uint32_t msr, uint64_t v)
{
	struct cpu_sys *s = c->sys;
	switch (msr) {
	case MSR_TSC: s->tsc_offset = v - tsc_value(c); return 0;
	case MSR_TSC_ADJUST: s->tsc_offset = v; return 0;
	case MSR_APIC_BASE:
		if (!s->lapic || lapic_set_base_msr(s->lapic, v) < 0)
			return -1;
		flush_all(c);   /* the APIC page may have moved on the bus */
		return 0;
	case MSR_SYSENTER_CS: s->sysenter_cs = v & 0xFFFF; return 0;
	case MSR_SYSENTER_ESP:
		if (!canonical(v))
			return -1;
		s->sysenter_esp = v;
		return 0;
	case MSR_SYSENTER_EIP:
		if (!canonical(v))
			return -1;
		s->sysenter_eip = v;
		return 0;
	case MSR_MISC_ENABLE:
		s->misc_enable = v;
		return 0;
	case MSR_MISC_FEATURE_CONTROL:
		/* Bits 0-3 disable the L2 streamer, L2 adjacent-line, DCU and
		 * DCU IP prefetchers (SDM Vol. 4, Table 2-20; Intel's note on
		 * disclosing MSR 0x1A4).  The model has one stream prefetcher:
		 * it is off while bit 0 is set. */
		if (v & ~0xFull)
			return -1;
		s->misc_feature = v;
		if (c->timing)
			c->timing->mem.prefetch_off = v & 1;
		return 0;
	case MSR_PAT:
		if (!pat_valid(v))
			return -1;
		s->pat = v;
		return 0;
	case MSR_MTRR_DEF_TYPE:
		if (v & ~0xCFFull)
			return -1;
		s->mtrr_def_type = v;
		return 0;
	case MSR_EFER: {
		/* SCE, LME, LMA (read-only: writes keep it), NXE. */
		if (v & ~(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE))
			return -1;
		if ((c->cr0 & CR0_PG) && ((v ^ c->efer) & EFER_LME))
			return -1;      /* LME changes only with paging off */
		uint64_t nv = (v & ~EFER_LMA) | (c->efer & EFER_LMA);
		if ((nv ^ c->efer) & EFER_NXE)
			cpu_sys_tlb_flush(c);
		c->efer = nv;
		return 0;
	}
	case MSR_STAR: s->star = v; return 0;
	case MSR_LSTAR: case MSR_CSTAR: case MSR_FS_BASE: case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!canonical(v))
			return -1;
		if (msr == MSR_LSTAR)
			s->lstar = v;
		else if (msr == MSR_CSTAR)
			s->cstar = v;
		else if (msr == MSR_FS_BASE)
			c->fs_base = s->seg[SR_FS].base = v;
		else if (msr == MSR_GS_BASE)
			c->gs_base = s->seg[SR_GS].base = v;
		else
			s->kernel_gs_base = v;
		return 0;
	case MSR_FMASK:
		if (v >> 32)
			return -1;
		s->fmask = v;
		return 0;
	case MSR_TSC_AUX:
		if (v >> 32)
			return -1;
		c->tsc_aux = (uint32_t)v;
		return 0;
	default:
		return cpu_mce_wrmsr(c, msr, v) ? -1 : 0;
	}
}

/* ---- segments ---- */

static void desc_to_seg(uint64_t d, uint16_t sel, struct seg *s)
{
	uint32_t lo = (uint32_t)d, hi = (uint32_t)(d >> 32);
	s->sel = sel;
	s->base = (lo >> 16) | ((hi & 0xFF) << 16) | (hi & 0xFF000000u);
	uint32_t lim = (lo & 0xFFFF) | (hi & 0xF0000);
	s->attr = (uint16_t)((hi >> 8) & 0xF0FF);
	if (s->attr & SEG_ATTR_G)
		lim = lim << 12 | 0xFFF;
	s->limit = lim;
}

/* Address of the descriptor for sel in the GDT or LDT, or -1 when the
 * selector lies beyond the table's limit (len: 8, or 16 for system
 * descriptors in long mode). */
static int64_t desc_addr(struct cpu *c, uint16_t sel, unsigned len)
{
	struct cpu_sys *s = c->sys;
	uint64_t base;
	uint32_t limit;
	if (sel & 4) {
		if ((s->ldtr.sel & ~3) == 0)
			return -1;
		base = s->ldtr.base;
		limit = s->ldtr.limit;
	} else {
		base = s->gdtr_base;
		limit = s->gdtr_limit;
	}
	if ((uint32_t)(sel & ~7) + len - 1 > limit)
		return -1;
	return (int64_t)(base + (sel & ~7));
}

static int desc_read(struct cpu *c, uint16_t sel, uint64_t *d)
{
	int64_t a = desc_addr(c, sel, 8);
	if (a < 0)
		return -1;
	*d = super_read(c, (uint64_t)a, 8);
	return 0;
}

/* Set the accessed bit of a code/data descriptor, as the CPU does on a
 * segment load (SDM 3.4.5.1). */
static void desc_set_accessed(struct cpu *c, uint16_t sel, uint64_t d)
{
	if (d & (1ull << 40))
		return;
	int64_t a = desc_addr(c, sel, 8);
	if (a >= 0)
		super_write8(c, (uint64_t)a + 5, (uint8_t)(d >> 40) | 1);
}

static void set_fsgs_base(struct cpu *c, unsigned sr)
{
	if (sr == SR_FS)
		c->fs_base = c->sys->seg[SR_FS].base;
	else if (sr == SR_GS)
		c->gs_base = c->sys->seg[SR_GS].base;
}

/* mov/pop to SS, DS, ES, FS, GS (SDM MOV, "operation"). */
static void load_data_seg(struct cpu *c, unsigned sr, uint16_t sel)
{
	struct cpu_sys *s = c->sys;
	unsigned rpl = sel & 3, cpl = c->cpl;
	if ((sel & ~3) == 0) {
		if (sr == SR_SS && (!cpu_sys_long64(c) || cpl == 3 || rpl != cpl))
			cpu_gp0(c);
		/* A null selector: the register is unusable; Intel CPUs
		 * also clear the base of FS and GS. */
		s->seg[sr].sel = sel;
		s->seg[sr].attr = sr == SR_SS ? s->seg[sr].attr : 0;
		if (sr == SR_FS || sr == SR_GS) {
			s->seg[sr].base = 0;
			set_fsgs_base(c, sr);
		}
		return;
	}
	uint64_t d;
	if (desc_read(c, sel, &d))
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	struct seg n;
	desc_to_seg(d, sel, &n);
	unsigned type = n.attr & 0xF, dpl = SEG_DPL(n.attr);
	if (!(n.attr & SEG_ATTR_S))
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	if (sr == SR_SS) {
		if (rpl != cpl || dpl != cpl || (type & 0xA) != 0x2)
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		if (!(n.attr & SEG_ATTR_P))
			fault_err(c, EXC_SS, sel & ~3u);
	} else {
		if ((type & 0xA) == 0x8)        /* execute-only code */
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		if ((type & 0xC) != 0xC && (rpl > dpl || cpl > dpl))
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		if (!(n.attr & SEG_ATTR_P))
			fault_err(c, EXC_NP, sel & ~3u);
	}
	desc_set_accessed(c, sel, d);
	n.attr |= 1;
	s->seg[sr] = n;
	set_fsgs_base(c, sr);
	if (sr == SR_SS) {
		s->shadow = true;       /* MOV SS / POP SS block interrupts for one insn */
		cpu_request_exit(c);
		cpu_debug_ss_shadow(c); /* ... and debug traps (SDM 6.8.3) */
	}
}

uint16_t cpu_sys_selector(const struct cpu *c, unsigned sreg)
{
	return sreg < SR_COUNT ? c->sys->seg[sreg].sel : 0;
}

/* Checks of a code segment for a far jmp/call (rpl_is_cpl: the new CPL
 * is the current one) or a far ret/iret to privilege level rpl. */
static void code_seg(struct cpu *c, uint16_t sel, unsigned new_cpl, bool ret, struct seg *out)
{
	if ((sel & ~3) == 0)
		cpu_gp0(c);
	uint64_t d;
	if (desc_read(c, sel, &d))
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	desc_to_seg(d, sel, out);
	unsigned type = out->attr & 0xF, dpl = SEG_DPL(out->attr), rpl = sel & 3;
	if (!(out->attr & SEG_ATTR_S) || !(type & 8))
		fault_err(c, CPU_EXC_GP, sel & ~3u);    /* gates and TSSs: not supported */
	bool conforming = type & 4;
	if (ret) {
		if (conforming ? dpl > rpl : dpl != rpl)
			fault_err(c, CPU_EXC_GP, sel & ~3u);
	} else if (conforming ? dpl > c->cpl : (rpl > c->cpl || dpl != c->cpl)) {
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	}
	if (!(out->attr & SEG_ATTR_P))
		fault_err(c, EXC_NP, sel & ~3u);
	if ((c->efer & EFER_LMA) && (out->attr & SEG_ATTR_L) && (out->attr & SEG_ATTR_DB))
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	desc_set_accessed(c, sel, d);
	out->attr |= 1;
	out->sel = (uint16_t)((sel & ~3) | new_cpl);
}

/* SS for a return to an outer level (iret, retf). */
static void stack_seg(struct cpu *c, uint16_t sel, unsigned new_cpl, bool target64, struct seg *out)
{
	if ((sel & ~3) == 0) {
		/* 64-bit mode allows a null SS below CPL 3. */
		if (!target64 || new_cpl == 3 || (sel & 3) != new_cpl)
			cpu_gp0(c);
		seg_flat(out, sel, false, false, new_cpl);
		return;
	}
	uint64_t d;
	if (desc_read(c, sel, &d))
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	desc_to_seg(d, sel, out);
	unsigned type = out->attr & 0xF;
	if ((sel & 3) != new_cpl || SEG_DPL(out->attr) != new_cpl || !(out->attr & SEG_ATTR_S) ||
	    (type & 0xA) != 0x2)
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	if (!(out->attr & SEG_ATTR_P))
		fault_err(c, EXC_SS, sel & ~3u);
	desc_set_accessed(c, sel, d);
	out->attr |= 1;
}

/* After a return to an outer level: data segments the new CPL may not
 * use become null (SDM RET/IRET "operation"). */
static void null_inner_segs(struct cpu *c)
{
	static const unsigned srs[] = { SR_ES, SR_DS, SR_FS, SR_GS };
	for (unsigned k = 0; k < 4; k++) {
		struct seg *g = &c->sys->seg[srs[k]];
		unsigned type = g->attr & 0xF;
		bool data_or_nc = !(type & 8) || !(type & 4);
		if ((g->attr & SEG_ATTR_S) && data_or_nc && SEG_DPL(g->attr) < c->cpl) {
			g->sel = 0;
			g->attr = 0;
		}
	}
}

/* ---- delivery ---- */

static bool has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

enum { CLASS_BENIGN, CLASS_CONTRIB, CLASS_PF, CLASS_DF };

static int exc_class(unsigned v)
{
	switch (v) {
	case 0: case 10: case 11: case 12: case 13: return CLASS_CONTRIB;
	case 14: return CLASS_PF;
	case 8: return CLASS_DF;
	default: return CLASS_BENIGN;
	}
}

static uint64_t tss_read64(struct cpu *c, unsigned off, uint32_t ext)
{
	struct cpu_sys *s = c->sys;
	if (off + 7 > s->tr.limit || (s->tr.sel & ~3) == 0)
		fault_err(c, EXC_TS, (s->tr.sel & ~3u) | ext);
	return super_read(c, s->tr.base + off, 8);
}

/* Deliver vector through a 64-bit IDT gate (SDM 6.14).  ret_rip is the
 * saved RIP: the faulting instruction (faults), the next one (traps,
 * int n, interrupts). */
static void deliver64(struct cpu *c, unsigned v, enum ev_kind kind, bool push_err, uint32_t err,
		      uint64_t ret_rip)
{
	struct cpu_sys *s = c->sys;
	uint32_t ext = kind == EV_EXTERNAL;
	uint32_t idt_err = v * 8 + 2 + ext;
	if (v * 16 + 15 > s->idtr_limit)
		fault_err(c, CPU_EXC_GP, idt_err);
	uint64_t lo = super_read(c, s->idtr_base + v * 16, 8);
	uint64_t hi = super_read(c, s->idtr_base + v * 16 + 8, 8);
	unsigned gtype = (lo >> 40) & 0x1F, gdpl = (lo >> 45) & 3;
	if (gtype != 0xE && gtype != 0xF)
		fault_err(c, CPU_EXC_GP, idt_err);
	if (kind == EV_SOFT && gdpl < c->cpl)
		fault_err(c, CPU_EXC_GP, v * 8 + 2);
	if (!((lo >> 47) & 1))
		fault_err(c, EXC_NP, idt_err);
	uint16_t sel = (uint16_t)(lo >> 16);
	uint64_t target = (lo & 0xFFFF) | ((lo >> 32) & 0xFFFF0000ull) | (hi << 32);
	unsigned ist = (lo >> 32) & 7;
	if ((sel & ~3) == 0)
		fault_err(c, CPU_EXC_GP, ext);
	uint64_t d;
	if (desc_read(c, sel, &d))
		fault_err(c, CPU_EXC_GP, (sel & ~3u) | ext);
	struct seg cs;
	desc_to_seg(d, sel, &cs);
	unsigned ctype = cs.attr & 0xF, cdpl = SEG_DPL(cs.attr);
	if (!(cs.attr & SEG_ATTR_S) || !(ctype & 8) || !(cs.attr & SEG_ATTR_L) ||
	    (cs.attr & SEG_ATTR_DB) || cdpl > c->cpl)
		fault_err(c, CPU_EXC_GP, (sel & ~3u) | ext);
	if (!(cs.attr & SEG_ATTR_P))
		fault_err(c, EXC_NP, (sel & ~3u) | ext);
	if (!canonical(target))
		fault_err(c, CPU_EXC_GP, ext);
	unsigned old_cpl = c->cpl;
	unsigned new_cpl = (ctype & 4) ? old_cpl : cdpl;
	uint64_t rsp = c->gpr[CPU_RSP];
	if (ist)
		rsp = tss_read64(c, 0x24 + 8 * (ist - 1), ext);
	else if (new_cpl < old_cpl)
		rsp = tss_read64(c, 4 + 8 * new_cpl, ext);
	if (!canonical(rsp))
		fault_err(c, EXC_SS, ext);
	rsp &= ~15ull;

	/* The frame, written at the new privilege level; a fault here is a
	 * fault during delivery (s->delivering restores the CPL). */
	uint64_t frame[6];
	unsigned n = 0;
	if (push_err)
		frame[n++] = err;
	frame[n++] = ret_rip;
	frame[n++] = s->seg[SR_CS].sel;
	frame[n++] = c->rflags;
	frame[n++] = c->gpr[CPU_RSP];
	frame[n++] = s->seg[SR_SS].sel;
	set_cpl(c, new_cpl);
	for (unsigned k = 0; k < n; k++)
		stack_write(c, rsp - 8 * (n - k), 8, frame[k]);

	/* Commit. */
	rsp -= 8 * n;
	if (new_cpl < old_cpl) {
		/* SS becomes a null selector with RPL = new CPL. */
		seg_flat(&s->seg[SR_SS], (uint16_t)new_cpl, false, false, new_cpl);
	}
	desc_set_accessed(c, sel, d);
	cs.attr |= 1;
	cs.sel = (uint16_t)((sel & ~3) | new_cpl);
	set_cs(c, &cs);
	c->gpr[CPU_RSP] = rsp;
	c->rflags &= ~(uint64_t)(FL_TF | FL_NT | 0x10000 /* RF */ | 0x20000 /* VM */);
	if (gtype == 0xE)
		c->rflags &= ~(uint64_t)FL_IF;
	c->rip = c->next_rip = target;
	s->halted = false;
}

/* Deliver vector through a 32-bit IDT gate (protected mode, SDM 6.12):
 * 8-byte gates, the stack switch through the 32-bit TSS (ESP0/SS0 at
 * offsets 4/8), 4-byte frame slots.  16-bit gates and task gates are not
 * modelled (#GP). */
static void deliver32(struct cpu *c, unsigned v, enum ev_kind kind, bool push_err, uint32_t err,
		      uint64_t ret_rip)
{
	struct cpu_sys *s = c->sys;
	uint32_t ext = kind == EV_EXTERNAL;
	uint32_t idt_err = v * 8 + 2 + ext;
	if (v * 8 + 7 > s->idtr_limit)
		fault_err(c, CPU_EXC_GP, idt_err);
	uint64_t g = super_read(c, s->idtr_base + v * 8, 8);
	uint32_t lo = (uint32_t)g, hi = (uint32_t)(g >> 32);
	unsigned gtype = (hi >> 8) & 0x1F, gdpl = (hi >> 13) & 3;
	if (gtype != 0xE && gtype != 0xF)
		fault_err(c, CPU_EXC_GP, idt_err);
	if (kind == EV_SOFT && gdpl < c->cpl)
		fault_err(c, CPU_EXC_GP, v * 8 + 2);
	if (!((hi >> 15) & 1))
		fault_err(c, EXC_NP, idt_err);
	uint16_t sel = (uint16_t)(lo >> 16);
	uint32_t target = (lo & 0xFFFF) | (hi & 0xFFFF0000u);
	if ((sel & ~3) == 0)
		fault_err(c, CPU_EXC_GP, ext);
	uint64_t d;
	if (desc_read(c, sel, &d))
		fault_err(c, CPU_EXC_GP, (sel & ~3u) | ext);
	struct seg cs;
	desc_to_seg(d, sel, &cs);
	unsigned ctype = cs.attr & 0xF, cdpl = SEG_DPL(cs.attr);
	if (!(cs.attr & SEG_ATTR_S) || !(ctype & 8) || cdpl > c->cpl)
		fault_err(c, CPU_EXC_GP, (sel & ~3u) | ext);
	if (!(cs.attr & SEG_ATTR_P))
		fault_err(c, EXC_NP, (sel & ~3u) | ext);
	if (target > cs.limit)
		fault_err(c, CPU_EXC_GP, ext);
	unsigned old_cpl = c->cpl;
	unsigned new_cpl = (ctype & 4) ? old_cpl : cdpl;
	uint32_t esp = (uint32_t)c->gpr[CPU_RSP];
	struct seg ss = s->seg[SR_SS];
	bool outer = new_cpl < old_cpl;
	if (outer) {
		unsigned off = 4 + 8 * new_cpl;
		if (off + 5 > s->tr.limit)
			fault_err(c, EXC_TS, (s->tr.sel & ~3u) | ext);
		esp = (uint32_t)super_read(c, s->tr.base + off, 4);
		uint16_t ssel = (uint16_t)super_read(c, s->tr.base + off + 4, 2);
		unsigned saved = c->cpl;
		c->cpl = (uint8_t)new_cpl;      /* SS is checked against the new CPL */
		if ((ssel & ~3) == 0 || (ssel & 3) != new_cpl) {
			c->cpl = (uint8_t)saved;
			fault_err(c, EXC_TS, (ssel & ~3u) | ext);
		}
		stack_seg(c, ssel, new_cpl, false, &ss);
		c->cpl = (uint8_t)saved;
	}
	uint32_t frame[6];
	unsigned n = 0;
	if (push_err)
		frame[n++] = err;
	frame[n++] = (uint32_t)ret_rip;
	frame[n++] = s->seg[SR_CS].sel;
	frame[n++] = (uint32_t)c->rflags;
	if (outer) {
		frame[n++] = (uint32_t)c->gpr[CPU_RSP];
		frame[n++] = s->seg[SR_SS].sel;
	}
	set_cpl(c, new_cpl);
	for (unsigned k = 0; k < n; k++)
		stack_write(c, ss.base + (uint32_t)(esp - 4 * (n - k)), 4, frame[k]);
	desc_set_accessed(c, sel, d);
	cs.attr |= 1;
	cs.sel = (uint16_t)((sel & ~3) | new_cpl);
	s->seg[SR_SS] = ss;
	set_cs(c, &cs);
	c->gpr[CPU_RSP] = (uint32_t)(esp - 4 * n);
	c->rflags &= ~(uint64_t)(FL_TF | FL_NT | 0x10000 | 0x20000);
	if (gtype == 0xE)
		c->rflags &= ~(uint64_t)FL_IF;
	c->rip = c->next_rip = target;
	s->halted = false;
}

static void deliver(struct cpu *c, unsigned v, enum ev_kind kind, bool push_err, uint32_t err,
		    uint64_t ret_rip)
{
	struct cpu_sys *s = c->sys;
	s->delivering = (int)v;
	s->deliver_ext = kind != EV_FAULT;
	s->saved_cpl = c->cpl;
	if (!(c->cr0 & CR0_PE)) {
		/* Real mode is not modelled (cpu_sys.h): a shutdown. */
		s->delivering = -1;
		c->exit = CPU_EXIT_TRIPLE_FAULT;
		c->budget = 0;
		if (s->st_triple_faults)
			++*s->st_triple_faults;
		return;
	}
	if (c->efer & EFER_LMA)
		deliver64(c, v, kind, push_err, err, ret_rip);
	else
		deliver32(c, v, kind, push_err, err, ret_rip);
	s->delivering = -1;
	cpu_debug_delivered(c);         /* TF/RF now 0; a breakpoint on the handler? */
}

static void triple_fault(struct cpu *c)
{
	c->exit = CPU_EXIT_TRIPLE_FAULT;
	c->budget = 0;
	if (c->sys->st_triple_faults)
		++*c->sys->st_triple_faults;
}

/* Fault-class exceptions (SDM Table 6-1); #DB is set up by debug.c. */
static bool fault_class(unsigned v)
{
	return v == 0 || (v >= 5 && v <= 7) || (v >= 10 && v <= 14) || v == 16 || v == 17 ||
	       v == 19 || v == 20;
}

void cpu_sys_exception(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	unsigned v = c->exc_vector;
	uint32_t err = c->exc_error;
	charge(c);
	if (v == CPU_EXC_MC && s->mc_shutdown) {
		/* #MC with CR4.MCE = 0 or MCIP already set: shutdown. */
		s->mc_shutdown = false;
		s->delivering = -1;
		triple_fault(c);
		return;
	}
	/* A fault handler sees RF = 1 in the saved RFLAGS, so returning to
	 * the instruction does not hit its instruction breakpoint again
	 * (SDM 17.3.1.1); delivery clears RF itself. */
	if (fault_class(v))
		c->rflags |= 0x10000;
	if (s->delivering >= 0) {
		/* A fault while delivering an earlier event (SDM Table 6-5). */
		int first = s->deliver_ext ? CLASS_BENIGN : exc_class((unsigned)s->delivering);
		int second = exc_class(v);
		s->delivering = -1;
		set_cpl(c, s->saved_cpl);
		if (first == CLASS_DF) {
			triple_fault(c);
			return;
		}
		if ((first == CLASS_CONTRIB && second == CLASS_CONTRIB) ||
		    (first == CLASS_PF && (second == CLASS_CONTRIB || second == CLASS_PF))) {
			v = EXC_DF;
			err = 0;
			if (s->st_double_faults)
				++*s->st_double_faults;
		}
	}
	if (s->st_exceptions)
		++*s->st_exceptions;
	deliver(c, v, EV_FAULT, has_error_code(v), err, c->rip);
}

void cpu_sys_softint(struct cpu *c, unsigned vector, bool int3)
{
	(void)int3;     /* int3 and int n both check the gate's DPL */
	if (c->sys->st_exceptions)
		++*c->sys->st_exceptions;
	deliver(c, vector, EV_SOFT, false, 0, c->next_rip);
}

/* INT1 / ICEBP: a trap through vector 1 without a gate DPL check, an
 * external event for error codes (SDM Vol. 2 INT n/INTO/INT3/INT1, Vol.
 * 3 6.13: EXT is clear only for INT n, INT3 and INTO). */
void cpu_sys_int1(struct cpu *c)
{
	if (c->sys->st_exceptions)
		++*c->sys->st_exceptions;
	deliver(c, CPU_EXC_DB, EV_EXTERNAL, false, 0, c->next_rip);
}

bool cpu_sys_wakeup_pending(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	if (!s->intc)
		return false;
	if (intc_nmi_pending(s->intc) && !s->nmi_blocked)
		return true;
	return (c->rflags & FL_IF) && intc_pending(s->intc);
}

bool cpu_sys_interrupts(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	if (!s->intc || s->shadow)
		return false;
	bool nmi = intc_nmi_pending(s->intc) && !s->nmi_blocked;
	if (!nmi && !((c->rflags & FL_IF) && intc_pending(s->intc)))
		return false;
	/* Outside cpu_run: faults during delivery come back here. */
	c->exit = CPU_EXIT_BUDGET;
	c->budget = 1;
	if (setjmp(c->fault)) {
		cpu_sys_exception(c);   /* may longjmp here again; ends in a triple fault */
		s->halted = false;
		return true;
	}
	int v;
	if (nmi) {
		intc_nmi_ack(s->intc);
		s->nmi_blocked = true;
		v = 2;
	} else {
		v = intc_ack(s->intc);
		if (v < 0)
			return false;   /* the request went away */
	}
	if (s->st_interrupts)
		++*s->st_interrupts;
	charge(c);
	c->next_rip = c->rip;
	deliver(c, (unsigned)v, EV_EXTERNAL, false, 0, c->rip);
	s->halted = false;
	return true;
}

/* ---- boot ---- */

void cpu_sys_boot(struct cpu *c, const struct boot_entry *b)
{
	struct cpu_sys *s = c->sys;
	cpu_sys_reset(c);
	s->gdtr_base = b->gdt_base;
	s->gdtr_limit = b->gdt_limit;
	c->cr0 = CR0_PE | CR0_ET | CR0_NE;
	if (b->mode == BOOT_LONG64) {
		c->cr4 = CR4_PAE;
		c->cr3 = b->cr3;
		c->efer = EFER_LME | EFER_LMA;
		c->cr0 |= CR0_PG;
	}
	/* The loader's segments, from its GDT. */
	uint64_t d;
	for (int k = 0; k < SR_COUNT; k++) {
		uint16_t sel = k == SR_CS ? b->cs : b->ds;
		if (desc_addr(c, sel, 8) >= 0) {
			d = super_read(c, b->gdt_base + (sel & ~7u), 8);
			desc_to_seg(d, sel, &s->seg[k]);
		} else {
			seg_flat(&s->seg[k], sel, k == SR_CS, b->mode == BOOT_LONG64 && k == SR_CS, 0);
		}
	}
	c->fs_base = c->gs_base = 0;
	s->seg[SR_FS].base = s->seg[SR_GS].base = 0;
	s->code32 = !(b->mode == BOOT_LONG64);
	c->rip = b->entry;
	c->gpr[CPU_RAX] = b->eax;
	c->gpr[CPU_RBX] = b->ebx;
	c->rflags = 2;
	c->cpl = 0;
	flush_all(c);
}

/* ---- instructions ---- */

static void need_cpl0(struct cpu *c)
{
	if (c->cpl != 0)
		cpu_gp0(c);
}

void cpu_sys_if_raised(struct cpu *c)
{
	cpu_request_exit(c);    /* the machine loop looks for interrupts */
}

void cpu_sys_flags_raised(struct cpu *c, uint64_t old)
{
	uint64_t up = c->rflags & ~old;
	if ((up & FL_AC) && ac_active(c))
		cpu_sys_tlb_flush(c);   /* alignment checks start: no fast path */
	if (c->rflags & (FL_TF | 0x10000))
		c->debug = true;        /* machine/debug.c samples TF, clears RF */
}

/* sti: if IF was 0, interrupts stay blocked for one more instruction. */
void cpu_sys_sti(struct cpu *c, bool was_if)
{
	if (was_if)
		return;
	c->sys->shadow = true;
	cpu_request_exit(c);
}

void cpu_sys_syscall(struct cpu *c)
{
	struct cpu_sys *s = c->sys;
	if (!(c->efer & EFER_SCE) || !cpu_sys_long64(c))
		cpu_ud(c);
	c->gpr[CPU_RCX] = c->next_rip;
	c->gpr[CPU_R11] = c->rflags & ~0x10000ull;
	uint16_t sel = (uint16_t)(s->star >> 32);
	struct seg cs;
	seg_flat(&cs, sel & 0xFFFC, true, true, 0);
	set_cs(c, &cs);
	seg_flat(&s->seg[SR_SS], (uint16_t)((sel + 8) & 0xFFFC), false, false, 0);
	c->rflags = (c->rflags & ~(s->fmask | 0x10000ull)) | 2;
	set_cpl(c, 0);
	c->next_rip = s->lstar;
}

void op_sys_sysret(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	if (!s || !(c->efer & EFER_SCE) || !cpu_sys_long64(c))
		cpu_ud(c);
	need_cpl0(c);
	uint16_t sel = (uint16_t)(s->star >> 48);
	uint64_t rip = c->gpr[CPU_RCX];
	bool was_if = c->rflags & FL_IF;
	struct seg cs;
	if (i->osz == 8) {
		if (!canonical(rip))
			cpu_gp0(c);
		seg_flat(&cs, (uint16_t)((sel + 16) | 3), true, true, 3);
	} else {
		rip = (uint32_t)rip;
		seg_flat(&cs, (uint16_t)(sel | 3), true, false, 3);
	}
	set_cs(c, &cs);
	seg_flat(&s->seg[SR_SS], (uint16_t)((sel + 8) | 3), false, false, 3);
	uint64_t old_fl = c->rflags;
	c->rflags = (c->gpr[CPU_R11] & 0x3C7FD7ull) | 2;
	set_cpl(c, 3);
	c->next_rip = rip;
	if (!was_if && (c->rflags & FL_IF))
		cpu_sys_if_raised(c);
	cpu_sys_flags_raised(c, old_fl);
}

/* iret / iretd / iretq (SDM IRET, IA-32e mode path). */
void op_sys_iret(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	if (!s)
		cpu_gp0(c);
	if (c->rflags & FL_NT)
		cpu_gp0(c);     /* task return: not modelled (#GP in IA-32e mode) */
	unsigned osz = i->osz;
	uint64_t sp = c->gpr[CPU_RSP];
	uint64_t rip = stack_read(c, sp, osz);
	uint16_t csel = (uint16_t)stack_read(c, sp + osz, osz);
	uint64_t fl = stack_read(c, sp + 2 * osz, osz);
	unsigned rpl = csel & 3;
	bool pop_stack = cpu_sys_long64(c) || rpl > c->cpl;
	uint64_t nsp = sp + 3 * osz;
	uint16_t ssel = s->seg[SR_SS].sel;
	if (pop_stack) {
		nsp = stack_read(c, sp + 3 * osz, osz);
		ssel = (uint16_t)stack_read(c, sp + 4 * osz, osz);
	}
	if (!(c->efer & EFER_LMA) && (fl & 0x20000) && c->cpl == 0)
		cpu_gp0(c);     /* return to virtual-8086 mode: not modelled */
	if (rpl < c->cpl)
		fault_err(c, CPU_EXC_GP, csel & ~3u);
	struct seg cs, ss = s->seg[SR_SS];
	code_seg(c, csel, rpl, true, &cs);
	bool t64 = (c->efer & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	if (t64 ? !canonical(rip) : rip > cs.limit)
		cpu_gp0(c);
	if (pop_stack)
		stack_seg(c, ssel, rpl, t64, &ss);
	/* RFLAGS: what this CPL may change (SDM IRET). */
	unsigned iopl = (c->rflags >> 12) & 3;
	uint64_t mask = FL_STATUS | FL_TF | FL_DF | FL_NT | 0x10000 | FL_AC | FL_ID;
	if (c->cpl <= iopl)
		mask |= FL_IF;
	if (c->cpl == 0)
		mask |= 0x3000 | 0x180000;      /* IOPL, VIF, VIP */
	if (osz == 2)
		mask &= 0xFFFF;
	bool was_if = c->rflags & FL_IF;
	uint64_t old_fl = c->rflags;
	c->rflags = (c->rflags & ~mask) | (fl & mask) | 2;
	set_cs(c, &cs);
	s->seg[SR_SS] = ss;
	c->gpr[CPU_RSP] = pop_stack ? nsp : sp + 3 * osz;
	bool outer = rpl > c->cpl;
	set_cpl(c, rpl);
	if (outer)
		null_inner_segs(c);
	c->next_rip = t64 ? rip : (uint32_t)rip;
	s->nmi_blocked = false;
	if (!was_if && (c->rflags & FL_IF))
		cpu_sys_if_raised(c);
	/* RF from the image suppresses the breakpoint of the instruction
	 * returned to (SDM 17.3.1.1). */
	s->rf_keep = (c->rflags & 0x10000) != 0;
	cpu_sys_flags_raised(c, old_fl);
}

/* retf / retf imm16 (lret, lretq). */
void op_sys_retf(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	if (!s)
		cpu_gp0(c);
	unsigned osz = i->osz;
	uint64_t imm = i->opcode == 0xCA ? (i->imm & 0xFFFF) : 0;
	uint64_t sp = c->gpr[CPU_RSP];
	uint64_t rip = stack_read(c, sp, osz);
	uint16_t csel = (uint16_t)stack_read(c, sp + osz, osz);
	unsigned rpl = csel & 3;
	if (rpl < c->cpl)
		fault_err(c, CPU_EXC_GP, csel & ~3u);
	struct seg cs, ss = s->seg[SR_SS];
	code_seg(c, csel, rpl, true, &cs);
	bool t64 = (c->efer & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	if (t64 ? !canonical(rip) : rip > cs.limit)
		cpu_gp0(c);
	uint64_t nsp = sp + 2 * osz + imm;
	bool outer = rpl > c->cpl;
	if (outer) {
		uint64_t usp = stack_read(c, nsp, osz);
		uint16_t ssel = (uint16_t)stack_read(c, nsp + osz, osz);
		stack_seg(c, ssel, rpl, t64, &ss);
		nsp = usp + imm;
	}
	set_cs(c, &cs);
	s->seg[SR_SS] = ss;
	c->gpr[CPU_RSP] = nsp;
	set_cpl(c, rpl);
	if (outer)
		null_inner_segs(c);
	c->next_rip = t64 ? rip : (uint32_t)rip;
}

/* jmp far / call far through memory (FF /5, FF /3): m16:16/32/64. */
void op_sys_far(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	if (!s)
		cpu_gp0(c);
	unsigned osz = i->osz;
	uint64_t a = insn_ea(c, i);
	uint64_t off = mem_read(c, a, osz);
	uint16_t sel = (uint16_t)mem_read(c, a + osz, 2);
	struct seg cs;
	code_seg(c, sel, c->cpl, false, &cs);
	bool t64 = (c->efer & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	if (t64 ? !canonical(off) : off > cs.limit)
		cpu_gp0(c);
	bool call = ((i->modrm >> 3) & 7) == 3;
	if (call) {
		uint64_t sp = c->gpr[CPU_RSP];
		stack_check_write(c, sp - 2 * osz, 2 * osz);
		stack_write(c, sp - osz, osz, s->seg[SR_CS].sel);
		stack_write(c, sp - 2 * osz, osz, c->next_rip);
		c->gpr[CPU_RSP] = sp - 2 * osz;
	}
	set_cs(c, &cs);
	c->next_rip = t64 ? off : (uint32_t)off;
}

/* mov Sreg, r/m16 (8E). */
void op_sys_mov_SE(struct cpu *c, const struct insn *i)
{
	unsigned sr = (i->modrm >> 3) & 7;
	if (sr == SR_CS || sr >= SR_COUNT)
		cpu_ud(c);
	uint16_t sel = (uint16_t)rm_read(c, i, 2);
	if (!c->sys) {
		/* User mode: only the flat selectors Linux gives programs. */
		if (sel != 0 && sel != 0x2b && sel != 0x33)
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		return;
	}
	load_data_seg(c, sr, sel);
}

/* push fs/gs, pop fs/gs (0F A0/A1/A8/A9). */
void op_sys_pushpop_seg(struct cpu *c, const struct insn *i)
{
	unsigned sr = (i->opcode & 8) ? SR_GS : SR_FS;
	if (!(i->opcode & 1)) {
		push(c, i->osz, c->sys ? c->sys->seg[sr].sel : 0);
		return;
	}
	uint16_t sel = (uint16_t)stack_read(c, c->gpr[CPU_RSP], i->osz);
	if (c->sys)
		load_data_seg(c, sr, sel);
	else if (sel != 0)
		fault_err(c, CPU_EXC_GP, sel & ~3u);
	c->gpr[CPU_RSP] += i->osz;
}

/* mov r64, CRn / mov CRn, r64 (0F 20 / 0F 22). */
void op_sys_movcr(struct cpu *c, const struct insn *i)
{
	if (!c->sys)
		cpu_gp0(c);
	unsigned n = i->reg;
	if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8)
		cpu_ud(c);
	need_cpl0(c);
	if (i->opcode == 0x20) {
		reg_write(c, i, i->rm, 8, cpu_sys_read_cr(c, n));
		return;
	}
	if (cpu_sys_write_cr(c, n, c->gpr[i->rm]))
		cpu_gp0(c);
}

/* rdmsr / wrmsr (0F 32 / 0F 30). */
void op_sys_msr(struct cpu *c, const struct insn *i)
{
	if (!c->sys)
		cpu_gp0(c);
	need_cpl0(c);
	uint32_t msr = (uint32_t)c->gpr[CPU_RCX];
	if (i->opcode == 0x32) {
		uint64_t v;
		if (cpu_sys_rdmsr(c, msr, &v))
			cpu_gp0(c);
		c->gpr[CPU_RAX] = (uint32_t)v;
		c->gpr[CPU_RDX] = v >> 32;
		return;
	}
	uint64_t v = (uint32_t)c->gpr[CPU_RAX] | (c->gpr[CPU_RDX] << 32);
	if (cpu_sys_wrmsr(c, msr, v))
		cpu_gp0(c);
}

/* clts, invd, wbinvd. */
void op_sys_misc(struct cpu *c, const struct insn *i)
{
	if (!c->sys)
		cpu_gp0(c);
	need_cpl0(c);
	if (i->opcode == 0x06) {
		if (c->cr0 & CR0_TS) {
			c->cr0 &= ~CR0_TS;
			flush_all(c);
		}
		return;
	}
	/* wbinvd writes every dirty line back (SDM Vol. 2: WBINVD), which
	 * under ADR makes them persistent; it is serializing.  invd would
	 * discard them instead; RAM here always holds the newest data, so it
	 * is treated as wbinvd (no system software uses invd after boot). */
	if (c->hooks && c->hooks->writeback_all)
		c->hooks->writeback_all(c->hooks->ctx);
	else if (c->hooks && c->hooks->fence)
		c->hooks->fence(c->hooks->ctx, CPU_FENCE_SERIALIZE);
	if (c->timing)
		timing_fence(c, CPU_FENCE_SERIALIZE);
}

/* Group 7 (0F 01): sgdt sidt lgdt lidt smsw lmsw invlpg swapgs. */
void op_sys_grp7(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	unsigned op = (i->modrm >> 3) & 7;
	if (!s)
		cpu_gp0(c);
	bool l64 = cpu_sys_long64(c);
	switch (op) {
	case 0: case 1: {               /* sgdt, sidt */
		uint64_t a = insn_ea(c, i);
		uint64_t base = op == 0 ? s->gdtr_base : s->idtr_base;
		uint16_t limit = op == 0 ? s->gdtr_limit : s->idtr_limit;
		mem_check_write(c, a, l64 ? 10 : 6);
		mem_write(c, a, 2, limit);
		if (l64)
			mem_write(c, a + 2, 8, base);
		else
			mem_write(c, a + 2, 4, base);
		return;
	}
	case 2: case 3: {               /* lgdt, lidt */
		need_cpl0(c);
		uint64_t a = insn_ea(c, i);
		uint16_t limit = (uint16_t)mem_read(c, a, 2);
		uint64_t base = l64 ? mem_read(c, a + 2, 8) : mem_read(c, a + 2, 4);
		if (!l64 && i->osz == 2)
			base &= 0xFFFFFF;
		if (l64 && !canonical(base))
			cpu_gp0(c);
		if (op == 2) {
			s->gdtr_base = base;
			s->gdtr_limit = limit;
		} else {
			s->idtr_base = base;
			s->idtr_limit = limit;
		}
		return;
	}
	case 4:                         /* smsw */
		rm_write(c, i, i->mod3 ? i->osz : 2, c->cr0 & (i->mod3 ? ~0ull : 0xFFFF));
		return;
	case 6: {                       /* lmsw: PE (set only), MP, EM, TS */
		need_cpl0(c);
		uint64_t v = rm_read(c, i, 2);
		uint64_t n = (c->cr0 & ~0xEull) | (v & 0xF) | (c->cr0 & CR0_PE);
		if (cpu_sys_write_cr(c, 0, n))
			cpu_gp0(c);
		return;
	}
	case 7:
		if (i->mod3) {          /* swapgs */
			if (!l64)
				cpu_ud(c);
			need_cpl0(c);
			uint64_t t = c->gs_base;
			c->gs_base = s->seg[SR_GS].base = s->kernel_gs_base;
			s->kernel_gs_base = t;
			return;
		}
		need_cpl0(c);           /* invlpg */
		{
			uint64_t la = linear(c, insn_ea(c, i)), pg = la >> 12;
			struct cpu_tlb_entry *e = &c->tlb[pg & (CPU_TLB_SIZE - 1)];
			if (e->page == pg)
				e->page = ~0ull;
			if (c->timing)
				cpu_timing_tlb_flush(c->timing, la);
			if (s->code_lin[(pg >> 6) & 63] & (1ull << (pg & 63)))
				flush_all(c);
		}
		return;
	default:
		cpu_ud(c);
	}
}

/* Group 6 (0F 00): sldt str lldt ltr verr verw. */
void op_sys_grp6(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	unsigned op = (i->modrm >> 3) & 7;
	if (!s)
		cpu_gp0(c);
	switch (op) {
	case 0: case 1:                 /* sldt, str */
		rm_write(c, i, i->mod3 ? i->osz : 2, op == 0 ? s->ldtr.sel : s->tr.sel);
		return;
	case 2: case 3: {               /* lldt, ltr */
		need_cpl0(c);
		uint16_t sel = (uint16_t)rm_read(c, i, 2);
		if ((sel & ~3) == 0) {
			if (op == 3)
				cpu_gp0(c);
			s->ldtr.sel = sel;
			s->ldtr.attr = 0;
			return;
		}
		if (sel & 4)
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		bool lm = c->efer & EFER_LMA;
		int64_t a = desc_addr(c, sel, lm ? 16 : 8);
		if (a < 0)
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		uint64_t d = super_read(c, (uint64_t)a, 8);
		uint64_t hi = lm ? super_read(c, (uint64_t)a + 8, 8) : 0;
		struct seg n;
		desc_to_seg(d, sel, &n);
		unsigned type = n.attr & 0xF;
		bool ok = !(n.attr & SEG_ATTR_S) &&
			  (op == 2 ? type == 2 : lm ? type == 9 : (type == 9 || type == 1));
		if (!ok || (lm && ((hi >> 40) & 0x1F)))
			fault_err(c, CPU_EXC_GP, sel & ~3u);
		if (!(n.attr & SEG_ATTR_P))
			fault_err(c, EXC_NP, sel & ~3u);
		if (lm) {
			if (!canonical(n.base | (hi << 32)))
				fault_err(c, CPU_EXC_GP, sel & ~3u);
			n.base |= hi << 32;
		}
		if (op == 2) {
			s->ldtr = n;
		} else {
			super_write8(c, (uint64_t)a + 5, (uint8_t)(d >> 40) | 2);      /* busy */
			n.attr |= 2;
			s->tr = n;
		}
		return;
	}
	case 4: case 5: {               /* verr, verw */
		uint16_t sel = (uint16_t)rm_read(c, i, 2);
		bool ok = false;
		uint64_t d;
		if ((sel & ~3) != 0 && desc_read(c, sel, &d) == 0) {
			struct seg n;
			desc_to_seg(d, sel, &n);
			unsigned type = n.attr & 0xF, dpl = SEG_DPL(n.attr);
			bool conf_code = (type & 0xC) == 0xC;
			bool priv = conf_code || (dpl >= c->cpl && dpl >= (sel & 3u));
			bool kind = op == 4 ? (!(type & 8) || (type & 2)) : (!(type & 8) && (type & 2));
			ok = (n.attr & SEG_ATTR_S) && priv && kind;
		}
		set_flags(c, FL_ZF, ok ? FL_ZF : 0);
		return;
	}
	default:
		cpu_ud(c);
	}
}

/* lar / lsl (0F 02 / 0F 03): ZF=1 and the access rights or limit when the
 * descriptor is visible at this CPL and of a kind the instruction accepts. */
void op_sys_larlsl(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	if (!s)
		cpu_ud(c);
	uint16_t sel = (uint16_t)rm_read(c, i, 2);
	uint64_t d;
	bool lm = c->efer & EFER_LMA;
	if ((sel & ~3) == 0 || desc_read(c, sel, &d)) {
		set_flags(c, FL_ZF, 0);
		return;
	}
	struct seg n;
	desc_to_seg(d, sel, &n);
	unsigned type = n.attr & 0xF, dpl = SEG_DPL(n.attr);
	bool ok;
	if (n.attr & SEG_ATTR_S) {
		ok = (type & 0xC) == 0xC || (dpl >= c->cpl && dpl >= (sel & 3u));
	} else {
		bool lar = i->opcode == 0x02;
		/* System types valid in IA-32e mode: LDT 2, TSS 9/B, and for
		 * lar also the call gate C. */
		ok = lm ? (type == 2 || type == 9 || type == 0xB || (lar && type == 0xC))
			: (type == 1 || type == 2 || type == 3 || type == 9 || type == 0xB ||
			   (lar && (type == 4 || type == 5 || type == 0xC)));
		ok = ok && dpl >= c->cpl && dpl >= (sel & 3u);
	}
	if (!ok) {
		set_flags(c, FL_ZF, 0);
		return;
	}
	uint64_t v = i->opcode == 0x02 ? (d >> 32) & 0x00F0FF00u : n.limit;
	reg_write(c, i, i->reg, i->osz == 2 ? 2 : 4, v);
	if (i->osz == 8)
		c->gpr[i->reg] = (uint32_t)v;
	set_flags(c, FL_ZF, FL_ZF);
}

static void op_sys_ud(struct cpu *c, const struct insn *i);

/* ---- 32-bit code (INSN_NO64 forms, and the near branches whose
 * 64-bit handlers push and pop 8 bytes) ---- */

/* inc/dec r16/r32 (40+r, 48+r): CF is kept. */
void op_sys_incdec_R(struct cpu *c, const struct insn *i)
{
	uint64_t cf = c->rflags & FL_CF;
	uint64_t v = reg_read(c, i, i->reg, i->osz);
	uint64_t r = i->opcode < 0x48 ? flags_add(c, v, 1, 0, i->osz) : flags_sub(c, v, 1, 0, i->osz);
	c->rflags = (c->rflags & ~(uint64_t)FL_CF) | cf;
	reg_write(c, i, i->reg, i->osz, r);
}

/* pusha / popa (60 / 61): eax ecx edx ebx (the old) esp ebp esi edi. */
void op_sys_pusha(struct cpu *c, const struct insn *i)
{
	unsigned n = i->osz;
	uint64_t sp = c->gpr[CPU_RSP];
	stack_check_write(c, sp - 8 * n, 8 * n);
	if (i->opcode == 0x60) {
		for (unsigned r = 0; r < 8; r++)
			stack_write(c, sp - n * (r + 1), n, r == CPU_RSP ? sp : c->gpr[r]);
		c->gpr[CPU_RSP] = sp - 8 * n;
		return;
	}
	uint64_t v[8];
	for (unsigned r = 0; r < 8; r++)
		v[r] = stack_read(c, sp + n * (7 - r), n);
	for (unsigned r = 0; r < 8; r++)
		if (r != CPU_RSP)
			reg_write(c, i, r, n, v[r]);
	c->gpr[CPU_RSP] = sp + 8 * n;
}

/* push es/cs/ss/ds, pop es/ss/ds (06 07 0E 16 17 1E 1F). */
void op_sys_pushpop_seg32(struct cpu *c, const struct insn *i)
{
	unsigned sr = (i->opcode >> 3) & 3;     /* 0 ES, 1 CS, 2 SS, 3 DS */
	if (!(i->opcode & 1)) {
		push(c, i->osz, c->sys->seg[sr].sel);
		return;
	}
	uint16_t sel = (uint16_t)stack_read(c, c->gpr[CPU_RSP], i->osz);
	load_data_seg(c, sr, sel);
	c->gpr[CPU_RSP] += i->osz;
}

/* jmp far / call far ptr16:16/32 (EA / 9A). */
void op_sys_far_ptr(struct cpu *c, const struct insn *i)
{
	struct cpu_sys *s = c->sys;
	uint16_t sel = (uint16_t)i->disp;
	uint64_t off = i->imm;
	struct seg cs;
	code_seg(c, sel, c->cpl, false, &cs);
	bool t64 = (c->efer & EFER_LMA) && (cs.attr & SEG_ATTR_L);
	if (!t64 && off > cs.limit)
		cpu_gp0(c);
	if (i->opcode == 0x9A) {
		unsigned n = i->osz;
		uint64_t sp = c->gpr[CPU_RSP];
		stack_check_write(c, sp - 2 * n, 2 * n);
		stack_write(c, sp - n, n, s->seg[SR_CS].sel);
		stack_write(c, sp - 2 * n, n, c->next_rip);
		c->gpr[CPU_RSP] = sp - 2 * n;
	}
	set_cs(c, &cs);
	c->next_rip = off;
}

static void op_sys_call_rel32(struct cpu *c, const struct insn *i)
{
	push(c, 4, (uint32_t)c->next_rip);
	c->next_rip = (uint32_t)i->imm;
}

static void op_sys_call_E32(struct cpu *c, const struct insn *i)
{
	uint64_t t = rm_read(c, i, 4);
	push(c, 4, (uint32_t)c->next_rip);
	c->next_rip = t;
}

static void op_sys_jmp_E32(struct cpu *c, const struct insn *i)
{
	c->next_rip = rm_read(c, i, 4);
}

static void op_sys_ret32(struct cpu *c, const struct insn *i)
{
	uint64_t t = stack_read(c, c->gpr[CPU_RSP], 4);
	c->gpr[CPU_RSP] = (uint32_t)(c->gpr[CPU_RSP] + 4 + (i->opcode == 0xC2 ? (i->imm & 0xFFFF) : 0));
	c->next_rip = t;
}

/* The handlers 32-bit code needs instead of the 64-bit ones. */
static void remap32(struct insn *d)
{
	if (d->fn == op_call_rel)
		d->fn = op_sys_call_rel32;
	else if (d->fn == op_call_E)
		d->fn = op_sys_call_E32;
	else if (d->fn == op_jmp_E)
		d->fn = op_sys_jmp_E32;
	else if (d->fn == op_ret)
		d->fn = op_sys_ret32;
	else if (d->fn == op_movsxd || d->fn == op_enter || d->fn == op_syscall)
		d->fn = op_sys_ud;      /* arpl, and 64-bit-only forms */
}

/* What a decoded instruction becomes under CR0.TS/EM and CR4.OSFXSR
 * (SDM Vol. 3A 2.5, Table 2-2): decoded forms are re-made whenever one of
 * those bits changes (the decode cache is dropped). */
static void op_sys_nm(struct cpu *c, const struct insn *i)
{
	(void)i;
	cpu_fault(c, CPU_EXC_NM, 0);
}

static void op_sys_ud(struct cpu *c, const struct insn *i)
{
	(void)i;
	cpu_ud(c);
}

/* mov AL/rAX <-> [moffs] (A0-A3): the address is the decoder's d->imm. */
void op_sys_mov_moffs(struct cpu *c, const struct insn *i)
{
	uint64_t a = i->imm;
	if (i->seg == SEG_FS)
		a += c->fs_base;
	else if (i->seg == SEG_GS)
		a += c->gs_base;
	if (i->opcode & 2)
		mem_write(c, a, i->osz, reg_read(c, i, CPU_RAX, i->osz));
	else
		reg_write(c, i, CPU_RAX, i->osz, mem_read(c, a, i->osz));
}

void cpu_sys_decoded(struct cpu *c, struct insn *d)
{
	if (c->sys->code32)
		remap32(d);
	unsigned attr = d->form->attr;
	bool fx = d->fn == op_fxsave || d->fn == op_fxrstor;
	bool sse = (attr & (INSN_SSE | INSN_MXCSR)) != 0 && !fx;
	bool x87 = (attr & INSN_X87) != 0;
	bool wait = d->form->opcode == 0x9B && d->form->map == MAP_1B;
	if (sse) {
		if ((c->cr0 & CR0_EM) || !(c->cr4 & CR4_OSFXSR))
			d->fn = op_sys_ud;
		else if (c->cr0 & CR0_TS)
			d->fn = op_sys_nm;
	} else if (x87 || fx) {
		if (c->cr0 & (CR0_EM | CR0_TS))
			d->fn = op_sys_nm;
	} else if (wait) {
		if ((c->cr0 & (CR0_MP | CR0_TS)) == (CR0_MP | CR0_TS))
			d->fn = op_sys_nm;
	}
}
