/* tests/guests/pmcal.c: LATTester-style microbenchmarks for
 * bench/pmem-calibrate (not a test: it prints timings).
 *
 * Modelled on the measurements of Yang et al. (FAST 2020) and Izraelevitz
 * et al. (2019), single thread, idle machine:
 *
 *   lat_*    pointer chasing: every 64-byte line holds the address of the
 *            next, so each load waits for the previous one.  Random chains
 *            (a single cycle through the region, Sattolo's shuffle) and
 *            sequential ones (each line points at the next).  The region
 *            is flushed from the caches first and the hardware prefetchers
 *            are off (MSR 0x1A4 = 0xF), as latency tools do.
 *   persist_* store + clwb + sfence, and movnti + sfence, to random lines
 *            already in the cache: the cost of making one store durable.
 *   bw_*     read (one 8-byte load per line), write (stores, then clwb of
 *            each line of the access) and ntstore (movnti), one sfence at
 *            the end, over fresh regions, in accesses of
 *            64 B, 256 B and 4 KiB, sequential or in random order;
 *            prefetchers on.
 *
 * Each result is one line "pmcal NAME TICKS OPS BYTES"; the script turns
 * TSC ticks into time with the configured clock.  PM is the region the
 * simulator maps at 4 GiB (mapped here with one 1 GiB page).
 */
#include "tests/guests/lib.h"

#define PM_BASE         0x100000000ull
#define DRAM_BASE       0x08000000ull   /* 128 MiB: above the kernel */
#define MB              (1ull << 20)
#define LINE            64
#define CHAIN_MAX       65536   /* more lines than the 6 DIMMs' AIT caches hold */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	/* xorshift64*: deterministic, good enough for shuffles. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline void clwb(const void *p) { __asm__ volatile("clwb (%0)" :: "r"(p) : "memory"); }
static inline void clflushopt(const void *p) { __asm__ volatile("clflushopt (%0)" :: "r"(p) : "memory"); }
static inline void sfence(void) { __asm__ volatile("sfence" ::: "memory"); }
static inline void movnti(uint64_t *p, uint64_t v) { __asm__ volatile("movnti %1, (%0)" :: "r"(p), "r"(v) : "memory"); }

static void prefetchers(bool on)
{
	wrmsr(0x1A4, on ? 0 : 0xF);
}

static void evict(uint64_t base, uint64_t bytes)
{
	for (uint64_t a = base; a < base + bytes; a += LINE)
		clflushopt((void *)a);
	sfence();
}

static void report(const char *name, uint64_t ticks, uint64_t ops, uint64_t bytes)
{
	tk_printf("pmcal %s %lu %lu %lu\n", name, ticks, ops, bytes);
}

/* A sequential chain through `lines` lines from base. */
static void build_chain(uint64_t base, uint64_t lines, bool random)
{
	(void)random;
	for (uint64_t k = 0; k < lines; k++)
		*(uint64_t *)(base + k * LINE) = base + ((k + 1) % lines) * LINE;
}

/* Random chains visit SPARSE lines, one in each of `lines` distinct 4 KiB
 * blocks spread over `bytes`: the region is far larger than any cache or
 * buffer (LLC, XPBuffer, AIT) at little cost to build. */
static uint64_t sparse_at[CHAIN_MAX];

static void build_sparse(uint64_t base, uint64_t bytes, uint64_t lines)
{
	uint64_t blocks = bytes / 4096;        /* a power of two */
	for (uint64_t k = 0; k < lines; k++)
		sparse_at[k] = base + ((k * 0x9E3779B1ull) & (blocks - 1)) * 4096 + (rnd() % 64) * LINE;
	/* Sattolo's shuffle: one cycle through all of them. */
	for (uint64_t k = lines - 1; k > 0; k--) {
		uint64_t j = rnd() % k, t = sparse_at[k];
		sparse_at[k] = sparse_at[j];
		sparse_at[j] = t;
	}
	for (uint64_t k = 0; k < lines; k++)
		*(uint64_t *)sparse_at[k] = sparse_at[(k + 1) % lines];
	for (uint64_t k = 0; k < lines; k++)
		clflushopt((void *)sparse_at[k]);
	sfence();
}

static void chase(const char *name, uint64_t base, uint64_t bytes, bool random, uint64_t steps)
{
	if (random) {
		build_sparse(base, bytes, steps);
	} else {
		build_chain(base, bytes / LINE, false);
		evict(base, bytes);
	}
	prefetchers(false);
	if (random)
		base = sparse_at[0];
	uint64_t p = base;
	uint64_t t0 = rdtsc_ordered();
	for (uint64_t k = 0; k < steps; k++)
		p = *(volatile uint64_t *)p;
	uint64_t t1 = rdtsc_ordered();
	prefetchers(true);
	__asm__ volatile("" :: "r"(p));
	report(name, t1 - t0, steps, steps * LINE);
}

