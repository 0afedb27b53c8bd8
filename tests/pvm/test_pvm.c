/* tests/pvm/test_pvm.c: the Phantom VM on the host.
 *
 * The VM sources are compiled for the host and given an object space
 * mapped at its fixed address (tests/pvm/harness.c).  Interpreter tests
 * run the classes of tests/pvm/unit.pvs and compare the op(kind, value)
 * events they report; workload tests run the real workloads, check their
 * invariants at many bytecode boundaries, and prove that all VM state
 * lives in the space by copying it mid-run, restoring it and checking
 * that the run continues with exactly the same trace.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "machine/guest_abi.h"
#include "pvm/vm/vm.h"
#include "tests/pvm/harness.h"

#define SPACE (4u << 20)

static void *space;

static void setup(void)
{
	space = harness_space(SPACE);
	harness_trace_reset();
}

static void teardown(void)
{
	harness_unmap(space, SPACE);
}

static int boot_test(const char *cls)
{
	return pvm_boot_images(space, SPACE, pvm_test_images, pvm_test_images_count, cls, "test", 1,
			       &harness_host);
}

/* Run until every thread ended (or a panic); returns the last pvm_run value. */
static long run_to_end(uint64_t limit)
{
	long r = 0;
	uint64_t total = 0;
	do {
		r = pvm_run(1000);
		total += r > 0 ? (uint64_t)r : 0;
	} while (r > 0 && total < limit);
	return r;
}

struct expect {
	uint32_t kind;
	int32_t value;
};

static void check_ops(const struct expect *e, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < harness_ntrace; i++) {
		if (harness_trace[i].code != ABI_EV_WORKLOAD_OP)
			continue;
		ck_assert_msg(k < n, "extra op event %u/%d", harness_trace[i].a0, (int32_t)harness_trace[i].a1);
		ck_assert_msg(harness_trace[i].a0 == e[k].kind && (int32_t)harness_trace[i].a1 == e[k].value,
			      "event %zu: got (%u, %d), want (%u, %d)", k, harness_trace[i].a0,
			      (int32_t)harness_trace[i].a1, e[k].kind, e[k].value);
		k++;
	}
	ck_assert_msg(k == n, "got %zu op events, want %zu", k, n);
}

/* --- interpreter ---------------------------------------------------------- */

START_TEST(arithmetic)
{
	static const struct expect e[] = {
		{ 1, 12 }, { 2, 42 }, { 3, -7 }, { 4, 7 }, { 5, 6 }, { 6, 6 }, { 7, 2 }, { 8, 2 },
		{ 9, 15 }, { 10, 8 }, { 11, 6 }, { 12, -1 }, { 13, 0 }, { 14, 1 }, { 15, 0 }, { 16, 1 },
		{ 17, 1 }, { 18, 0 }, { 19, 1 }, { 20, 1 }, { 21, INT32_MIN }, { 22, -4 }, { 23, 15 },
		{ 24, -5 }, { 25, 123456789 }, { 26, 15 }, { 27, 3 }, { 28, 1 }, { 29, -1 }, { 30, 9 },
		{ 31, 16 }, { 32, 16 }, { 33, -3 }, { 34, -1 },
	};
	ck_assert_int_eq(boot_test("TArith"), 0);
	ck_assert_int_eq(run_to_end(100000), 0);
	check_ops(e, sizeof e / sizeof e[0]);
}
END_TEST

