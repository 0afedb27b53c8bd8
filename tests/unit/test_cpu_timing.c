/* tests/unit/test_cpu_timing.c: the approximate timing mode as the CPU
 * drives it: instruction classes, the branch predictor, the TLBs, the
 * recent-line filter, LLC set hashing, and cycle counts of small snippets
 * worked out by hand. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "machine/cpu_timing.h"
#include "machine/exec.h"
#include "machine/guest_abi.h"
#include "machine/insn.h"
#include "cpu_harness.h"

static const struct insn_form *form(const char *mnemonic, const char *operands)
{
	size_t n;
	const struct insn_form *f = insn_forms(&n);
	for (size_t k = 0; k < n; k++)
		if (strcmp(f[k].mnemonic, mnemonic) == 0 &&
		    (!operands || strcmp(f[k].operands, operands) == 0))
			return &f[k];
	ck_abort_msg("no form %s %s", mnemonic, operands ? operands : "");
	return NULL;
}

START_TEST(classes)
{
	ck_assert_int_eq(cpu_timing_classify(form("add", "Ev,Gv"), 8, false), TC_ALU);
	ck_assert_int_eq(cpu_timing_classify(form("add", "Ev,Gv"), 8, true), TC_LOCKED);
	ck_assert_int_eq(cpu_timing_classify(form("div", "Ev"), 8, false), TC_DIV64);
	ck_assert_int_eq(cpu_timing_classify(form("div", "Ev"), 4, false), TC_DIV32);
	ck_assert_int_eq(cpu_timing_classify(form("jne", "Jb"), 8, false), TC_JCC);
	ck_assert_int_eq(cpu_timing_classify(form("loop", NULL), 8, false), TC_JCC);
	ck_assert_int_eq(cpu_timing_classify(form("jmp", "Jz"), 8, false), TC_JMP);
	ck_assert_int_eq(cpu_timing_classify(form("jmp", "Ev"), 8, false), TC_JMP_IND);
	ck_assert_int_eq(cpu_timing_classify(form("call", "Ev"), 8, false), TC_CALL_IND);
	ck_assert_int_eq(cpu_timing_classify(form("clwb", NULL), 8, false), TC_FLUSH);
	ck_assert_int_eq(cpu_timing_classify(form("movntdq", NULL), 0, false), TC_NTSTORE);
	ck_assert_int_eq(cpu_timing_classify(form("movnti", NULL), 8, false), TC_NTSTORE);
	ck_assert_int_eq(cpu_timing_classify(form("sfence", NULL), 0, false), TC_SFENCE);
	ck_assert_int_eq(cpu_timing_classify(form("cpuid", NULL), 0, false), TC_SERIALIZE);
	ck_assert_int_eq(cpu_timing_classify(form("sqrtsd", NULL), 0, false), TC_SSE_SQRT);
	ck_assert_int_eq(cpu_timing_classify(form("paddd", NULL), 0, false), TC_SSE_INT);
	ck_assert_int_eq(cpu_timing_classify(form("mulpd", NULL), 0, false), TC_SSE_FP);
	ck_assert_int_eq(cpu_timing_classify(form("fsin", NULL), 0, false), TC_X87_TRANS);
	ck_assert_int_eq(cpu_timing_classify(form("movsb", NULL), 1, false), TC_STRING);
	ck_assert_int_eq(cpu_timing_classify(form("out", "DX,AL"), 1, false), TC_IO);
}
END_TEST

static struct cpu_timing *model(sim_time_t cycle)
{
	struct cpu_timing_params p;
	const char *why = NULL;
	cpu_timing_default_params(&p);
	cpu_timing_set_clock(&p, cycle);
	struct cpu_timing *t = cpu_timing_new(&p, 1ull << 32, 1ull << 30, &why);
	ck_assert_msg(t != NULL, "%s", why);
	return t;
}

/* mov ecx, 10; l: dec ecx; jnz l; int3 */
static const uint8_t count_loop[] = {0xB9, 10, 0, 0, 0, 0xFF, 0xC9, 0x75, 0xFC, 0xCC};

/* Run the loaded snippet again without rewriting it (a rewrite would drop
 * the decoded instructions, and with them the predictor's state). */
