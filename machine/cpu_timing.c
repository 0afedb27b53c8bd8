/* machine/cpu_timing.c: instruction costs, branch prediction, TLBs, and
 * the glue between the interpreter and the memory hierarchy (see
 * cpu_timing.h; numbers and their sources are tabulated in
 * docs/timing.md).
 *
 * The core is modelled in order: an instruction costs its class's
 * latency, a load that misses stalls until its data is back (less the L1
 * hit latency, which the pipeline hides), a store retires into the store
 * buffer and stalls only when no line-fill buffer is free.  This
 * understates the overlap a real out-of-order core finds in compute-bound
 * code and is accurate where persistence costs are decided: dependent
 * loads, flushes and fences.
 */
#include <stdlib.h>
#include <string.h>

#include "machine/cpu_timing.h"
#include "machine/exec.h"
#include "machine/guest_abi.h"
#include "sim/stats.h"

/* Cycles per class, Skylake-SP / Cascade Lake.  Latencies from Agner Fog,
 * "Instruction tables" (Skylake-X columns) and uops.info; where a range is
 * given (division, transcendental x87) the low end of typical operands. */
static const unsigned class_cycles[TC_NCLASS] = {
	[TC_ALU] = 1,
	[TC_MUL] = 3,           /* imul r64, r64 */
	[TC_DIV32] = 26,        /* div r32 */
	[TC_DIV64] = 42,        /* div/idiv r64: 35-95 */
	[TC_BITSCAN] = 3,       /* bsf, bsr, popcnt, lzcnt, tzcnt */
	[TC_JCC] = 1,
	[TC_JMP] = 1,
	[TC_JMP_IND] = 2,
	[TC_CALL] = 2,
	[TC_CALL_IND] = 3,
	[TC_RET] = 2,
	[TC_STRING] = 1,        /* per element, not rep movs/stos */
	[TC_REP_MOVE] = 35,     /* rep movs/stos start-up (fast strings) */
	[TC_SSE_INT] = 1,
	[TC_SSE_MUL] = 5,       /* pmullw, pmuludq, pmaddwd */
	[TC_SSE_FP] = 4,        /* addps/mulps/addsd/mulsd, cmp, min/max */
	[TC_SSE_DIV] = 13,      /* divsd 13-14, divps 11 */
	[TC_SSE_SQRT] = 18,     /* sqrtsd 15-16, sqrtpd 15-16, sqrtps 12 */
	[TC_SSE_CVT] = 5,
	[TC_X87] = 3,           /* fadd */
	[TC_X87_MUL] = 5,
	[TC_X87_DIV] = 15,      /* fdiv 14-16 */
	[TC_X87_TRANS] = 60,    /* fsin, fcos, fptan, fpatan, fyl2x, f2xm1: 40-130 */
	[TC_LFENCE] = 4,
	[TC_SFENCE] = 6,
	[TC_MFENCE] = 33,
	[TC_LOCKED] = 18,       /* lock add, xchg with memory */
	[TC_SERIALIZE] = 100,   /* cpuid: 100-250 */
	[TC_IO] = 35,           /* in/out drain the pipeline like a serializing insn */
	[TC_FLUSH] = 1,         /* clwb/clflushopt issue; the write-back is modelled */
	[TC_NTSTORE] = 1,
	[TC_RDTSC] = 25,
	[TC_SYSCALL] = 35,      /* syscall, sysret, int n */
	[TC_PRIV] = 60,         /* mov cr, wrmsr, iret, lgdt, invlpg, far transfers */
	[TC_FXSAVE] = 70,
	[TC_PAUSE] = 140,       /* Skylake lengthened PAUSE to ~140 cycles */
	[TC_NOP] = 1,
};