START_TEST(calls_and_builtins)
{
	static const struct expect e[] = {
		{ 1, 3628800 }, { 2, 20 }, { 3, 10 }, { 4, 1 }, { 5, 7 }, { 6, 42 }, { 7, 100 }, { 8, 103 },
		{ 9, 7 }, { 10, 6 }, { 11, 'd' }, { 12, 1 }, { 13, (int32_t)0xE40C292Cu }, { 14, 1 },
		{ 15, 3 }, { 16, 3 }, { 17, 21 }, { 18, 1 }, { 19, 0 }, { 20, 1 }, { 21, 1 }, { 22, 5 },
		{ 23, 9 }, { 24, 16 }, { 25, 55 }, { 26, 77 }, { 27, 0 }, { 28, 0 },
		{ 29, 102 }, { 30, 199 }, { 31, 102 }, { 32, 42 }, { 33, 2 }, { 34, 7 }, { 35, 1 },
		{ 36, 5 }, { 37, 2 },
	};
	ck_assert_int_eq(boot_test("TCalls"), 0);
	ck_assert_int_eq(run_to_end(100000), 0);
	check_ops(e, sizeof e / sizeof e[0]);
}
END_TEST

/* Each handler reports the caught object: a string's length, or the int. */
START_TEST(exceptions)
{
	static const struct expect e[] = {
		{ 1, 4 },	/* "oops", catch-all */
		{ 2, 5 },	/* int 5 skipped a string catcher */
		{ 3, 4 },	/* "deep", thrown in a callee */
		{ 4, 12 },	/* "DivideByZero" */
		{ 5, 11 },	/* "NullPointer" */
		{ 6, 3 },	/* "six" after pop_catcher */
		{ 7, 8 },	/* "ArgCount" */
		{ 8, 8 },	/* "BadIndex" */
	};
	ck_assert_int_eq(boot_test("TExc"), 0);
	ck_assert_int_eq(run_to_end(100000), 0);
	check_ops(e, sizeof e / sizeof e[0]);
}
END_TEST

START_TEST(uncaught_exception_panics)
{
	ck_assert_int_eq(boot_test("TUncaught"), 0);
	ck_assert_int_eq(run_to_end(100000), -PVM_PANIC_UNCAUGHT);
	ck_assert_ptr_nonnull(strstr(pvm_panic_message(), "nobody catches me"));
	/* sticky: the VM stays down */
	ck_assert_int_eq(pvm_run(10), -PVM_PANIC_UNCAUGHT);
}
END_TEST

START_TEST(infinite_recursion_overflows)
{
	ck_assert_int_eq(boot_test("TDeep"), 0);
	ck_assert_int_eq(run_to_end(1000000), -PVM_PANIC_UNCAUGHT);
	ck_assert_ptr_nonnull(strstr(pvm_panic_message(), "StackOverflow"));
}
END_TEST

START_TEST(bad_opcode_and_ip)
{
	ck_assert_int_eq(boot_test("TBadOp"), 0);
	ck_assert_int_eq(run_to_end(100), -PVM_PANIC_BAD_OPCODE);
	ck_assert_int_eq(boot_test("TRunOff"), 0);
	ck_assert_int_eq(run_to_end(100), -PVM_PANIC_BAD_IP);
}
END_TEST

START_TEST(restartable_sys)
{
	static const struct expect e[] = { { 1, 1 }, { 2, 2 }, { 3, 3 } };
	ck_assert_int_eq(boot_test("TYield"), 0);
	ck_assert_int_eq(run_to_end(1000), 0);
	check_ops(e, 3);
}
END_TEST

/* Snapshot at EVERY boundary of TYield, including the ones where the
 * thread sits on a sys that has yielded, and check the rest of the run. */
START_TEST(restartable_sys_snapshot_at_every_step)
{
	void *copy = malloc(SPACE);
	for (int k = 0; k < 200; k++) {
		ck_assert_int_eq(boot_test("TYield"), 0);
		long r = k ? pvm_run((uint64_t)k) : 0;
		if (r < k)
			break;	/* ran to the end: every boundary covered */
		memcpy(copy, space, SPACE);
		harness_trace_reset();
		ck_assert_int_eq(run_to_end(1000), 0);
		size_t n = harness_ntrace;
		struct trace_ev a[8];
		ck_assert_uint_le(n, 8);
		memcpy(a, harness_trace, n * sizeof a[0]);
		memcpy(space, copy, SPACE);
		harness_trace_reset();
		ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);
		ck_assert_int_eq(run_to_end(1000), 0);
		ck_assert_uint_eq(harness_ntrace, n);
		ck_assert_int_eq(memcmp(a, harness_trace, n * sizeof a[0]), 0);
	}
	free(copy);
}
END_TEST

