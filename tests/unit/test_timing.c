/* tests/unit/test_timing.c: the timing model's parts on access patterns
 * whose hit, miss and eviction outcomes are known by hand. */
#include <check.h>
#include <stdlib.h>
#include "machine/cache.h"
#include "machine/dram.h"
#include "machine/memctrl.h"
#include "machine/memhier.h"
#include "machine/optane.h"

#define L(n) ((uint64_t)(n) * 64)       /* line n in set 0 of a 1-set cache */

static struct cache make(uint64_t size, unsigned ways, enum cache_policy p)
{
	struct cache c;
	const char *why = NULL;
	struct cache_config cfg = {"t", size, ways, 4, p, false};
	ck_assert_msg(cache_init(&c, &cfg, &why) == 0, "%s", why);
	return c;
}

static bool hit(struct cache *c, uint64_t pa, enum cache_op op, struct cache_result *r)
{
	cache_access(c, pa, op, r);
	return r->hit;
}

START_TEST(lru_evicts_least_recent)
{
	struct cache c = make(2 * 64, 2, CACHE_LRU);     /* one set, two ways */
	struct cache_result r;
	ck_assert(!hit(&c, L(1), CACHE_READ, &r));
	ck_assert(!hit(&c, L(2), CACHE_READ, &r));
	ck_assert(hit(&c, L(1), CACHE_READ, &r));
	ck_assert(!hit(&c, L(3), CACHE_READ, &r));     /* evicts 2 */
	ck_assert(r.victim_valid && r.victim == L(2) && !r.victim_dirty);
	ck_assert(hit(&c, L(1), CACHE_READ, &r));
	ck_assert(!cache_contains(&c, L(2), NULL));
	ck_assert_uint_eq(c.hits, 2);
	ck_assert_uint_eq(c.misses, 3);
	cache_free(&c);
}
END_TEST

START_TEST(plru_tree_choices)
{
	struct cache c = make(4 * 64, 4, CACHE_PLRU);
	struct cache_result r;
	for (int i = 0; i < 4; i++)
		ck_assert(!hit(&c, L(10 + i), CACHE_READ, &r));
	ck_assert(!r.victim_valid);                     /* invalid ways fill first */
	ck_assert(!hit(&c, L(20), CACHE_READ, &r));    /* tree points at way 0 */
	ck_assert_uint_eq(r.victim, L(10));
	cache_free(&c);

	/* A B C D, then D, B: true LRU would evict A, the tree evicts C. */
	c = make(4 * 64, 4, CACHE_PLRU);
	for (int i = 0; i < 4; i++)
		hit(&c, L(10 + i), CACHE_READ, &r);
	ck_assert(hit(&c, L(13), CACHE_READ, &r));
	ck_assert(hit(&c, L(11), CACHE_READ, &r));
	ck_assert(!hit(&c, L(20), CACHE_READ, &r));
	ck_assert_uint_eq(r.victim, L(12));
	cache_free(&c);

	c = make(4 * 64, 4, CACHE_LRU);
	for (int i = 0; i < 4; i++)
		hit(&c, L(10 + i), CACHE_READ, &r);
	hit(&c, L(13), CACHE_READ, &r);
	hit(&c, L(11), CACHE_READ, &r);
	hit(&c, L(20), CACHE_READ, &r);
	ck_assert_uint_eq(r.victim, L(10));
	cache_free(&c);
}
END_TEST

START_TEST(write_back_of_dirty_victims)
{
	struct cache c = make(2 * 64, 2, CACHE_LRU);
	struct cache_result r;
	hit(&c, L(1), CACHE_WRITE, &r);
	hit(&c, L(2), CACHE_READ, &r);
	hit(&c, L(3), CACHE_READ, &r);                  /* evicts dirty 1 */
	ck_assert(r.victim_dirty);
	ck_assert_uint_eq(r.victim, L(1));
	hit(&c, L(4), CACHE_READ, &r);                  /* evicts clean 2 */
	ck_assert(r.victim_valid && !r.victim_dirty);
	ck_assert_uint_eq(c.writebacks, 1);
	cache_free(&c);
}
END_TEST

