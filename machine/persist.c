/* machine/persist.c: the per-line persistence state machine.
 *
 * Each pending line has versions 0..nver: version 0 is on the media (it is
 * guaranteed to survive), version nver is what the CPU sees.  The rules,
 * with their sources, are in docs/crash-model.md; in short, per domain:
 *
 *   event               ADR                      eADR               none
 *   cached store        new version              guaranteed at once new version
 *   NT store            new version, target      new version, target new version
 *   clwb / clflushopt   target = newest          -                  -
 *   clflush             guaranteed at once       -                  -
 *   fence (not lfence)  each target guaranteed   same               -
 *   written back        guaranteed at once       -                  -
 *   (eviction)
 *
 * "Guaranteed at version k" means version k is copied to the media and
 * versions below k are forgotten; a line whose newest version is
 * guaranteed stops being pending and its record is freed.
 */
#include <stdlib.h>
#include <string.h>
#include "machine/persist.h"
#include "machine/guest_abi.h"
#include "sim/config.h"
#include "sim/sim.h"

#define EMPTY UINT64_MAX

/* --- Small hash tables --------------------------------------------- */

static inline size_t hash64(uint64_t k, size_t cap)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (cap - 1);
}

/* A set of u64 keys (EMPTY marks a free slot); grows at half load. */
static int set_add(uint64_t **tab, size_t *cap, size_t *n, uint64_t key)
{
	if (2 * (*n + 1) > *cap) {
		size_t ncap = *cap ? 2 * *cap : 64;
		uint64_t *nt = malloc(ncap * sizeof *nt);
		if (!nt)
			return -1;
		memset(nt, 0xff, ncap * sizeof *nt);
		for (size_t i = 0; i < *cap; i++) {
			if ((*tab)[i] == EMPTY)
				continue;
			size_t j = hash64((*tab)[i], ncap);
			while (nt[j] != EMPTY)
				j = (j + 1) & (ncap - 1);
			nt[j] = (*tab)[i];
		}
		free(*tab);
		*tab = nt;
		*cap = ncap;
	}
	size_t j = hash64(key, *cap);
	while ((*tab)[j] != EMPTY) {
		if ((*tab)[j] == key)
			return 0;
		j = (j + 1) & (*cap - 1);
	}
	(*tab)[j] = key;
	++*n;
	return 0;
}

static void set_clear(uint64_t *tab, size_t cap, size_t *n)
{
	if (tab)
		memset(tab, 0xff, cap * sizeof *tab);
	*n = 0;
}

static size_t line_slot(const struct persist *p, uint64_t line)
{
	size_t j = hash64(line, p->tabcap);
	while (p->tab[j] && p->tab[j]->line != line)
		j = (j + 1) & (p->tabcap - 1);
	return j;
}

static struct pline *line_find(const struct persist *p, uint64_t line)
{
	if (!p->npending)
		return NULL;
	return p->tab[line_slot(p, line)];
}

static int line_table_grow(struct persist *p)
{
	size_t ncap = p->tabcap ? 2 * p->tabcap : 256;
	struct pline **nt = calloc(ncap, sizeof *nt);
	if (!nt)
		return -1;
	struct pline **old = p->tab;
	size_t oldcap = p->tabcap;
	p->tab = nt;
	p->tabcap = ncap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			p->tab[line_slot(p, old[i]->line)] = old[i];
	free(old);
	return 0;
}

/* Remove the record at slot j, shifting later probes back (no tombstones). */
static void line_remove_slot(struct persist *p, size_t j)
{
	free(p->tab[j]);
	p->tab[j] = NULL;
	p->npending--;
	size_t i = j;
	for (;;) {
		i = (i + 1) & (p->tabcap - 1);
		if (!p->tab[i])
			return;
		size_t home = hash64(p->tab[i]->line, p->tabcap);
		/* Move tab[i] into the hole unless its home lies in (j, i]. */
		bool keep = j <= i ? (home > j && home <= i) : (home > j || home <= i);
		if (keep)
			continue;
		p->tab[j] = p->tab[i];
		p->tab[i] = NULL;
		j = i;
	}
}

/* --- Init ---------------------------------------------------------- */

