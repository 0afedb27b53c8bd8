/* machine/cache.h: one level of a set-associative, write-back,
 * write-allocate cache with 64-byte lines (the timing model's building
 * block; see docs/timing.md).
 *
 * The cache holds tags and state only, never data: the bus holds the
 * bytes, the cache model decides what an access costs and which dirty
 * lines leave the cache when (an eviction is a write-back, which is what
 * the persistence model needs to know).
 *
 *     struct cache l1;
 *     cache_init(&l1, &(struct cache_config){"l1d", 32 << 10, 8, 4, CACHE_PLRU, false});
 *     struct cache_result r;
 *     cache_access(&l1, pa, CACHE_WRITE, &r);
 *     if (!r.hit) ...fetch from the next level...
 *     if (r.victim_dirty) ...write r.victim back...
 */
#ifndef MACHINE_CACHE_H
#define MACHINE_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define CACHE_LINE 64u

enum cache_policy { CACHE_LRU, CACHE_PLRU };
enum cache_op { CACHE_READ, CACHE_WRITE };

struct cache_config {
	const char *name;
	uint64_t size;          /* bytes: ways * sets * 64, sets a power of two */
	unsigned ways;          /* PLRU needs a power of two, at most 64 */
	unsigned latency;       /* hit latency, cycles */
	enum cache_policy policy;
	/* Index sets by a hash of the line address, as Intel's LLC picks a
	 * slice by a hash (so power-of-two strides do not pile into a few
	 * sets); otherwise by the low line-address bits. */
	bool hashed;
};

struct cache_way {
	uint64_t line;          /* pa / 64 */
	uint64_t stamp;         /* LRU: time of last use */
	bool valid, dirty;
};

struct cache {
	struct cache_config cfg;
	unsigned sets;
	struct cache_way *ways;         /* sets * cfg.ways */
	uint64_t *plru;                 /* per set: tree bits (PLRU) */
	uint64_t clock;                 /* LRU time, advanced per access */
	uint64_t hits, misses, evictions, writebacks;
};

struct cache_result {
	bool hit;
	bool victim_valid;      /* a valid line was evicted to make room */
	bool victim_dirty;      /* ... and it was dirty: write it back */
	uint64_t victim;        /* its physical address (line aligned) */
};

/* Returns 0, or -1 if the geometry is impossible (message in *why). */
int cache_init(struct cache *c, const struct cache_config *cfg, const char **why);
void cache_free(struct cache *c);

/* Look up pa; on a miss allocate it (write-allocate), evicting a victim.
 * A write marks the line dirty. */
void cache_access(struct cache *c, uint64_t pa, enum cache_op op, struct cache_result *r);
/* Is the line present (no state change)?  Dirty? */
bool cache_contains(const struct cache *c, uint64_t pa, bool *dirty);
/* clwb (keep = true) or clflush/clflushopt (keep = false): returns true if
 * the line was dirty, i.e. a write-back leaves the cache. */
bool cache_flush(struct cache *c, uint64_t pa, bool keep);
/* Install a line that a lower level wrote back into this one. */
void cache_fill_dirty(struct cache *c, uint64_t pa, struct cache_result *r);

#endif
