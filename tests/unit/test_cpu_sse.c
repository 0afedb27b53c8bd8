/* tests/unit/test_cpu_sse.c: SSE/SSE2, MXCSR and the x87 subset.
 *
 * Encodings from the SDM, checked with GNU as (source in the comments).
 * Expected floating-point values are computed on the host, which has the
 * same formats, but by ordinary C or a single host instruction, never by
 * the code under test.
 */
#include <math.h>
#include <stdlib.h>

#include "tests/unit/cpu_harness.h"

static struct harness H;

static void setup(void) { h_init(&H); }
static void teardown(void) { h_free(&H); }

#define RUN(h, code) h_run_ok(h, code, sizeof code)

static void poke_double(uint64_t pa, double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	h_poke(&H, pa, 8, u);
}

static double xmm_double(unsigned r)
{
	double d;
	memcpy(&d, H.c->xmm[r], 8);
	return d;
}

/* mov rdi,0x20000; movdqu xmm0,[rdi]; pxor xmm1,xmm1; pcmpeqb xmm0,xmm1;
 * pmovmskb eax,xmm0; movdqu [rdi+16],xmm0; int3 */
static const uint8_t pcmpeqb[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xf3, 0x0f, 0x6f, 0x07,
	0x66, 0x0f, 0xef, 0xc9, 0x66, 0x0f, 0x74, 0xc1, 0x66, 0x0f, 0xd7, 0xc0, 0xf3, 0x0f, 0x7f, 0x47,
	0x10, 0xcc };
START_TEST(strlen_style_simd)
{
	for (unsigned k = 0; k < 16; k++)
		h_poke(&H, DATA + k, 1, (k == 3 || k == 9) ? 0 : 'a' + k);
	H.c->gpr[CPU_RAX] = ~0ull;
	RUN(&H, pcmpeqb);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], (1u << 3) | (1u << 9));
	for (unsigned k = 0; k < 16; k++)
		ck_assert_uint_eq(h_peek(&H, DATA + 16 + k, 1), (k == 3 || k == 9) ? 0xff : 0);
}
END_TEST

/* mov rdi,0x20000; movsd xmm0,[rdi]; mulsd xmm0,[rdi+8]; addsd xmm0,xmm0;
 * cvttsd2si rax,xmm0; cvtsi2sd xmm2,rax; int3 */
static const uint8_t addsd[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xf2, 0x0f, 0x10, 0x07, 0xf2,
	0x0f, 0x59, 0x47, 0x08, 0xf2, 0x0f, 0x58, 0xc0, 0xf2, 0x48, 0x0f, 0x2c, 0xc0, 0xf2, 0x48, 0x0f,
	0x2a, 0xd0, 0xcc };
START_TEST(scalar_double_arithmetic)
{
	poke_double(DATA, 1.5);
	poke_double(DATA + 8, 3.25);
	memset(H.c->xmm[0], 0x5a, 16);
	memset(H.c->xmm[2], 0x5a, 16);
	RUN(&H, addsd);
	ck_assert(xmm_double(0) == 9.75);
	ck_assert_uint_eq(H.c->xmm_q[0][1], 0);         /* movsd from memory zeroes the top */
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 9);
	ck_assert(xmm_double(2) == 9.0);
	ck_assert_uint_eq(H.c->xmm_q[2][1], 0x5a5a5a5a5a5a5a5aull);     /* merge */
	ck_assert_uint_eq(H.c->mxcsr & 0x3f, 0x20);     /* cvttsd2si was inexact */
}
END_TEST

/* ucomisd xmm0,xmm1; setp al; setb bl; sete cl; int3 */
static const uint8_t ucomisd[] = { 0x66, 0x0f, 0x2e, 0xc1, 0x0f, 0x9a, 0xc0, 0x0f, 0x92, 0xc3, 0x0f,
	0x94, 0xc1, 0xcc };
START_TEST(ucomisd_flags)
{
	double nan = NAN, one = 1.0, half = 0.5;
	memcpy(H.c->xmm[0], &nan, 8);
	memcpy(H.c->xmm[1], &one, 8);
	RUN(&H, ucomisd);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 1);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX] & 0xff, 1);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX] & 0xff, 1);
	ck_assert_uint_eq(H.c->mxcsr & 1, 0);           /* quiet NaN: no #I for ucomisd */
	memcpy(H.c->xmm[0], &half, 8);
	RUN(&H, ucomisd);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 0);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX] & 0xff, 1);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX] & 0xff, 0);
	ck_assert_uint_eq(H.c->rflags & (FL_OF | FL_SF | FL_AF), 0);
}
END_TEST

