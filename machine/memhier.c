/* machine/memhier.c: caches, fill buffers, prefetcher and write
 * combining in front of the memory controller (see memhier.h).
 *
 * The caches are non-inclusive and hold tags only.  A demand miss walks
 * L1 -> L2 -> LLC -> memory, paying each level's hit latency on the way
 * (the lookups are serial on real parts too), and the line is then
 * installed in every level.  A dirty victim moves one level down; a dirty
 * LLC victim is written to memory in the background.
 */
#include <string.h>
#include "machine/memhier.h"

void memhier_default_params(struct memhier_params *p)
{
	/* Xeon Platinum 8260 (Cascade Lake), the reference platform of the
	 * Optane studies: 2.2 GHz; 32 KiB 8-way L1D, 1 MiB 16-way L2, LLC
	 * 1.375 MiB/core 11-way (modelled as 22 MiB, 11 ways, LRU). */
	*p = (struct memhier_params){
		.l1i = {"l1i", 32 << 10, 8, 4, CACHE_PLRU, false},
		.l1d = {"l1d", 32 << 10, 8, 4, CACHE_PLRU, false},
		.l2 = {"l2", 1 << 20, 16, 14, CACHE_PLRU, false},
		.llc = {"llc", 11ull * 64 * 32768, 11, 50, CACHE_LRU, true},
		.cycle = 455,                   /* 2.2 GHz */
		.lfb = 10,
		/* FAST 2020 measured one thread's ntstore bandwidth at 4.3 GB/s
		 * on DRAM and on PM alike (a limit of the core, not of the
		 * memory) and an ntstore latency of about 90 ns: by Little's law
		 * about six lines in flight. */
		.nt_inflight = 6,
		/* Store + clwb: 1.4 GB/s for one thread on DRAM, one DIMM and
		 * six DIMMs alike (FAST 2020), again a limit of the core; with
		 * the 62 ns clwb latency it measured, under two write-backs in
		 * flight. */
		.flush_inflight = 2,
		.prefetch_degree = 16,          /* the L2 streamer runs up to 20 lines ahead */
	};
	memctrl_default_params(&p->mc);
}

int memhier_init(struct memhier *h, const struct memhier_params *p,
		 uint64_t pm_base, uint64_t pm_size, const char **why)
{
	memset(h, 0, sizeof *h);
	h->p = *p;
	if (h->p.lfb < 1)
		h->p.lfb = 1;
	if (h->p.lfb > MEMHIER_MAX_LFB)
		h->p.lfb = MEMHIER_MAX_LFB;
	if (h->p.nt_inflight < 1 || h->p.nt_inflight > h->p.lfb)
		h->p.nt_inflight = h->p.lfb;
	if (h->p.flush_inflight < 1 || h->p.flush_inflight > MEMHIER_MAX_LFB)
		h->p.flush_inflight = MEMHIER_MAX_LFB;
	if (cache_init(&h->l1, &p->l1d, why))
		return -1;
	if (p->l1i.size && cache_init(&h->l1i, &p->l1i, why)) {
		cache_free(&h->l1);
		return -1;
	}
	if (cache_init(&h->l2, &p->l2, why)) {
		cache_free(&h->l1);
		cache_free(&h->l1i);
		return -1;
	}
	if (cache_init(&h->llc, &p->llc, why)) {
		cache_free(&h->l1);
		cache_free(&h->l1i);
		cache_free(&h->l2);
		return -1;
	}
	memctrl_init(&h->mc, &p->mc, pm_base, pm_size);
	for (unsigned i = 0; i < MEMHIER_MAX_LFB; i++)
		h->fill[i].line = ~0ull;
	return 0;
}

void memhier_free(struct memhier *h)
{
	cache_free(&h->l1);
	cache_free(&h->l1i);
	cache_free(&h->l2);
	cache_free(&h->llc);
	memctrl_free(&h->mc);
}

