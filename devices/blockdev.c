/* devices/blockdev.c: the disk behind the block device: media, volatile
 * write cache and request timing.
 *
 * Media is the image file mapped MAP_PRIVATE: reads of untouched sectors
 * come from the file (holes read as zeros), written sectors become private
 * pages, and the file itself changes only when blockdev_write_image()
 * replaces it whole (devices/image.c: temporary file, fsync, rename).
 *
 * The volatile cache keeps each completed-but-unflushed write as a record
 * with its data, in completion order, plus an index from sector to the
 * newest record holding it so that reads see the newest data.  A FLUSH
 * copies the records onto media in order and forgets them.  When the
 * records exceed the preset's cache capacity, the oldest are destaged to
 * media, as a real drive writes its cache back in the background; that
 * narrows the set of crash states (those writes are durable) but never adds
 * an illegal one, and it bounds host memory.
 *
 * Timing (docs/block.md, "Presets"): a request takes the earliest free of
 * queue_depth slots; its data transfer is serialized on one data path at
 * the preset's bandwidth, and the fixed latency follows the transfer:
 *
 *     start = max(now, earliest slot free)
 *     xfer  = max(start, data path free) .. + bytes / bandwidth
 *     done  = xfer end + latency
 *
 * so one 4 KiB read costs latency + 4096 / bandwidth and a deep queue of
 * them runs at the bandwidth.  A FLUSH costs flush_latency plus the cached
 * bytes at the write bandwidth, or flush_empty when nothing is cached.
 * Everything is computed from simulated time at submission, so the same
 * requests at the same times complete at the same times.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "devices/blockdev.h"
#include "machine/persist.h"
#include "sim/config.h"
#include "sim/sim.h"
#include "traces/trace.h"

/* --- Presets --------------------------------------------------------
 * Sources (docs/block.md has the table): /work/shared/optane-figures.md
 * "Block devices": 4 KiB read NVMe 10-20 us, SATA 50-100 us; fsync after
 * 16 KiB about 0.9 ms on consumer NVMe without power-loss protection and
 * 12-58 us on enterprise NVMe with it (M. Callaghan, "SSDs, power loss
 * protection and fsync latency"); AHCI/NCQ 32 commands.  Bandwidths are
 * the usual PCIe 3.0 x4 and SATA 6 Gb/s class figures (SATA: 600 MB/s line
 * rate after 8b/10b).  Write latencies, flush_empty and cache capacities
 * are estimates, marked so in docs/block.md. */
static const struct blockdev_timing presets[] = {
	[BLOCK_PRESET_NVME] = {
		.name = "nvme",
		.read_latency = 12 * SIM_US, .write_latency = 10 * SIM_US,
		.read_mb_s = 3000, .write_mb_s = 2000,
		.flush_latency = 30 * SIM_US, .flush_empty = 5 * SIM_US,
		.queue_depth = 256, .cache_bytes = 64ull << 20,
	},
	[BLOCK_PRESET_NVME_CONSUMER] = {
		.name = "nvme-consumer",
		.read_latency = 16 * SIM_US, .write_latency = 15 * SIM_US,
		.read_mb_s = 2000, .write_mb_s = 1000,
		.flush_latency = 900 * SIM_US, .flush_empty = 5 * SIM_US,
		.queue_depth = 64, .cache_bytes = 32ull << 20,
	},
	[BLOCK_PRESET_SATA] = {
		.name = "sata",
		.read_latency = 70 * SIM_US, .write_latency = 60 * SIM_US,
		.read_mb_s = 550, .write_mb_s = 500,
		.flush_latency = 900 * SIM_US, .flush_empty = 10 * SIM_US,
		.queue_depth = 32, .cache_bytes = 32ull << 20,
	},
};

const struct blockdev_timing *blockdev_preset(unsigned p)
{
	if (p >= sizeof presets / sizeof presets[0])
		return NULL;
	return &presets[p];
}

