/* tests/traces/gen-trace.c: a deterministic synthetic trace, for tests.
 *
 * Plays a made-up but plausible run through the recorder API, the way the
 * guest trace port, the persistence model and the machine will: workload
 * operations with PM stores, flushes and fences between snapshots; each
 * snapshot a pause, a write-back of dirty pages to a block device and a
 * FUA commit write; optionally a power failure in the middle of one
 * snapshot's write-back followed by recovery; optionally an instruction
 * trace.  Every number comes from a seeded rng stream, so one seed gives
 * one byte-exact file:
 *
 *     gen-trace -o t.trace [--seed N] [--snapshots N] [--power-fail] [--insn]
 *     gen-trace --bench N     # ns per recorded event, tracing on and off
 *
 * Not installed; the tests under tests/traces/ and tests/unit/ use it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include "sim/rng.h"
#include "traces/trace.h"

struct gen {
	struct trace *t;
	struct rng r;
	sim_time_t now;
	uint64_t events;
	uint32_t put, get, policy, disk, heap;
	uint64_t next_sector;
};

/* Real x86-64 encodings, so the insn export has something to disassemble;
 * the last is deliberately cut short and must list as (bad). */
static const struct {
	unsigned len;
	uint8_t b[8];
} insns[] = {
	{3, {0x48, 0x89, 0xc3}},                            /* mov rbx, rax */
	{4, {0x48, 0x83, 0xc0, 0x01}},                      /* add rax, 1 */
	{7, {0x48, 0xc7, 0xc0, 0x01, 0x00, 0x00, 0x00}},    /* mov rax, 1 */
	{4, {0x66, 0x0f, 0xae, 0x30}},                      /* clwb [rax] */
	{3, {0x0f, 0xae, 0xf8}},                            /* sfence */
	{1, {0x90}},                                        /* nop */
	{2, {0x0f, 0x05}},                                  /* syscall */
	{1, {0xc3}},                                        /* ret */
	{2, {0x48, 0x8b}},                                  /* mov without its ModRM: cut short */
};

static void advance(struct gen *g, sim_time_t lo, sim_time_t hi)
{
	g->now += lo + rng_below(&g->r, hi - lo + 1);
}

static void workload(struct gen *g, bool insn)
{
	unsigned ops = 1 + (unsigned)rng_below(&g->r, 20);
	for (unsigned i = 0; i < ops; i++) {
		advance(g, 200 * SIM_NS, 3 * SIM_US);
		uint64_t pa = 0x100000000ULL + rng_below(&g->r, 1 << 20) * 64;
		uint64_t len = 8 << rng_below(&g->r, 4);
		trace_pm_store(g->t, g->now, pa, len);
		g->now += 10 * SIM_NS;
		trace_flush(g->t, g->now, pa, TRACE_FLUSH_CLWB);
		g->now += 5 * SIM_NS;
		trace_fence(g->t, g->now, TRACE_FENCE_SFENCE);
		trace_wpq_drain(g->t, g->now + 100 * SIM_NS, 1, 64, rng_below(&g->r, 4));
		g->now += 100 * SIM_NS;
		trace_workload_op(g->t, g->now, rng_below(&g->r, 3) ? g->put : g->get, 1);
		g->events += 5;
		if (rng_below(&g->r, 8) == 0) {
			trace_interrupt(g->t, g->now, 32);
			g->events++;
		}
		if (insn) {
			uint64_t pc = 0x401000 + rng_below(&g->r, 64) * 16;
			for (unsigned k = 0; k < 4; k++) {
				unsigned j = (unsigned)rng_below(&g->r, sizeof insns / sizeof insns[0]);
				if (trace_insn_enabled(g->t, pc))
					trace_insn(g->t, g->now, pc, insns[j].len, insns[j].b);
				g->events++;    /* an offered event, recorded or not */
				pc += insns[j].len;
				g->now += 300;          /* 300 ps: one cycle at 3.33 GHz */
			}
		}
	}
	trace_counter(g->t, g->now, g->heap, 1000 + rng_below(&g->r, 9000));
	g->events++;
}