/* mov rdi,0x20000; ldmxcsr [rdi]; cvtsd2si eax,xmm0; stmxcsr [rdi+4]; int3 */
static const uint8_t cvtround[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0x0f, 0xae, 0x17, 0xf2,
	0x0f, 0x2d, 0xc0, 0x0f, 0xae, 0x5f, 0x04, 0xcc };
START_TEST(mxcsr_rounding_modes)
{
	static const struct { uint32_t rc; int32_t want; } cases[] = {
		{ 0x0000, -2 }, { 0x2000, -3 }, { 0x4000, -2 }, { 0x6000, -2 },
	};
	double v = -2.5;
	memcpy(H.c->xmm[0], &v, 8);
	for (unsigned k = 0; k < 4; k++) {
		h_poke(&H, DATA, 4, 0x1F80 | cases[k].rc);
		RUN(&H, cvtround);
		ck_assert_int_eq((int32_t)H.c->gpr[CPU_RAX], cases[k].want);
		ck_assert_uint_eq(h_peek(&H, DATA + 4, 4), 0x1F80 | cases[k].rc | 0x20);
	}
	/* reserved MXCSR bits: #GP(0) */
	h_poke(&H, DATA, 4, 0x10000);
	h_load(&H, cvtround, sizeof cvtround);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_GP);
}
END_TEST

/* mov rdi,0x20008; movaps xmm0,[rdi]; int3 */
static const uint8_t movaps_mis[] = { 0x48, 0xc7, 0xc7, 0x08, 0x00, 0x02, 0x00, 0x0f, 0x28, 0x07, 0xcc };
START_TEST(alignment_checked)
{
	h_load(&H, movaps_mis, sizeof movaps_mis);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_GP);
	ck_assert_uint_eq(H.c->rip, CODE + 7);
	uint8_t ok[sizeof movaps_mis];
	memcpy(ok, movaps_mis, sizeof ok);
	ok[3] = 0x10;
	RUN(&H, ok);
}
END_TEST

/* pshufd xmm1,xmm0,0x1b; shufps xmm2,xmm0,0x4e; punpcklbw xmm3,xmm0;
 * psrldq xmm4,3; pslldq xmm5,17; int3 */
static const uint8_t shuf[] = { 0x66, 0x0f, 0x70, 0xc8, 0x1b, 0x0f, 0xc6, 0xd0, 0x4e, 0x66, 0x0f, 0x60,
	0xd8, 0x66, 0x0f, 0x73, 0xdc, 0x03, 0x66, 0x0f, 0x73, 0xfd, 0x11, 0xcc };
START_TEST(shuffles)
{
	for (unsigned k = 0; k < 16; k++)
		H.c->xmm[0][k] = H.c->xmm[4][k] = H.c->xmm[5][k] = (uint8_t)k;
	RUN(&H, shuf);
	for (unsigned k = 0; k < 4; k++)
		ck_assert_uint_eq(H.c->xmm_d[1][k], H.c->xmm_d[0][3 - k]);
	ck_assert_uint_eq(H.c->xmm_d[2][0], 0);
	ck_assert_uint_eq(H.c->xmm_d[2][1], 0);
	ck_assert_uint_eq(H.c->xmm_d[2][2], H.c->xmm_d[0][0]);
	ck_assert_uint_eq(H.c->xmm_d[2][3], H.c->xmm_d[0][1]);
	for (unsigned k = 0; k < 8; k++) {
		ck_assert_uint_eq(H.c->xmm[3][2 * k], 0);
		ck_assert_uint_eq(H.c->xmm[3][2 * k + 1], k);
	}
	for (unsigned k = 0; k < 16; k++) {
		ck_assert_uint_eq(H.c->xmm[4][k], k + 3 < 16 ? k + 3 : 0);
		ck_assert_uint_eq(H.c->xmm[5][k], 0);
	}
}
END_TEST

/* fld1; fldpi; faddp st(1),st; mov rdi,0x20000; fstp tbyte [rdi];
 * fnstcw [rdi+16]; fnstsw ax; int3 */
static const uint8_t x87_add[] = { 0xd9, 0xe8, 0xd9, 0xeb, 0xde, 0xc1, 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02,
	0x00, 0xdb, 0x3f, 0xd9, 0x7f, 0x10, 0xdf, 0xe0, 0xcc };