START_TEST(sets_do_not_interfere)
{
	struct cache c = make(4 * 64, 1, CACHE_LRU);     /* 4 sets, direct mapped */
	struct cache_result r;
	for (int i = 0; i < 4; i++)
		ck_assert(!hit(&c, (uint64_t)i * 64, CACHE_READ, &r));
	for (int i = 0; i < 4; i++)
		ck_assert(hit(&c, (uint64_t)i * 64 + 17, CACHE_READ, &r));
	ck_assert(!hit(&c, 4 * 64, CACHE_READ, &r));   /* conflicts with set 0 */
	ck_assert_uint_eq(r.victim, 0);
	cache_free(&c);
}
END_TEST

START_TEST(flushes)
{
	struct cache c = make(4 * 64, 4, CACHE_PLRU);
	struct cache_result r;
	bool dirty;
	hit(&c, L(1), CACHE_WRITE, &r);
	ck_assert(cache_contains(&c, L(1), &dirty) && dirty);
	ck_assert(cache_flush(&c, L(1), true));         /* clwb: written back, kept */
	ck_assert(cache_contains(&c, L(1), &dirty) && !dirty);
	ck_assert(!cache_flush(&c, L(1), true));        /* clean: nothing to write */
	hit(&c, L(1), CACHE_WRITE, &r);
	ck_assert(cache_flush(&c, L(1), false));        /* clflush: gone */
	ck_assert(!cache_contains(&c, L(1), NULL));
	ck_assert(!cache_flush(&c, L(2), false));       /* absent */
	cache_fill_dirty(&c, L(5), &r);
	ck_assert(cache_contains(&c, L(5), &dirty) && dirty);
	cache_free(&c);
}
END_TEST

START_TEST(bad_geometry)
{
	struct cache c;
	const char *why = NULL;
	struct cache_config cfg = {"x", 3 * 64, 1, 1, CACHE_LRU, false};
	ck_assert_int_eq(cache_init(&c, &cfg, &why), -1);     /* 3 sets */
	ck_assert_ptr_nonnull(why);
	cfg = (struct cache_config){"x", 12 * 64, 3, 1, CACHE_PLRU, false};
	ck_assert_int_eq(cache_init(&c, &cfg, &why), -1);     /* PLRU, 3 ways */
	cfg.policy = CACHE_LRU;                                /* 4 sets of 3: fine */
	ck_assert_int_eq(cache_init(&c, &cfg, &why), 0);
	cache_free(&c);
	cfg = (struct cache_config){"x", 100, 2, 1, CACHE_LRU, false};
	ck_assert_int_eq(cache_init(&c, &cfg, &why), -1);
}
END_TEST


/* --- Optane DIMM ------------------------------------------------------ */

START_TEST(optane_xpline_and_ait)
{
	struct optane_params p;
	struct optane_dimm d;
	optane_default_params(&p);
	optane_init(&d, &p);
	sim_time_t t0 = 1000 * SIM_NS;
	/* cold: AIT miss + media read */
	sim_time_t a = optane_read(&d, 0, t0) - t0;
	ck_assert_uint_eq(a, 2 * p.ddrt + p.ait_miss + p.media_read);
	/* same XPLine: buffer hit */
	sim_time_t t1 = t0 + a;
	ck_assert_uint_eq(optane_read(&d, 64, t1) - t1, 2 * p.ddrt + p.buffer_hit);
	/* next XPLine, same 4 KiB block: AIT hit, media read */
	sim_time_t t2 = t1 + SIM_US;
	ck_assert_uint_eq(optane_read(&d, 256, t2) - t2, 2 * p.ddrt + p.media_read);
	ck_assert_uint_eq(d.ait_misses, 1);
	ck_assert_uint_eq(d.xpb_hits, 1);
	optane_free(&d);
}
END_TEST

