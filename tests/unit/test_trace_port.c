/* tests/unit/test_trace_port.c: the guest's event channel, driven through
 * the bus as a guest's OUT and IN instructions would. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include "devices/trace_port.h"
#include "machine/bus.h"
#include "sim/sim.h"
#include "traces/trace.h"
#include "traces/trace_reader.h"

static struct sim sim;
static struct bus bus;
static struct trace_port tp;

static void setup(void)
{
	sim_init(&sim, 1);
	bus_init(&bus, &sim);
	ck_assert_int_eq(trace_port_attach(&tp, &sim, &bus, NULL), 0);
}

static void teardown(void)
{
	bus_free(&bus);
	sim_free(&sim);
}

static void event(unsigned code, unsigned n, const uint32_t *args)
{
	for (unsigned i = 0; i < n; i++)
		bus_pio_out(&bus, ABI_PORT_TRACE_ARG, 4, args[i]);
	bus_pio_out(&bus, ABI_PORT_TRACE_EMIT, 4, code);
}

START_TEST(magic_identifies_the_simulator)
{
	ck_assert_uint_eq(bus_pio_in(&bus, ABI_PORT_TRACE_ARG, 4), ABI_TRACE_MAGIC);
	ck_assert_uint_eq(bus_pio_in(&bus, ABI_PORT_TRACE_ARG, 1), 0xFF);
}
END_TEST

START_TEST(commit_and_recovery_are_kept)
{
	const uint32_t commit[] = {7, 0, 0xdeadbeef, 0x01234567};
	event(ABI_EV_COMMIT, 4, commit);
	ck_assert_uint_eq(tp.commits, 1);
	ck_assert_uint_eq(tp.last_commit_gen, 7);
	ck_assert_uint_eq(tp.last_commit_digest, 0x01234567deadbeefull);
	const uint32_t rec[] = {7, 0, 0xdeadbeef, 0x01234567, 0, 1};
	event(ABI_EV_RECOVERY_END, 6, rec);
	ck_assert_uint_eq(tp.recovered_gen, 7);
	ck_assert_uint_eq(tp.recovered_digest, 0x01234567deadbeefull);
	ck_assert_uint_eq(tp.recovered_selfcheck, 0);
	ck_assert_uint_eq(tp.recovered_invariant, 1);
	ck_assert_uint_eq(stats_get(&sim.stats, "trace_port.events"), 2);
}
END_TEST

START_TEST(bad_events_are_dropped_and_counted)
{
	const uint32_t one[] = {7};
	event(ABI_EV_COMMIT, 1, one);                   /* too few arguments */
	event(999, 0, NULL);                            /* unknown code */
	uint32_t many[20] = {0};
	event(ABI_EV_COMMIT, 20, many);                 /* more than 16 */
	bus_pio_out(&bus, ABI_PORT_TRACE_EMIT, 2, ABI_EV_FIRST_BOOT);   /* 16-bit */
	ck_assert_uint_eq(tp.commits, 0);
	ck_assert(!tp.first_boot);
	ck_assert_uint_eq(stats_get(&sim.stats, "trace_port.bad_events"), 4);
	/* the channel still works afterwards */
	event(ABI_EV_FIRST_BOOT, 0, NULL);
	ck_assert(tp.first_boot);
}
END_TEST

/* A fresh trace file at path (a mkstemp template) that the port records to. */
static struct trace *open_trace(char *path)
{
	char err[256];
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	struct trace *t = trace_open(path, &(struct trace_params){.seed = 1}, err, sizeof err);
	ck_assert_msg(t != NULL, "%s", err);
	tp.trace = t;
	return t;
}

/* With a trace open, the snapshot events become phase slices and records. */
START_TEST(events_reach_the_trace)
{
	char path[] = "/tmp/phantom-tp-XXXXXX", err[256];
	struct trace *t = open_trace(path);
	const uint32_t gen[] = {3, 0, 40}, pages[] = {3, 0, 40};
	const uint32_t commit[] = {3, 0, 1, 2}, op[] = {2, 100};
	uint64_t before = t->count;
	event(ABI_EV_SNAPSHOT_BEGIN, 3, gen);           /* record + pause begin */
	sim.now += 5 * SIM_US;
	event(ABI_EV_PAUSE_END, 2, gen);                /* pause end + writeback begin */
	event(ABI_EV_PAGES_WRITTEN, 3, pages);
	event(ABI_EV_COMMIT_BEGIN, 2, gen);             /* writeback end + commit begin */
	event(ABI_EV_COMMIT, 4, commit);                /* commit end + record */
	event(ABI_EV_WORKLOAD_OP, 2, op);
	ck_assert_uint_ge(t->count - before, 10);
	ck_assert_int_eq(tp.phase, 0);
	ck_assert_int_eq(trace_close(t, err, sizeof err), 0);
	unlink(path);
}
END_TEST