static void rerun(struct harness *h)
{
	h->c->rip = CODE;
	ck_assert_int_eq(h_go(h), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(h->c->exc_vector, CPU_EXC_BP);
}

START_TEST(branch_predictor)
{
	struct harness h;
	h_init(&h);
	h.c->timing = model(1000);
	h_run_ok(&h, count_loop, sizeof count_loop);
	/* Ten jnz: the counter starts at "not taken", so the first two taken
	 * ones mispredict, then it predicts taken until the loop exits. */
	ck_assert_uint_eq(h.c->timing->branches, 10);
	ck_assert_uint_eq(h.c->timing->mispredicts, 3);
	/* Run the same loop again: the counter is trained (decoded
	 * instructions keep their state), only the exit mispredicts. */
	h.c->timing->mispredicts = 0;
	rerun(&h);
	ck_assert_uint_eq(h.c->timing->mispredicts, 1);
	cpu_timing_free(h.c->timing);
	h.c->timing = NULL;
	h_free(&h);
}
END_TEST

START_TEST(cycle_count_by_hand)
{
	struct harness h;
	h_init(&h);
	struct cpu_timing *t = model(1000);     /* 1 ns cycles */
	h.c->timing = t;
	/* Warm the code line and the ITLB, so only the loop is measured. */
	h_run_ok(&h, count_loop, sizeof count_loop);
	rerun(&h);
	sim_time_t t0 = h.sim.now;
	rerun(&h);
	/* Trained: mov 1 + 10 x (dec 1 + jnz 1) + the exit's mispredict 16
	 * + int3 (a trap, charged like syscall: 35) cycles. */
	ck_assert_uint_eq(h.sim.now - t0, (1 + 20 + 16 + 35) * 1000);
	cpu_timing_free(t);
	h.c->timing = NULL;
	h_free(&h);
}
END_TEST

START_TEST(dtlb_and_walks)
{
	struct cpu_timing *t = model(1000);
	sim_time_t now = 0;
	/* 65 pages: the 64-entry DTLB cannot hold them all, the STLB can. */
	for (int round = 0; round < 2; round++)
		for (uint64_t pg = 0; pg < 65; pg++)
			now = cpu_timing_data(t, pg << 12, pg << 12, 12, false, now);
	ck_assert_uint_eq(t->walks, 65);                /* only the cold misses walk */
	ck_assert_uint_gt(t->dtlb_misses, 65);          /* the second round misses the DTLB */
	/* invlpg of one page: only it walks again; a CR3 write: all do. */
	cpu_timing_tlb_flush(t, 7ull << 12);
	for (uint64_t pg = 0; pg < 65; pg++)
		now = cpu_timing_data(t, pg << 12, pg << 12, 12, false, now);
	ck_assert_uint_eq(t->walks, 66);
	cpu_timing_tlb_flush(t, ~0ull);
	for (uint64_t pg = 0; pg < 65; pg++)
		now = cpu_timing_data(t, pg << 12, pg << 12, 12, false, now);
	ck_assert_uint_eq(t->walks, 131);
	cpu_timing_free(t);
}
END_TEST

START_TEST(recent_filter_respects_evictions)
{
	struct cpu_timing *t = model(1000);
	struct memhier *h = &t->mem;
	sim_time_t now = 0;
	now = memhier_load(h, 0, now);
	uint64_t misses = h->l1_misses;
	now = memhier_load(h, 0, now);                  /* filtered hit */
	ck_assert_uint_eq(h->l1_misses, misses);
	/* Eight more lines of set 0 (4 KiB apart) evict line 0 from the
	 * 8-way L1D: the filter must not claim it is still there. */
	for (uint64_t k = 1; k <= 8; k++)
		now = memhier_load(h, k * 4096, now);
	misses = h->l1_misses;
	now = memhier_load(h, 0, now);
	ck_assert_uint_eq(h->l1_misses, misses + 1);
	/* A clwb cleans the line: the next store must dirty it again. */
	now = memhier_store(h, 64, now);
	memhier_flush(h, 64, true, now);
	bool dirty = true;
	ck_assert(cache_contains(&h->l1, 64, &dirty) && !dirty);
	memhier_store(h, 64, now);
	ck_assert(cache_contains(&h->l1, 64, &dirty) && dirty);
	cpu_timing_free(t);
}
END_TEST

START_TEST(llc_hash_spreads_page_strides)
{
	/* First lines of 8192 consecutive pages: indexed by the low bits,
	 * they share 512 LLC sets of 11 ways (5632 lines) and evict; hashed,
	 * they spread over all sets. */
	for (int hashed = 0; hashed < 2; hashed++) {
		struct cache c;
		const char *why;
		struct cache_config cfg = {"llc", 11ull * 64 * 32768, 11, 50, CACHE_LRU, hashed};
		ck_assert_int_eq(cache_init(&c, &cfg, &why), 0);
		struct cache_result r;
		for (uint64_t pg = 0; pg < 8192; pg++)
			cache_access(&c, pg << 12, CACHE_READ, &r);
		if (hashed)
			ck_assert_uint_eq(c.evictions, 0);
		else
			ck_assert_uint_eq(c.evictions, 8192 - 5632);
		cache_free(&c);
	}
}
END_TEST

START_TEST(pointer_chase_latency)
{
	/* Dependent loads to lines far apart, prefetcher off: each costs the
	 * model's full random latency (docs/timing.md: ~300 ns on PM, ~100 ns
	 * on DRAM), less the L1 latency the pipeline hides. */
	struct cpu_timing_params p;
	const char *why;
	cpu_timing_default_params(&p);
	p.mem.prefetch_degree = 0;
	struct cpu_timing *t = cpu_timing_new(&p, 1ull << 32, 1ull << 30, &why);
	ck_assert_ptr_nonnull(t);
	sim_time_t now = 0, pm = 0, dram = 0;
	uint64_t x = 12345;
	for (int k = 0; k < 2000; k++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		uint64_t off = (x >> 20) % (1ull << 30) & ~63ull;
		sim_time_t t0 = now;
		now = cpu_timing_data(t, (1ull << 32) + off, (1ull << 32) + off, 30, false, now);
		pm += now - t0;
		t0 = now;
		now = cpu_timing_data(t, off, off, 21, false, now);
		dram += now - t0;
	}
	ck_assert_uint_gt(pm / 2000, 250 * SIM_NS);
	ck_assert_uint_lt(pm / 2000, 360 * SIM_NS);
	ck_assert_uint_gt(dram / 2000, 80 * SIM_NS);
	ck_assert_uint_lt(dram / 2000, 130 * SIM_NS);
	cpu_timing_free(t);
}
END_TEST

START_TEST(port_io_costs_a_device_round_trip)
{
	/* out imm8, al to port 0x80: the class's cycles plus the device's
	 * round trip; out dx, eax to the trace port: nothing at all. */
	struct harness h;
	h_init(&h);
	struct cpu_timing *t = model(1000);
	struct insn i = {.tclass = TC_IO, .opcode = 0xE6, .imm = 0x80, .len = 2};
	ck_assert_uint_eq(cpu_timing_retire(t, h.c, &i, 1, 0), t->cost[TC_IO] + t->p.port_io);
	ck_assert_uint_eq(t->p.port_io, 1000 * SIM_NS);
	i = (struct insn){.tclass = TC_IO, .opcode = 0xEF, .len = 1};
	h.c->gpr[CPU_RDX] = ABI_PORT_TRACE_EMIT;
	ck_assert_uint_eq(cpu_timing_retire(t, h.c, &i, 1, 0), 0);
	cpu_timing_free(t);
	h_free(&h);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu_timing");
	TCase *tc = tcase_create("model");
	tcase_add_test(tc, classes);
	tcase_add_test(tc, branch_predictor);
	tcase_add_test(tc, cycle_count_by_hand);
	tcase_add_test(tc, dtlb_and_walks);
	tcase_add_test(tc, recent_filter_respects_evictions);
	tcase_add_test(tc, llc_hash_spreads_page_strides);
	tcase_add_test(tc, pointer_chase_latency);
	tcase_add_test(tc, port_io_costs_a_device_round_trip);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
