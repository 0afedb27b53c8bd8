/* machine/blk_crash.c: crash states of the block device's volatile cache.
 *
 * The cache is a list of writes in completion order (devices/blockdev.h).
 * A power failure may leave any subset of them on media, subject to two
 * device properties (docs/crash-model-block.md):
 *
 *   atomic unit   a write is cut at block.atomic_write_bytes boundaries;
 *                 each piece lands whole or not at all (no torn sector, no
 *                 torn unit), as NVMe's AWUPF and the SCSI/ATA atomic
 *                 write unit promise;
 *   order         two writes to the same sector persist in order: the
 *                 later one on media implies the earlier one too, so a
 *                 sector holds one of its versions, never an older one
 *                 after a newer one has been seen to survive.
 *
 * The random policy walks the pieces in cache order and tosses a fair coin
 * for each piece it may still land; a piece whose sector an earlier
 * unlanded piece shares may not land.  Every legal state has a non-zero
 * probability (each is reached by tossing its own choices), and no illegal
 * state is ever produced.  Without tearing the coin is per write.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/blockdev.h"
#include "machine/blk_crash.h"
#include "sim/config.h"
#include "sim/rng.h"
#include "sim/sim.h"

void blk_crash_state_free(struct blk_crash_state *cs)
{
	free(cs->pieces);
	cs->pieces = NULL;
	cs->npieces = 0;
}

/* Candidate i: the cache's writes first, then the caller's extra ones. */
static const struct blk_write *cand(const struct blockdev *bd, const struct blk_write *const *extra,
				    size_t i)
{
	size_t n = blockdev_pending(bd);
	return i < n ? blockdev_pending_write(bd, i) : extra[i - n];
}

/* Cut every candidate write at atomic-unit boundaries. */
static int cut_pieces(const struct blockdev *bd, const struct blk_write *const *extra,
		      size_t nextra, struct blk_crash_state *cs)
{
	uint64_t unit = bd->atomic_bytes / bd->sector_size;
	size_t n = 0, cap = 0;
	struct blk_piece *p = NULL;
	for (size_t i = 0; i < blockdev_pending(bd) + nextra; i++) {
		const struct blk_write *w = cand(bd, extra, i);
		uint64_t s = w->sector, end = w->sector + w->count;
		while (s < end) {
			uint64_t next = (s / unit + 1) * unit;
			if (next > end)
				next = end;
			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				struct blk_piece *q = realloc(p, cap * sizeof *q);
				if (!q) {
					free(p);
					return -1;
				}
				p = q;
			}
			p[n++] = (struct blk_piece){.write = i, .sector = s,
						    .count = (uint32_t)(next - s)};
			s = next;
		}
	}
	cs->pieces = p;
	cs->npieces = n;
	return 0;
}

/* Whether some sector of the piece is held back by an earlier unlanded piece. */
static bool blocked(const struct blk_map *broken, const struct blk_piece *pc)
{
	for (uint64_t s = pc->sector; s < pc->sector + pc->count; s++)
		if (blk_map_get(broken, s))
			return true;
	return false;
}

static int hold_back(struct blk_map *broken, const struct blk_piece *pc)
{
	for (uint64_t s = pc->sector; s < pc->sector + pc->count; s++)
		if (blk_map_put(broken, s, (void *)1) < 0)
			return -1;
	return 0;
}

static int choose_random(const struct blockdev *bd, bool tearing, struct rng *r,
			 struct blk_crash_state *cs)
{
	struct blk_map broken = {0};
	int rc = 0;
	for (size_t i = 0; i < cs->npieces && rc == 0;) {
		size_t j = i;           /* pieces [i, j) are one write */
		while (j < cs->npieces && cs->pieces[j].write == cs->pieces[i].write)
			j++;
		if (tearing) {
			for (size_t k = i; k < j && rc == 0; k++) {
				struct blk_piece *pc = &cs->pieces[k];
				pc->landed = !blocked(&broken, pc) && rng_below(r, 2);
				if (!pc->landed)
					rc = hold_back(&broken, pc);
			}
		} else {
			bool ok = true;
			for (size_t k = i; k < j && ok; k++)
				ok = !blocked(&broken, &cs->pieces[k]);
			bool land = ok && rng_below(r, 2);
			for (size_t k = i; k < j && rc == 0; k++) {
				cs->pieces[k].landed = land;
				if (!land)
					rc = hold_back(&broken, &cs->pieces[k]);
			}
		}
		i = j;
	}
	(void)bd;
	blk_map_free(&broken);
	return rc;
}

