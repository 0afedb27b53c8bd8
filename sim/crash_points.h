/* sim/crash_points.h: which persistence events a campaign cuts the power
 * after, and which of them a shard runs.
 *
 * Points are persistence-event ordinals of the reference run (1 = just
 * after the first PM store, flush, fence, block write or block flush).
 * The choice depends only on the plan and its seed, so every shard of a
 * campaign, on any host, computes the same list and takes its own slice:
 * point number i (0-based, in ascending event order) belongs to shard
 * (i mod M) + 1 of M.
 */
#ifndef SIM_CRASH_POINTS_H
#define SIM_CRASH_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum point_mode { POINTS_UNIFORM, POINTS_AROUND_COMMITS, POINTS_EXHAUSTIVE };

struct point_plan {
	enum point_mode mode;
	uint64_t events;                /* persistence events in the reference run */
	uint64_t crashes;               /* how many points (uniform, around-commits) */
	uint64_t seed;
	const uint64_t *commit_events;  /* event ordinal of each durable commit */
	size_t ncommits;
	uint64_t around;                /* around-commits: events either side */
	uint64_t window_lo, window_hi;  /* exhaustive: [lo, hi], inclusive */
};

/* Choose the points: a sorted array without duplicates (malloc'd, caller
 * frees).  Returns how many. */
size_t crash_points_choose(const struct point_plan *plan, uint64_t **points);

/* "K/M" with 1 <= K <= M: returns 0, or -1 for anything else. */
int shard_parse(const char *text, unsigned *k, unsigned *m);
static inline bool shard_has(size_t ordinal, unsigned k, unsigned m)
{
	return ordinal % m == (size_t)(k - 1);
}

const char *point_mode_name(enum point_mode mode);
int point_mode_parse(const char *text, enum point_mode *mode);

#endif