/* Returns false if the power failed during this snapshot. */
static bool snapshot(struct gen *g, uint64_t gen, bool fail)
{
	uint64_t dirty = 4 + rng_below(&g->r, 200);
	trace_snapshot_begin(g->t, g->now, gen, dirty);
	trace_phase_begin(g->t, g->now, TRACE_PHASE_PAUSE);
	advance(g, 5 * SIM_US, 60 * SIM_US);
	trace_phase_end(g->t, g->now, TRACE_PHASE_PAUSE);
	trace_phase_begin(g->t, g->now, TRACE_PHASE_WRITEBACK);
	g->events += 4;
	uint64_t left = dirty;
	while (left) {
		uint64_t n = 1 + rng_below(&g->r, 32);
		if (n > left)
			n = left;
		trace_queue_depth(g->t, g->now, g->disk, 1 + rng_below(&g->r, 31));
		advance(g, 10 * SIM_US * n / 4, 20 * SIM_US * n / 4 + SIM_US);
		trace_blk_write(g->t, g->now, g->next_sector, n * 8, false);
		g->next_sector += n * 8;
		trace_pages_written(g->t, g->now, gen, n);
		g->events += 3;
		left -= n;
		if (fail && left < dirty / 2) {
			advance(g, SIM_NS, SIM_US);
			trace_power_fail(g->t, g->now, g->policy, g->events);
			g->events++;
			return false;
		}
	}
	trace_queue_depth(g->t, g->now, g->disk, 0);
	trace_phase_end(g->t, g->now, TRACE_PHASE_WRITEBACK);
	trace_blk_flush(g->t, g->now + 20 * SIM_US);
	g->now += 20 * SIM_US;
	trace_phase_begin(g->t, g->now, TRACE_PHASE_COMMIT);
	advance(g, 10 * SIM_US, 30 * SIM_US);
	trace_blk_write(g->t, g->now, 0, 8, true);
	trace_phase_end(g->t, g->now, TRACE_PHASE_COMMIT);
	trace_commit(g->t, g->now, gen, rng_next(&g->r));
	g->events += 7;
	return true;
}

static void play(struct gen *g, uint64_t seed, unsigned snaps, bool power_fail, bool insn)
{
	rng_stream(&g->r, seed, "gen-trace");
	g->put = trace_intern(g->t, "put");
	g->get = trace_intern(g->t, "get");
	g->policy = trace_intern(g->t, "adr");
	g->disk = trace_intern(g->t, "nvme0");
	g->heap = trace_intern(g->t, "guest.heap_pages");
	uint64_t committed = 0;
	for (unsigned s = 1; s <= snaps; s++) {
		workload(g, insn);
		advance(g, 200 * SIM_US, 1200 * SIM_US);
		bool fail = power_fail && s == (snaps + 1) / 2;
		if (snapshot(g, s, fail)) {
			committed = s;
			continue;
		}
		advance(g, SIM_MS, 2 * SIM_MS);
		trace_recovery(g->t, g->now);
		advance(g, 50 * SIM_US, 100 * SIM_US);
		trace_recovery_begin(g->t, g->now);
		advance(g, 100 * SIM_US, 400 * SIM_US);
		trace_recovery_end(g->t, g->now, committed, rng_next(&g->r), 0, 0);
		g->events += 3;
	}
}

static double host_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Host cost per recorded event with the trace on (to path) and off (NULL). */
static int bench(unsigned snaps, const char *path)
{
	char err[256];
	for (int on = 1; on >= 0; on--) {
		struct gen g = {0};
		if (on && !(g.t = trace_open(path, &(struct trace_params){.seed = 1}, err, sizeof err))) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		trace_insn_filter(g.t, 0, 0);
		double t0 = host_ns();
		play(&g, 1, snaps, false, true);
		if (trace_close(g.t, err, sizeof err) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		double dt = host_ns() - t0;
		printf("tracing %-3s %10" PRIu64 " events %8.2f ns/event (includes the synthetic workload)\n",
		       on ? "on" : "off", g.events, dt / (double)g.events);
		if (on) {
			struct stat st;
			if (stat(path, &st) == 0 && st.st_size > 0)
				printf("trace size  %10lld bytes  %8.2f bytes/event\n", (long long)st.st_size,
				       (double)st.st_size / (double)g.events);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	uint64_t seed = 1;
	unsigned snaps = 20, bench_snaps = 0;
	bool power_fail = false, insn = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool more = i + 1 < argc;
		if (strcmp(a, "-o") == 0 && more)
			out = argv[++i];
		else if (strcmp(a, "--seed") == 0 && more)
			seed = strtoull(argv[++i], NULL, 0);
		else if (strcmp(a, "--snapshots") == 0 && more)
			snaps = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(a, "--bench") == 0 && more)
			bench_snaps = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (strcmp(a, "--power-fail") == 0)
			power_fail = true;
		else if (strcmp(a, "--insn") == 0)
			insn = true;
		else {
			fprintf(stderr, "usage: gen-trace -o FILE [--seed N] [--snapshots N] [--power-fail] [--insn]\n"
					"       gen-trace --bench SNAPSHOTS [-o FILE]\n");
			return 2;
		}
	}
	if (bench_snaps)
		return bench(bench_snaps, out ? out : "/dev/null");
	if (!out) {
		fprintf(stderr, "gen-trace: -o FILE is required\n");
		return 2;
	}
	char err[256];
	struct gen g = {0};
	g.t = trace_open(out, &(struct trace_params){
			.config_json = "{\"synthetic\":true}", .seed = seed,
			.sim_version = "gen-trace"}, err, sizeof err);
	if (!g.t) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (insn)       /* a window that excludes part of the generated range */
		trace_insn_filter(g.t, 0x401000, 0x401300);
	play(&g, seed, snaps, power_fail, insn);
	if (trace_close(g.t, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	return 0;
}