static sim_time_t cycles(const struct memhier *h, unsigned n)
{
	return (sim_time_t)n * h->p.cycle;
}

/* Dirty victims move down a level; from the LLC they go to memory. */
static void spill(struct memhier *h, struct cache *to, const struct cache_result *r, sim_time_t now)
{
	if (!r->victim_dirty)
		return;
	if (!to) {
		memctrl_write(&h->mc, r->victim, now);
		if (h->writeback)
			h->writeback(h->writeback_ctx, r->victim, true);
		return;
	}
	struct cache_result r2;
	cache_fill_dirty(to, r->victim, &r2);
	spill(h, to == &h->l2 ? &h->llc : NULL, &r2, now);
}

/* The recent-line filter: lines known to be in the L1D (and, with
 * RECENT_DIRTY, dirty there).  An access it answers is an L1 hit whose
 * replacement update is skipped: the line was among the last touched in
 * its set anyway.  Entries go when the L1D evicts or a flush removes the
 * line, so the filter never claims a hit the cache model would miss. */
#define RECENT_DIRTY (1ull << 63)

static void forget(struct memhier *h, uint64_t line)
{
	uint64_t *e = &h->recent[line % MEMHIER_RECENT];
	if ((*e & ~RECENT_DIRTY) == line + 1)
		*e = 0;
}

static bool recent_hit(const struct memhier *h, uint64_t line, bool write)
{
	uint64_t e = h->recent[line % MEMHIER_RECENT];
	return (e & ~RECENT_DIRTY) == line + 1 && (!write || (e & RECENT_DIRTY));
}

static void remember(struct memhier *h, uint64_t line, bool write)
{
	uint64_t *e = &h->recent[line % MEMHIER_RECENT];
	bool dirty = write || ((*e & ~RECENT_DIRTY) == line + 1 && (*e & RECENT_DIRTY));
	*e = (line + 1) | (dirty ? RECENT_DIRTY : 0);
}

/* The fill buffer tracking `line`, if it is still in flight at `now`. */
static struct memhier_fill *in_flight(struct memhier *h, uint64_t line, sim_time_t now)
{
	for (unsigned i = 0; i < h->p.lfb; i++)
		if (h->fill[i].line == line && h->fill[i].ready > now)
			return &h->fill[i];
	return NULL;
}

/* When the L2 streamer's fill of `line` arrives, or 0 if none is in
 * flight. */
static sim_time_t sq_ready(const struct memhier *h, uint64_t line, sim_time_t now)
{
	for (unsigned i = 0; i < MEMHIER_SQ; i++)
		if (h->sq[i].line == line && h->sq[i].ready > now)
			return h->sq[i].ready;
	return 0;
}

/* A free fill buffer at or after `*now` (advancing *now if all are busy). */
static struct memhier_fill *take_lfb(struct memhier *h, sim_time_t *now)
{
	struct memhier_fill *best = &h->fill[0];
	for (unsigned i = 0; i < h->p.lfb; i++) {
		if (h->fill[i].ready <= *now)
			return &h->fill[i];
		if (h->fill[i].ready < best->ready)
			best = &h->fill[i];
	}
	h->lfb_stalls++;
	*now = best->ready;
	return best;
}

/* Bring a line into the hierarchy starting at `now`, through a fill
 * buffer; returns when its data is at L1.  `write` marks it dirty in L1. */
