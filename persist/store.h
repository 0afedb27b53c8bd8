/* persist/store.h: a block store the snapshot layer writes to.
 *
 * Two backends implement it: store_pmem.c (the PM region: a write is a
 * copy plus cache-line write-backs, a barrier is one sfence) and
 * store_disk.c (virtio-blk: a write is a queued request, a barrier waits
 * for all of them and sends FLUSH).  write() may return before the data
 * is durable; only barrier() promises durability of every write before it.
 */
#ifndef PERSIST_STORE_H
#define PERSIST_STORE_H

#include <stdbool.h>
#include <stdint.h>

#define STORE_BATCH 8

struct store {
	const char *name;
	uint64_t nblocks;
	/* Read one block into buf (identity-mapped memory). */
	int (*read)(struct store *s, uint64_t block, void *buf);
	/* Queue a read of one block into buf; read_wait() completes them all. */
	int (*read_start)(struct store *s, uint64_t block, void *buf);
	int (*read_wait)(struct store *s);
	/* Queue a write of one block; buf may be reused once this returns. */
	int (*write)(struct store *s, uint64_t block, const void *buf);
	/* Write n <= STORE_BATCH 4 KiB pages (16-byte aligned) to their blocks
	 * and return each one's page_hash (digest.h): the snapshot's data
	 * path, which reads each byte once.  A batch lets the backend spread
	 * its writes over parallel media (the PM's interleaved DIMMs). */
	int (*write_pages)(struct store *s, unsigned n, const uint64_t *blocks, const void *const *srcs,
			   uint64_t *hashes);
	/* frames=pm: write back a block the kernel wrote in place through the
	 * identity map (phys_base); the next barrier makes it durable.  NULL
	 * where the store is not memory (disk). */
	int (*writeback)(struct store *s, uint64_t block);
	/* Every write before the barrier is durable when it returns 0. */
	int (*barrier)(struct store *s);
	void *priv;
	uint64_t phys_base;             /* pmem: physical address of block 0; disk: 0 */
	bool bug_no_flush;              /* bug=no-flush: skip write-backs / FLUSH */
	bool bug_no_disk_flush;         /* bug=no-disk-flush: disk barriers send no FLUSH */
};

struct store *store_pmem_open(uint64_t base, uint64_t size);
struct store *store_disk_open(void);

#endif