START_TEST(x87_long_double)
{
	long double pi, want, got = 0;
	__asm__("fldpi" : "=t"(pi));
	want = 1.0L + pi;
	RUN(&H, x87_add);
	ck_assert_int_eq(bus_dma_read(&H.bus, DATA, &got, 10), 0);
	ck_assert(memcmp(&got, &want, 10) == 0);
	ck_assert_uint_eq(h_peek(&H, DATA + 16, 2), 0x37F);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0x3800, 0);      /* TOP back at 0 */
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0x20, 0x20);     /* inexact */
	ck_assert_uint_eq(H.c->x87.tag_empty, 0xFF);
}
END_TEST

/* mov rdi,0x20000; fld qword [rdi]; fldcw [rdi+8]; fistp dword [rdi+16];
 * fld qword [rdi]; fisttp dword [rdi+20]; int3 */
static const uint8_t fistp[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xdd, 0x07, 0xd9, 0x6f, 0x08,
	0xdb, 0x5f, 0x10, 0xdd, 0x07, 0xdb, 0x4f, 0x14, 0xcc };
START_TEST(x87_integer_stores_round)
{
	poke_double(DATA, -2.5);
	h_poke(&H, DATA + 8, 2, 0x77F);                 /* RC = down */
	RUN(&H, fistp);
	ck_assert_int_eq((int32_t)h_peek(&H, DATA + 16, 4), -3);
	ck_assert_int_eq((int32_t)h_peek(&H, DATA + 20, 4), -2);       /* fisttp truncates */
	h_poke(&H, DATA + 8, 2, 0x37F);                 /* nearest even */
	RUN(&H, fistp);
	ck_assert_int_eq((int32_t)h_peek(&H, DATA + 16, 4), -2);
	poke_double(DATA, 1e10);                        /* out of range: integer indefinite */
	RUN(&H, fistp);
	ck_assert_uint_eq(h_peek(&H, DATA + 16, 4), 0x80000000u);
	ck_assert_uint_eq(H.c->x87.sw & 1, 1);          /* IE */
}
END_TEST

/* fldz; fxam; fnstsw ax; mov ebx,eax; fstp st0; fld1; fchs; fxam; fnstsw ax;
 * fld1; fcomip st,st1; fstp st0; int3 */
static const uint8_t fxam[] = { 0xd9, 0xee, 0xd9, 0xe5, 0xdf, 0xe0, 0x89, 0xc3, 0xdd, 0xd8, 0xd9, 0xe8,
	0xd9, 0xe0, 0xd9, 0xe5, 0xdf, 0xe0, 0xd9, 0xe8, 0xdf, 0xf1, 0xdd, 0xd8, 0xcc };
START_TEST(x87_classify_and_compare)
{
	RUN(&H, fxam);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX] & 0x4700, 0x4000);         /* zero, positive */
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0x4700, 0x0600);         /* normal, negative */
	ck_assert_uint_eq(H.c->rflags & (FL_ZF | FL_PF | FL_CF), 0);   /* 1 > -1 */
	ck_assert_uint_eq(H.c->x87.tag_empty, 0xFF);
	ck_assert_uint_eq(H.c->x87.top, 0);
}
END_TEST

/* mov rdi,0x20000; fxsave [rdi]; mov dword [rdi+24],0x1f00; fxrstor [rdi]; int3 */
static const uint8_t fxsave[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0x0f, 0xae, 0x07, 0xc7, 0x47,
	0x18, 0x00, 0x1f, 0x00, 0x00, 0x0f, 0xae, 0x0f, 0xcc };
START_TEST(fxsave_roundtrip)
{
	for (unsigned k = 0; k < 16; k++)
		H.c->xmm[3][k] = (uint8_t)(0xa0 + k);
	RUN(&H, fxsave);
	ck_assert_uint_eq(H.c->mxcsr, 0x1F00);
	ck_assert_uint_eq(h_peek(&H, DATA, 2), 0x37F);
	ck_assert_uint_eq(h_peek(&H, DATA + 160 + 48, 8), 0xa7a6a5a4a3a2a1a0ull);
	for (unsigned k = 0; k < 16; k++)
		ck_assert_uint_eq(H.c->xmm[3][k], 0xa0 + k);
}
END_TEST