START_TEST(garbage_stays_bounded)
{
	ck_assert_int_eq(boot_test("TGarbage"), 0);
	for (int i = 0; i < 400; i++)
		ck_assert_int_eq(pvm_run(10000), 10000);
	struct pvm_stats st;
	pvm_get_stats(&st);
	ck_assert_uint_gt(st.gc_runs, 10);
	ck_assert_uint_gt(st.objects_freed, 100000);
	/* in use never exceeds the live set plus one GC budget (1/8 space) */
	for (size_t i = 0; i < harness_ntrace; i++)
		ck_assert_uint_le(harness_trace[i].a1 * 1024u, SPACE / 8 + 256 * 1024);
	ck_assert_uint_lt(st.bytes_live_after_gc, 256 * 1024);
}
END_TEST

/* --- workloads ---------------------------------------------------------------- */

static const char *const workloads[] = { "counter", "bank", "kv", "list" };

static int count_ops(uint32_t kind, uint32_t *last)
{
	int n = 0;
	for (size_t i = 0; i < harness_ntrace; i++)
		if (harness_trace[i].code == ABI_EV_WORKLOAD_OP && harness_trace[i].a0 == kind) {
			if (n)
				ck_assert_uint_gt(harness_trace[i].a1, *last);
			*last = harness_trace[i].a1;
			n++;
		}
	return n;
}

START_TEST(workload_runs_and_keeps_invariant)
{
	const char *w = workloads[_i];
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, w, 12345, &harness_host), 0);
	ck_assert_int_eq(pvm_check_invariant(), 0);
	/* odd chunk sizes stop the VM at many different boundaries */
	for (int i = 0; i < 300; i++) {
		long r = pvm_run(6007 + (uint64_t)i * 13);
		ck_assert_int_eq(r, 6007 + i * 13);
		ck_assert_int_eq(pvm_check_invariant(), 0);
	}
	uint32_t last = 0;
	ck_assert_int_gt(count_ops((uint32_t)_i + 1, &last), 10);
	struct pvm_stats st;
	pvm_get_stats(&st);
	ck_assert_uint_eq(st.threads_alive, 1);
	ck_assert_uint_gt(st.gc_runs, 0);
}
END_TEST

/* Every single boundary for a while, right from boot (initialisation
 * included), in a small space so the heap walk stays cheap. */
START_TEST(workload_invariant_at_every_step)
{
	const char *w = workloads[_i];
	ck_assert_int_eq(pvm_boot_fresh(space, 1u << 20, w, 7, &harness_host), 0);
	for (int i = 0; i < 6000; i++) {
		ck_assert_int_eq(pvm_run(1), 1);
		ck_assert_msg(pvm_check_invariant() == 0, "%s: invariant broken after step %d", w, i + 1);
	}
}
END_TEST

/* Copy the space at a pvm_run boundary, keep running, restore the copy at
 * the same address, attach, and run again: the trace must repeat exactly. */
START_TEST(snapshot_restore_continues_identically)
{
	const char *w = workloads[_i];
	void *copy = malloc(SPACE);
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, w, 99, &harness_host), 0);
	ck_assert_int_eq(pvm_run(123457), 123457);
	memcpy(copy, space, SPACE);
	struct pvm_stats before;
	pvm_get_stats(&before);

	harness_trace_reset();
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(pvm_run(10007), 10007);
	size_t n = harness_ntrace;
	ck_assert_uint_gt(n, 5);
	struct trace_ev *a = malloc(n * sizeof *a);
	memcpy(a, harness_trace, n * sizeof *a);

	memset(space, 0xA5, SPACE);	/* the "crash" */
	memcpy(space, copy, SPACE);
	harness_trace_reset();
	ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);
	ck_assert_int_eq(pvm_check_invariant(), 0);
	struct pvm_stats after;
	pvm_get_stats(&after);
	ck_assert_uint_eq(after.steps, before.steps);
	ck_assert_uint_eq(after.boots, before.boots + 1);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(pvm_run(10007), 10007);
	ck_assert_uint_eq(harness_ntrace, n);
	ck_assert_int_eq(memcmp(a, harness_trace, n * sizeof *a), 0);
	ck_assert_int_eq(pvm_check_invariant(), 0);
	free(a);
	free(copy);
}
END_TEST