START_TEST(optane_partial_lines_read_modify_write)
{
	struct optane_params p;
	struct optane_dimm d;
	optane_default_params(&p);
	p.xpbuffer_lines = 2;
	optane_init(&d, &p);
	sim_time_t t = 0;
	/* one full XPLine, one partial, then two more force both out */
	for (unsigned off = 0; off < 256; off += 64)
		t = optane_write(&d, off, t);
	t = optane_write(&d, 256, t);
	t = optane_write(&d, 512, t);
	t = optane_write(&d, 768, t);
	ck_assert_uint_eq(d.media_writes, 2);
	ck_assert_uint_eq(d.rmw, 1);            /* only the partial line */
	ck_assert_uint_eq(d.media_reads, 1);
	optane_free(&d);
}
END_TEST

START_TEST(optane_media_bounds_bandwidth)
{
	struct optane_params p;
	struct optane_dimm d;
	optane_default_params(&p);
	optane_init(&d, &p);
	/* 4096 back-to-back random XPLine reads (all AIT hits after warm-up
	 * in one block... use distinct blocks to include AIT misses) take at
	 * least n * media_read / units of media time. */
	sim_time_t last = 0;
	for (unsigned i = 0; i < 4096; i++)
		last = optane_read(&d, (uint64_t)i * XPLINE * 17, 0);
	ck_assert_uint_ge(last, 4096 * p.media_read / p.media_units);
	optane_free(&d);
}
END_TEST

START_TEST(optane_buffer_absorbs_an_interleave_chunk)
{
	struct optane_params p;
	struct optane_dimm d;
	optane_default_params(&p);
	optane_init(&d, &p);
	/* Fill the XPBuffer with full lines, then write one more 4 KiB
	 * interleave chunk (16 XPLines), every write arriving at 0: the
	 * chunk's 16 write-backs queue in the background and no write waits
	 * for the media. */
	sim_time_t worst = 0;
	uint64_t lines = p.xpbuffer_lines + AIT_BLOCK / XPLINE;
	for (uint64_t a = 0; a < lines * XPLINE; a += 64) {
		sim_time_t t = optane_write(&d, a, 0);
		worst = t > worst ? t : worst;
	}
	ck_assert_uint_eq(d.media_writes, AIT_BLOCK / XPLINE);
	ck_assert_uint_le(worst, p.ddrt + p.ait_miss + p.buffer_write);
	/* Sustained writing is still bounded by the media: 200 more lines
	 * wait for all but write_backlog of their write-backs. */
	for (uint64_t a = lines * XPLINE; a < (lines + 200) * XPLINE; a += 64) {
		sim_time_t t = optane_write(&d, a, 0);
		worst = t > worst ? t : worst;
	}
	ck_assert_uint_ge(worst, (200 + 16 - p.write_backlog) * p.media_write / p.media_units);
	optane_free(&d);
}
END_TEST

/* --- DRAM, memory controller ------------------------------------------- */

START_TEST(dram_row_buffer)
{
	struct dram_params p;
	struct dram_channel c;
	dram_default_params(&p);
	dram_init(&c, &p);
	sim_time_t t = 0;
	ck_assert_uint_eq(dram_access(&c, 0, t), p.trcd + p.tcl + p.burst);     /* closed */
	t = SIM_US;
	ck_assert_uint_eq(dram_access(&c, 64, t) - t, p.tcl + p.burst);         /* row hit */
	t = 2 * SIM_US;                          /* same bank (16 rows on), other row */
	ck_assert_uint_eq(dram_access(&c, p.row_bytes * p.banks, t) - t,
			  p.trp + p.trcd + p.tcl + p.burst);
	ck_assert_uint_eq(c.row_hits, 1);
	ck_assert_uint_eq(c.row_conflicts, 1);
}
END_TEST

