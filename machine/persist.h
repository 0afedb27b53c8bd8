/* machine/persist.h: which bytes of persistent memory a power failure keeps.
 *
 * The model tracks the persistent-memory region in 64-byte lines.  It keeps
 * two images of the region, both owned by the caller (devices/nvdimm.c maps
 * them from the image file):
 *
 *   mem    what the CPU sees: every store has landed here;
 *   media  what is guaranteed to survive a power failure now.
 *
 * For every line where the two may differ ("pending"), a small record lists
 * the versions of the line since its guaranteed one: version 0 is the media
 * line, version i is version i-1 plus the i-th store (kept as a byte mask and
 * the stored bytes), and the newest version equals mem.  A power failure may
 * leave any version from 0 to the newest on the media (docs/crash-model.md
 * gives the rules and their sources); machine/crash.c chooses one by policy.
 * Lines that are not pending cost nothing, so host memory grows with the
 * pending set, not with the region.
 *
 * The CPU, the bus and the cache model drive the model through the same
 * calls the unit tests use:
 *
 *     persist_init(&pm, &sim, base, size, mem, media, PDOMAIN_ADR);
 *     mem[0] = 1; persist_store(&pm, base, 1);        // after the store landed
 *     persist_flush(&pm, base, PERSIST_CLWB);
 *     persist_fence(&pm, PERSIST_SFENCE);             // line 0 now on media
 */
#ifndef MACHINE_PERSIST_H
#define MACHINE_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim;

#define PERSIST_LINE            64u
#define PERSIST_LINE_SHIFT      6
#define PERSIST_WORD            8u      /* unit of failure atomicity */
#define PERSIST_PAGE            4096u   /* unit of image updates */
/* Versions kept per pending line beyond the guaranteed one.  A longer
 * history is collapsed by dropping its oldest intermediate version (never
 * the guaranteed one, the newest, or the one a fence would make
 * guaranteed): random crash states then miss some legal states, but never
 * include an illegal one (docs/crash-model.md, "Bounded history"). */
#define PERSIST_DEFAULT_VERSIONS 16
#define PERSIST_MAX_VERSIONS    62
#define PERSIST_DEFER           16      /* cached stores held back (persist.c) */

/* Same values as enum cpu_flush_kind and enum cpu_fence_kind (cpu.h);
 * devices/nvdimm.c checks that at compile time. */
enum persist_flush { PERSIST_CLFLUSH, PERSIST_CLFLUSHOPT, PERSIST_CLWB };
enum persist_fence {
	PERSIST_SFENCE, PERSIST_LFENCE, PERSIST_MFENCE,
	PERSIST_LOCKED, PERSIST_SERIALIZE, PERSIST_IO,
};

/* Persistence events: what a power-failure point can be counted in. */
enum persist_event_kind {
	PERSIST_EV_STORE,       /* a cached store to the region (one per instruction) */
	PERSIST_EV_NTSTORE,     /* a non-temporal store to the region */
	PERSIST_EV_FLUSH,       /* clflush/clflushopt/clwb of a line of the region */
	PERSIST_EV_FENCE,       /* sfence/mfence/locked/serializing/I/O (not lfence,
				   not the trace port) */
	PERSIST_EV_BLOCK_WRITE, /* reported by the block device */
	PERSIST_EV_BLOCK_FLUSH,
	PERSIST_EV_KINDS
};

struct persist_event {
	enum persist_event_kind kind;
	uint64_t seq;           /* 1 for the first event of the run */
	uint64_t pa;            /* store/flush: physical address; block: sector */
	uint64_t len;           /* store: bytes; block write: sectors */
	int sub;                /* flush: enum persist_flush; fence: enum persist_fence;
				   block write: 1 = FUA */
};
typedef void persist_observer_fn(void *ctx, const struct persist_event *ev);
/* Called right before event `seq` changes the model (see
 * persist_set_pre_observer). */
typedef void persist_pre_fn(void *ctx, uint64_t seq);

/* One pending line.  Deltas are packed in buf: for version i (1..nver), an
 * 8-byte little-endian byte mask followed by one byte per set bit. */
struct pline {
	uint64_t line;          /* line index within the region */
	uint16_t nver;          /* newest version (>= 1) */
	uint16_t target;        /* version the next fence makes guaranteed; 0 none */
	bool nt;                /* target came from a non-temporal store */
	uint32_t len, cap;      /* bytes used / allocated in buf */
	uint8_t buf[];
};

struct persist {
	struct sim *sim;
	uint64_t base, size;    /* physical range of the region */
	uint8_t *mem, *media;   /* caller-owned, size bytes each */
	unsigned domain;        /* enum persistence_domain (sim/config.h) */
	unsigned max_versions;

	/* Pending lines: open addressing on the line index. */
	struct pline **tab;
	size_t tabcap, npending;
	/* Lines with a target a fence would commit. */
	uint64_t *armed;
	size_t narmed, caparmed;
	/* Pages whose media may differ from the image file. */
	uint64_t *touched;      /* open addressing set, UINT64_MAX = empty */
	size_t touchcap, ntouched;
	/* Lines stored to while frozen (mem differs from the frozen state). */
	uint64_t *stale;
	size_t stalecap, nstale;

	struct {
		uint64_t pa;
		uint8_t len;
		uint8_t data[PERSIST_LINE];
	} defer[PERSIST_DEFER];
	unsigned ndefer;
	bool io_pending;        /* an IN/OUT fence not yet applied (see persist_io_exempt) */
	bool frozen;            /* power has failed: ignore everything */
	uint64_t events;        /* persistence events so far */
	uint64_t freeze_at;     /* freeze after this event; 0 = never */
	void (*on_freeze)(void *ctx);
	void *freeze_ctx;
	persist_observer_fn *observer;
	void *observer_ctx;
	persist_pre_fn *pre_observer;
	void *pre_ctx;