/* --- The key -> pointer map ---------------------------------------- */

#define MAP_EMPTY UINT64_MAX

static size_t map_slot(uint64_t key, size_t cap)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return (size_t)key & (cap - 1);
}

void blk_map_free(struct blk_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof *m);
}

void blk_map_clear(struct blk_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		m->keys[i] = MAP_EMPTY;
	m->len = 0;
}

void **blk_map_get(const struct blk_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = map_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return &m->vals[i];
		if (m->keys[i] == MAP_EMPTY)
			return NULL;
	}
}

static int map_grow(struct blk_map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	uint64_t *keys = malloc(cap * sizeof *keys);
	void **vals = malloc(cap * sizeof *vals);
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -1;
	}
	for (size_t i = 0; i < cap; i++)
		keys[i] = MAP_EMPTY;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->keys[i] == MAP_EMPTY)
			continue;
		size_t j = map_slot(m->keys[i], cap);
		while (keys[j] != MAP_EMPTY)
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		vals[j] = m->vals[i];
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

int blk_map_put(struct blk_map *m, uint64_t key, void *val)
{
	void **v = blk_map_get(m, key);
	if (v) {
		*v = val;
		return 0;
	}
	if ((m->len + 1) * 4 > m->cap * 3 && map_grow(m) < 0)
		return -1;
	size_t i = map_slot(key, m->cap);
	while (m->keys[i] != MAP_EMPTY)
		i = (i + 1) & (m->cap - 1);
	m->keys[i] = key;
	m->vals[i] = val;
	m->len++;
	return 0;
}

