/* machine/memhier.h: the memory hierarchy the `approximate` timing mode
 * charges accesses to: L1D, L2 and LLC (machine/cache.c), line-fill
 * buffers that bound the misses in flight, a stream prefetcher, non-
 * temporal write combining, and the memory controller (machine/memctrl.c).
 *
 * The CPU calls one function per memory operation with the current
 * simulated time and gets back when the operation completes; it stalls
 * (advances its clock) as the operation requires:
 *
 *   load       blocks until the data arrives (an in-order core cannot
 *              overlap a load it has not got the value of);
 *   store      retires at once into the store buffer; a miss fetches the
 *              line in the background and only stalls when every
 *              line-fill buffer is busy;
 *   clwb,      start a write-back of a dirty line to the memory controller
 *   clflushopt and retire; the time its acceptance is acknowledged is
 *              remembered for the next fence; at most flush_inflight
 *              write-backs are unacknowledged, a further one waits;
 *   ntstore    fills a write-combining buffer; a full one is sent on, at
 *              most nt_inflight of them unacknowledged at once;
 *   sfence     waits for every pending write-back and write-combining
 *              buffer to be accepted by the memory controller's WPQ.
 *
 * Line-fill buffers and the prefetcher give memory-level parallelism:
 * sequential access streams ahead of its demand loads instead of paying a
 * full memory latency per line.
 */
#ifndef MACHINE_MEMHIER_H
#define MACHINE_MEMHIER_H

#include <stdbool.h>
#include <stdint.h>
#include "machine/cache.h"
#include "machine/memctrl.h"
#include "sim/clock.h"

#define MEMHIER_MAX_LFB 32
#define MEMHIER_STREAMS 16
#define MEMHIER_WC 4
#define MEMHIER_RECENT 64
#define MEMHIER_SQ 16    /* L2 superqueue entries (Skylake) */

struct memhier_params {
	struct cache_config l1i, l1d, l2, llc;  /* l1i.size 0: no L1I model */
	sim_time_t cycle;               /* ps per core cycle */
	unsigned lfb;                   /* line-fill buffers (10 on Skylake-SP) */
	unsigned nt_inflight;           /* WC buffers sent and not yet acknowledged */
	unsigned flush_inflight;        /* clwb/clflushopt write-backs not yet acknowledged */
	unsigned prefetch_degree;       /* lines fetched ahead; 0 = off */
	struct memctrl_params mc;
};

struct memhier_fill {
	uint64_t line;                  /* pa / 64, or ~0 when free */
	sim_time_t ready;
};

struct memhier_stream {
	uint64_t page;                  /* 4 KiB page of the stream */
	uint64_t last;                  /* last line demanded */
	uint64_t next_pf;               /* next line to prefetch */
	uint64_t stamp;
};

struct memhier_wc {
	uint64_t line;
	uint8_t filled;                 /* 8-byte chunks written, bitmap */
	bool valid;
};

/* Called when a dirty line leaves the LLC for memory (an eviction or a
 * flush): the persistence model learns that the line was written back. */
typedef void memhier_writeback_fn(void *ctx, uint64_t pa, bool evicted);

struct memhier {
	struct memhier_params p;
	struct cache l1, l1i, l2, llc;
	struct memctrl mc;
	struct memhier_fill fill[MEMHIER_MAX_LFB];
	struct memhier_fill sq[MEMHIER_SQ];     /* the L2 streamer's fills */
	struct memhier_stream stream[MEMHIER_STREAMS];
	struct memhier_wc wc[MEMHIER_WC];
	bool prefetch_off;                      /* MSR 0x1A4 bit 0 */
	struct memhier_stream *last_stream;     /* the stream of the last access */
	uint64_t recent[MEMHIER_RECENT];        /* lines known in L1D (memhier.c) */
	uint64_t clock;
	sim_time_t persist_done;        /* latest pending write-back ack */
	sim_time_t flush_ack[MEMHIER_MAX_LFB];  /* flush write-backs in flight */
	memhier_writeback_fn *writeback;
	void *writeback_ctx;
	uint64_t ifetches, l1i_misses;
	uint64_t loads, stores, l1_misses, llc_misses, prefetches, lfb_stalls,
		 flushes, flush_writebacks, ntstores, fences, nt_stalls, flush_stalls;
};

void memhier_default_params(struct memhier_params *p);
/* Returns 0, or -1 with *why if a cache geometry is impossible. */
int memhier_init(struct memhier *h, const struct memhier_params *p,
		 uint64_t pm_base, uint64_t pm_size, const char **why);
void memhier_free(struct memhier *h);

sim_time_t memhier_load(struct memhier *h, uint64_t pa, sim_time_t now);
/* An instruction fetch of the line holding pa: returns when it is at the
 * L1I. */
sim_time_t memhier_ifetch(struct memhier *h, uint64_t pa, sim_time_t now);
sim_time_t memhier_store(struct memhier *h, uint64_t pa, sim_time_t now);
/* keep: clwb (the line stays valid); otherwise clflush/clflushopt. */
sim_time_t memhier_flush(struct memhier *h, uint64_t pa, bool keep, sim_time_t now);
sim_time_t memhier_ntstore(struct memhier *h, uint64_t pa, unsigned len, sim_time_t now);
sim_time_t memhier_fence(struct memhier *h, sim_time_t now);

#endif
