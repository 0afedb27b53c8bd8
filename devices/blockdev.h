/* devices/blockdev.h: the storage behind the block device.
 *
 * A blockdev is a disk of fixed size backed by an image file, with the
 * parts of a real SSD that decide what a power failure keeps and how long
 * requests take:
 *
 *   media    what survives a power failure: the image file, mapped
 *            privately and lazily (host memory grows with the pages
 *            written, the file stays sparse and is only rewritten, whole
 *            and atomically, by the power-failure write-out);
 *   cache    the volatile write cache: completed writes that no FLUSH has
 *            made durable yet, kept as records in completion order.  Only
 *            these writes cost bookkeeping.  A power failure keeps any
 *            legal subset of them (machine/blk_crash.h);
 *   timing   per-request latency, bandwidth and queue depth from a preset
 *            (nvme, nvme-consumer, sata), all in simulated time.
 *
 * The device interface (devices/virtio_blk.c) drives it:
 *
 *     struct blockdev bd;
 *     if (blockdev_open(&bd, sim, &(struct blockdev_params){
 *             .path = "disk.img", .size = 256 << 20, .sector_size = 512,
 *             .atomic_bytes = 4096, .volatile_cache = true,
 *             .preset = BLOCK_PRESET_NVME}, err, sizeof err) < 0) ...
 *     sim_time_t done = blockdev_submit(&bd, BLK_OP_WRITE, 8192);
 *     ... at `done`:  blockdev_write(&bd, sector, count, buf);
 *     ... a FLUSH:    blockdev_flush(&bd);
 *     ... power off:  blk_crash_apply(&bd, &policy, &rng, err, sizeof err);
 *
 * Sectors here are the device's logical sectors (512 or 4096 bytes).
 */
#ifndef DEVICES_BLOCKDEV_H
#define DEVICES_BLOCKDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "devices/image.h"
#include "sim/clock.h"

struct sim;
struct trace;
struct persist;
struct config;

/* Timing of one preset; docs/block.md gives the source of every number. */
struct blockdev_timing {
	const char *name;
	sim_time_t read_latency;        /* command overhead + media access, per request */
	sim_time_t write_latency;       /* into the write cache */
	uint64_t read_mb_s;             /* transfer rate, 10^6 bytes per second */
	uint64_t write_mb_s;
	sim_time_t flush_latency;       /* FLUSH with dirty data in the cache */
	sim_time_t flush_empty;         /* FLUSH with nothing to write */
	unsigned queue_depth;           /* requests the device works on at once */
	uint64_t cache_bytes;           /* volatile cache capacity (write-back destage) */
};

/* The timing of enum block_preset p (sim/config.h); NULL if unknown. */
const struct blockdev_timing *blockdev_preset(unsigned p);

enum blk_op { BLK_OP_READ, BLK_OP_WRITE, BLK_OP_FLUSH, BLK_OP_OTHER };

/* One write held by the volatile cache. */
struct blk_write {
	uint64_t seq;           /* order of completion, 1 for the first */
	uint64_t sector;        /* device sectors */
	uint32_t count;
	bool inflight;          /* not completed: only power-failure candidates */
	uint8_t data[];         /* count * sector_size bytes */
};

/* Open addressing map from a 64-bit key to a pointer (shared with
 * machine/blk_crash.c).  UINT64_MAX is never a key. */
struct blk_map {
	uint64_t *keys;
	void **vals;
	size_t cap, len;
};
void blk_map_free(struct blk_map *m);
void **blk_map_get(const struct blk_map *m, uint64_t key);
int blk_map_put(struct blk_map *m, uint64_t key, void *val);
void blk_map_del(struct blk_map *m, uint64_t key);
void blk_map_clear(struct blk_map *m);

struct blockdev_params {
	const char *path;               /* image file */
	uint64_t size;                  /* bytes, a multiple of sector_size */
	uint32_t sector_size;           /* 512 or 4096 */
	uint32_t atomic_bytes;          /* power-failure atomic unit, >= sector_size */
	bool volatile_cache;
	unsigned preset;                /* enum block_preset */
	const char *size_key;           /* for messages, e.g. "block.size_mb = 256" */
};