START_TEST(memctrl_interleave_and_wpq)
{
	struct memctrl_params p;
	struct memctrl m;
	memctrl_default_params(&p);
	p.wpq_entries = 4;
	memctrl_init(&m, &p, 1ull << 32, 1ull << 30);
	/* 4 KiB stride: consecutive 4 KiB blocks land on different DIMMs */
	memctrl_write(&m, (1ull << 32) + 0, 0);
	memctrl_write(&m, (1ull << 32) + 4096, 0);
	ck_assert_uint_eq(m.pm[0].writes, 1);
	ck_assert_uint_eq(m.pm[1].writes, 1);
	/* reads of a line still queued are forwarded */
	memctrl_read(&m, (1ull << 32) + 0, 0);
	ck_assert_uint_eq(m.wpq_forwards, 1);
	ck_assert_uint_ge(memctrl_wpq_occupancy(&m, true, 0), 1);
	ck_assert_uint_eq(memctrl_wpq_occupancy(&m, true, SIM_S), 0);
	/* flood one DIMM with partial lines: its queue fills and writes wait */
	sim_time_t ack = 0;
	for (int i = 0; i < 200; i++)
		ack = memctrl_write(&m, (1ull << 32) + (uint64_t)i * 6 * 4096, 0);
	ck_assert_uint_gt(m.wpq_full_stalls, 0);
	ck_assert_uint_gt(ack, 100 * p.optane.media_write / p.optane.media_units);
	/* DRAM addresses never reach the DIMMs */
	uint64_t before = m.pm[0].reads + m.pm[0].writes;
	memctrl_read(&m, 4096, 0);
	ck_assert_uint_eq(m.pm[0].reads + m.pm[0].writes, before);
	memctrl_free(&m);
}
END_TEST

START_TEST(memctrl_wpq_drains_pipelined)
{
	struct memctrl_params p;
	struct memctrl m;
	memctrl_default_params(&p);
	memctrl_init(&m, &p, 1ull << 32, 1ull << 30);
	/* A line's worth of writes to one DIMM, all at 0: the iMC sends them
	 * one burst apart, it does not wait for each to be accepted. */
	for (uint64_t i = 0; i < p.wpq_entries; i++)
		memctrl_write(&m, (1ull << 32) + i * 64, 0);
	ck_assert_uint_eq(m.wpq_full_stalls, 0);
	sim_time_t first = p.uncore / 2 + p.imc + p.optane.ddrt + p.optane.ait_miss +
			   p.optane.buffer_write;        /* the AIT miss is the first's */
	ck_assert_uint_gt(memctrl_wpq_occupancy(&m, true, first - 1), 0);
	ck_assert_uint_eq(memctrl_wpq_occupancy(&m, true, first + p.wpq_entries * p.write_issue), 0);
	/* and in order: the queue never reports an entry drained before the
	 * one ahead of it */
	const struct wpq *q = &m.pm_wpq[0];
	for (unsigned k = 1; k < q->n; k++)
		ck_assert_uint_ge(q->drained[(q->head + k) % WPQ_MAX],
				  q->drained[(q->head + k - 1) % WPQ_MAX]);
	memctrl_free(&m);
}
END_TEST

/* --- hierarchy ---------------------------------------------------------- */

static struct memhier hier(unsigned prefetch)
{
	struct memhier h;
	struct memhier_params p;
	const char *why;
	memhier_default_params(&p);
	p.prefetch_degree = prefetch;
	ck_assert_int_eq(memhier_init(&h, &p, 1ull << 32, 1ull << 30, &why), 0);
	return h;
}