int persist_init(struct persist *p, struct sim *sim, uint64_t base, uint64_t size,
		 uint8_t *mem, uint8_t *media, unsigned domain)
{
	static const char *const evname[PERSIST_EV_KINDS] = {
		"persist.events.store", "persist.events.ntstore", "persist.events.flush",
		"persist.events.fence", "persist.events.block_write", "persist.events.block_flush",
	};
	memset(p, 0, sizeof *p);
	if (size % PERSIST_LINE || base % PERSIST_LINE)
		return -1;
	p->sim = sim;
	p->base = base;
	p->size = size;
	p->mem = mem;
	p->media = media;
	p->domain = domain;
	p->max_versions = PERSIST_DEFAULT_VERSIONS;
	for (int i = 0; i < PERSIST_EV_KINDS; i++)
		p->st_ev[i] = stats_counter(&sim->stats, evname[i]);
	p->st_events = stats_counter(&sim->stats, "persist.events.total");
	p->st_lfence = stats_counter(&sim->stats, "persist.lfence");
	p->st_io_exempt = stats_counter(&sim->stats, "persist.io_exempt");
	p->st_evict = stats_counter(&sim->stats, "persist.evictions");
	p->st_collapsed = stats_counter(&sim->stats, "persist.collapsed_versions");
	p->st_nt_mixed = stats_counter(&sim->stats, "persist.nt_mixed");
	p->st_pending_peak = stats_counter(&sim->stats, "persist.pending_peak");
	p->st_commits = stats_counter(&sim->stats, "persist.lines_guaranteed");
	return line_table_grow(p);
}

void persist_free(struct persist *p)
{
	for (size_t i = 0; i < p->tabcap; i++)
		free(p->tab[i]);
	free(p->tab);
	free(p->armed);
	free(p->touched);
	free(p->stale);
	memset(p, 0, sizeof *p);
}

/* --- Deltas -------------------------------------------------------- */

static inline uint64_t get_mask(const uint8_t *d)
{
	uint64_t m;
	memcpy(&m, d, 8);
	return m;
}

static inline uint32_t delta_size(const uint8_t *d)
{
	return 8 + (uint32_t)__builtin_popcountll(get_mask(d));
}

/* Apply one delta to a line buffer; returns the delta's size. */
static uint32_t delta_apply(const uint8_t *d, uint8_t line[PERSIST_LINE])
{
	uint64_t m = get_mask(d);
	const uint8_t *b = d + 8;
	while (m) {
		int i = __builtin_ctzll(m);
		line[i] = *b++;
		m &= m - 1;
	}
	return delta_size(d);
}

void persist_version(const struct persist *p, const struct pline *pl, unsigned v,
		     uint8_t out[PERSIST_LINE])
{
	memcpy(out, p->media + (pl->line << PERSIST_LINE_SHIFT), PERSIST_LINE);
	const uint8_t *d = pl->buf;
	for (unsigned i = 1; i <= v && i <= pl->nver; i++)
		d += delta_apply(d, out);
}

static void touch_page(struct persist *p, uint64_t line)
{
	uint64_t page = (line << PERSIST_LINE_SHIFT) / PERSIST_PAGE;
	if (set_add(&p->touched, &p->touchcap, &p->ntouched, page) < 0)
		abort();        /* cannot track what the image must receive */
}

static void media_write(struct persist *p, uint64_t line, const uint8_t data[PERSIST_LINE])
{
	uint8_t *m = p->media + (line << PERSIST_LINE_SHIFT);
	if (memcmp(m, data, PERSIST_LINE) == 0)
		return;
	memcpy(m, data, PERSIST_LINE);
	touch_page(p, line);
}

/* Make version v of the line at slot j guaranteed: copy it to the media and
 * drop the versions below it (and the record when v is the newest). */
static void commit(struct persist *p, size_t j, unsigned v)
{
	struct pline *pl = p->tab[j];
	if (v == 0)
		return;
	uint8_t line[PERSIST_LINE];
	persist_version(p, pl, v, line);
	media_write(p, pl->line, line);
	++*p->st_commits;
	if (v >= pl->nver) {
		line_remove_slot(p, j);
		return;
	}
	uint32_t skip = 0;
	for (unsigned i = 1; i <= v; i++)
		skip += delta_size(pl->buf + skip);
	memmove(pl->buf, pl->buf + skip, pl->len - skip);
	pl->len -= skip;
	pl->nver -= v;
	if (pl->target <= v) {
		pl->target = 0;
		pl->nt = false;
	} else {
		pl->target -= v;
	}
}

