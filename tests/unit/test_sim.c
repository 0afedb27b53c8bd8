/* tests/unit/test_sim.c: the event queue, the PRNG and the stats registry. */
#include <stdlib.h>
#include <string.h>
#include "tests/unit/check_main.h"
#include "sim/sim.h"

/* Each fired event appends its tag to a log, so order is observable. */
struct fired {
	int log[64];
	int n;
};

struct tagged {
	struct event ev;
	struct fired *f;
	int tag;
};

static void record(void *arg, sim_time_t now)
{
	struct tagged *t = arg;
	t->f->log[t->f->n++] = t->tag;
}

START_TEST(equal_times_fire_in_insertion_order)
{
	struct event_queue q;
	struct fired f = {0};
	struct tagged t[10];
	event_queue_init(&q);
	for (int i = 0; i < 10; i++) {
		t[i] = (struct tagged){.f = &f, .tag = i};
		event_init(&t[i].ev, record, &t[i]);
		event_schedule(&q, &t[i].ev, 1000);
	}
	struct event *e;
	while ((e = event_pop(&q)))
		e->fn(e->arg, e->when);
	ck_assert_int_eq(f.n, 10);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(f.log[i], i);
	event_queue_free(&q);
}
END_TEST

START_TEST(time_order_then_sequence)
{
	struct event_queue q;
	struct fired f = {0};
	/* times chosen so heap order differs from insertion order */
	const sim_time_t when[] = {50, 10, 50, 30, 10, 90, 30, 10};
	const int expect[] = {1, 4, 7, 3, 6, 0, 2, 5};
	struct tagged t[8];
	event_queue_init(&q);
	for (int i = 0; i < 8; i++) {
		t[i] = (struct tagged){.f = &f, .tag = i};
		event_init(&t[i].ev, record, &t[i]);
		event_schedule(&q, &t[i].ev, when[i]);
	}
	sim_time_t last = 0;
	struct event *e;
	while ((e = event_pop(&q))) {
		ck_assert_uint_ge(e->when, last);
		last = e->when;
		e->fn(e->arg, e->when);
	}
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(f.log[i], expect[i]);
	event_queue_free(&q);
}
END_TEST

START_TEST(cancel_and_reschedule)
{
	struct event_queue q;
	struct fired f = {0};
	struct tagged t[5];
	event_queue_init(&q);
	for (int i = 0; i < 5; i++) {
		t[i] = (struct tagged){.f = &f, .tag = i};
		event_init(&t[i].ev, record, &t[i]);
		event_schedule(&q, &t[i].ev, 100 * (sim_time_t)(i + 1));
	}
	event_cancel(&q, &t[2].ev);
	ck_assert(!event_pending(&t[2].ev));
	event_cancel(&q, &t[2].ev);            /* cancelling twice is harmless */
	event_schedule(&q, &t[0].ev, 1000);     /* moves, does not duplicate */
	ck_assert_uint_eq(event_next_time(&q), 200);
	struct event *e;
	while ((e = event_pop(&q)))
		e->fn(e->arg, e->when);
	const int expect[] = {1, 3, 4, 0};
	ck_assert_int_eq(f.n, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(f.log[i], expect[i]);
	ck_assert_uint_eq(event_next_time(&q), SIM_TIME_MAX);
	event_queue_free(&q);
}
END_TEST

/* A randomised check against a sorted reference: many events, many
 * cancellations, the pop order must be (when, seq) sorted. */
START_TEST(heap_matches_reference)
{
	enum { N = 2000 };
	struct event_queue q;
	struct event *ev = calloc(N, sizeof *ev);
	struct rng r;
	rng_seed(&r, 42);
	event_queue_init(&q);
	for (int i = 0; i < N; i++) {
		event_init(&ev[i], NULL, NULL);
		event_schedule(&q, &ev[i], rng_below(&r, 100));
	}
	for (int i = 0; i < N; i += 3)
		event_cancel(&q, &ev[i]);
	sim_time_t lw = 0;
	uint64_t ls = 0;
	size_t popped = 0;
	struct event *e;
	while ((e = event_pop(&q))) {
		ck_assert(e->when > lw || (e->when == lw && (popped == 0 || e->seq > ls)));
		lw = e->when;
		ls = e->seq;
		popped++;
	}
	ck_assert_uint_eq(popped, N - (N + 2) / 3);
	event_queue_free(&q);
	free(ev);
}
END_TEST

static void stop_at_3(void *arg, sim_time_t now)
{
	struct sim *s = arg;
	if (now == 3 * SIM_US)
		sim_request_stop(s, 7);
}

START_TEST(sim_run_respects_limits_and_stop)
{
	struct sim s;
	struct event a, b;
	sim_init(&s, 1);
	s.max_time = 10 * SIM_US;
	event_init(&a, stop_at_3, &s);
	event_init(&b, stop_at_3, &s);
	sim_after(&s, &a, 1 * SIM_US);
	sim_after(&s, &b, 20 * SIM_US);         /* beyond the limit */
	ck_assert_int_eq(sim_run_events(&s, SIM_TIME_MAX), SIM_STOP_TIME_LIMIT);
	ck_assert_uint_eq(s.now, 10 * SIM_US);
	ck_assert(event_pending(&b));
	sim_free(&s);

	sim_init(&s, 1);
	event_init(&a, stop_at_3, &s);
	sim_after(&s, &a, 3 * SIM_US);
	ck_assert_int_eq(sim_run_events(&s, SIM_TIME_MAX), SIM_STOP_REQUESTED);
	ck_assert_int_eq(s.stop_code, 7);
	ck_assert_uint_eq(s.now, 3 * SIM_US);
	sim_free(&s);
}
END_TEST

START_TEST(rng_is_deterministic)
{
	struct rng a, b;
	rng_seed(&a, 12345);
	rng_seed(&b, 12345);
	for (int i = 0; i < 1000; i++)
		ck_assert_uint_eq(rng_next(&a), rng_next(&b));
	rng_seed(&b, 12346);
	rng_seed(&a, 12345);
	int same = 0;
	for (int i = 0; i < 1000; i++)
		same += rng_next(&a) == rng_next(&b);
	ck_assert_int_eq(same, 0);
}
END_TEST

/* Pins the generator: a changed algorithm would silently change every
 * seeded result, so these first outputs are the contract.  They are
 * xoshiro256** seeded through splitmix64(0). */
START_TEST(rng_known_values)
{
	struct rng r;
	rng_seed(&r, 0);
	/* splitmix64 from state 0 gives this well-known first output */
	ck_assert_uint_eq(r.s[0], 0xe220a8397b1dcdafULL);
	uint64_t first = rng_next(&r);
	struct rng r2;
	rng_seed(&r2, 0);
	/* recompute by hand from the published definition */
	uint64_t s1 = r2.s[1];
	uint64_t x = s1 * 5;
	x = (x << 7) | (x >> 57);
	ck_assert_uint_eq(first, x * 9);
}
END_TEST

START_TEST(rng_streams_are_independent)
{
	struct rng a, b, a2;
	rng_stream(&a, 7, "power.policy");
	rng_stream(&b, 7, "user.getrandom");
	/* Drawing from b must not change a: recreate a and compare. */
	for (int i = 0; i < 100; i++)
		rng_next(&b);
	rng_stream(&a2, 7, "power.policy");
	int same = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x = rng_next(&a);
		ck_assert_uint_eq(x, rng_next(&a2));
		same += x == rng_next(&b);
	}
	ck_assert_int_eq(same, 0);
	/* Same name, different seed: different stream. */
	rng_stream(&a, 8, "power.policy");
	rng_stream(&a2, 7, "power.policy");
	ck_assert_uint_ne(rng_next(&a), rng_next(&a2));
}
END_TEST

