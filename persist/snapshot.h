/* persist/snapshot.h: consistent, incremental snapshots of the object space.
 *
 * The kernel drives it from its main loop, between workload run() calls,
 * i.e. with the VM stopped at a safe point:
 *
 *     persist_probe()      read the store's superblock: the object-space size
 *     persist_init()       after objspace_map(): the arrays, the fault hook
 *     persist_recover()    restore the newest complete snapshot, or format
 *     persist_begin()      the pause: collect dirty pages, write-protect them
 *     persist_step(n)      write up to n pages; commits after the last one
 *     persist_pageout(n)   between snapshots: write up to n dirty pages
 *                          behind (Phantom's lazy pageout)
 *
 * Between persist_begin() and the commit the workload runs again; its
 * first write to a page still waiting to be written takes a page fault,
 * and the fault handler copies the frozen contents aside (copy-on-write).
 */
#ifndef PERSIST_SNAPSHOT_H
#define PERSIST_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>

#include "persist/store.h"

struct persist_stats {
	uint64_t gen;                   /* last committed generation */
	uint64_t digest;                /* its digest */
	uint64_t commits;
	uint64_t last_dirty;            /* pages in the last snapshot */
	uint64_t last_written;          /* blocks written (data + map) */
	uint64_t last_cow;              /* copy-on-write faults during it */
	uint64_t last_pause_tsc;        /* pause: begin to threads running again */
	uint64_t last_commit_tsc;       /* barrier + root + barrier */
	uint64_t last_total_tsc;        /* begin to durable */
	uint64_t slots_free;
};

/* The object-space size in pages this store holds, or want_pages for an
 * empty store (or no store: s == NULL). */
uint64_t persist_probe(struct store *s, uint64_t want_pages);
void persist_init(struct store *s, uint64_t *pte, uint64_t npages, const char *workload);

enum recover_result { RECOVER_FRESH, RECOVER_OK };
/* Restores the object space in place.  workload (32 bytes) receives the
 * stored workload name on RECOVER_OK.  *selfcheck is 0 when the digest
 * recomputed over the restored space equals the root record's. */
enum recover_result persist_recover(char *workload, uint32_t *selfcheck);

bool persist_busy(void);                /* a snapshot is being written */
int persist_begin(void);                /* 0: paused and resumed; <0: skipped */
int persist_step(uint64_t max_pages);   /* 1 when it committed in this call, <0 on I/O error */
int persist_pageout(uint64_t max_pages); /* pages written behind, <0 on I/O error */
void persist_get_stats(struct persist_stats *out);

#endif