/* PAUSE_END's optional third argument, the dirty page count, becomes a
 * snapshot_dirty record; without it (older guests) nothing is recorded
 * and the count stays unknown. */
START_TEST(pause_end_reports_dirty_pages)
{
	char path[] = "/tmp/phantom-tp-XXXXXX", err[256];
	struct trace *t = open_trace(path);
	const uint32_t gen4[] = {4, 0}, dirty4[] = {4, 0, 37}, gen5[] = {5, 0};
	event(ABI_EV_SNAPSHOT_BEGIN, 2, gen4);
	sim.now += SIM_US;
	event(ABI_EV_PAUSE_END, 3, dirty4);
	event(ABI_EV_SNAPSHOT_BEGIN, 2, gen5);
	event(ABI_EV_PAUSE_END, 2, gen5);
	ck_assert_int_eq(trace_close(t, err, sizeof err), 0);
	ck_assert_uint_eq(stats_get(&sim.stats, "trace_port.bad_events"), 0);

	struct trace_reader r;
	struct trace_event ev;
	ck_assert_msg(trace_reader_open(&r, path) == 0, "%s", r.err);
	unsigned dirty = 0;
	int rc;
	while ((rc = trace_reader_next(&r, &ev)) > 0) {
		if (ev.type != TR_SNAPSHOT_DIRTY)
			continue;
		dirty++;
		ck_assert_uint_eq(ev.a, 4);
		ck_assert_uint_eq(ev.b, 37);
		ck_assert_uint_eq(ev.time, SIM_US);
	}
	ck_assert_msg(rc == 0, "%s", r.err);
	ck_assert_uint_eq(dirty, 1);
	trace_reader_close(&r);
	unlink(path);
}
END_TEST

/* A guest that hashes after the root is durable commits with digest 0
 * and sends DIGEST afterwards: it replaces the kept digest only for the
 * last committed generation, needs four arguments, and is recorded as a
 * digest record whatever generation it names. */
START_TEST(digest_follows_a_zero_commit)
{
	char path[] = "/tmp/phantom-tp-XXXXXX", err[256];
	struct trace *t = open_trace(path);
	const uint32_t commit[] = {8, 0, 0, 0};
	const uint32_t stale[] = {7, 0, 0x11111111, 0x22222222};
	const uint32_t late[] = {8, 0, 0xdeadbeef, 0x01234567};
	event(ABI_EV_COMMIT, 4, commit);
	ck_assert_uint_eq(tp.last_commit_digest, 0);
	sim.now += SIM_US;
	event(ABI_EV_DIGEST, 3, late);                  /* too few arguments */
	ck_assert_uint_eq(stats_get(&sim.stats, "trace_port.bad_events"), 1);
	ck_assert_uint_eq(tp.last_commit_digest, 0);
	event(ABI_EV_DIGEST, 4, stale);                 /* not the last commit */
	ck_assert_uint_eq(tp.last_commit_digest, 0);
	event(ABI_EV_DIGEST, 4, late);
	ck_assert_uint_eq(tp.commits, 1);
	ck_assert_uint_eq(tp.last_commit_gen, 8);
	ck_assert_uint_eq(tp.last_commit_digest, 0x01234567deadbeefull);
	ck_assert_uint_eq(stats_get(&sim.stats, "trace_port.events"), 3);
	ck_assert_uint_eq(stats_get(&sim.stats, "trace_port.bad_events"), 1);
	ck_assert_int_eq(trace_close(t, err, sizeof err), 0);

	struct trace_reader r;
	struct trace_event ev;
	ck_assert_msg(trace_reader_open(&r, path) == 0, "%s", r.err);
	const uint64_t want[][2] = {{7, 0x2222222211111111ull}, {8, 0x01234567deadbeefull}};
	unsigned n = 0;
	int rc;
	while ((rc = trace_reader_next(&r, &ev)) > 0) {
		if (ev.type != TR_DIGEST)
			continue;
		ck_assert_uint_lt(n, 2);
		ck_assert_uint_eq(ev.a, want[n][0]);
		ck_assert_uint_eq(ev.b, want[n][1]);
		ck_assert_uint_eq(ev.time, SIM_US);
		n++;
	}
	ck_assert_msg(rc == 0, "%s", r.err);
	ck_assert_uint_eq(n, 2);
	trace_reader_close(&r);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("trace_port");
	TCase *tc = tcase_create("port");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, magic_identifies_the_simulator);
	tcase_add_test(tc, commit_and_recovery_are_kept);
	tcase_add_test(tc, bad_events_are_dropped_and_counted);
	tcase_add_test(tc, events_reach_the_trace);
	tcase_add_test(tc, pause_end_reports_dirty_pages);
	tcase_add_test(tc, digest_follows_a_zero_commit);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