static sim_time_t fetch_into(struct memhier *h, struct cache *l1, uint64_t pa, bool write,
			     sim_time_t now, bool demand)
{
	uint64_t line = pa / CACHE_LINE;
	struct cache_result r;
	sim_time_t t = now + cycles(h, l1->cfg.latency);

	cache_access(l1, pa, write ? CACHE_WRITE : CACHE_READ, &r);
	if (r.hit)
		return t;
	if (l1 == &h->l1 && r.victim_valid)
		forget(h, r.victim / CACHE_LINE);
	if (demand)
		h->l1_misses++;
	spill(h, &h->l2, &r, now);

	struct memhier_fill *f = in_flight(h, line, now);
	if (f)                                  /* a prefetch is on its way */
		return f->ready > t ? f->ready : t;

	f = take_lfb(h, &now);
	t = now + cycles(h, l1->cfg.latency + h->l2.cfg.latency);
	cache_access(&h->l2, pa, CACHE_READ, &r);
	if (r.hit) {
		/* The L2 streamer may still be bringing it in. */
		sim_time_t pf = sq_ready(h, line, now);
		if (pf + cycles(h, l1->cfg.latency) > t)
			t = pf + cycles(h, l1->cfg.latency);
	} else {
		spill(h, &h->llc, &r, now);
		t += cycles(h, h->llc.cfg.latency);
		cache_access(&h->llc, pa, CACHE_READ, &r);
		if (!r.hit) {
			if (demand)
				h->llc_misses++;
			spill(h, NULL, &r, now);
			t = memctrl_read(&h->mc, pa, t);
		}
	}
	f->line = line;
	f->ready = t;
	return t;
}

static sim_time_t fetch(struct memhier *h, uint64_t pa, bool write, sim_time_t now, bool demand)
{
	return fetch_into(h, &h->l1, pa, write, now, demand);
}

/* One line prefetched into the L2 (and the LLC) through a superqueue
 * entry, not an L1 fill buffer: the L2 streamer of Intel cores works from
 * its own queue, which is what lets one core stream faster than its ten
 * fill buffers alone allow.  Returns false when no entry is free. */
static bool prefetch_line(struct memhier *h, uint64_t line, sim_time_t now)
{
	uint64_t pa = line * CACHE_LINE;
	if (cache_contains(&h->l1, pa, NULL) || cache_contains(&h->l2, pa, NULL))
		return true;
	struct memhier_fill *q = NULL;
	for (unsigned i = 0; i < MEMHIER_SQ && !q; i++)
		if (h->sq[i].ready <= now)
			q = &h->sq[i];
	if (!q)
		return false;
	h->prefetches++;
	struct cache_result r;
	sim_time_t t = now + cycles(h, h->l2.cfg.latency + h->llc.cfg.latency);
	cache_access(&h->llc, pa, CACHE_READ, &r);
	if (!r.hit) {
		spill(h, NULL, &r, now);
		t = memctrl_read(&h->mc, pa, t);
	}
	cache_access(&h->l2, pa, CACHE_READ, &r);
	spill(h, &h->llc, &r, now);
	q->line = line;
	q->ready = t;
	return true;
}

/* Streams are tracked per 4 KiB page: two ascending demand lines in a page
 * start prefetching up to prefetch_degree lines ahead, within the page. */
static void prefetch(struct memhier *h, uint64_t pa, sim_time_t now)
{
	if (!h->p.prefetch_degree || h->prefetch_off)
		return;
	uint64_t line = pa / CACHE_LINE, page = pa >> 12;
	struct memhier_stream *s = h->last_stream, *lru = &h->stream[0];
	if (!s || !s->stamp || s->page != page) {
		s = NULL;
		for (unsigned i = 0; i < MEMHIER_STREAMS; i++) {
			if (h->stream[i].stamp && h->stream[i].page == page)
				s = &h->stream[i];
			if (h->stream[i].stamp < lru->stamp)
				lru = &h->stream[i];
		}
		/* A stream walking off the end of its page carries on into
		 * the next (the next-page prefetcher of Intel cores since
		 * Ivy Bridge), instead of learning the page afresh. */
		for (unsigned i = 0; i < MEMHIER_STREAMS && !s; i++)
			if (h->stream[i].stamp && h->stream[i].last + 1 == line &&
			    h->stream[i].page + 1 == page) {
				s = &h->stream[i];
				s->page = page;
			}
	}
	if (!s) {
		h->last_stream = lru;
		*lru = (struct memhier_stream){.page = page, .last = line, .next_pf = line + 1,
					       .stamp = ++h->clock};
		return;
	}
	h->last_stream = s;
	s->stamp = ++h->clock;
	bool ascending = line == s->last + 1;
	s->last = line;
	if (!ascending)
		return;
	if (s->next_pf <= line)
		s->next_pf = line + 1;
	/* Up to the end of the page, and into the next one once the
	 * stream is past the page's middle. */
	uint64_t end = line + 1 + h->p.prefetch_degree;
	uint64_t page_end = (page + 1) << 12 >> 6;
	if (end > page_end && line < page_end - 32)
		end = page_end;
	/* Prefetches never stall the core: stop when the queue is full. */
	for (; s->next_pf < end; s->next_pf++)
		if (!prefetch_line(h, s->next_pf, now))
			break;
}