START_TEST(hierarchy_hits_and_misses)
{
	struct memhier h = hier(0);
	sim_time_t t = memhier_load(&h, 4096, 0);
	ck_assert_uint_eq(h.llc_misses, 1);
	sim_time_t t2 = memhier_load(&h, 4100, t);      /* same line: L1 hit */
	ck_assert_uint_eq(t2 - t, h.l1.cfg.latency * h.p.cycle);
	ck_assert_uint_eq(h.l1_misses, 1);
	/* PM costs more than DRAM from a cold cache */
	sim_time_t tp = memhier_load(&h, (1ull << 32) + 8192, t2) - t2;
	sim_time_t td = memhier_load(&h, 1 << 20, t2 + SIM_US) - (t2 + SIM_US);
	ck_assert_uint_gt(tp, 2 * td);
	memhier_free(&h);
}
END_TEST

START_TEST(prefetcher_hides_sequential_misses)
{
	struct memhier a = hier(0), b = hier(8);
	sim_time_t ta = 0, tb = 0;
	for (uint64_t i = 0; i < 64; i++) {
		ta = memhier_load(&a, (1ull << 32) + i * 64, ta);
		tb = memhier_load(&b, (1ull << 32) + i * 64, tb);
	}
	ck_assert_uint_gt(b.prefetches, 0);
	ck_assert_uint_lt(b.llc_misses, a.llc_misses);
	ck_assert_uint_lt(tb, ta);
	memhier_free(&a);
	memhier_free(&b);
}
END_TEST

static uint64_t wb_count, wb_flush;
static void on_wb(void *ctx, uint64_t pa, bool evicted) { wb_count++; wb_flush += !evicted; }

START_TEST(flush_and_fence)
{
	struct memhier h = hier(0);
	h.writeback = on_wb;
	wb_count = wb_flush = 0;
	sim_time_t t = memhier_store(&h, 1ull << 32, 0);
	t = memhier_load(&h, 1ull << 32, t);            /* let the RFO land */
	sim_time_t f0 = memhier_fence(&h, t);           /* nothing pending */
	ck_assert_uint_eq(f0 - t, h.p.cycle);
	t = memhier_flush(&h, 1ull << 32, true, f0);
	ck_assert_uint_eq(wb_flush, 1);
	sim_time_t f1 = memhier_fence(&h, t);
	ck_assert_uint_gt(f1 - t, 20 * SIM_NS);         /* waits for the WPQ ack */
	/* flushing a clean line writes nothing */
	memhier_flush(&h, 1ull << 32, true, f1);
	ck_assert_uint_eq(wb_flush, 1);
	/* non-temporal: a full line is sent at once, the fence waits for it */
	sim_time_t n = f1;
	for (int i = 0; i < 8; i++)
		n = memhier_ntstore(&h, (1ull << 32) + 4096 + 8 * (uint64_t)i, 8, n);
	ck_assert_uint_eq(h.mc.writes, 2);
	ck_assert_uint_gt(memhier_fence(&h, n) - n, 20 * SIM_NS);
	/* a partial WC buffer goes out at the fence */
	n = memhier_ntstore(&h, (1ull << 32) + 8192, 8, n);
	ck_assert_uint_eq(h.mc.writes, 2);
	memhier_fence(&h, n);
	ck_assert_uint_eq(h.mc.writes, 3);
	memhier_free(&h);
}
END_TEST

static struct memhier hier_limits(unsigned nt, unsigned fl)
{
	struct memhier h;
	struct memhier_params p;
	const char *why;
	memhier_default_params(&p);
	p.prefetch_degree = 0;
	p.nt_inflight = nt;
	p.flush_inflight = fl;
	ck_assert_int_eq(memhier_init(&h, &p, 1ull << 32, 1ull << 30, &why), 0);
	return h;
}

