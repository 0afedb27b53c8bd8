/* bench/timing_calibrate.c: drive the memory-hierarchy model with the
 * access patterns of the FAST 2020 study's LATTester and print each
 * simulated figure beside the published one.
 *
 * This exercises the timing model directly, without a guest: the loads,
 * stores, flushes and fences are the ones a LATTester kernel issues, one
 * after the other on one core, each starting when the previous completed
 * (idle latency) or as fast as the model lets them retire (bandwidth).
 * Published figures: ../shared/optane-figures.md and docs/timing.md.
 *
 * usage: timing-calibrate [--prefetch]   (prefetching is off for the
 *        latency figures, as pointer chasing defeats it on hardware too)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "machine/memhier.h"
#include "sim/rng.h"

#define PM_BASE  (64ull << 30)
#define PM_SIZE  (6ull * 16 << 30)      /* 96 GiB interleaved over 6 DIMMs */
#define REGION   (4ull << 30)           /* pointer-chase footprint */
#define N        20000

static struct memhier h;
static sim_time_t now;

static void fresh(unsigned prefetch)
{
	struct memhier_params p;
	const char *why;
	if (now)
		memhier_free(&h);
	memhier_default_params(&p);
	p.prefetch_degree = prefetch;
	if (memhier_init(&h, &p, PM_BASE, PM_SIZE, &why)) {
		fprintf(stderr, "timing-calibrate: %s\n", why);
		exit(1);
	}
	now = 1;
}

/* Average dependent-load latency over a pattern, in ns. */
static double chase(uint64_t base, bool sequential, struct rng *r)
{
	sim_time_t start = now;
	uint64_t a = base;
	for (int i = 0; i < N; i++) {
		a = sequential ? base + (uint64_t)i * 64 : base + rng_below(r, REGION / 64) * 64;
		now = memhier_load(&h, a, now);
	}
	return (double)(now - start) / N / 1000.0;
}

static double persist(uint64_t base, bool nt, struct rng *r)
{
	sim_time_t total = 0;
	for (int i = 0; i < N; i++) {
		uint64_t a = base + rng_below(r, REGION / 64) * 64;
		if (!nt)
			now = memhier_load(&h, a, now);         /* line cached first */
		now += 100 * SIM_NS;                            /* idle between */
		sim_time_t t0 = now;
		if (nt) {
			now = memhier_ntstore(&h, a, 64, now);
		} else {
			now = memhier_store(&h, a, now);
			now = memhier_flush(&h, a, true, now);
		}
		now = memhier_fence(&h, now);
		total += now - t0;
	}
	return (double)total / N / 1000.0;
}

enum op { READ, CLWB, NTSTORE };

/* Bytes per simulated second for `total` bytes in accesses of `size`
 * (sequential or random): loads, stores each followed by a clwb, or
 * non-temporal stores; one fence at the end for the writes. */
static double bandwidth(uint64_t base, uint64_t size, bool sequential, enum op op, struct rng *r)
{
	const uint64_t total = 32ull << 20;
	sim_time_t t0 = now;
	uint64_t a = base;
	for (uint64_t done = 0; done < total; done += size) {
		a = sequential ? base + done : base + rng_below(r, REGION / size) * size;
		for (uint64_t off = 0; off < size; off += 64) {
			if (op == NTSTORE) {
				now = memhier_ntstore(&h, a + off, 64, now);
			} else if (op == CLWB) {
				now = memhier_store(&h, a + off, now);
				now = memhier_flush(&h, a + off, true, now);
			} else {
				now = memhier_load(&h, a + off, now);
			}
		}
	}
	if (op != READ)
		now = memhier_fence(&h, now);
	return (double)total / ((double)(now - t0) / 1e12) / 1e9;
}

static void row(const char *what, double sim, double published, const char *unit)
{
	if (published > 0)
		printf("%-44s %9.1f %-5s %9.1f %-5s %+6.1f%%\n", what, sim, unit, published, unit,
		       100.0 * (sim - published) / published);
	else
		printf("%-44s %9.2f %-5s %9s\n", what, sim, unit, "-");
}

int main(int argc, char **argv)
{
	struct rng r;
	rng_stream(&r, 1, "bench.timing");
	unsigned latency_pf = argc > 1 && strcmp(argv[1], "--prefetch") == 0 ? 8 : 0;

	printf("%-44s %15s %15s %8s\n", "figure", "simulated", "published", "error");
	fresh(latency_pf);
	row("PM random 64 B load latency", chase(PM_BASE, false, &r), 305, "ns");
	fresh(latency_pf);
	row("PM sequential 64 B load latency", chase(PM_BASE, true, &r), 169, "ns");
	fresh(latency_pf);
	row("DRAM random 64 B load latency", chase(1ull << 30, false, &r), 100, "ns");
	fresh(latency_pf);
	row("DRAM sequential 64 B load latency", chase(1ull << 30, true, &r), 81, "ns");
	fresh(latency_pf);
	row("PM persist: store + clwb + sfence", persist(PM_BASE, false, &r), 100, "ns");
	fresh(latency_pf);
	row("PM persist: ntstore + sfence", persist(PM_BASE, true, &r), 100, "ns");

	printf("\nsingle-thread bandwidth (GB/s; clwb = store + clwb per line)\n");
	const uint64_t sizes[] = {64, 256, 4096};
	static const char *const opname[] = {"read", "clwb", "ntstore"};
	for (int op = READ; op <= NTSTORE; op++)
		for (int s = 0; s < 3; s++)
			for (int seq = 1; seq >= 0; seq--) {
				char what[64];
				fresh(8);
				snprintf(what, sizeof what, "PM %s %s %4llu B", opname[op],
					 seq ? "seq " : "rand", (unsigned long long)sizes[s]);
				row(what, bandwidth(PM_BASE, sizes[s], seq, (enum op)op, &r), 0, "GB/s");
			}
	fresh(8);
	row("DRAM read seq 4096 B", bandwidth(1ull << 30, 4096, true, READ, &r), 0, "GB/s");
	memhier_free(&h);
	return 0;
}