/* Drop version i (1 <= i < nver) by merging deltas i and i+1. */
static void drop_version(struct pline *pl, unsigned i)
{
	uint8_t *d = pl->buf;
	for (unsigned k = 1; k < i; k++)
		d += delta_size(d);
	uint8_t *e = d + delta_size(d);
	uint32_t esz = delta_size(e);
	uint64_t m1 = get_mask(d), m2 = get_mask(e), m = m1 | m2;
	uint8_t val[PERSIST_LINE], merged[8 + PERSIST_LINE];
	const uint8_t *b = d + 8;
	for (uint64_t t = m1; t; t &= t - 1)
		val[__builtin_ctzll(t)] = *b++;
	b = e + 8;
	for (uint64_t t = m2; t; t &= t - 1)
		val[__builtin_ctzll(t)] = *b++;
	memcpy(merged, &m, 8);
	uint32_t n = 8;
	for (uint64_t t = m; t; t &= t - 1)
		merged[n++] = val[__builtin_ctzll(t)];
	uint32_t oldsz = (uint32_t)(e + esz - d);
	uint8_t *rest = e + esz;
	uint32_t restlen = (uint32_t)(pl->buf + pl->len - rest);
	memmove(d + n, rest, restlen);
	memcpy(d, merged, n);
	pl->len = pl->len - oldsz + n;
	pl->nver--;
	if (pl->target > i)
		pl->target--;
}

/* Append a version made of bytes [off, off+n) of the line, read from mem.
 * Returns the record's new slot (the record may have moved), or SIZE_MAX. */
static size_t add_version(struct persist *p, uint64_t line, unsigned off, unsigned n,
			  const uint8_t *src)
{
	size_t j = line_slot(p, line);
	struct pline *pl = p->tab[j];
	if (!pl) {
		if (2 * (p->npending + 1) > p->tabcap) {
			if (line_table_grow(p) < 0)
				abort();
			j = line_slot(p, line);
		}
		uint32_t cap = 32;
		pl = malloc(sizeof *pl + cap);
		if (!pl)
			abort();
		*pl = (struct pline){.line = line, .cap = cap};
		p->tab[j] = pl;
		p->npending++;
		if (p->npending > *p->st_pending_peak)
			*p->st_pending_peak = p->npending;
	}
	uint32_t need = pl->len + 8 + n;
	if (need > pl->cap) {
		uint32_t cap = pl->cap;
		while (cap < need)
			cap *= 2;
		struct pline *q = realloc(pl, sizeof *pl + cap);
		if (!q)
			abort();
		pl = q;
		pl->cap = cap;
		p->tab[j] = pl;
	}
	uint64_t mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << off;
	uint8_t *d = pl->buf + pl->len;
	memcpy(d, &mask, 8);
	memcpy(d + 8, src, n);
	pl->len += 8 + n;
	pl->nver++;
	if (pl->nver > p->max_versions) {
		/* Oldest intermediate version that no fence is waiting for. */
		unsigned i = pl->target == 1 ? 2 : 1;
		drop_version(pl, i);
		++*p->st_collapsed;
	}
	return j;
}

static void arm(struct persist *p, struct pline *pl, bool nt)
{
	if (!pl->target) {
		if (p->narmed == p->caparmed) {
			size_t cap = p->caparmed ? 2 * p->caparmed : 64;
			uint64_t *a = realloc(p->armed, cap * sizeof *a);
			if (!a)
				abort();
			p->armed = a;
			p->caparmed = cap;
		}
		p->armed[p->narmed++] = pl->line;
	}
	pl->target = pl->nver;
	pl->nt = nt;
}

/* --- Events -------------------------------------------------------- */

static void apply_fence(struct persist *p);

/* Right before an event changes the model: the state is then exactly the
 * one after the previous event (campaigns take their crash points here,
 * as late as possible before the next event). */
static inline void pre_event(struct persist *p)
{
	if (p->pre_observer)
		p->pre_observer(p->pre_ctx, p->events + 1);
}

static void event(struct persist *p, enum persist_event_kind kind, uint64_t pa,
		  uint64_t len, int sub)
{
	p->events++;
	++*p->st_events;
	++*p->st_ev[kind];
	if (p->observer) {
		struct persist_event ev = {kind, p->events, pa, len, sub};
		p->observer(p->observer_ctx, &ev);
	}
	if (p->freeze_at && p->events >= p->freeze_at) {
		p->frozen = true;
		p->freeze_at = 0;
		if (p->on_freeze)
			p->on_freeze(p->freeze_ctx);
	}
}

static bool in_region(const struct persist *p, uint64_t pa)
{
	return pa - p->base < p->size;
}