START_TEST(rng_below_is_bounded_and_covers)
{
	struct rng r;
	int seen[10] = {0};
	rng_seed(&r, 3);
	for (int i = 0; i < 10000; i++) {
		uint64_t v = rng_below(&r, 10);
		ck_assert_uint_lt(v, 10);
		seen[v]++;
	}
	for (int i = 0; i < 10; i++)
		ck_assert_int_gt(seen[i], 800);        /* ~1000 each */
	for (int i = 0; i < 1000; i++) {
		double u = rng_unit(&r);
		ck_assert(u >= 0.0 && u < 1.0);
	}
}
END_TEST

START_TEST(stats_counters)
{
	struct stats s;
	stats_init(&s);
	uint64_t *a = stats_counter(&s, "b.second");
	for (int i = 0; i < 100; i++)           /* force growth */
		{ char n[32]; snprintf(n, sizeof n, "z.%03d", i); stats_counter(&s, n); }
	*a += 5;
	ck_assert_ptr_eq(stats_counter(&s, "b.second"), a);
	*stats_counter(&s, "a.first") = 3;
	ck_assert_uint_eq(stats_get(&s, "b.second"), 5);
	ck_assert_uint_eq(stats_get(&s, "missing"), 0);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(stats_write_json(&s, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "{\n  \"a.first\": 3,\n  \"b.second\": 5,"));
	free(buf);
	stats_free(&s);
}
END_TEST

static Suite *sim_suite(void)
{
	Suite *s = suite_create("sim");
	TCase *t = tcase_create("event");
	tcase_add_test(t, equal_times_fire_in_insertion_order);
	tcase_add_test(t, time_order_then_sequence);
	tcase_add_test(t, cancel_and_reschedule);
	tcase_add_test(t, heap_matches_reference);
	tcase_add_test(t, sim_run_respects_limits_and_stop);
	suite_add_tcase(s, t);
	t = tcase_create("rng");
	tcase_add_test(t, rng_is_deterministic);
	tcase_add_test(t, rng_known_values);
	tcase_add_test(t, rng_streams_are_independent);
	tcase_add_test(t, rng_below_is_bounded_and_covers);
	suite_add_tcase(s, t);
	t = tcase_create("stats");
	tcase_add_test(t, stats_counters);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(sim_suite());
	srunner_add_suite(sr, config_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