	uint64_t *st_ev[PERSIST_EV_KINDS];
	uint64_t *st_events, *st_lfence, *st_io_exempt, *st_evict, *st_collapsed;
	uint64_t *st_nt_mixed, *st_pending_peak, *st_commits;
};

/* The model over [base, base+size), size a multiple of 64.  mem and media
 * must hold the same bytes on entry (the image as loaded).  domain is an
 * enum persistence_domain.  Returns 0, or -1 when out of host memory. */
int persist_init(struct persist *p, struct sim *sim, uint64_t base, uint64_t size,
		 uint8_t *mem, uint8_t *media, unsigned domain);
void persist_free(struct persist *p);

/* --- What the CPU, bus and cache model call ------------------------- */
/* A cached store of len bytes at pa has landed in mem (the bus store hook). */
void persist_store(struct persist *p, uint64_t pa, uint64_t len);
void persist_store_hook(void *p, uint64_t pa, unsigned len);  /* store_hook_fn */
/* A non-temporal store of len bytes at pa has landed in mem. */
void persist_ntstore(struct persist *p, uint64_t pa, uint64_t len);
/* clflush/clflushopt/clwb of the line holding pa (ignored outside the region). */
void persist_flush(struct persist *p, uint64_t pa, enum persist_flush kind);
/* A fence-like instruction.  PERSIST_IO is applied lazily, at the next call
 * into the model, so that the trace port can cancel it: */
void persist_fence(struct persist *p, enum persist_fence kind);
/* The I/O access whose fence was just reported is the trace port (0xE50,
 * 0xE54): it does not order anything (docs/machine.md). */
void persist_io_exempt(struct persist *p);
/* Convenience for callers that know the port: an IN/OUT to port. */
void persist_port_access(struct persist *p, uint16_t port);
/* The cache model wrote the line holding pa back to the memory controller:
 * the line's current content (what the CPU sees now, every store so far)
 * reached the persistence domain.  Under ADR the line is then guaranteed
 * at its newest version and stops being pending; under eADR it already
 * was; under "none" the write-pending queue is not persistent and nothing
 * changes.  Not a persistence event (power-failure points do not count
 * it).  This is what the cache model calls for an eviction of a dirty
 * line (machine/memhier.c's writeback callback, through
 * persist_writeback_hook below). */
void persist_line_written_back(struct persist *p, uint64_t pa);
/* The same; the older name. */
void persist_evict(struct persist *p, uint64_t pa);
/* The same as a memhier_writeback_fn (machine/memhier.h): only evictions
 * count.  A write-back caused by clwb/clflushopt is guaranteed only by the
 * next fence, which the CPU's fence hook reports. */
void persist_writeback_hook(void *p, uint64_t pa, bool evicted);
/* WBINVD/WBNOINVD: every line written back, and serializing. */
void persist_writeback_all(struct persist *p);
/* The block device reports its writes and flushes (counted as events only). */
void persist_block_write(struct persist *p, uint64_t sector, uint64_t count, bool fua);
void persist_block_flush(struct persist *p);

/* --- Power-failure points ------------------------------------------- */
uint64_t persist_event_count(struct persist *p);
void persist_set_observer(struct persist *p, persist_observer_fn *fn, void *ctx);
/* fn(ctx, seq) right before event seq is applied: the model then holds
 * exactly the state after event seq - 1, with every instruction up to the
 * one that makes event seq done (a crash point "after event seq - 1, as
 * late as possible").  fn may read the model (the peek calls and the
 * public fields) but must not call anything that processes held stores. */
void persist_set_pre_observer(struct persist *p, persist_pre_fn *fn, void *ctx);
/* Freeze right after event k (k >= 1; 0 disarms) and call stop(ctx) once,
 * e.g. to make the CPU leave cpu_run() after the current instruction.
 * Whatever the machine does between the freeze and its stop is not part
 * of the crash state. */
void persist_freeze_after(struct persist *p, uint64_t k, void (*stop)(void *), void *ctx);
/* Freeze now (a time or instruction-count trigger fired). */
void persist_freeze(struct persist *p);

/* --- Inspection (crash.c, tests) ------------------------------------ */
/* An instruction boundary: process the cached stores the model holds back
 * and a pending I/O fence (see persist.c).  The machine loop calls it
 * after each cpu_run() slice; the inspection calls below do it themselves. */
void persist_sync(struct persist *p);
size_t persist_pending(struct persist *p);
/* The record of the line holding pa, or NULL when it is not pending. */
const struct pline *persist_line(struct persist *p, uint64_t pa);
/* The same without first processing held stores (for observers). */
const struct pline *persist_peek_line(const struct persist *p, uint64_t pa);
/* Version v (0..pl->nver) of a pending line into out. */
void persist_version(const struct persist *p, const struct pline *pl, unsigned v,
		     uint8_t out[PERSIST_LINE]);
/* Call fn for each pending line, in no particular order. */
void persist_foreach(struct persist *p,
		     void (*fn)(void *ctx, const struct pline *pl), void *ctx);
/* Replace every pending line by the chosen content in both media and mem,
 * restore mem of lines stored to while frozen, and forget all pending
 * state: the region is then as after a reboot on that state.  choose fills
 * out[64] for each pending line.  Used by crash_apply(). */
void persist_settle(struct persist *p,
		    void (*choose)(void *ctx, const struct pline *pl, uint8_t out[PERSIST_LINE]),
		    void *ctx);
/* Pages (offsets / 4096) whose media may differ from what the image file
 * held when last written, sorted; *n gets the count.  malloc'd. */
uint64_t *persist_touched_pages(struct persist *p, size_t *n);
void persist_clear_touched(struct persist *p);

#endif