static void note_stale(struct persist *p, uint64_t pa, uint64_t len)
{
	uint64_t first = (pa - p->base) >> PERSIST_LINE_SHIFT;
	uint64_t last = (pa - p->base + len - 1) >> PERSIST_LINE_SHIFT;
	for (uint64_t l = first; l <= last; l++)
		if (set_add(&p->stale, &p->stalecap, &p->nstale, l) < 0)
			abort();
}

/* A store of len bytes at pa (inside the region) whose data is src. */
static void apply_store(struct persist *p, uint64_t pa, uint64_t len, const uint8_t *src, bool nt)
{
	if (p->frozen) {
		note_stale(p, pa, len);
		return;
	}
	pre_event(p);
	uint64_t off = pa - p->base, end = off + len;
	while (off < end) {
		uint64_t line = off >> PERSIST_LINE_SHIFT;
		unsigned lo = off & (PERSIST_LINE - 1);
		unsigned n = (unsigned)((end - off) < PERSIST_LINE - lo ? end - off : PERSIST_LINE - lo);
		off += n;
		if (p->domain == PDOMAIN_EADR && !nt) {
			/* The caches are persistent: the store is guaranteed once it
			 * completes, and so is every earlier version of its line. */
			struct pline *pl = line_find(p, line);
			if (!pl) {
				uint8_t *m = p->media + (line << PERSIST_LINE_SHIFT) + lo;
				if (memcmp(m, src, n)) {
					memcpy(m, src, n);
					touch_page(p, line);
				}
				src += n;
				continue;
			}
			if (pl->nt && pl->target)
				++*p->st_nt_mixed;
			size_t j = add_version(p, line, lo, n, src);
			commit(p, j, p->tab[j]->nver);
			src += n;
			continue;
		}
		size_t j = add_version(p, line, lo, n, src);
		src += n;
		struct pline *pl = p->tab[j];
		if (nt) {
			if (p->domain != PDOMAIN_NONE)
				arm(p, pl, true);
		} else if (pl->nt && pl->target) {
			++*p->st_nt_mixed;
		}
	}
	event(p, nt ? PERSIST_EV_NTSTORE : PERSIST_EV_STORE, pa, len, 0);
}

/* Cached stores reported by the bus hook wait in a short queue until the
 * next call into the model, because the CPU reports a non-temporal store
 * twice: the bus hook sees it land, then cpu_mem_hooks.ntstore names it.
 * persist_ntstore() drops the queued pieces of its own store, everything
 * else turns the queue into cached stores, in order. */
static void flush_deferred(struct persist *p)
{
	unsigned n = p->ndefer;
	if (!n)
		return;
	/* Take the queue first: the observer may call back into the model. */
	__typeof__(p->defer[0]) q[PERSIST_DEFER];
	memcpy(q, p->defer, n * sizeof q[0]);
	p->ndefer = 0;
	for (unsigned i = 0; i < n; i++)
		apply_store(p, q[i].pa, q[i].len, q[i].data, false);
}

/* A pending I/O fence: the instruction that caused it came before this one. */
static void settle_io(struct persist *p)
{
	if (p->io_pending && !p->frozen) {
		p->io_pending = false;
		pre_event(p);
		apply_fence(p);
		event(p, PERSIST_EV_FENCE, 0, 0, PERSIST_IO);
	}
}

/* Entry of every operation but the store hook.  Returns false when the
 * model is frozen and the operation must be ignored. */
static bool enter(struct persist *p)
{
	flush_deferred(p);
	settle_io(p);
	return !p->frozen;
}

static void store(struct persist *p, uint64_t pa, uint64_t len, bool nt)
{
	if (!len || !in_region(p, pa))
		return;
	if (len > p->base + p->size - pa)
		len = p->base + p->size - pa;
	if (!nt && len <= PERSIST_LINE && !p->frozen) {
		settle_io(p);
		if (p->ndefer == PERSIST_DEFER)
			flush_deferred(p);
		p->defer[p->ndefer].pa = pa;
		p->defer[p->ndefer].len = (uint8_t)len;
		memcpy(p->defer[p->ndefer].data, p->mem + (pa - p->base), len);
		p->ndefer++;
		return;
	}
	if (nt) {
		/* Drop the queued pieces of this very store (the newest entries
		 * inside [pa, pa+len)); the rest were cached stores. */
		unsigned keep = p->ndefer;
		uint64_t got = 0;
		while (keep && got < len && p->defer[keep - 1].pa >= pa &&
		       p->defer[keep - 1].pa + p->defer[keep - 1].len <= pa + len) {
			got += p->defer[keep - 1].len;
			keep--;
		}
		p->ndefer = keep;
	}
	enter(p);
	apply_store(p, pa, len, p->mem + (pa - p->base), nt);
}