void cpu_timing_default_params(struct cpu_timing_params *p)
{
	memset(p, 0, sizeof *p);
	memhier_default_params(&p->mem);
	/* Skylake-SP: 64-entry 4-way L1 DTLB, 128-entry 8-way L1 ITLB,
	 * 1536-entry 12-way STLB (Intel optimization manual, table 2-6).
	 * STLB hit 9 cycles; a walk whose entries hit the caches ~30
	 * cycles (measured by the 7-cpu.com Skylake page). */
	p->dtlb_entries = 64, p->dtlb_ways = 4;
	p->itlb_entries = 128, p->itlb_ways = 8;
	p->stlb_entries = 1536, p->stlb_ways = 12;
	p->stlb_hit = 9;
	p->page_walk = 30;
	/* Agner Fog, microarchitecture guide, Skylake: 15-20 cycles. */
	p->mispredict = 16;
	/* A port access crosses to the platform's legacy devices: about
	 * 1 µs, the delay Linux's outb_p gets from a write to port 0x80
	 * (arch/x86/kernel/io_delay.c bounds it by 2 µs). */
	p->port_io = 1000 * SIM_NS;
}

void cpu_timing_set_clock(struct cpu_timing_params *p, sim_time_t cycle_ps)
{
	p->mem.cycle = cycle_ps ? cycle_ps : 1;
}

static int tlb_init(struct cache *c, const char *name, unsigned entries, unsigned ways,
		    const char **why)
{
	/* A TLB is a cache whose "lines" are page numbers. */
	struct cache_config cfg = {name, (uint64_t)entries * CACHE_LINE, ways, 0, CACHE_LRU, false};
	return cache_init(c, &cfg, why);
}

struct cpu_timing *cpu_timing_new(const struct cpu_timing_params *p,
				  uint64_t pm_base, uint64_t pm_size, const char **why)
{
	struct cpu_timing *t = calloc(1, sizeof *t);
	if (!t) {
		*why = "out of memory";
		return NULL;
	}
	t->p = *p;
	if (memhier_init(&t->mem, &p->mem, pm_base, pm_size, why)) {
		free(t);
		return NULL;
	}
	if (tlb_init(&t->dtlb, "dtlb", p->dtlb_entries, p->dtlb_ways, why) ||
	    tlb_init(&t->itlb, "itlb", p->itlb_entries, p->itlb_ways, why) ||
	    tlb_init(&t->stlb, "stlb", p->stlb_entries, p->stlb_ways, why)) {
		cpu_timing_free(t);
		return NULL;
	}
	for (unsigned k = 0; k < TC_NCLASS; k++)
		t->cost[k] = (sim_time_t)class_cycles[k] * p->mem.cycle;
	return t;
}

void cpu_timing_free(struct cpu_timing *t)
{
	if (!t)
		return;
	memhier_free(&t->mem);
	cache_free(&t->dtlb);
	cache_free(&t->itlb);
	cache_free(&t->stlb);
	free(t);
}

static void put(struct stats *st, const char *name, uint64_t v)
{
	*stats_counter(st, name) = v;
}

void cpu_timing_stats(const struct cpu_timing *t, struct stats *st)
{
	const struct memhier *h = &t->mem;
	put(st, "timing.branches", t->branches);
	put(st, "timing.mispredicts", t->mispredicts);
	put(st, "timing.dtlb_misses", t->dtlb_misses);
	put(st, "timing.itlb_misses", t->itlb_misses);
	put(st, "timing.page_walks", t->walks);
	put(st, "timing.loads", h->loads);
	put(st, "timing.stores", h->stores);
	put(st, "timing.ifetches", h->ifetches);
	put(st, "timing.l1i_misses", h->l1i_misses);
	put(st, "timing.l1d_misses", h->l1_misses);
	put(st, "timing.llc_misses", h->llc_misses);
	put(st, "timing.llc_evictions", h->llc.evictions);
	put(st, "timing.llc_writebacks", h->llc.writebacks);
	put(st, "timing.prefetches", h->prefetches);
	put(st, "timing.lfb_stalls", h->lfb_stalls);
	put(st, "timing.flushes", h->flushes);
	put(st, "timing.flush_writebacks", h->flush_writebacks);
	put(st, "timing.ntstores", h->ntstores);
	put(st, "timing.ntstore_stalls", h->nt_stalls);
	put(st, "timing.flush_stalls", h->flush_stalls);
	put(st, "timing.fences", h->fences);
	put(st, "timing.mc_reads", h->mc.reads);
	put(st, "timing.mc_writes", h->mc.writes);
	put(st, "timing.wpq_full_stalls", h->mc.wpq_full_stalls);
}

/* ---- classification ---- */

static bool is(const char *m, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(m, *list) == 0)
			return true;
	return false;
}

