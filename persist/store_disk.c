/* persist/store_disk.c: the snapshot store on the virtio-blk disk.
 *
 * Block b is sectors 8b .. 8b+7 (512-byte sectors, from sector 0).  A
 * write queues a request (data copied to a bounce page); barrier() waits
 * for every queued request and then sends FLUSH, so whatever the device
 * cached is on media (virtio 1.1 §5.2.6: VIRTIO_BLK_T_FLUSH).  The
 * snapshot layer puts a barrier before and after the root write, which
 * is Phantom's "FLUSH before and after the superblock".
 */
#include "pvm/kernel/kernel.h"
#include "persist/digest.h"
#include "persist/layout.h"
#include "persist/store.h"

#define SECTORS_PER_BLOCK (STORE_BLOCK / 512)

static int disk_read(struct store *s, uint64_t block, void *buf)
{
	if (block >= s->nblocks)
		return -1;
	return virtio_blk_read(s->priv, block * SECTORS_PER_BLOCK, buf, STORE_BLOCK);
}

static int disk_read_start(struct store *s, uint64_t block, void *buf)
{
	if (block >= s->nblocks)
		return -1;
	return virtio_blk_read_page_async(s->priv, block * SECTORS_PER_BLOCK, buf);
}

static int disk_read_wait(struct store *s)
{
	return virtio_blk_wait_all(s->priv);
}

static int disk_write(struct store *s, uint64_t block, const void *buf)
{
	if (block >= s->nblocks)
		return -1;
	return virtio_blk_write_page(s->priv, block * SECTORS_PER_BLOCK, buf);
}

static int disk_write_pages(struct store *s, unsigned n, const uint64_t *blocks, const void *const *srcs,
			   uint64_t *hashes)
{
	int rc = 0;
	for (unsigned k = 0; k < n; k++) {
		hashes[k] = page_hash(srcs[k]);
		rc |= disk_write(s, blocks[k], srcs[k]);
	}
	return rc;
}

/* bug=no-flush and bug=no-disk-flush: the writes are awaited, so the
 * guest sees them complete, but no FLUSH follows: a drive with a volatile
 * cache may still lose any of them (the classic missing fsync). */
static int disk_barrier(struct store *s)
{
	if (s->bug_no_flush || s->bug_no_disk_flush)
		return virtio_blk_wait_all(s->priv);
	return virtio_blk_flush(s->priv);
}

struct store *store_disk_open(void)
{
	static struct store st;
	struct virtio_blk *b = virtio_blk_probe();
	if (!b)
		return 0;
	st = (struct store){
		.name = "disk", .nblocks = virtio_blk_sectors(b) / SECTORS_PER_BLOCK,
		.read = disk_read, .read_start = disk_read_start, .read_wait = disk_read_wait,
		.write = disk_write, .write_pages = disk_write_pages, .barrier = disk_barrier, .priv = b,
	};
	kprintf("persist: disk store, %lu blocks\n", st.nblocks);
	return &st;
}
