/* machine/cpu_timing.h: the `approximate` timing mode (cpu.timing).
 *
 * In `fast` mode every instruction costs one cycle of the configured
 * clock.  In `approximate` mode the interpreter charges each instruction:
 *
 *   - a base cost by instruction class (ALU, multiply, divide, branch,
 *     string element, SSE, x87, fence, serializing, ...), from public
 *     latency tables (docs/timing.md cites them);
 *   - a misprediction penalty for conditional branches (a 2-bit counter
 *     per static branch) and indirect branches (last target per branch);
 *   - instruction fetch through an ITLB and the L1I;
 *   - every data access through a DTLB (with a page-walk cost on a miss)
 *     and the memory hierarchy of machine/memhier.c: caches, fill
 *     buffers, prefetcher, write combining, the memory controller with its
 *     write-pending queues, DRAM and Optane;
 *   - clwb/clflushopt/clflush, non-temporal stores and fences through the
 *     same queues, so their cost follows from the model.
 *
 * Simulated time (sim->now) advances by the base cost plus the stalls the
 * hierarchy returns; rdtsc, the timers and the trace read that clock.
 * Everything is integer arithmetic on simulated picoseconds: runs are
 * deterministic on any host and at any compiler optimisation level.
 *
 * The CPU owns a struct cpu_timing only in approximate mode (c->timing is
 * NULL otherwise), so `fast` pays nothing but a predictable branch on the
 * memory fast path.
 */
#ifndef MACHINE_CPU_TIMING_H
#define MACHINE_CPU_TIMING_H

#include <stdbool.h>
#include <stdint.h>
#include "machine/cache.h"
#include "machine/memhier.h"

struct cpu;
struct insn;
struct insn_form;
struct stats;

/* Instruction classes; cpu_timing.c gives each a cost in cycles. */
enum tclass {
	TC_ALU, TC_MUL, TC_DIV32, TC_DIV64, TC_BITSCAN,
	TC_JCC, TC_JMP, TC_JMP_IND, TC_CALL, TC_CALL_IND, TC_RET,
	TC_STRING, TC_REP_MOVE,
	TC_SSE_INT, TC_SSE_MUL, TC_SSE_FP, TC_SSE_DIV, TC_SSE_SQRT, TC_SSE_CVT,
	TC_X87, TC_X87_MUL, TC_X87_DIV, TC_X87_TRANS,
	TC_LFENCE, TC_SFENCE, TC_MFENCE, TC_LOCKED, TC_SERIALIZE, TC_IO,
	TC_FLUSH, TC_NTSTORE, TC_RDTSC, TC_SYSCALL, TC_PRIV, TC_FXSAVE, TC_PAUSE, TC_NOP,
	TC_NCLASS
};

struct cpu_timing_params {
	struct memhier_params mem;
	unsigned dtlb_entries, dtlb_ways;       /* L1 DTLB */
	unsigned itlb_entries, itlb_ways;       /* L1 ITLB */
	unsigned stlb_entries, stlb_ways;       /* shared second-level TLB */
	unsigned stlb_hit;                      /* cycles */
	unsigned page_walk;                     /* cycles, STLB miss */
	unsigned mispredict;                    /* cycles */
	sim_time_t port_io;                     /* in/out round trip to a device */
};

struct cpu_timing {
	struct cpu_timing_params p;
	struct memhier mem;
	struct cache dtlb, itlb, stlb;          /* tags are page numbers */
	sim_time_t cost[TC_NCLASS];             /* ps per class */
	uint64_t last_line;                     /* data line of the last access, +1 */
	bool last_write;                        /* ... and whether it was a store */
	uint64_t last_page;                     /* linear page of the last data access, +1 */
	uint64_t last_fetch_line;               /* instruction line, +1 */
	uint64_t last_fetch_page;
	uint64_t branches, mispredicts, dtlb_misses, itlb_misses, walks;
};

void cpu_timing_default_params(struct cpu_timing_params *p);
/* Sets the clock (ps per cycle) of the core and of the memory hierarchy. */
void cpu_timing_set_clock(struct cpu_timing_params *p, sim_time_t cycle_ps);
/* Returns NULL with *why on an impossible cache or TLB geometry. */
struct cpu_timing *cpu_timing_new(const struct cpu_timing_params *p,
				  uint64_t pm_base, uint64_t pm_size, const char **why);
void cpu_timing_free(struct cpu_timing *t);
/* Copy the model's counters into the stats registry (end of a run). */
void cpu_timing_stats(const struct cpu_timing *t, struct stats *st);

/* A TLB invalidation: every entry (la = ~0: a CR3 write), or those that
 * may map la (invlpg: its 4 KiB, 2 MiB and 1 GiB pages). */
void cpu_timing_tlb_flush(struct cpu_timing *t, uint64_t la);

/* The class of a form (decoding time; lock and operand size refine it). */
enum tclass cpu_timing_classify(const struct insn_form *f, unsigned osz, bool lock);

/* The interpreter's calls (machine/cpu.c and the handlers): each takes the
 * current simulated time and returns the time the core can go on. */
/* pshift: log2 of the size of the page mapping la (12, 21, 30; 63 when
 * paging is off). */
sim_time_t cpu_timing_data(struct cpu_timing *t, uint64_t la, uint64_t pa, unsigned pshift,
			   bool write, sim_time_t now);
sim_time_t cpu_timing_fetch(struct cpu_timing *t, uint64_t la, uint64_t pa, sim_time_t now);
sim_time_t cpu_timing_flush(struct cpu_timing *t, uint64_t pa, int kind, sim_time_t now);
sim_time_t cpu_timing_ntstore(struct cpu_timing *t, uint64_t pa, unsigned len, sim_time_t now);
sim_time_t cpu_timing_fence(struct cpu_timing *t, int kind, sim_time_t now);
/* Retire instruction i (c->rip is already the next rip): base cost,
 * string elements done, branch prediction, the drain of in/out. */
sim_time_t cpu_timing_retire(struct cpu_timing *t, struct cpu *c, struct insn *i,
			     uint64_t elements, sim_time_t now);

#endif