sim_time_t memhier_load(struct memhier *h, uint64_t pa, sim_time_t now)
{
	h->loads++;
	uint64_t line = pa / CACHE_LINE;
	if (recent_hit(h, line, false))
		return now + cycles(h, h->l1.cfg.latency);
	sim_time_t t = fetch(h, pa, false, now, true);
	prefetch(h, pa, now);
	remember(h, line, false);
	return t;
}

sim_time_t memhier_ifetch(struct memhier *h, uint64_t pa, sim_time_t now)
{
	h->ifetches++;
	if (!h->l1i.cfg.size)
		return now;
	/* The L1I misses into the same L2 and LLC, through the fill buffers
	 * (the next-line instruction prefetcher is not modelled). */
	uint64_t misses = h->l1_misses;
	sim_time_t t = fetch_into(h, &h->l1i, pa, false, now, true);
	h->l1i_misses += h->l1_misses - misses;
	h->l1_misses = misses;
	return t;
}

sim_time_t memhier_store(struct memhier *h, uint64_t pa, sim_time_t now)
{
	h->stores++;
	uint64_t line = pa / CACHE_LINE;
	if (recent_hit(h, line, true))
		return now + h->p.cycle;
	sim_time_t start = now;
	/* The store buffer hides the miss; only a lack of fill buffers
	 * holds up retirement. */
	if (!cache_contains(&h->l1, pa, NULL) && !in_flight(h, pa / CACHE_LINE, now))
		take_lfb(h, &start);
	fetch(h, pa, true, start, true);
	prefetch(h, pa, start);
	remember(h, line, true);
	return start + h->p.cycle;
}

/* Write a dirty line back to memory from whichever level holds it. */
static sim_time_t write_back(struct memhier *h, uint64_t pa, bool keep, sim_time_t now)
{
	forget(h, pa / CACHE_LINE);
	/* A line still being filled (a store's read for ownership) can only
	 * be written back once it has arrived. */
	struct memhier_fill *f = in_flight(h, pa / CACHE_LINE, now);
	if (f)
		now = f->ready;
	bool dirty = cache_flush(&h->l1, pa, keep);
	dirty |= cache_flush(&h->l2, pa, keep);
	dirty |= cache_flush(&h->llc, pa, keep);
	if (!dirty)
		return now;
	h->flush_writebacks++;
	if (h->writeback)
		h->writeback(h->writeback_ctx, pa & ~63ull, false);
	sim_time_t t = now + cycles(h, h->l1.cfg.latency + h->l2.cfg.latency + h->llc.cfg.latency);
	return memctrl_write(&h->mc, pa, t);
}

/* A flush that writes a dirty line back occupies one of flush_inflight
 * slots until the memory controller acknowledges it; the core waits for
 * a slot (a clean line costs nothing more than the instruction). */
