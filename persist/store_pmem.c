/* persist/store_pmem.c: the snapshot store in the persistent-memory region.
 *
 * The region is identity-mapped (write-back cached).  A block write is a
 * copy followed by a write-back of each of its 64 lines (clwb, else
 * clflushopt, else clflush; pvm/kernel/pmem.c) with no fence; barrier()
 * is the one sfence that makes all of them durable, so a snapshot fences
 * once after its data and once after its root record.
 */
#include "pvm/kernel/kernel.h"
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
		.read = pm_read, .read_start = pm_read, .read_wait = pm_read_wait, .write = pm_write, .barrier = pm_barrier,
		.priv = (void *)base, .phys_base = base,
	};
	kprintf("persist: pmem store at 0x%lx, %lu blocks, write-back with %s\n",
		base, st.nblocks, pmem_flush_name());
	return &st;
}