static bool prefix(const char *m, const char *p)
{
	return strncmp(m, p, strlen(p)) == 0;
}

enum tclass cpu_timing_classify(const struct insn_form *f, unsigned osz, bool lock)
{
	static const char *const bitscan[] = {"bsf", "bsr", "popcnt", "lzcnt", "tzcnt", NULL};
	static const char *const strings[] = {"movsb", "movsw", "movsd", "movsq", "stosb", "stosw",
		"stosd", "stosq", "lodsb", "lodsw", "lodsd", "lodsq", "cmpsb", "cmpsw", "cmpsd",
		"cmpsq", "scasb", "scasw", "scasd", "scasq", NULL};
	static const char *const trans[] = {"fsin", "fcos", "fsincos", "fptan", "fpatan", "fyl2x",
		"fyl2xp1", "f2xm1", "fprem", "fprem1", "fscale", "fxtract", "frndint", NULL};
	static const char *const priv[] = {"iret", "retf", "lgdt", "lidt", "lldt", "ltr", "invlpg",
		"wrmsr", "rdmsr", "clts", "invd", "wbinvd", "lmsw", "swapgs", "lar", "lsl", "verr",
		"verw", "popa", "pusha", NULL};
	const char *m = f->mnemonic;
	bool sse = f->attr & INSN_SSE;
	bool string = (f->attr & INSN_STRING) && is(m, strings);

	if (lock || strcmp(m, "xchg") == 0)
		return TC_LOCKED;       /* xchg with memory: callers pass lock for reg forms */
	if (string)
		return TC_STRING;
	if (strcmp(m, "mul") == 0 || strcmp(m, "imul") == 0)
		return TC_MUL;
	if (strcmp(m, "div") == 0 || strcmp(m, "idiv") == 0)
		return osz == 8 ? TC_DIV64 : TC_DIV32;
	if (is(m, bitscan))
		return TC_BITSCAN;
	if (prefix(m, "loop") || strcmp(m, "jrcxz") == 0 ||
	    (m[0] == 'j' && strcmp(m, "jmp") != 0))
		return TC_JCC;
	if (strcmp(m, "jmp") == 0)
		return f->imm != IMM_NONE ? TC_JMP : f->modrm != MR_NONE && f->map == MAP_1B &&
		       f->opcode == 0xFF ? TC_JMP_IND : TC_PRIV;
	if (strcmp(m, "call") == 0)
		return f->imm != IMM_NONE ? TC_CALL : f->map == MAP_1B && f->opcode == 0xFF &&
		       f->reg == 2 ? TC_CALL_IND : TC_PRIV;
	if (strcmp(m, "ret") == 0)
		return TC_RET;
	if (strcmp(m, "lfence") == 0)
		return TC_LFENCE;
	if (strcmp(m, "sfence") == 0)
		return TC_SFENCE;
	if (strcmp(m, "mfence") == 0)
		return TC_MFENCE;
	if (is(m, (const char *const[]){"cmpxchg", "cmpxchg8b", "cmpxchg16b", "xadd", NULL}))
		return TC_ALU;          /* without lock: plain read-modify-write */
	if (strcmp(m, "cpuid") == 0)
		return TC_SERIALIZE;
	if (strcmp(m, "in") == 0 || strcmp(m, "out") == 0)
		return TC_IO;
	if (prefix(m, "clflush") || strcmp(m, "clwb") == 0)
		return TC_FLUSH;
	if (prefix(m, "movnt") || strcmp(m, "maskmovdqu") == 0)
		return TC_NTSTORE;
	if (prefix(m, "rdtsc"))
		return TC_RDTSC;
	if (is(m, (const char *const[]){"syscall", "sysret", "int", "int3", NULL}))
		return TC_SYSCALL;
	if (is(m, priv) || (strcmp(m, "mov") == 0 && f->map == MAP_0F))
		return TC_PRIV;         /* mov to/from CRn, DRn */
	if (prefix(m, "fxsave") || prefix(m, "fxrstor") || is(m, (const char *const[]){
	    "fnsave", "frstor", "fldenv", "fnstenv", NULL}))
		return TC_FXSAVE;
	if (strcmp(m, "pause") == 0)
		return TC_PAUSE;
	if (prefix(m, "nop") || prefix(m, "endbr") || prefix(m, "prefetch"))
		return TC_NOP;
	if (m[0] == 'f' && !sse) {
		if (is(m, trans))
			return TC_X87_TRANS;
		if (prefix(m, "fdiv") || prefix(m, "fidiv") || strcmp(m, "fsqrt") == 0)
			return TC_X87_DIV;
		if (prefix(m, "fmul") || prefix(m, "fimul"))
			return TC_X87_MUL;
		return TC_X87;
	}
	if (sse) {
		if (prefix(m, "sqrt"))
			return TC_SSE_SQRT;
		if (prefix(m, "div"))
			return TC_SSE_DIV;
		if (prefix(m, "cvt"))
			return TC_SSE_CVT;
		if (prefix(m, "pmul") || strcmp(m, "pmaddwd") == 0 || strcmp(m, "psadbw") == 0)
			return TC_SSE_MUL;
		if (prefix(m, "add") || prefix(m, "sub") || prefix(m, "mul") || prefix(m, "min") ||
		    prefix(m, "max") || prefix(m, "cmp") || prefix(m, "comi") ||
		    prefix(m, "ucomi") || prefix(m, "rcp") || prefix(m, "rsqrt"))
			return TC_SSE_FP;
		return TC_SSE_INT;
	}
	return TC_ALU;
}