START_TEST(ntstores_in_flight_are_bounded)
{
	/* 256 full-line ntstores: with nt_inflight lines on their way the
	 * stream runs at most nt_inflight lines per acknowledgement. */
	struct memhier a = hier_limits(6, 2), b = hier_limits(10, 2);
	sim_time_t ta = 0, tb = 0;
	for (uint64_t i = 0; i < 256; i++) {
		ta = memhier_ntstore(&a, (1ull << 32) + i * 64, 64, ta);
		tb = memhier_ntstore(&b, (1ull << 32) + i * 64, 64, tb);
	}
	ta = memhier_fence(&a, ta);
	tb = memhier_fence(&b, tb);
	ck_assert_uint_gt(a.nt_stalls, 0);
	ck_assert_uint_gt(ta, tb);
	/* each acknowledgement takes at least the iMC and WPQ ack */
	sim_time_t ack = a.p.mc.imc + a.p.mc.write_ack;
	ck_assert_uint_ge(ta, 256 / 6 * ack);
	memhier_free(&a);
	memhier_free(&b);
}
END_TEST

START_TEST(flush_write_backs_in_flight_are_bounded)
{
	struct memhier a = hier_limits(6, 2), b = hier_limits(6, 16);
	sim_time_t ta = 0, tb = 0;
	/* dirty 64 lines and let their fills land */
	for (uint64_t i = 0; i < 64; i++) {
		ta = memhier_load(&a, (1ull << 32) + i * 64, ta);
		ta = memhier_store(&a, (1ull << 32) + i * 64, ta);
		tb = memhier_load(&b, (1ull << 32) + i * 64, tb);
		tb = memhier_store(&b, (1ull << 32) + i * 64, tb);
	}
	sim_time_t a0 = ta, b0 = tb;
	for (uint64_t i = 0; i < 64; i++) {
		ta = memhier_flush(&a, (1ull << 32) + i * 64, true, ta);
		tb = memhier_flush(&b, (1ull << 32) + i * 64, true, tb);
	}
	ck_assert_uint_gt(a.flush_stalls, 0);
	ck_assert_uint_gt(ta - a0, tb - b0);
	ck_assert_uint_ge(ta - a0, 62 / 2 * (a.p.mc.imc + a.p.mc.write_ack));
	/* flushing clean lines takes no slot */
	uint64_t stalls = a.flush_stalls;
	sim_time_t t = memhier_fence(&a, ta);
	for (uint64_t i = 0; i < 64; i++)
		t = memhier_flush(&a, (1ull << 32) + i * 64, true, t);
	ck_assert_uint_eq(a.flush_stalls, stalls);
	memhier_free(&a);
	memhier_free(&b);
}
END_TEST

static Suite *timing_suite_memory(void)
{
	Suite *s = suite_create("memory");
	TCase *t = tcase_create("models");
	tcase_add_test(t, optane_xpline_and_ait);
	tcase_add_test(t, optane_partial_lines_read_modify_write);
	tcase_add_test(t, optane_media_bounds_bandwidth);
	tcase_add_test(t, optane_buffer_absorbs_an_interleave_chunk);
	tcase_add_test(t, dram_row_buffer);
	tcase_add_test(t, memctrl_interleave_and_wpq);
	tcase_add_test(t, memctrl_wpq_drains_pipelined);
	tcase_add_test(t, hierarchy_hits_and_misses);
	tcase_add_test(t, prefetcher_hides_sequential_misses);
	tcase_add_test(t, flush_and_fence);
	tcase_add_test(t, ntstores_in_flight_are_bounded);
	tcase_add_test(t, flush_write_backs_in_flight_are_bounded);
	suite_add_tcase(s, t);
	return s;
}

Suite *timing_suite_cache(void);
Suite *timing_suite_cache(void)
{
	Suite *s = suite_create("cache");
	TCase *t = tcase_create("cache");
	tcase_add_test(t, lru_evicts_least_recent);
	tcase_add_test(t, plru_tree_choices);
	tcase_add_test(t, write_back_of_dirty_victims);
	tcase_add_test(t, sets_do_not_interfere);
	tcase_add_test(t, flushes);
	tcase_add_test(t, bad_geometry);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(timing_suite_cache());
	srunner_add_suite(sr, timing_suite_memory());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
