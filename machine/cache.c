/* machine/cache.c: a set-associative cache of tags.
 *
 * Replacement is true LRU (a per-way timestamp) or tree pseudo-LRU, the
 * scheme Intel's L1 and L2 caches approximate: ways-1 bits per set form a
 * binary tree whose bits point away from the most recently used half.
 * Invalid ways are always filled first, lowest index first, so outcomes
 * do not depend on anything but the access sequence.
 */
#include <stdlib.h>
#include "machine/cache.h"

static bool pow2(uint64_t x) { return x && !(x & (x - 1)); }

int cache_init(struct cache *c, const struct cache_config *cfg, const char **why)
{
	*c = (struct cache){.cfg = *cfg};
	if (!cfg->ways || cfg->size % ((uint64_t)cfg->ways * CACHE_LINE)) {
		*why = "size must be a multiple of ways * 64 bytes";
		return -1;
	}
	uint64_t sets = cfg->size / ((uint64_t)cfg->ways * CACHE_LINE);
	if (!pow2(sets) || sets > (1u << 24)) {
		*why = "size / (ways * 64) must be a power of two";
		return -1;
	}
	if (cfg->policy == CACHE_PLRU && (!pow2(cfg->ways) || cfg->ways > 64)) {
		*why = "PLRU needs a power-of-two number of ways, at most 64";
		return -1;
	}
	c->sets = (unsigned)sets;
	c->ways = calloc(sets * cfg->ways, sizeof *c->ways);
	c->plru = calloc(sets, sizeof *c->plru);
	if (!c->ways || !c->plru)
		abort();
	return 0;
}

void cache_free(struct cache *c)
{
	free(c->ways);
	free(c->plru);
	*c = (struct cache){0};
}

static unsigned set_index(const struct cache *c, uint64_t line)
{
	if (c->cfg.hashed)
		line ^= (line >> 11) ^ (line >> 22) ^ (line >> 33);
	return (unsigned)(line & (c->sets - 1));
}

static struct cache_way *ways_of(const struct cache *c, unsigned set)
{
	return &c->ways[(size_t)set * c->cfg.ways];
}

static struct cache_way *set_of(const struct cache *c, uint64_t line)
{
	return ways_of(c, set_index(c, line));
}

/* Tree PLRU: node n has children 2n+1 and 2n+2; leaves are ways.  A bit
 * of 0 means "the victim is on the left". */
static void plru_touch(struct cache *c, unsigned set, unsigned way)
{
	uint64_t *bits = &c->plru[set];
	unsigned node = 0;
	for (unsigned span = c->cfg.ways; span > 1; span /= 2) {
		bool right = way % span >= span / 2;
		if (right)
			*bits &= ~(1ull << node);       /* victim side: left */
		else
			*bits |= 1ull << node;          /* victim side: right */
		node = 2 * node + 1 + right;
	}
}

static unsigned plru_victim(const struct cache *c, unsigned set)
{
	uint64_t bits = c->plru[set];
	unsigned node = 0, way = 0;
	for (unsigned span = c->cfg.ways; span > 1; span /= 2) {
		bool right = bits >> node & 1;
		if (right)
			way += span / 2;
		node = 2 * node + 1 + right;
	}
	return way;
}

static void touch(struct cache *c, unsigned set, unsigned way)
{
	if (c->cfg.policy == CACHE_PLRU)
		plru_touch(c, set, way);
	else
		ways_of(c, set)[way].stamp = ++c->clock;
}

static unsigned victim(const struct cache *c, unsigned set)
{
	const struct cache_way *w = ways_of(c, set);
	for (unsigned i = 0; i < c->cfg.ways; i++)
		if (!w[i].valid)
			return i;
	if (c->cfg.policy == CACHE_PLRU)
		return plru_victim(c, set);
	unsigned best = 0;
	for (unsigned i = 1; i < c->cfg.ways; i++)
		if (w[i].stamp < w[best].stamp)
			best = i;
	return best;
}

static int find(const struct cache *c, uint64_t line)
{
	const struct cache_way *w = set_of(c, line);
	for (unsigned i = 0; i < c->cfg.ways; i++)
		if (w[i].valid && w[i].line == line)
			return (int)i;
	return -1;
}

static void insert(struct cache *c, uint64_t line, bool dirty, struct cache_result *r)
{
	unsigned set = set_index(c, line);
	unsigned v = victim(c, set);
	struct cache_way *w = &ways_of(c, set)[v];
	r->victim_valid = w->valid;
	r->victim_dirty = w->valid && w->dirty;
	r->victim = w->line * CACHE_LINE;
	if (w->valid) {
		c->evictions++;
		c->writebacks += w->dirty;
	}
	*w = (struct cache_way){.line = line, .valid = true, .dirty = dirty};
	touch(c, set, v);
}

void cache_access(struct cache *c, uint64_t pa, enum cache_op op, struct cache_result *r)
{
	uint64_t line = pa / CACHE_LINE;
	int way = find(c, line);
	*r = (struct cache_result){0};
	if (way >= 0) {
		r->hit = true;
		c->hits++;
		set_of(c, line)[way].dirty |= op == CACHE_WRITE;
		touch(c, set_index(c, line), (unsigned)way);
		return;
	}
	c->misses++;
	insert(c, line, op == CACHE_WRITE, r);
}

void cache_fill_dirty(struct cache *c, uint64_t pa, struct cache_result *r)
{
	uint64_t line = pa / CACHE_LINE;
	int way = find(c, line);
	*r = (struct cache_result){0};
	if (way >= 0) {
		r->hit = true;
		set_of(c, line)[way].dirty = true;
		touch(c, set_index(c, line), (unsigned)way);
		return;
	}
	insert(c, line, true, r);
}

bool cache_contains(const struct cache *c, uint64_t pa, bool *dirty)
{
	int way = find(c, pa / CACHE_LINE);
	if (dirty)
		*dirty = way >= 0 && set_of(c, pa / CACHE_LINE)[way].dirty;
	return way >= 0;
}

bool cache_flush(struct cache *c, uint64_t pa, bool keep)
{
	uint64_t line = pa / CACHE_LINE;
	int way = find(c, line);
	if (way < 0)
		return false;
	struct cache_way *w = &set_of(c, line)[way];
	bool was_dirty = w->dirty;
	w->dirty = false;
	if (!keep)
		w->valid = false;
	c->writebacks += was_dirty;
	return was_dirty;
}