/* ---- TLB invalidation ---- */

/* The key the data TLB files a linear address under for a page size. */
static uint64_t tlb_key(uint64_t la, unsigned pshift)
{
	return ((la >> pshift) << 2) | (pshift > 12) | (uint64_t)(pshift > 21) << 1;
}

static void tlb_clear(struct cache *c)
{
	for (uint64_t k = 0; k < (uint64_t)c->sets * c->cfg.ways; k++)
		c->ways[k].valid = false;
}

void cpu_timing_tlb_flush(struct cpu_timing *t, uint64_t la)
{
	t->last_page = t->last_fetch_page = 0;
	if (la == ~0ull) {
		tlb_clear(&t->dtlb);
		tlb_clear(&t->itlb);
		tlb_clear(&t->stlb);
		return;
	}
	static const unsigned shifts[] = {12, 21, 30};
	for (unsigned k = 0; k < 3; k++) {
		uint64_t key = tlb_key(la, shifts[k]) * CACHE_LINE;
		cache_flush(&t->dtlb, key, false);
		cache_flush(&t->stlb, key, false);
	}
	cache_flush(&t->itlb, (la >> 12) * CACHE_LINE, false);
}

/* ---- the hierarchy ---- */

/* A TLB lookup of a linear page; returns the time the translation is
 * ready. */
static sim_time_t tlb(struct cpu_timing *t, struct cache *l1tlb, uint64_t page, sim_time_t now,
		      uint64_t *misses)
{
	struct cache_result r;
	cache_access(l1tlb, page * CACHE_LINE, CACHE_READ, &r);
	if (r.hit)
		return now;
	++*misses;
	cache_access(&t->stlb, page * CACHE_LINE, CACHE_READ, &r);
	if (r.hit)
		return now + (sim_time_t)t->p.stlb_hit * t->p.mem.cycle;
	t->walks++;
	return now + (sim_time_t)(t->p.stlb_hit + t->p.page_walk) * t->p.mem.cycle;
}

sim_time_t cpu_timing_data(struct cpu_timing *t, uint64_t la, uint64_t pa, unsigned pshift,
			   bool write, sim_time_t now)
{
	/* Back-to-back accesses to one line (a stack frame, a struct, a
	 * string) hit in L1 by construction: skip the lookup. */
	uint64_t line = (la >> 6) + 1;
	if (line == t->last_line && (!write || t->last_write))
		return now;
	t->last_line = line;
	t->last_write = write;
	/* One TLB for all page sizes, keyed by page number and size (real
	 * cores have separate small arrays for 2 MiB and 1 GiB pages). */
	uint64_t page = pshift >= 63 ? 1 : tlb_key(la, pshift) + 2;
	if (page != t->last_page && pshift < 63) {
		t->last_page = page;
		now = tlb(t, &t->dtlb, page - 2, now, &t->dtlb_misses);
	}
	sim_time_t cyc = t->p.mem.cycle;
	if (write) {
		sim_time_t done = memhier_store(&t->mem, pa, now);
		return done - cyc;      /* memhier_store adds the issue cycle */
	}
	sim_time_t done = memhier_load(&t->mem, pa, now);
	sim_time_t hidden = (sim_time_t)t->mem.l1.cfg.latency * cyc;
	return done > now + hidden ? done - hidden : now;
}

