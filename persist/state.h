/* persist/state.h: the snapshot layer's in-DRAM state, shared by
 * snapshot.c (taking snapshots) and recover.c (format and recovery).
 * Everything here is transient: recover.c rebuilds it from the store.
 */
#ifndef PERSIST_STATE_H
#define PERSIST_STATE_H

#include "pvm/kernel/kernel.h"
#include "persist/digest.h"
#include "persist/layout.h"
#include "persist/snapshot.h"

/* bug= variants: deliberate persistence bugs for the fault-injection
 * campaigns to find (docs/guest.md).  Never on by default. */
#define BUG_NO_DATA_FENCE  0x1  /* no barrier between the data and the root, and a
				   recovery that relies on that order */
#define BUG_NO_FLUSH       0x2  /* pmem: no line write-backs; disk: no FLUSH */
#define BUG_NO_COW         0x4  /* no write protection: write the live pages */
#define BUG_IN_PLACE       0x8  /* overwrite a page's committed slot */
#define BUG_NO_DATA_FLUSH  0x10 /* pmem: data and map pages not written back */
#define BUG_NO_COMMIT_FENCE 0x20 /* the commit is reported before its root is fenced */
#define BUG_ROOT_FIRST     0x40 /* the root is written before the map pages it names */
#define BUG_ROOT_IN_PLACE  0x80 /* one root slot, overwritten: a torn root is lost */
#define BUG_NO_VERIFY      0x100 /* recovery does not check page checksums */
#define BUG_NO_DISK_FLUSH  0x200 /* disk: writes are awaited but never FLUSHed */
/* Recovery that relies on write ordering instead of checking pages and map
 * pages against their checksums.  A missing data fence is only a bug for
 * such a recovery: with the checks, a root whose data did not land is
 * rejected and the previous root used (the design of ext4's
 * journal_async_commit), so no-data-fence implies it. */
#define BUG_TRUST_ORDER    (BUG_NO_VERIFY | BUG_NO_DATA_FENCE)

/* A page in the snapshot being written. */
struct dirty_page {
	uint32_t page;
	uint32_t old_slot;              /* freed once the snapshot commits */
	uint64_t cow;                   /* frozen copy made by a write fault, or 0 */
	uint32_t pre_slot;              /* written behind before the pause: its slot
					   (PRE_ZERO: a zero page), else 0 */
	uint32_t pm_slot;               /* frames=pm: the slot the page was written in
					   and frozen by the pause (hashed once dirty_index
					   is 0 again), else 0 */
	uint64_t pre_hash;              /* pre_slot's page hash */
};

/* pre_slot of a page written behind that turned out to be all zeros. */
#define PRE_ZERO 0xFFFFFFFFu

struct persist_state {
	struct store *st;
	uint64_t npages, nmap, nslots;
	uint64_t *pte;                  /* the object space's PTEs, page i at [i] */
	struct map_entry *ment;         /* the map pages' contents, nmap * 512 entries:
					   slot and check of each page in the newest snapshot */
	uint64_t *phash;                /* page hash of each page in the newest snapshot */
	struct map_entry *map;          /* slot and check of each map page */
	uint64_t *slot_used;            /* bitmap over slots 1..nslots (bit 0 unused) */
	uint64_t slots_free, slot_cursor;
	uint32_t *log;                  /* pages written since the last pause (write faults) */
	uint64_t nlog;
	uint8_t *logged;                /* per page: on log[] */
	/* Write-behind (snapshot.c, persist_pageout): pages written to a free
	 * slot during the interval, clean and read-only since. */
	uint32_t *pre_slot;             /* per page: its written-behind slot, PRE_ZERO, or 0 */
	uint64_t *pre_hash;             /* per page: that copy's page hash */
	uint32_t *pre;                  /* pages that may have a pre_slot */
	uint8_t *on_pre;                /* per page: on pre[] */
	uint64_t npre;
	uint32_t *hot;                  /* per page: the interval it was last rewritten
					   after its write-behind (skipped until the next) */
	uint32_t interval;              /* pauses so far */
	uint32_t *dirty_index;          /* page -> 1 + index in dirty[], 0 = not pending */
	struct dirty_page *dirty;
	uint64_t ndirty, nwritten, nblocks_written;
	uint64_t npre_taken;            /* pages of this snapshot written behind */
	/* The root's delta (layout.h): the pages whose entries differ from
	 * the map pages in map[] (the base).  Write-behind folds it into
	 * fresh map pages (fmap) between snapshots; the next commit names
	 * those and carries only its own pages as the delta. */
	uint32_t *delta;                /* pages in the delta */
	uint64_t ndelta;
	uint8_t *in_delta;              /* per page */
	struct map_entry *fmap;         /* the folded base, when fold_ready */
	bool fold_ready;
	struct map_entry *newmap;       /* the base the root being written names */
	uint8_t *map_changed;           /* per map page: scratch for the lists below */
	uint32_t *changed;              /* map pages written by a commit or a fold */
	uint64_t nchanged;
	uint64_t gen, digest, format_id;
	uint64_t dsum;                  /* the digest of the space as written so far */
	uint64_t zero_hash;             /* page_hash of a zero page */
	bool writing;
	char workload[32];
	uint64_t t_begin, cow_faults;
	uint64_t full_reported;         /* generation last reported as skipped */
	unsigned bugs;                  /* BUG_* */
	bool frames_zeroed;             /* no object-space frame written since the map */
	/* frames=pm (snapshot.c, "PM frames"): a page's first write after it
	 * was stored moves it into a free slot, where the workload then
	 * writes it directly. */
	bool pm_frames;
	uint64_t *frame;                /* per page: its DRAM frame */
	uint64_t nlog_pm;               /* pages on log[] that are in a slot */
	uint64_t npm;                   /* pages of this snapshot written in PM, unsealed */
	struct persist_stats stats;
};

extern struct persist_state P;

uint64_t slot_alloc(void);
void slot_free(uint64_t s);
void slot_mark_used(uint64_t s);
bool slot_is_used(uint64_t s);
bool persist_fault(uint64_t addr, uint64_t error);
void persist_protect_all(void);

/* frames=pm: the slot a PTE maps (0: a DRAM frame).  Derived from the
 * PTE the pause reads anyway, not kept per page, so the pause touches no
 * more per-page state than under frames=dram. */
static inline uint32_t pte_slot(uint64_t e)
{
	uint64_t a = e & PTE_ADDR;
	if (!P.pm_frames || a < P.st->phys_base + STORE_FIRST_SLOT_BLOCK * STORE_BLOCK)
		return 0;
	return (uint32_t)((a - P.st->phys_base) / STORE_BLOCK - STORE_SLOT_BLOCK(0));
}

/* Physical address of object-space page i (identity-mapped). */
static inline uint8_t *page_frame(uint64_t i)
{
	return (uint8_t *)(P.pte[i] & PTE_ADDR);
}

#endif