int blk_crash_choose(const struct blockdev *bd, const struct crash_policy *pol,
		     struct rng *r, struct blk_crash_state *cs)
{
	return blk_crash_choose_with(bd, NULL, 0, pol, r, cs);
}

int blk_crash_choose_with(const struct blockdev *bd, const struct blk_write *const *extra,
			  size_t nextra, const struct crash_policy *pol, struct rng *r,
			  struct blk_crash_state *cs)
{
	cs->pieces = NULL;
	cs->npieces = 0;
	if (cut_pieces(bd, extra, nextra, cs) < 0)
		return -1;
	switch (pol->policy) {
	case POLICY_LENIENT:
		for (size_t k = 0; k < cs->npieces; k++)
			cs->pieces[k].landed = !cand(bd, extra, cs->pieces[k].write)->inflight;
		return 0;
	case POLICY_RANDOM:
		if (!r)
			return 0;       /* no generator: the guaranteed state */
		if (choose_random(bd, pol->tearing, r, cs) == 0)
			return 0;
		blk_crash_state_free(cs);
		return -1;
	default:
		return 0;       /* strict: nothing lands (calloc'd false) */
	}
}

void blk_crash_render(const struct blockdev *bd, const struct blk_crash_state *cs,
		      uint64_t sector, uint64_t count, uint8_t *out)
{
	blk_crash_render_with(bd, NULL, cs, sector, count, out);
}

void blk_crash_render_with(const struct blockdev *bd, const struct blk_write *const *extra,
			   const struct blk_crash_state *cs, uint64_t sector, uint64_t count,
			   uint8_t *out)
{
	uint32_t ss = bd->sector_size;
	memcpy(out, bd->media + sector * ss, count * ss);
	for (size_t k = 0; k < cs->npieces; k++) {
		const struct blk_piece *pc = &cs->pieces[k];
		if (!pc->landed)
			continue;
		uint64_t a = pc->sector > sector ? pc->sector : sector;
		uint64_t b = pc->sector + pc->count < sector + count ? pc->sector + pc->count
								      : sector + count;
		if (a >= b)
			continue;
		const struct blk_write *w = cand(bd, extra, pc->write);
		memcpy(out + (a - sector) * ss, w->data + (a - w->sector) * ss, (b - a) * ss);
	}
}

int blk_crash_apply(struct blockdev *bd, const struct crash_policy *pol, struct rng *r,
		    char *err, size_t errlen)
{
	struct blk_crash_state cs;
	if (blk_crash_choose(bd, pol, r, &cs) < 0) {
		/* Out of host memory: the guaranteed state needs no bookkeeping. */
		cs.pieces = NULL;
		cs.npieces = 0;
	}
	for (size_t k = 0; k < cs.npieces; k++) {
		const struct blk_piece *pc = &cs.pieces[k];
		if (!pc->landed)
			continue;
		const struct blk_write *w = blockdev_pending_write(bd, pc->write);
		blockdev_media_write(bd, pc->sector, pc->count,
				     w->data + (pc->sector - w->sector) * bd->sector_size);
	}
	blk_crash_state_free(&cs);
	blockdev_drop_cache(bd);
	bd->frozen = false;
	bd->xfer_free = 0;
	memset(bd->slot_free, 0, bd->timing->queue_depth * sizeof *bd->slot_free);
	++*bd->st_powerfails;
	return blockdev_write_image(bd, err, errlen);
}