START_TEST(same_seed_same_run)
{
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, "kv", 5, &harness_host), 0);
	ck_assert_int_eq(pvm_run(300000), 300000);
	void *first = malloc(SPACE);
	memcpy(first, space, SPACE);
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, "kv", 5, &harness_host), 0);
	ck_assert_int_eq(pvm_run(300000), 300000);
	ck_assert_int_eq(memcmp(first, space, SPACE), 0);
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, "kv", 6, &harness_host), 0);
	ck_assert_int_eq(pvm_run(300000), 300000);
	ck_assert_int_ne(memcmp(first, space, SPACE), 0);
	free(first);
}
END_TEST

START_TEST(list_memory_bounded)
{
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, "list", 3, &harness_host), 0);
	uint64_t max_live = 0;
	for (int i = 0; i < 200; i++) {
		ck_assert_int_eq(pvm_run(20000), 20000);
		struct pvm_stats st;
		pvm_get_stats(&st);
		if (st.gc_runs && st.bytes_live_after_gc > max_live)
			max_live = st.bytes_live_after_gc;
		ck_assert_uint_le(st.bytes_in_use, SPACE / 8 + 512 * 1024);
	}
	struct pvm_stats st;
	pvm_get_stats(&st);
	ck_assert_uint_gt(st.gc_runs, 20);
	ck_assert_uint_gt(st.objects_freed, 1000000);
	/* the live set is the list (<= 100 nodes) plus classes: far below 512K */
	ck_assert_uint_lt(max_live, 512 * 1024);
	uint32_t last = 0;
	ck_assert_int_gt(count_ops(4, &last), 1000);
}
END_TEST

/* --- boot and attach errors --------------------------------------------------- */

START_TEST(boot_rejects_bad_arguments)
{
	ck_assert_int_lt(pvm_boot_fresh(space, SPACE, "nosuch", 1, &harness_host), 0);
	ck_assert_int_lt(pvm_boot_fresh(space, 4096, "bank", 1, &harness_host), 0);
	ck_assert_int_lt(pvm_boot_fresh((char *)space + 8, SPACE - 8, "bank", 1, &harness_host), 0);
	ck_assert_int_lt(pvm_boot_fresh(space, SPACE, NULL, 1, &harness_host), 0);
	ck_assert_int_lt(pvm_run(10), 0);
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, "bank", 1, NULL), 0);	/* no host ops: fine */
	ck_assert_int_eq(pvm_run(1000), 1000);
}
END_TEST

START_TEST(attach_rejects_garbage)
{
	srand(1);
	for (size_t i = 0; i < SPACE / 4; i++)
		((uint32_t *)space)[i] = (uint32_t)rand();
	ck_assert_int_lt(pvm_attach(space, SPACE, &harness_host), 0);
	ck_assert_int_lt(pvm_run(10), 0);
	ck_assert_int_lt(pvm_check_invariant(), 0);
	memset(space, 0, SPACE);
	ck_assert_int_lt(pvm_attach(space, SPACE, &harness_host), 0);
}
END_TEST

