/* persist/store_pmem.c: the snapshot store in the persistent-memory region.
 *
 * The region is identity-mapped (write-back cached).  A snapshot's pages
 * and map pages (write_pages) are copied with non-temporal stores
 * (movntdq): they bypass the caches, so no destination line is first
 * read from PM for ownership, and they need no line write-back, only the
 * barrier's sfence, which drains the write-combining buffers into the
 * memory controller's write-pending queue (the ADR domain).  The page
 * hash is computed in the same pass.  Other blocks (root records,
 * superblock) are a cached copy followed by a write-back of each of its
 * 64 lines (clwb, else clflushopt, else clflush; pvm/kernel/pmem.c) with
 * no fence.  barrier() is the one sfence that makes all of them durable,
 * so a snapshot fences once after its data and once after its root.
 *
 * Under frames=pm the workload writes pages in slots directly; writeback()
 * writes back such a block's 64 lines (most of them already in PM: the
 * page was moved there with non-temporal stores) before the barrier.
 *
 * Under bug=no-flush and bug=no-data-flush the pages are copied with
 * cached stores and never written back, so they reach PM only if the
 * cache happens to evict them.
 */
#include "pvm/kernel/kernel.h"
#include "persist/digest.h"
#include "persist/layout.h"
#include "persist/store.h"

static uint8_t *block_ptr(struct store *s, uint64_t block)
{
	return (uint8_t *)s->priv + block * STORE_BLOCK;
}

static int pm_read(struct store *s, uint64_t block, void *buf)
{
	if (block >= s->nblocks)
		return -1;
	memcpy(buf, block_ptr(s, block), STORE_BLOCK);
	return 0;
}

static int pm_read_wait(struct store *s)
{
	return 0;
}

static int pm_write(struct store *s, uint64_t block, const void *buf)
{
	if (block >= s->nblocks)
		return -1;
	uint8_t *dst = block_ptr(s, block);
	memcpy(dst, buf, STORE_BLOCK);
	if (!s->bug_no_flush)
		pmem_flush_range(dst, STORE_BLOCK);
	return 0;
}

static int pm_write_pages(struct store *s, unsigned n, const uint64_t *blocks, const void *const *srcs,
			  uint64_t *hashes)
{
	if (n > STORE_BATCH)
		return -1;
	for (unsigned k = 0; k < n; k++)
		if (blocks[k] >= s->nblocks)
			return -1;
	for (unsigned k = 0; k < n; k++) {
		uint64_t sums[16] = {0};
		if (s->bug_no_flush)
			copy_sum_wb(block_ptr(s, blocks[k]), srcs[k], sums, STORE_BLOCK / 256);
		else
			copy_sum_nt(block_ptr(s, blocks[k]), srcs[k], sums, STORE_BLOCK / 256);
		hashes[k] = page_sums_fold(sums);
	}
	return 0;
}

static int pm_writeback(struct store *s, uint64_t block)
{
	if (block >= s->nblocks)
		return -1;
	if (!s->bug_no_flush)
		pmem_flush_range(block_ptr(s, block), STORE_BLOCK);
	return 0;
}

static int pm_barrier(struct store *s)
{
	pmem_fence();
	return 0;
}

struct store *store_pmem_open(uint64_t base, uint64_t size)
{
	static struct store st;
	map_identity(base, size, false);
	st = (struct store){
		.name = "pmem", .nblocks = size / STORE_BLOCK,
		.read = pm_read, .read_start = pm_read, .read_wait = pm_read_wait, .write = pm_write, .write_pages = pm_write_pages, .writeback = pm_writeback, .barrier = pm_barrier,
		.priv = (void *)base, .phys_base = base,
	};
	kprintf("persist: pmem store at 0x%lx, %lu blocks, write-back with %s\n",
		base, st.nblocks, pmem_flush_name());
	return &st;
}