void persist_store(struct persist *p, uint64_t pa, uint64_t len)
{
	store(p, pa, len, false);
}

void persist_store_hook(void *p, uint64_t pa, unsigned len)
{
	store(p, pa, len, false);
}

void persist_ntstore(struct persist *p, uint64_t pa, uint64_t len)
{
	store(p, pa, len, true);
}

void persist_sync(struct persist *p)
{
	enter(p);
}

void persist_flush(struct persist *p, uint64_t pa, enum persist_flush kind)
{
	if (!in_region(p, pa) || !enter(p))
		return;
	uint64_t line = (pa - p->base) >> PERSIST_LINE_SHIFT;
	pre_event(p);
	if (p->domain == PDOMAIN_ADR) {
		size_t j = line_slot(p, line);
		struct pline *pl = p->tab[j];
		if (pl) {
			if (kind == PERSIST_CLFLUSH)
				commit(p, j, pl->nver);
			else
				arm(p, pl, false);
		}
	}
	event(p, PERSIST_EV_FLUSH, pa & ~(uint64_t)(PERSIST_LINE - 1), PERSIST_LINE, kind);
}

static void apply_fence(struct persist *p)
{
	if (p->domain == PDOMAIN_NONE)
		return;
	for (size_t i = 0; i < p->narmed; i++) {
		size_t j = line_slot(p, p->armed[i]);
		struct pline *pl = p->tab[j];
		if (pl && pl->target)
			commit(p, j, pl->target);
	}
	p->narmed = 0;
}

void persist_fence(struct persist *p, enum persist_fence kind)
{
	if (kind == PERSIST_LFENCE) {
		/* LFENCE waits for earlier instructions to complete locally, not
		 * for stores or write-backs to become globally visible: it
		 * neither drains write-combining buffers nor orders clwb and
		 * clflushopt (SDM Vol. 2, LFENCE, CLWB, CLFLUSHOPT). */
		if (!p->frozen)
			++*p->st_lfence;
		return;
	}
	if (!enter(p))
		return;
	if (kind == PERSIST_IO) {
		p->io_pending = true;
		return;
	}
	pre_event(p);
	apply_fence(p);
	event(p, PERSIST_EV_FENCE, 0, 0, kind);
}

void persist_io_exempt(struct persist *p)
{
	if (p->io_pending) {
		p->io_pending = false;
		++*p->st_io_exempt;
	}
}

void persist_port_access(struct persist *p, uint16_t port)
{
	persist_fence(p, PERSIST_IO);
	if (port == ABI_PORT_TRACE_ARG || port == ABI_PORT_TRACE_EMIT)
		persist_io_exempt(p);
}

void persist_line_written_back(struct persist *p, uint64_t pa)
{
	if (!in_region(p, pa) || !enter(p))
		return;
	++*p->st_evict;
	if (p->domain != PDOMAIN_ADR)
		return;         /* eADR: already persistent; none: the WPQ is not */
	/* The write-back carries the line as the CPU sees it now, which is
	 * the newest version: the line leaves the pending set.  An armed
	 * target goes with the record, so a later fence has nothing to do
	 * for it, and a later store starts a new record from this content. */
	size_t j = line_slot(p, (pa - p->base) >> PERSIST_LINE_SHIFT);
	if (p->tab[j])
		commit(p, j, p->tab[j]->nver);
}

void persist_evict(struct persist *p, uint64_t pa)
{
	persist_line_written_back(p, pa);
}

void persist_writeback_hook(void *p, uint64_t pa, bool evicted)
{
	if (evicted)
		persist_evict(p, pa);
}

void persist_writeback_all(struct persist *p)
{
	if (!enter(p))
		return;
	pre_event(p);
	if (p->domain != PDOMAIN_NONE && p->npending) {
		/* Every cached line is written back and, WBINVD being
		 * serializing, every write-combining buffer drained. */
		uint64_t *lines = malloc(p->npending * sizeof *lines);
		if (!lines)
			abort();
		size_t n = 0;
		for (size_t j = 0; j < p->tabcap; j++)
			if (p->tab[j])
				lines[n++] = p->tab[j]->line;
		for (size_t i = 0; i < n; i++) {
			size_t j = line_slot(p, lines[i]);
			commit(p, j, p->tab[j]->nver);
		}
		free(lines);
		p->narmed = 0;
	}
	event(p, PERSIST_EV_FENCE, 0, 0, PERSIST_SERIALIZE);
}