START_TEST(attach_rejects_corruption)
{
	void *copy = malloc(SPACE);
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, "kv", 1, &harness_host), 0);
	ck_assert_int_eq(pvm_run(200000), 200000);
	memcpy(copy, space, SPACE);
	ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);

	/* 1. the root's start marker */
	((struct pvm_object_storage *)space)->_ah.object_start_marker ^= 1;
	ck_assert_int_lt(pvm_attach(space, SPACE, &harness_host), 0);
	memcpy(space, copy, SPACE);

	/* 2. a different size than formatted */
	ck_assert_int_lt(pvm_attach(space, SPACE / 2, &harness_host), 0);

	/* 3. a reference into the middle of nowhere */
	ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);
	pvm_ref w = PVM_ROOT(PVM_ROOT_OBJECT_WORKLOAD);
	pvm_slots(w)[2] = (pvm_ref)((char *)space + 12345);
	ck_assert_int_lt(pvm_attach(space, SPACE, &harness_host), 0);
	memcpy(space, copy, SPACE);

	/* 4. a block header's size */
	ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);
	w = PVM_ROOT(PVM_ROOT_OBJECT_WORKLOAD);
	w->_ah.exact_size += 8;
	ck_assert_int_lt(pvm_attach(space, SPACE, &harness_host), 0);
	memcpy(space, copy, SPACE);

	/* 5. the VM state magic */
	ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);
	pvm_g.st->magic++;
	ck_assert_int_lt(pvm_attach(space, SPACE, &harness_host), 0);
	memcpy(space, copy, SPACE);

	/* and the pristine copy still runs */
	ck_assert_int_eq(pvm_attach(space, SPACE, &harness_host), 0);
	ck_assert_int_eq(pvm_run(1000), 1000);
	ck_assert_int_eq(pvm_check_invariant(), 0);
	free(copy);
}
END_TEST

/* Random single-word corruptions of a live space: attach either refuses
 * it or the VM runs / panics without hanging or crashing the host. */
START_TEST(corrupt_words_never_hang)
{
	const char *w = workloads[_i];
	void *copy = malloc(SPACE);
	ck_assert_int_eq(pvm_boot_fresh(space, SPACE, w, 2, &harness_host), 0);
	ck_assert_int_eq(pvm_run(100000), 100000);
	memcpy(copy, space, SPACE);
	struct pvm_arena arena[PVM_N_ARENAS];
	memcpy(arena, pvm_g.st->arena, sizeof arena);
	srand(2 + _i);
	int refused = 0, panicked = 0;
	for (int i = 0; i < 300; i++) {
		memcpy(space, copy, SPACE);
		/* a bit flip somewhere in the first 64 KiB of one arena */
		const struct pvm_arena *a = &arena[rand() % PVM_N_ARENAS];
		uint64_t span = a->end - a->start < 65536 ? a->end - a->start : 65536;
		uint64_t *word = (uint64_t *)(uintptr_t)(a->start + (((uint64_t)rand() % span) & ~7ull));
		*word ^= (uint64_t)1 << (rand() % 64);
		if (pvm_attach(space, SPACE, &harness_host) < 0) {
			refused++;
			continue;
		}
		if (pvm_run(20000) < 0)
			panicked++;
		(void)pvm_check_invariant();
	}
	ck_assert_int_gt(refused + panicked, 0);
	free(copy);
}
END_TEST

/* --- random programs, generated from the opcode table ----------------------- */

enum okind { NONE, U8, I8, I32, REL32, U8U8, U8I32, I32I32, STR, I64, CALLN, SWITCH };
static const struct {
	unsigned code;
	enum okind kind;
} optab[] = {
#define PVM_OP(name, code, kind) { code, kind },
#include "pvm/vm/opcodes.def"
#undef PVM_OP
};

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Random instruction sequences with small operands (so that locals,
 * fields, jumps and calls often hit something) must end in a normal run
 * or a panic, never a crash or a hang. */