/* mov rdi,0x20000; fld tbyte [rdi]; fsin; fstp tbyte [rdi+16]; int3 */
static const uint8_t fsin[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xdb, 0x2f, 0xd9, 0xfe, 0xdb,
	0x7f, 0x10, 0xcc };
START_TEST(x87_sine_and_range)
{
	long double x = 1.0L, want, got = 0;
	__asm__("fsin" : "=t"(want) : "0"(x));
	ck_assert_int_eq(bus_dma_write(&H.bus, DATA, &x, 10), 0);
	RUN(&H, fsin);
	ck_assert_int_eq(bus_dma_read(&H.bus, DATA + 16, &got, 10), 0);
	ck_assert(memcmp(&got, &want, 10) == 0);
	/* |x| >= 2^63: C2 set, operand unchanged */
	x = 0x1p70L;
	ck_assert_int_eq(bus_dma_write(&H.bus, DATA, &x, 10), 0);
	RUN(&H, fsin);
	ck_assert_int_eq(bus_dma_read(&H.bus, DATA + 16, &got, 10), 0);
	ck_assert(memcmp(&got, &x, 10) == 0);
	ck_assert_uint_eq(H.c->x87.sw & 0x400, 0x400);
}
END_TEST

/* mov rdi,0x20000; fldz; fldz; fdivp st(1),st; fldcw [rdi]; fld1; int3 */
static const uint8_t mf[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xd9, 0xee, 0xd9, 0xee, 0xde,
	0xf9, 0xd9, 0x2f, 0xd9, 0xe8, 0xcc };
START_TEST(x87_pending_exception_faults)
{
	/* 0/0 sets IE while masked; unmasking it makes it pending, and the
	 * next waiting instruction (fld1) raises #MF without executing. */
	h_poke(&H, DATA, 2, 0x37E);
	h_load(&H, mf, sizeof mf);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_MF);
	ck_assert_uint_eq(H.c->rip, CODE + 15);
	ck_assert_uint_eq(x87_status_word(H.c) & 0x8081, 0x8081);      /* B, ES, IE */
	ck_assert_uint_eq(H.c->x87.top, 7);             /* fld1 did not push */
	/* with IE masked the same code runs through */
	h_poke(&H, DATA, 2, 0x37F);
	cpu_set_mode_user64(H.c);
	RUN(&H, mf);
	ck_assert_uint_eq(H.c->x87.top, 6);
}
END_TEST

/* mov rdi,0x20000; ldmxcsr [rdi]; divsd xmm0,xmm1; int3 */
static const uint8_t xm[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0x0f, 0xae, 0x17, 0xf2, 0x0f,
	0x5e, 0xc1, 0xcc };
START_TEST(sse_unmasked_exception_faults)
{
	double one = 1.0, zero = 0.0;
	memcpy(H.c->xmm[0], &one, 8);
	memcpy(H.c->xmm[1], &zero, 8);
	h_poke(&H, DATA, 4, 0x1F80 & ~0x200u);         /* ZM clear */
	h_load(&H, xm, sizeof xm);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_XM);
	ck_assert_uint_eq(H.c->rip, CODE + 10);
	ck_assert(xmm_double(0) == 1.0);                /* destination untouched */
	ck_assert_uint_eq(H.c->mxcsr & 0x3f, 0x4);      /* ZE */
	/* masked: +infinity and the flag */
	h_poke(&H, DATA, 4, 0x1F80);
	RUN(&H, xm);
	ck_assert(isinf(xmm_double(0)));
	ck_assert_uint_eq(H.c->mxcsr & 0x3f, 0x4);
}
END_TEST

Suite *cpu_sse_suite(void);

Suite *cpu_sse_suite(void)
{
	Suite *s = suite_create("cpu-sse");
	TCase *t = tcase_create("sse");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, strlen_style_simd);
	tcase_add_test(t, scalar_double_arithmetic);
	tcase_add_test(t, ucomisd_flags);
	tcase_add_test(t, mxcsr_rounding_modes);
	tcase_add_test(t, alignment_checked);
	tcase_add_test(t, shuffles);
	tcase_add_test(t, x87_long_double);
	tcase_add_test(t, x87_integer_stores_round);
	tcase_add_test(t, x87_classify_and_compare);
	tcase_add_test(t, fxsave_roundtrip);
	tcase_add_test(t, x87_sine_and_range);
	tcase_add_test(t, x87_pending_exception_faults);
	tcase_add_test(t, sse_unmasked_exception_faults);
	suite_add_tcase(s, t);
	return s;
}