static void persist_lat(bool nt, uint64_t base, uint64_t ops)
{
	/* Warm the lines first: the figure is the persist cost, not a miss. */
	uint64_t span = 256 * 1024;
	for (uint64_t a = base; a < base + span; a += LINE)
		(void)*(volatile uint64_t *)a;
	uint64_t total = 0;
	for (uint64_t k = 0; k < ops; k++) {
		uint64_t *p = (uint64_t *)(base + (rnd() % (span / LINE)) * LINE);
		if (!nt)
			(void)*(volatile uint64_t *)p;  /* keep it cached (movnti evicts) */
		uint64_t t0 = rdtsc_ordered();
		if (nt) {
			movnti(p, k);
		} else {
			*(volatile uint64_t *)p = k;
			clwb(p);
		}
		sfence();
		total += rdtsc_ordered() - t0;
	}
	report(nt ? "persist_ntstore" : "persist_clwb", total, ops, ops * 8);
}

enum op { OP_READ, OP_WRITE, OP_NT };

static void bandwidth(enum op op, uint64_t size, bool random, uint64_t base, uint64_t bytes)
{
	static const char *const opname[] = {"read", "write", "ntstore"};
	uint64_t units = bytes / size;
	uint64_t sum = 0;
	uint64_t t0 = rdtsc_ordered();
	for (uint64_t u = 0; u < units; u++) {
		/* Random order without repeats: a multiplicative walk over the
		 * units (units is a power of two, the step odd). */
		uint64_t k = random ? (u * 0x9E3779B1ull + 12345) & (units - 1) : u;
		uint64_t a = base + k * size;
		for (uint64_t off = 0; off < size; off += LINE) {
			uint64_t *p = (uint64_t *)(a + off);
			if (op == OP_READ)
				sum += *(volatile uint64_t *)p;
			else if (op == OP_WRITE)
				*(volatile uint64_t *)p = u;
			else
				movnti(p, u);
		}
		if (op == OP_WRITE)
			for (uint64_t off = 0; off < size; off += LINE)
				clwb((void *)(a + off));
	}
	if (op != OP_READ)
		sfence();       /* streaming: one fence at the end, as LATTester */
	uint64_t t1 = rdtsc_ordered();
	__asm__ volatile("" :: "r"(sum));
	char name[40];
	const char *s = size == 64 ? "64" : size == 256 ? "256" : "4096";
	int n = 0;
	for (const char *c = "bw_"; *c; c++) name[n++] = *c;
	for (const char *c = opname[op]; *c; c++) name[n++] = *c;
	name[n++] = '_';
	for (const char *c = random ? "rand_" : "seq_"; *c; c++) name[n++] = *c;
	for (const char *c = s; *c; c++) name[n++] = *c;
	name[n] = 0;
	report(name, t1 - t0, units, bytes);
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	/* PM: four 1 GiB pages from 4 GiB (the boot code maps 0-4 GiB);
	 * bench/pmem-calibrate gives the machine 4 GiB of PM. */
	for (int g = 0; g < 4; g++)
		tk_pdpt[4 + g] = (PM_BASE + ((uint64_t)g << 30)) | 0x83;   /* P RW PS */
	write_cr3(read_cr3());

	/* Random chains over 2 GiB of PM and 256 MiB of DRAM, sequential
	 * ones over 4 MiB; the bandwidth regions follow from 2 GiB on. */
	chase("lat_pm_rand", PM_BASE + 2048 * MB, 2048 * MB, true, CHAIN_MAX);
	chase("lat_pm_seq", PM_BASE + 64 * MB, 4 * MB, false, 20000);
	chase("lat_dram_rand", DRAM_BASE, 256 * MB, true, CHAIN_MAX);
	chase("lat_dram_seq", DRAM_BASE + 256 * MB, 4 * MB, false, 20000);
	persist_lat(false, PM_BASE + 68 * MB, 2000);
	persist_lat(true, PM_BASE + 68 * MB, 2000);

	/* Fresh 8 MiB regions for every bandwidth run, from 72 MiB on. */
	static const uint64_t sizes[] = {64, 256, 4096};
	uint64_t region = PM_BASE + 72 * MB;
	for (int op = OP_READ; op <= OP_NT; op++)
		for (int s = 0; s < 3; s++)
			for (int r = 0; r < 2; r++) {
				bandwidth((enum op)op, sizes[s], r, region, 8 * MB);
				region += 8 * MB;
			}
	tk_printf("pmcal done\n");
	return 0;
}