/* Linear probing with backward-shift deletion: no tombstones. */
void blk_map_del(struct blk_map *m, uint64_t key)
{
	if (!m->cap)
		return;
	size_t mask = m->cap - 1, i = map_slot(key, m->cap);
	while (m->keys[i] != key) {
		if (m->keys[i] == MAP_EMPTY)
			return;
		i = (i + 1) & mask;
	}
	for (size_t j = (i + 1) & mask;; j = (j + 1) & mask) {
		if (m->keys[j] == MAP_EMPTY)
			break;
		size_t home = map_slot(m->keys[j], m->cap);
		/* Move j into the hole at i unless its home lies in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (stays)
			continue;
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
	m->keys[i] = MAP_EMPTY;
	m->len--;
}

/* --- Open and close ------------------------------------------------- */

static int fail(char *err, size_t errlen, const char *msg, const char *path)
{
	snprintf(err, errlen, "%s: %s", path, msg);
	return -1;
}

int blockdev_open(struct blockdev *bd, struct sim *sim, const struct blockdev_params *p,
		  char *err, size_t errlen)
{
	memset(bd, 0, sizeof *bd);
	bd->img.fd = -1;
	bd->sim = sim;
	bd->timing = blockdev_preset(p->preset);
	if (!bd->timing)
		return fail(err, errlen, "unknown block.preset", p->path);
	if ((p->sector_size != 512 && p->sector_size != 4096) ||
	    p->atomic_bytes < p->sector_size || p->atomic_bytes % p->sector_size ||
	    (p->atomic_bytes & (p->atomic_bytes - 1)))
		return fail(err, errlen, "block.sector_size must be 512 or 4096 and "
			    "block.atomic_write_bytes a power-of-two multiple of it", p->path);
	if (!p->size || p->size % p->sector_size)
		return fail(err, errlen, "the device size must be a non-zero multiple of the sector size",
			    p->path);
	char key[64];
	if (!p->size_key)
		snprintf(key, sizeof key, "block.size_mb = %" PRIu64, p->size >> 20);
	if (image_open(&bd->img, p->path, p->size, p->size_key ? p->size_key : key, err, errlen) < 0)
		return -1;
	bd->media = image_map(&bd->img, NULL);
	if (!bd->media) {
		snprintf(err, errlen, "%s: cannot map the image: %s", p->path, strerror(errno));
		image_close(&bd->img);
		return -1;
	}
	bd->size = p->size;
	bd->sector_size = p->sector_size;
	bd->atomic_bytes = p->atomic_bytes;
	bd->nsectors = p->size / p->sector_size;
	bd->volatile_cache = p->volatile_cache;
	bd->writeback = p->volatile_cache;
	bd->next_seq = 1;
	bd->slot_free = calloc(bd->timing->queue_depth, sizeof *bd->slot_free);
	if (!bd->slot_free) {
		blockdev_close(bd);
		return fail(err, errlen, "out of memory", p->path);
	}
	struct stats *st = &sim->stats;
	bd->st_reads = stats_counter(st, "blk.reads");
	bd->st_writes = stats_counter(st, "blk.writes");
	bd->st_flushes = stats_counter(st, "blk.flushes");
	bd->st_read_bytes = stats_counter(st, "blk.read_bytes");
	bd->st_write_bytes = stats_counter(st, "blk.write_bytes");
	bd->st_destaged = stats_counter(st, "blk.destaged_writes");
	bd->st_pending_peak = stats_counter(st, "blk.pending_peak");
	bd->st_powerfails = stats_counter(st, "blk.power_failures");
	return 0;
}

int blockdev_open_config(struct blockdev *bd, struct sim *sim, const struct config *cfg,
			 char *err, size_t errlen)
{
	char key[64];
	snprintf(key, sizeof key, "block.size_mb = %" PRIu64, cfg->block.size_mb);
	struct blockdev_params p = {
		.path = cfg->block.image,
		.size = cfg->block.size_mb << 20,
		.sector_size = (uint32_t)cfg->block.sector_size,
		.atomic_bytes = (uint32_t)cfg->block.atomic_write_bytes,
		.volatile_cache = cfg->block.volatile_cache,
		.preset = cfg->block.preset,
		.size_key = key,
	};
	return blockdev_open(bd, sim, &p, err, errlen);
}

void blockdev_drop_cache(struct blockdev *bd)
{
	for (size_t i = bd->head; i < bd->npend; i++)
		free(bd->pend[i]);
	bd->head = bd->npend = 0;
	bd->pend_bytes = 0;
	blk_map_clear(&bd->index);
}

void blockdev_close(struct blockdev *bd)
{
	blockdev_drop_cache(bd);
	free(bd->pend);
	blk_map_free(&bd->index);
	blk_map_free(&bd->touched);
	free(bd->slot_free);
	if (bd->media)
		munmap(bd->media, bd->size);
	image_close(&bd->img);
	memset(bd, 0, sizeof *bd);
	bd->img.fd = -1;
}

/* --- Media and cache ------------------------------------------------- */

void blockdev_media_write(struct blockdev *bd, uint64_t sector, uint64_t count,
			  const uint8_t *data)
{
	uint64_t off = sector * bd->sector_size, len = count * bd->sector_size;
	memcpy(bd->media + off, data, len);
	for (uint64_t pg = off / IMAGE_PAGE; pg <= (off + len - 1) / IMAGE_PAGE; pg++)
		if (!blk_map_get(&bd->touched, pg) && blk_map_put(&bd->touched, pg, NULL) < 0)
			bd->lost_pages = true;  /* reported by blockdev_write_image() */
}

/* Move the oldest cached write onto media. */
static void destage_oldest(struct blockdev *bd)
{
	struct blk_write *w = bd->pend[bd->head++];
	blockdev_media_write(bd, w->sector, w->count, w->data);
	for (uint64_t s = w->sector; s < w->sector + w->count; s++) {
		void **v = blk_map_get(&bd->index, s);
		if (v && *v == w)
			blk_map_del(&bd->index, s);
	}
	bd->pend_bytes -= (uint64_t)w->count * bd->sector_size;
	free(w);
	if (bd->head == bd->npend)
		bd->head = bd->npend = 0;
}

void blockdev_flush(struct blockdev *bd)
{
	if (bd->frozen)
		return;
	blk_map_clear(&bd->index);
	while (bd->head < bd->npend)
		destage_oldest(bd);
	++*bd->st_flushes;
	trace_blk_flush(bd->trace, bd->sim->now);
	if (bd->pm)
		persist_block_flush(bd->pm);
}

void blockdev_set_writeback(struct blockdev *bd, bool on)
{
	on = on && bd->volatile_cache;
	if (!on && !bd->frozen)
		while (bd->head < bd->npend)
			destage_oldest(bd);
	bd->writeback = on;
}

static bool in_range(const struct blockdev *bd, uint64_t sector, uint64_t count)
{
	return sector <= bd->nsectors && count <= bd->nsectors - sector;
}

int blockdev_read(struct blockdev *bd, uint64_t sector, uint64_t count, void *buf)
{
	if (!in_range(bd, sector, count))
		return -1;
	uint8_t *out = buf;
	uint32_t ss = bd->sector_size;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t s = sector + i;
		void **v = bd->index.len ? blk_map_get(&bd->index, s) : NULL;
		if (v) {
			const struct blk_write *w = *v;
			memcpy(out + i * ss, w->data + (s - w->sector) * ss, ss);
		} else {
			memcpy(out + i * ss, bd->media + s * ss, ss);
		}
	}
	++*bd->st_reads;
	*bd->st_read_bytes += count * ss;
	return 0;
}

static int append(struct blockdev *bd, uint64_t sector, uint64_t count, const void *buf,
		  bool inflight, struct blk_write **out)
{
	size_t bytes = (size_t)count * bd->sector_size;
	if (bd->npend == bd->cappend) {
		if (bd->head) {
			memmove(bd->pend, bd->pend + bd->head, (bd->npend - bd->head) * sizeof *bd->pend);
			bd->npend -= bd->head;
			bd->head = 0;
		}
		if (bd->npend == bd->cappend) {
			size_t cap = bd->cappend ? bd->cappend * 2 : 64;
			struct blk_write **p = realloc(bd->pend, cap * sizeof *p);
			if (!p)
				return -1;
			bd->pend = p;
			bd->cappend = cap;
		}
	}
	struct blk_write *w = malloc(sizeof *w + bytes);
	if (!w)
		return -1;
	w->seq = bd->next_seq++;
	w->sector = sector;
	w->count = (uint32_t)count;
	w->inflight = inflight;
	memcpy(w->data, buf, bytes);
	bd->pend[bd->npend++] = w;
	*out = w;
	return 0;
}

int blockdev_write(struct blockdev *bd, uint64_t sector, uint64_t count, const void *buf)
{
	if (!in_range(bd, sector, count) || count > UINT32_MAX)
		return -1;
	if (bd->frozen)
		return 0;       /* power is gone: the write never happened */
	if (count == 0)
		return 0;
	if (!bd->writeback) {
		blockdev_media_write(bd, sector, count, buf);
	} else {
		struct blk_write *w;
		if (append(bd, sector, count, buf, false, &w) < 0)
			return -1;
		for (uint64_t s = sector; s < sector + count; s++) {
			if (blk_map_put(&bd->index, s, w) < 0) {
				/* Out of host memory: make the cache durable
				 * instead of losing track of it. */
				while (bd->head < bd->npend)
					destage_oldest(bd);
				blk_map_clear(&bd->index);
				break;
			}
		}
		bd->pend_bytes += count * bd->sector_size;
		while (bd->pend_bytes > bd->timing->cache_bytes && bd->npend - bd->head > 1) {
			destage_oldest(bd);
			++*bd->st_destaged;
		}
		if (bd->npend - bd->head > *bd->st_pending_peak)
			*bd->st_pending_peak = bd->npend - bd->head;
	}
	++*bd->st_writes;
	*bd->st_write_bytes += count * bd->sector_size;
	/* The trace and the persistence events count 512-byte sectors. */
	uint64_t per = bd->sector_size / TRACE_SECTOR_SIZE;
	trace_blk_write(bd->trace, bd->sim->now, sector * per, count * per, !bd->writeback);
	if (bd->pm)
		persist_block_write(bd->pm, sector * per, count * per, !bd->writeback);
	return 0;
}

void blockdev_freeze(struct blockdev *bd)
{
	bd->frozen = true;
}

int blockdev_add_inflight(struct blockdev *bd, uint64_t sector, uint64_t count, const void *buf)
{
	struct blk_write *w;
	if (!bd->frozen || !count || !in_range(bd, sector, count) ||
	    count > UINT32_MAX)
		return -1;
	return append(bd, sector, count, buf, true, &w);
}

size_t blockdev_pending(const struct blockdev *bd)
{
	return bd->npend - bd->head;
}

const struct blk_write *blockdev_pending_write(const struct blockdev *bd, size_t i)
{
	return i < bd->npend - bd->head ? bd->pend[bd->head + i] : NULL;
}

/* --- Timing ---------------------------------------------------------- */

static sim_time_t xfer_time(uint64_t bytes, uint64_t mb_s)
{
	/* bytes / (mb_s * 10^6 B/s) in picoseconds = bytes * 10^6 / mb_s. */
	return (sim_time_t)(bytes * 1000000ull / mb_s);
}

sim_time_t blockdev_submit(struct blockdev *bd, enum blk_op op, uint64_t bytes)
{
	const struct blockdev_timing *t = bd->timing;
	sim_time_t now = bd->sim->now;
	unsigned slot = 0;
	for (unsigned i = 1; i < t->queue_depth; i++)
		if (bd->slot_free[i] < bd->slot_free[slot])
			slot = i;
	sim_time_t start = bd->slot_free[slot] > now ? bd->slot_free[slot] : now;
	sim_time_t done;
	switch (op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE: {
		bool rd = op == BLK_OP_READ;
		sim_time_t xs = bd->xfer_free > start ? bd->xfer_free : start;
		sim_time_t xe = xs + xfer_time(bytes, rd ? t->read_mb_s : t->write_mb_s);
		bd->xfer_free = xe;
		done = xe + (rd ? t->read_latency : t->write_latency);
		break;
	}
	case BLK_OP_FLUSH:
		if (bd->writeback && bd->pend_bytes)
			done = start + t->flush_latency + xfer_time(bd->pend_bytes, t->write_mb_s);
		else
			done = start + t->flush_empty;
		break;
	default:
		done = start + t->flush_empty;
		break;
	}
	bd->slot_free[slot] = done;
	return done;
}

/* --- Image write-out -------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int blockdev_write_image(struct blockdev *bd, char *err, size_t errlen)
{
	if (bd->lost_pages) {
		snprintf(err, errlen, "%s: ran out of host memory tracking the changed pages; "
			 "the image was not updated", bd->img.path);
		return -1;
	}
	size_t n = 0;
	uint64_t *pages = malloc((bd->touched.len + 1) * sizeof *pages);
	if (!pages) {
		snprintf(err, errlen, "%s: out of memory writing the image", bd->img.path);
		return -1;
	}
	for (size_t i = 0; i < bd->touched.cap; i++)
		if (bd->touched.keys[i] != MAP_EMPTY)
			pages[n++] = bd->touched.keys[i];
	qsort(pages, n, sizeof *pages, cmp_u64);
	int rc = 0;
	if (n)
		rc = image_commit(&bd->img, bd->media, pages, n, err, errlen);
	free(pages);
	if (rc < 0)
		return -1;
	if (n) {
		/* The file now holds what the private pages held: map it again
		 * over the same range to give those pages back. */
		uint8_t *m = image_map(&bd->img, bd->media);
		if (m != bd->media) {
			snprintf(err, errlen, "%s: cannot map the new image: %s", bd->img.path,
				 strerror(errno));
			return -1;
		}
	}
	blk_map_clear(&bd->touched);
	return 0;
}