struct blockdev {
	struct sim *sim;
	struct trace *trace;            /* may be NULL */
	struct persist *pm;             /* may be NULL: counts block events */
	const struct blockdev_timing *timing;

	struct image img;
	uint8_t *media;                 /* private mapping of the image */
	uint64_t size, nsectors;
	uint32_t sector_size, atomic_bytes;
	bool volatile_cache;            /* configured */
	bool writeback;                 /* active: cache on and the driver flushes */
	bool frozen;                    /* power has failed: nothing changes */

	/* The cache: writes in completion order, pend[head..npend). */
	struct blk_write **pend;
	size_t head, npend, cappend;
	uint64_t pend_bytes, next_seq;
	struct blk_map index;           /* sector -> newest cached write holding it */
	struct blk_map touched;         /* media pages changed since the image was written */
	bool lost_pages;                /* out of host memory while noting one */

	/* Timing state. */
	sim_time_t *slot_free;          /* per queue slot: when it is free again */
	sim_time_t xfer_free;           /* when the data path is free again */

	uint64_t *st_reads, *st_writes, *st_flushes, *st_read_bytes, *st_write_bytes;
	uint64_t *st_destaged, *st_pending_peak, *st_powerfails;
};

/* Open (or create, sparse) the image and map it.  A wrong-sized image
 * fails with one line in err naming the file and the expected size, and
 * the file is left untouched.  Returns 0 or -1. */
int blockdev_open(struct blockdev *bd, struct sim *sim, const struct blockdev_params *p,
		  char *err, size_t errlen);
/* The same from the run config's block.* keys. */
int blockdev_open_config(struct blockdev *bd, struct sim *sim, const struct config *cfg,
			 char *err, size_t errlen);
/* Unmap and close.  Does not write anything: power off first. */
void blockdev_close(struct blockdev *bd);

/* Write-back (the cache holds writes until FLUSH) or write-through (a
 * write is on media when it completes).  Effective only with
 * volatile_cache; switching to write-through makes the cache durable. */
void blockdev_set_writeback(struct blockdev *bd, bool on);

/* A request of `bytes` is handed to the device now: the simulated time it
 * completes, from the preset (queue slots, latency, serialized transfer). */
sim_time_t blockdev_submit(struct blockdev *bd, enum blk_op op, uint64_t bytes);

/* What the device returns for [sector, sector+count): the newest completed
 * data, cached or on media.  -1 if out of range. */
int blockdev_read(struct blockdev *bd, uint64_t sector, uint64_t count, void *buf);
/* A write completes: into the cache (write-back) or onto media.  The cache
 * destages its oldest writes when it holds more than the preset's
 * capacity.  -1 if out of range or out of host memory. */
int blockdev_write(struct blockdev *bd, uint64_t sector, uint64_t count, const void *buf);
/* A FLUSH completes: every cached write is on media. */
void blockdev_flush(struct blockdev *bd);

/* Power failed: from now on nothing changes the media or the cache. */
void blockdev_freeze(struct blockdev *bd);
/* A write that was submitted but had not completed when power failed, with
 * its data: a candidate for the random policy (appended after the
 * completed ones).  Only while frozen. */
int blockdev_add_inflight(struct blockdev *bd, uint64_t sector, uint64_t count, const void *buf);

/* Cached writes (completed, not yet durable). */
size_t blockdev_pending(const struct blockdev *bd);
/* The i-th cached write, oldest first. */
const struct blk_write *blockdev_pending_write(const struct blockdev *bd, size_t i);

/* --- For machine/blk_crash.c ---------------------------------------- */
/* Copy count sectors of data to media at sector and note the pages. */
void blockdev_media_write(struct blockdev *bd, uint64_t sector, uint64_t count,
			  const uint8_t *data);
/* Drop every cached write (after the crash state was applied). */
void blockdev_drop_cache(struct blockdev *bd);
/* Write the media state into the image file, atomically (image_commit),
 * and drop the private copies.  Returns 0 or -1 with err set. */
int blockdev_write_image(struct blockdev *bd, char *err, size_t errlen);

#endif