sim_time_t cpu_timing_fetch(struct cpu_timing *t, uint64_t la, uint64_t pa, sim_time_t now)
{
	uint64_t line = (la >> 6) + 1;
	if (line == t->last_fetch_line)
		return now;
	t->last_fetch_line = line;
	uint64_t page = (la >> 12) + 1;
	if (page != t->last_fetch_page) {
		t->last_fetch_page = page;
		now = tlb(t, &t->itlb, page - 1, now, &t->itlb_misses);
	}
	sim_time_t done = memhier_ifetch(&t->mem, pa, now);
	sim_time_t hidden = (sim_time_t)t->mem.l1i.cfg.latency * t->p.mem.cycle;
	return done > now + hidden ? done - hidden : now;
}

sim_time_t cpu_timing_flush(struct cpu_timing *t, uint64_t pa, int kind, sim_time_t now)
{
	t->last_line = 0;       /* the next access must look the line up again */
	return memhier_flush(&t->mem, pa, kind == CPU_FLUSH_CLWB, now) - t->p.mem.cycle;
}

sim_time_t cpu_timing_ntstore(struct cpu_timing *t, uint64_t pa, unsigned len, sim_time_t now)
{
	t->last_line = 0;       /* the line is evicted from the caches */
	return memhier_ntstore(&t->mem, pa, len, now) - t->p.mem.cycle;
}

sim_time_t cpu_timing_fence(struct cpu_timing *t, int kind, sim_time_t now)
{
	switch (kind) {
	case CPU_FENCE_LFENCE:
		return now;
	case CPU_FENCE_IO:
		return now;     /* applied at retirement, where the port is known */
	default:
		/* sfence, mfence, locked and serializing instructions wait
		 * until every pending write-back and write-combining buffer
		 * has been accepted by the memory controller. */
		return memhier_fence(&t->mem, now) - t->p.mem.cycle;
	}
}

sim_time_t cpu_timing_retire(struct cpu_timing *t, struct cpu *c, struct insn *i,
			     uint64_t elements, sim_time_t now)
{
	sim_time_t cost = t->cost[i->tclass];
	bool taken;
	switch (i->tclass) {
	case TC_JCC:
		t->branches++;
		taken = c->rip != i->rip + i->len;
		/* A 2-bit saturating counter per static branch (bimodal). */
		if ((i->bp >= 2) != taken) {
			t->mispredicts++;
			cost += (sim_time_t)t->p.mispredict * t->p.mem.cycle;
		}
		if (taken && i->bp < 3)
			i->bp++;
		else if (!taken && i->bp > 0)
			i->bp--;
		break;
	case TC_JMP_IND:
	case TC_CALL_IND:
		/* The BTB predicts the last target of this branch. */
		t->branches++;
		if (i->btb != c->rip) {
			t->mispredicts++;
			cost += (sim_time_t)t->p.mispredict * t->p.mem.cycle;
			i->btb = c->rip;
		}
		break;
	case TC_STRING:
		cost *= elements ? elements : 1;
		break;
	case TC_REP_MOVE:
		/* Fast strings: start-up, then 16 bytes a cycle. */
		cost += (sim_time_t)((elements * i->osz + 15) / 16) * t->p.mem.cycle;
		break;
	case TC_IO: {
		uint16_t port = (i->opcode & 8) ? (uint16_t)c->gpr[CPU_RDX] : (uint16_t)i->imm;
		/* The trace port is a magic instruction to timing as it is to
		 * the persistence model (docs/machine.md): no drain, no cost. */
		if (port == ABI_PORT_TRACE_ARG || port == ABI_PORT_TRACE_EMIT)
			return now;
		now = memhier_fence(&t->mem, now) - t->p.mem.cycle;
		/* The access itself goes out to the device and back. */
		cost += t->p.port_io;
		break;
	}
	default:
		break;
	}
	return now + cost;
}
