/* machine/mce.c: machine checks from poisoned memory (#MC, vector 18),
 * with one machine-check bank (Intel SDM Vol. 3 ch. 15, "Machine-Check
 * Architecture"; 6.15 "Interrupt 18").
 *
 * Persistent memory wears out: a media error makes a 64-byte line
 * unreadable ("poisoned"), and a load that consumes it is an
 * uncorrected, software-recoverable action-required error (SRAR, SDM
 * 15.6.3): the CPU raises #MC at the load, with the address in MC0_ADDR.
 * The config key pmem.poison lists such lines; machine/machine.c hands
 * them to the CPU with cpu_sys_set_poison().  Pages holding a poisoned
 * line stay out of the software TLB (cpu_mce_page), so their loads and
 * fetches take the slow path, which calls cpu_mce_check().
 *
 * Model: loads and instruction fetches of a poisoned line raise #MC
 * (abort class: RIPV = 0, EIPV = 1, the saved RIP is the consuming
 * instruction); stores, DMA and the CPU's own implicit accesses
 * (descriptor tables, page walks) do not, and nothing clears the poison.
 * With CR4.MCE = 0, or while MCG_STATUS.MCIP is still set from an
 * earlier #MC, the CPU shuts down instead (a triple fault; SDM 15.10.1,
 * 15.3.1.2).  MC0_CTL is stored and not consulted.
 */
#include <stdlib.h>

#include "machine/cpu_sys.h"
#include "machine/exec.h"

/* MCG_CAP (15.3.1.1): one bank, software error recovery (MCG_SER_P). */
#define MCG_CAP_VALUE (1ull | 1ull << 24)
/* MCG_STATUS (15.3.1.2). */
#define MCG_RIPV 1ull
#define MCG_EIPV 2ull
#define MCG_MCIP 4ull
/* MCi_STATUS (15.3.2.2). */
#define MCI_VAL   (1ull << 63)
#define MCI_OVER  (1ull << 62)
#define MCI_UC    (1ull << 61)
#define MCI_EN    (1ull << 60)
#define MCI_MISCV (1ull << 59)
#define MCI_ADDRV (1ull << 58)
#define MCI_S     (1ull << 56)
#define MCI_AR    (1ull << 55)
/* MCA error codes of SRAR errors (Table 15-20): data load, fetch. */
#define MCACOD_DATA  0x0134u
#define MCACOD_INSTR 0x0150u
/* MCi_MISC (15.3.2.4.1): physical address mode, valid from bit 6. */
#define MISC_PHYS_LINE ((2ull << 6) | 6)

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int cpu_sys_set_poison(struct cpu *c, const uint64_t *pa, size_t n)
{
	struct cpu_sys *s = c->sys;
	uint64_t *l = n ? malloc(n * sizeof *l) : NULL;
	if (n && !l)
		return -1;
	for (size_t k = 0; k < n; k++)
		l[k] = pa[k] & ~63ull;
	if (n)
		qsort(l, n, sizeof *l, cmp_u64);
	free(s->poison);
	s->poison = l;
	s->npoison = n;
	cpu_sys_tlb_flush(c);
	return 0;
}

/* The first poisoned line at or above pa. */
static size_t lower_bound(const struct cpu_sys *s, uint64_t pa)
{
	size_t lo = 0, hi = s->npoison;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->poison[mid] < pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool cpu_mce_page(const struct cpu *c, uint64_t ppage)
{
	const struct cpu_sys *s = c->sys;
	size_t k = lower_bound(s, ppage << 12);
	return k < s->npoison && s->poison[k] >> 12 == ppage;
}

void cpu_mce_check(struct cpu *c, uint64_t pa, unsigned len, bool fetch)
{
	struct cpu_sys *s = c->sys;
	size_t k = lower_bound(s, pa & ~63ull);
	if (k == s->npoison || s->poison[k] > pa + len - 1)
		return;
	/* Log in bank 0; an error while the bank still holds one sets OVER
	 * and keeps the first (15.3.2.2, "overwrite rules": both are
	 * uncorrected, the earlier wins). */
	if (s->mc0_status & MCI_VAL) {
		s->mc0_status |= MCI_OVER;
	} else {
		s->mc0_status = MCI_VAL | MCI_UC | MCI_EN | MCI_MISCV | MCI_ADDRV | MCI_S | MCI_AR |
				(fetch ? MCACOD_INSTR : MCACOD_DATA);
		s->mc0_addr = s->poison[k];
		s->mc0_misc = MISC_PHYS_LINE;
	}
	s->mc_shutdown = !(c->cr4 & CR4_MCE) || (s->mcg_status & MCG_MCIP);
	/* The consuming instruction cannot be restarted as is (RIPV = 0),
	 * and the saved RIP is the one that consumed the poison (EIPV). */
	s->mcg_status = MCG_EIPV | MCG_MCIP;
	cpu_fault(c, CPU_EXC_MC, 0);
}

int cpu_mce_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v)
{
	struct cpu_sys *s = c->sys;
	switch (msr) {
	case MSR_MCG_CAP: *v = MCG_CAP_VALUE; return 0;
	case MSR_MCG_STATUS: *v = s->mcg_status; return 0;
	case MSR_MC0_CTL: *v = s->mc0_ctl; return 0;
	case MSR_MC0_STATUS: *v = s->mc0_status; return 0;
	case MSR_MC0_ADDR: *v = s->mc0_addr; return 0;
	case MSR_MC0_MISC: *v = s->mc0_misc; return 0;
	case MSR_MCG_CTL: return -1;            /* MCG_CTL_P = 0 */
	default: return 1;
	}
}

int cpu_mce_wrmsr(struct cpu *c, uint32_t msr, uint64_t v)
{
	struct cpu_sys *s = c->sys;
	switch (msr) {
	case MSR_MCG_STATUS:
		/* RIPV, EIPV, MCIP; the handler clears MCIP when done. */
		if (v & ~(MCG_RIPV | MCG_EIPV | MCG_MCIP))
			return -1;
		s->mcg_status = v;
		return 0;
	case MSR_MC0_CTL:
		s->mc0_ctl = v;
		return 0;
	case MSR_MC0_STATUS: case MSR_MC0_ADDR: case MSR_MC0_MISC:
		/* Software may only clear the log (15.3.2.2). */
		if (v)
			return -1;
		if (msr == MSR_MC0_STATUS)
			s->mc0_status = 0;
		else if (msr == MSR_MC0_ADDR)
			s->mc0_addr = 0;
		else
			s->mc0_misc = 0;
		return 0;
	case MSR_MCG_CAP: case MSR_MCG_CTL:
		return -1;
	default:
		return 1;
	}
}