void persist_block_write(struct persist *p, uint64_t sector, uint64_t count, bool fua)
{
	if (enter(p)) {
		pre_event(p);
		event(p, PERSIST_EV_BLOCK_WRITE, sector, count, fua);
	}
}

void persist_block_flush(struct persist *p)
{
	if (enter(p)) {
		pre_event(p);
		event(p, PERSIST_EV_BLOCK_FLUSH, 0, 0, 0);
	}
}

/* --- Power-failure points ------------------------------------------ */

uint64_t persist_event_count(struct persist *p)
{
	enter(p);
	return p->events;
}

void persist_set_observer(struct persist *p, persist_observer_fn *fn, void *ctx)
{
	p->observer = fn;
	p->observer_ctx = ctx;
}

void persist_set_pre_observer(struct persist *p, persist_pre_fn *fn, void *ctx)
{
	p->pre_observer = fn;
	p->pre_ctx = ctx;
}

void persist_freeze_after(struct persist *p, uint64_t k, void (*stop)(void *), void *ctx)
{
	flush_deferred(p);
	p->freeze_at = k;
	p->on_freeze = stop;
	p->freeze_ctx = ctx;
	if (k && p->events >= k && !p->frozen) {
		p->frozen = true;
		p->freeze_at = 0;
		if (stop)
			stop(ctx);
	}
}

void persist_freeze(struct persist *p)
{
	if (p->frozen)
		return;
	enter(p);
	p->frozen = true;
	p->freeze_at = 0;
}

/* --- Inspection ---------------------------------------------------- */

size_t persist_pending(struct persist *p)
{
	enter(p);
	return p->npending;
}

const struct pline *persist_peek_line(const struct persist *p, uint64_t pa)
{
	if (!in_region(p, pa))
		return NULL;
	return line_find(p, (pa - p->base) >> PERSIST_LINE_SHIFT);
}

const struct pline *persist_line(struct persist *p, uint64_t pa)
{
	enter(p);
	if (!in_region(p, pa))
		return NULL;
	return line_find(p, (pa - p->base) >> PERSIST_LINE_SHIFT);
}

void persist_foreach(struct persist *p,
		     void (*fn)(void *ctx, const struct pline *pl), void *ctx)
{
	enter(p);
	for (size_t j = 0; j < p->tabcap; j++)
		if (p->tab[j])
			fn(ctx, p->tab[j]);
}

void persist_settle(struct persist *p,
		    void (*choose)(void *ctx, const struct pline *pl, uint8_t out[PERSIST_LINE]),
		    void *ctx)
{
	enter(p);       /* the crash comes after queued stores and a pending I/O fence */
	uint8_t line[PERSIST_LINE];
	for (size_t j = 0; j < p->tabcap; j++) {
		struct pline *pl = p->tab[j];
		if (!pl)
			continue;
		choose(ctx, pl, line);
		media_write(p, pl->line, line);
		memcpy(p->mem + (pl->line << PERSIST_LINE_SHIFT), line, PERSIST_LINE);
	}
	for (size_t j = 0; j < p->tabcap; j++) {
		free(p->tab[j]);
		p->tab[j] = NULL;
	}
	p->npending = 0;
	p->narmed = 0;
	for (size_t i = 0; i < p->stalecap; i++) {
		uint64_t l = p->stale[i];
		if (l != EMPTY)
			memcpy(p->mem + (l << PERSIST_LINE_SHIFT),
			       p->media + (l << PERSIST_LINE_SHIFT), PERSIST_LINE);
	}
	set_clear(p->stale, p->stalecap, &p->nstale);
	p->io_pending = false;
	p->frozen = false;
	p->freeze_at = 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

uint64_t *persist_touched_pages(struct persist *p, size_t *n)
{
	enter(p);
	uint64_t *out = malloc((p->ntouched ? p->ntouched : 1) * sizeof *out);
	if (!out) {
		*n = 0;
		return NULL;
	}
	size_t k = 0;
	for (size_t i = 0; i < p->touchcap; i++)
		if (p->touched[i] != EMPTY)
			out[k++] = p->touched[i];
	qsort(out, k, sizeof *out, cmp_u64);
	*n = k;
	return out;
}

void persist_clear_touched(struct persist *p)
{
	set_clear(p->touched, p->touchcap, &p->ntouched);
}