sim_time_t memhier_flush(struct memhier *h, uint64_t pa, bool keep, sim_time_t now)
{
	bool d1 = false, d2 = false, d3 = false;
	h->flushes++;
	cache_contains(&h->l1, pa, &d1);
	cache_contains(&h->l2, pa, &d2);
	cache_contains(&h->llc, pa, &d3);
	sim_time_t *slot = NULL;
	if (d1 || d2 || d3) {
		unsigned busy = 0;
		sim_time_t *oldest = &h->flush_ack[0];
		for (unsigned i = 0; i < h->p.flush_inflight; i++) {
			if (h->flush_ack[i] > now)
				busy++;
			else if (!slot)
				slot = &h->flush_ack[i];
			if (h->flush_ack[i] < *oldest)
				oldest = &h->flush_ack[i];
		}
		if (busy == h->p.flush_inflight) {
			h->flush_stalls++;
			now = *oldest;
			slot = oldest;
		}
	}
	sim_time_t ack = write_back(h, pa, keep, now);
	if (slot)
		*slot = ack;
	if (ack > h->persist_done)
		h->persist_done = ack;
	return now + h->p.cycle;
}

/* A fill buffer holding a write-combining buffer on its way out. */
#define WC_SENT (~1ull)

/* A write-combining buffer leaves through the LLC's ring to the memory
 * controller.  On Intel cores the WC buffers are line-fill buffers, so one
 * stays busy until the controller acknowledges it, and at most
 * nt_inflight of them are on their way at once; returns when the sender
 * could claim the buffer (later than now only if none was free). */
static sim_time_t wc_send(struct memhier *h, struct memhier_wc *w, sim_time_t now)
{
	struct memhier_fill *oldest = NULL;
	unsigned sent = 0;
	for (unsigned i = 0; i < h->p.lfb; i++)
		if (h->fill[i].line == WC_SENT && h->fill[i].ready > now) {
			sent++;
			if (!oldest || h->fill[i].ready < oldest->ready)
				oldest = &h->fill[i];
		}
	if (sent >= h->p.nt_inflight) {
		h->nt_stalls++;
		now = oldest->ready;
	}
	struct memhier_fill *f = take_lfb(h, &now);
	sim_time_t ack = memctrl_write(&h->mc, w->line * CACHE_LINE,
				       now + cycles(h, h->llc.cfg.latency));
	f->line = WC_SENT;
	f->ready = ack;
	if (ack > h->persist_done)
		h->persist_done = ack;
	w->valid = false;
	return now;
}

sim_time_t memhier_ntstore(struct memhier *h, uint64_t pa, unsigned len, sim_time_t now)
{
	uint64_t line = pa / CACHE_LINE;
	struct memhier_wc *w = NULL;
	h->ntstores++;
	/* Non-temporal stores bypass the caches: a cached copy is written
	 * back and invalidated first, as the SDM requires. */
	write_back(h, pa, false, now);
	for (unsigned i = 0; i < MEMHIER_WC && !w; i++)
		if (h->wc[i].valid && h->wc[i].line == line)
			w = &h->wc[i];
	for (unsigned i = 0; i < MEMHIER_WC && !w; i++)
		if (!h->wc[i].valid)
			w = &h->wc[i];
	if (!w) {                               /* all busy: send the oldest */
		w = &h->wc[0];
		now = wc_send(h, w, now);
	}
	if (!w->valid)
		*w = (struct memhier_wc){.line = line, .valid = true};
	for (unsigned off = (unsigned)(pa % CACHE_LINE) / 8; off < 8 && len; off++, len = len > 8 ? len - 8 : 0)
		w->filled |= (uint8_t)(1u << off);
	if (w->filled == 0xFF)
		now = wc_send(h, w, now);
	return now + h->p.cycle;
}

sim_time_t memhier_fence(struct memhier *h, sim_time_t now)
{
	h->fences++;
	for (unsigned i = 0; i < MEMHIER_WC; i++)
		if (h->wc[i].valid)
			now = wc_send(h, &h->wc[i], now);
	sim_time_t t = h->persist_done > now ? h->persist_done : now;
	return t + h->p.cycle;
}
