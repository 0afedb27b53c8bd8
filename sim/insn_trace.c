/* sim/insn_trace.c: the instruction trace (see sim/insn_trace.h).
 *
 * The hook runs before the instruction executes, so the bytes it records
 * are the ones the CPU decoded (a store into the instruction's own page
 * has not happened yet) and the timestamp is the simulated time at which
 * the instruction starts.  An instruction that faults is recorded too: it
 * was attempted, and appears again if the guest's handler retries it.  A
 * rep string instruction appears once per chunk the CPU executes it in.
 *
 * Reading the bytes must not change anything the run can observe: no
 * fault, no A/D bit, no TLB fill, no counter.  So the hook reads through
 * the CPU's TLB when it holds the page, and otherwise walks the page
 * tables with PAGING_PROBE and copies from RAM with bus_dma_read(), which
 * refuses MMIO instead of touching a device.  If none of that works (code
 * outside RAM), the instruction is simply not recorded.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/cpu_sys.h"
#include "machine/insn.h"
#include "machine/paging.h"
#include "sim/config.h"
#include "sim/insn_trace.h"
#include "sim/sim.h"
#include "traces/trace.h"

/* Copy n bytes of code at linear address la, all on one page, without side
 * effects.  Returns 0, or -1 when they cannot be read. */
static int peek_page(struct cpu *c, uint64_t la, uint8_t *dst, unsigned n)
{
	const struct cpu_tlb_entry *e = &c->tlb[(la >> 12) & (CPU_TLB_SIZE - 1)];
	if (e->page == la >> 12 && (e->perm & (BUS_X | BUS_R)) &&
	    c->bus_generation == c->bus->generation) {
		memcpy(dst, e->host + (la & 4095), n);
		return 0;
	}
	uint64_t pa = la;
	if (c->sys && (c->cr0 & CR0_PG)) {
		struct paging_regs r = {
			.cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer,
			.maxphyaddr = CPU_SYS_PHYS_BITS, .gbpages = true,
			.smap_ac = (c->rflags & FL_AC) != 0,
		};
		struct paging_xlat x;
		uint32_t err;
		unsigned access = PAGING_EXEC | PAGING_PROBE | (c->cpl == 3 ? PAGING_USER : 0);
		if (!(c->efer & EFER_LMA))
			la = (uint32_t)la;
		if (paging_walk(c->bus, &r, la, access, &x, &err))
			return -1;
		pa = x.pa;
	}
	return bus_dma_read(c->bus, pa, dst, n);
}

static void record(void *ctx, struct cpu *c, uint64_t rip, unsigned len)
{
	struct trace *t = ctx;
	if (!trace_insn_enabled(t, rip))
		return;
	uint8_t bytes[TRACE_INSN_MAX];
	if (len > TRACE_INSN_MAX)
		len = TRACE_INSN_MAX;
	/* An instruction may straddle two pages, which may not be adjacent
	 * physically. */
	unsigned first = 4096 - (unsigned)(rip & 4095);
	if (first > len)
		first = len;
	if (peek_page(c, rip, bytes, first) ||
	    (first < len && peek_page(c, rip + first, bytes + first, len - first)))
		return;
	trace_insn(t, c->sim ? c->sim->now : 0, rip, len, bytes);
}

void insn_trace_attach(struct cpu *c, struct trace *t, uint64_t lo, uint64_t hi)
{
	if (!t || !c)
		return;
	trace_insn_filter(t, lo, hi);
	c->insn_hook = record;
	c->insn_hook_ctx = t;
}

void insn_trace_from_config(struct cpu *c, struct trace *t, const struct config *cfg)
{
	if (cfg->trace.insn)
		insn_trace_attach(c, t, cfg->trace.insn_from, cfg->trace.insn_to);
}

int insn_trace_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->trace.insn && !(cfg->trace.file && cfg->trace.file[0])) {
		snprintf(err, errlen, "%s: trace.insn: needs a trace file (set trace.file or give "
			 "--trace FILE)", cfg->source ? cfg->source : "config");
		return -1;
	}
	return 0;
}

int insn_trace_range_option(struct config *cfg, const char *range, char *err, size_t errlen)
{
	const char *dots = strstr(range, "..");
	char set[128];
	if (!dots || strlen(range) > 80) {
		snprintf(err, errlen, "--trace-insn=%s: expected a range FROM..TO (either may be "
			 "empty, e.g. 0x100000..0x101000)", range);
		return -1;
	}
	/* The upper bound goes first, to 0 (none): config_set checks the pair
	 * after each key. */
	snprintf(set, sizeof set, "trace.insn_to=0");
	if (config_set(cfg, set, err, errlen))
		return -1;
	if (dots == range)
		snprintf(set, sizeof set, "trace.insn_from=0");
	else
		snprintf(set, sizeof set, "trace.insn_from=%.*s", (int)(dots - range), range);
	if (config_set(cfg, set, err, errlen))
		goto bad;
	snprintf(set, sizeof set, "trace.insn_to=%s", dots[2] ? dots + 2 : "0");
	if (config_set(cfg, set, err, errlen))
		goto bad;
	return 0;
bad:;
	char why[256];
	snprintf(why, sizeof why, "%s", err);
	snprintf(err, errlen, "--trace-insn=%s: %s", range, why);
	return -1;
}