START_TEST(random_programs_never_crash)
{
	unsigned char code[512];
	const size_t nops = sizeof optab / sizeof optab[0];
	srand(77);
	int panics = 0, runs = 0;
	for (int prog = 0; prog < 1500; prog++) {
		ck_assert_int_eq(boot_test("TRunOff"), 0);
		size_t n = 0;
		int count = 1 + rand() % 60;
		for (int k = 0; k < count && n + 16 < sizeof code; k++) {
			unsigned i = (unsigned)rand() % nops;
			unsigned op = optab[i].code;
			if (optab[i].kind == CALLN)
				op |= (unsigned)rand() % 32;
			code[n++] = (unsigned char)op;
			uint32_t small = (uint32_t)(rand() % 6);
			switch (optab[i].kind) {
			case NONE: break;
			case U8: case I8: case CALLN: code[n++] = (unsigned char)small; break;
			case U8U8: code[n++] = (unsigned char)small; code[n++] = (unsigned char)(rand() % 3); break;
			case I32: put_be32(code + n, small); n += 4; break;
			case REL32: put_be32(code + n, (uint32_t)(rand() % 64 - 32)); n += 4; break;
			case U8I32: code[n++] = (unsigned char)(rand() % 20); put_be32(code + n, small % 3); n += 4; break;
			case I32I32: put_be32(code + n, (uint32_t)(rand() % 20)); put_be32(code + n + 4, small % 3); n += 8; break;
			case STR: put_be32(code + n, 1); code[n + 4] = 'x'; n += 5; break;
			case I64: put_be32(code + n, small); put_be32(code + n + 4, small); n += 8; break;
			case SWITCH:
				put_be32(code + n, 1);
				put_be32(code + n + 4, small);
				put_be32(code + n + 8, 1 + (uint32_t)(rand() % 3));
				put_be32(code + n + 12, (uint32_t)(rand() % 64 - 32));
				n += 16;
				break;
			}
		}
		if (rand() % 4 == 0)	/* sometimes raw noise */
			for (size_t k = 0; k < n; k++)
				if (rand() % 8 == 0)
					code[k] = (unsigned char)rand();
		pvm_ref c = pvm_new_code(code, (uint32_t)n);
		ck_assert_ptr_nonnull(c);
		pvm_ref th = pvm_array_get(PVM_ROOT(PVM_ROOT_OBJECT_THREAD_LIST), 0);
		struct data_area_4_call_frame *f =
			PVM_DA(PVM_DA(th, data_area_4_thread)->call_frame, data_area_4_call_frame);
		f->code = c;
		f->IP = 0;
		f->IP_max = (uint32_t)n;
		long r = pvm_run(20000);
		if (r < 0)
			panics++;
		else
			runs++;
		if (r >= 0)
			ck_assert_int_eq(pvm_check_invariant(), 0);
	}
	ck_assert_int_gt(panics, 0);
	ck_assert_int_gt(runs, 0);
}
END_TEST

static Suite *pvm_suite(void)
{
	Suite *s = suite_create("pvm");
	TCase *tc = tcase_create("interpreter");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, arithmetic);
	tcase_add_test(tc, calls_and_builtins);
	tcase_add_test(tc, exceptions);
	tcase_add_test(tc, uncaught_exception_panics);
	tcase_add_test(tc, infinite_recursion_overflows);
	tcase_add_test(tc, bad_opcode_and_ip);
	tcase_add_test(tc, restartable_sys);
	tcase_add_test(tc, restartable_sys_snapshot_at_every_step);
	tcase_add_test(tc, garbage_stays_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("workloads");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, workload_runs_and_keeps_invariant, 0, 4);
	tcase_add_loop_test(tc, workload_invariant_at_every_step, 0, 4);
	tcase_add_loop_test(tc, snapshot_restore_continues_identically, 0, 4);
	tcase_add_test(tc, same_seed_same_run);
	tcase_add_test(tc, list_memory_bounded);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, boot_rejects_bad_arguments);
	tcase_add_test(tc, attach_rejects_garbage);
	tcase_add_test(tc, attach_rejects_corruption);
	tcase_add_loop_test(tc, corrupt_words_never_hang, 0, 4);
	tcase_add_test(tc, random_programs_never_crash);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pvm_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
