/* machine/blk_crash.h: the states a power failure can leave on the block
 * device, chosen by policy, and their write-out into the image.
 *
 * Each write the volatile cache holds (completed, not flushed) is cut into
 * pieces at the device's atomic-write boundaries (block.atomic_write_bytes,
 * aligned on the device): a piece lands whole or not at all.  A legal crash
 * state is a choice of landed pieces such that, for any two pieces sharing
 * a sector, the later one lands only if the earlier one did (writes to the
 * same sector persist in order).  A sector then holds the data of the last
 * landed piece covering it, or its media content.  docs/crash-model-block.md
 * gives the rules and their sources.
 *
 *   strict    nothing in the cache lands (only flushed data survives);
 *   lenient   every completed write lands;
 *   random    a seeded choice among the legal states: per write (all its
 *             pieces together) or, with pol->tearing, per piece.  Writes
 *             still in flight at the failure (blockdev_add_inflight) are
 *             candidates here only.
 *
 *     struct crash_policy pol = {.policy = POLICY_RANDOM, .tearing = true};
 *     struct rng r;
 *     sim_rng(sim, &r, "power.block");
 *     blockdev_freeze(&bd);                   // at the failure point
 *     if (blk_crash_apply(&bd, &pol, &r, err, sizeof err) < 0) ...;
 */
#ifndef MACHINE_BLK_CRASH_H
#define MACHINE_BLK_CRASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "machine/crash.h"

struct blockdev;
struct rng;

/* The part of one cached write inside one atomic unit. */
struct blk_piece {
	size_t write;           /* index in the cache (blockdev_pending_write) */
	uint64_t sector;        /* device sectors */
	uint32_t count;
	bool landed;
};

struct blk_crash_state {
	struct blk_piece *pieces;       /* in cache order, then by sector */
	size_t npieces;
};

/* Choose a crash state of the cache under pol into cs (r: random only, may
 * be NULL otherwise).  Returns 0, or -1 when out of host memory. */
int blk_crash_choose(const struct blockdev *bd, const struct crash_policy *pol,
		     struct rng *r, struct blk_crash_state *cs);
/* The content of count sectors from sector under cs (media plus the
 * landed pieces), into out. */
void blk_crash_render(const struct blockdev *bd, const struct blk_crash_state *cs,
		      uint64_t sector, uint64_t count, uint8_t *out);
void blk_crash_state_free(struct blk_crash_state *cs);
/* The same with extra candidates after the cache (writes still in flight,
 * inflight = true), without changing bd: a crash state can be computed
 * while the device runs on.  Piece .write indexes the cache, then extra. */
struct blk_write;
int blk_crash_choose_with(const struct blockdev *bd, const struct blk_write *const *extra,
			  size_t nextra, const struct crash_policy *pol, struct rng *r,
			  struct blk_crash_state *cs);
void blk_crash_render_with(const struct blockdev *bd, const struct blk_write *const *extra,
			   const struct blk_crash_state *cs, uint64_t sector, uint64_t count,
			   uint8_t *out);

/* Power failure (or power-off): choose the state, put it on media, empty
 * the cache, unfreeze, and replace the image file by the media contents
 * atomically (devices/image.c).  Returns 0, or -1 with one line in err
 * (the old image is then unchanged). */
int blk_crash_apply(struct blockdev *bd, const struct crash_policy *pol, struct rng *r,
		    char *err, size_t errlen);

#endif
