/* tests/unit/test_cpu.c: the integer interpreter, exceptions, the decode
 * cache and memory access, one hand-assembled snippet per test.
 *
 * The byte arrays were written from the SDM encodings and checked against
 * GNU as; the comment above each gives the source.
 */
#include <stdlib.h>

#include "tests/unit/cpu_harness.h"

#define RUN(h, code) h_run_ok(h, code, sizeof code)

static struct harness H;

static void setup(void) { h_init(&H); }
static void teardown(void) { h_free(&H); }

/* mov al, 0x7f; add al, 1; int3 */
static const uint8_t add_flags[] = { 0xb0, 0x7f, 0x04, 0x01, 0xcc };
START_TEST(add_signed_overflow)
{
	RUN(&H, add_flags);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 0x80);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_OF | FL_SF | FL_AF);
}
END_TEST

/* mov eax, 0xffffffff; add eax, 1; int3 */
static const uint8_t add32_carry[] = { 0xb8, 0xff, 0xff, 0xff, 0xff, 0x83, 0xc0, 0x01, 0xcc };
START_TEST(add_carry_zero)
{
	H.c->gpr[CPU_RAX] = 0x123456789ull;
	RUN(&H, add32_carry);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_CF | FL_ZF | FL_PF | FL_AF);
}
END_TEST

/* xor ecx, ecx; sub ecx, 1; int3 */
static const uint8_t sub_borrow[] = { 0x31, 0xc9, 0x83, 0xe9, 0x01, 0xcc };
START_TEST(sub_borrow_flags)
{
	RUN(&H, sub_borrow);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0xffffffffu);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_CF | FL_SF | FL_PF | FL_AF);
}
END_TEST

/* stc; mov bl, 0xff; adc bl, 0; int3 */
static const uint8_t adc_cf[] = { 0xf9, 0xb3, 0xff, 0x80, 0xd3, 0x00, 0xcc };
START_TEST(adc_carry_in)
{
	RUN(&H, adc_cf);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX] & 0xff, 0);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_CF | FL_ZF | FL_PF | FL_AF);
}
END_TEST

/* stc; xor edx, edx; sbb edx, 0; int3  (xor clears CF: result 0) */
static const uint8_t sbb_cf[] = { 0xf9, 0x31, 0xd2, 0x83, 0xda, 0x00, 0xcc };
/* xor edx, edx; stc; sbb edx, 0; int3 */
static const uint8_t sbb_cf2[] = { 0x31, 0xd2, 0xf9, 0x83, 0xda, 0x00, 0xcc };
START_TEST(sbb_borrow_in)
{
	RUN(&H, sbb_cf);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 0);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_ZF | FL_PF);
	RUN(&H, sbb_cf2);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 0xffffffffu);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_CF | FL_SF | FL_PF | FL_AF);
}
END_TEST

/* stc; mov eax, 0x7fffffff; inc eax; int3 */
static const uint8_t inc_keeps_cf[] = { 0xf9, 0xb8, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xc0, 0xcc };
START_TEST(inc_preserves_cf)
{
	RUN(&H, inc_keeps_cf);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x80000000u);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
}
END_TEST

/* mov rax,-1; mov eax,5; mov rbx,-1; mov bx,7; mov rcx,-1; mov ch,0x12; int3 */
static const uint8_t zext32[] = { 0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0xb8, 0x05, 0x00, 0x00,
	0x00, 0x48, 0xc7, 0xc3, 0xff, 0xff, 0xff, 0xff, 0x66, 0xbb, 0x07, 0x00, 0x48, 0xc7, 0xc1, 0xff,
	0xff, 0xff, 0xff, 0xb5, 0x12, 0xcc };
START_TEST(partial_register_writes)
{
	RUN(&H, zext32);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 5);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], 0xffffffffffff0007ull);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0xffffffffffff12ffull);
}
END_TEST

/* mov cl,0; mov eax,1; cmp eax,2; shl eax,cl; int3 */
static const uint8_t shl0[] = { 0xb1, 0x00, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x83, 0xf8, 0x02, 0xd3, 0xe0, 0xcc };
/* mov eax, 0xc0000000; shl eax, 1; int3 */
static const uint8_t shl1[] = { 0xb8, 0x00, 0x00, 0x00, 0xc0, 0xd1, 0xe0, 0xcc };
/* mov eax, 0x81; shr eax, 4; int3 */
static const uint8_t shrn[] = { 0xb8, 0x81, 0x00, 0x00, 0x00, 0xc1, 0xe8, 0x04, 0xcc };
/* mov eax, 0x80000010; sar eax, 5; int3 */
static const uint8_t sar[] = { 0xb8, 0x10, 0x00, 0x00, 0x80, 0xc1, 0xf8, 0x05, 0xcc };
START_TEST(shifts_by_0_1_n)
{
	RUN(&H, shl0);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 1);
	ck_assert_uint_eq(FLAGS_OF(H.c), FL_CF | FL_SF | FL_AF | FL_PF);     /* cmp's flags */
	RUN(&H, shl1);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x80000000u);
	ck_assert_uint_eq(FLAGS_OF(H.c) & ~(uint64_t)FL_AF, FL_CF | FL_SF | FL_PF);
	RUN(&H, shrn);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 8);
	ck_assert_uint_eq(FLAGS_OF(H.c) & ~(uint64_t)(FL_AF | FL_OF), 0);
	RUN(&H, sar);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0xfc000000u);
	ck_assert_uint_eq(FLAGS_OF(H.c) & ~(uint64_t)FL_AF, FL_CF | FL_SF | FL_PF);
}
END_TEST

/* stc; mov al, 0x80; rcl al, 1; int3 */
static const uint8_t rcl[] = { 0xf9, 0xb0, 0x80, 0xd0, 0xd0, 0xcc };
/* clc; mov al, 1; rcr al, 9; int3 */
static const uint8_t rcr9[] = { 0xf8, 0xb0, 0x01, 0xc0, 0xd8, 0x09, 0xcc };
/* mov eax, 0x80000001; rol eax, 4; int3 */
static const uint8_t rol[] = { 0xb8, 0x01, 0x00, 0x00, 0x80, 0xc1, 0xc0, 0x04, 0xcc };
START_TEST(rotates)
{
	RUN(&H, rcl);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 1);
	ck_assert_uint_eq(H.c->rflags & (FL_CF | FL_OF), FL_CF | FL_OF);
	RUN(&H, rcr9);          /* 9 mod 9 = 0: nothing moves */
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 1);
	ck_assert_uint_eq(H.c->rflags & FL_CF, 0);
	RUN(&H, rol);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x18);
	ck_assert_uint_eq(H.c->rflags & FL_CF, 0);
}
END_TEST

/* xor ecx,ecx; mov eax,1; xor edx,edx; div ecx; int3 */
static const uint8_t divz[] = { 0x31, 0xc9, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x31, 0xd2, 0xf7, 0xf1, 0xcc };
/* mov rax, 1<<63; cqo; mov rcx, -1; idiv rcx; int3 */
static const uint8_t idivovf[] = { 0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x48,
	0x99, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, 0x48, 0xf7, 0xf9, 0xcc };
/* mov rax,100; xor edx,edx; mov rcx,7; div rcx; int3 */
static const uint8_t divok[] = { 0x48, 0xc7, 0xc0, 0x64, 0x00, 0x00, 0x00, 0x31, 0xd2, 0x48, 0xc7,
	0xc1, 0x07, 0x00, 0x00, 0x00, 0x48, 0xf7, 0xf1, 0xcc };
START_TEST(divide_error)
{
	h_load(&H, divz, sizeof divz);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_DE);
	ck_assert_uint_eq(H.c->rip, CODE + 9);          /* at the div */
	h_load(&H, idivovf, sizeof idivovf);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_DE);
	ck_assert_uint_eq(H.c->rip, CODE + 19);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x8000000000000000ull);    /* untouched */
	RUN(&H, divok);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 14);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 2);
}
END_TEST

/* mov rax, 1<<32; mov rcx, 1<<32; mul rcx; int3 */
static const uint8_t mul[] = { 0x48, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x48, 0xb9,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x48, 0xf7, 0xe1, 0xcc };
/* mov ecx, -3; imul eax, ecx, 5; int3 */
static const uint8_t imul3[] = { 0xb9, 0xfd, 0xff, 0xff, 0xff, 0x6b, 0xc1, 0x05, 0xcc };
START_TEST(multiply)
{
	RUN(&H, mul);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 1);
	ck_assert_uint_eq(H.c->rflags & (FL_CF | FL_OF), FL_CF | FL_OF);
	RUN(&H, imul3);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0xfffffff1u);
	ck_assert_uint_eq(H.c->rflags & (FL_CF | FL_OF), 0);
}
END_TEST

/* mov rsi,0x20000; mov rdi,0x20100; mov rcx,37; rep movsb; int3 (after a 7-byte lea) */
static const uint8_t repmovsb[] = { 0x48, 0x8d, 0x35, 0x00, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc6, 0x00,
	0x00, 0x02, 0x00, 0x48, 0xc7, 0xc7, 0x00, 0x01, 0x02, 0x00, 0x48, 0xc7, 0xc1, 0x25, 0x00, 0x00,
	0x00, 0xf3, 0xa4, 0xcc };
/* std; mov rdi,0x2000c; mov rcx,4; mov eax,0xaabbccdd; rep stosd; cld; int3 */
static const uint8_t stosd_df[] = { 0xfd, 0x48, 0xc7, 0xc7, 0x0c, 0x00, 0x02, 0x00, 0x48, 0xc7, 0xc1,
	0x04, 0x00, 0x00, 0x00, 0xb8, 0xdd, 0xcc, 0xbb, 0xaa, 0xf3, 0xab, 0xfc, 0xcc };
/* mov rsi,0x20000; mov rdi,0x20100; mov rcx,16; repe cmpsb; int3 */
static const uint8_t repecmpsb[] = { 0x48, 0xc7, 0xc6, 0x00, 0x00, 0x02, 0x00, 0x48, 0xc7, 0xc7, 0x00,
	0x01, 0x02, 0x00, 0x48, 0xc7, 0xc1, 0x10, 0x00, 0x00, 0x00, 0xf3, 0xa6, 0xcc };
/* mov rdi,0x20000; mov al,0x42; mov rcx,100; repne scasb; int3 */
static const uint8_t repnescasb[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xb0, 0x42, 0x48, 0xc7,
	0xc1, 0x64, 0x00, 0x00, 0x00, 0xf2, 0xae, 0xcc };
START_TEST(string_ops)
{
	for (unsigned k = 0; k < 64; k++)
		h_poke(&H, DATA + k, 1, 'a' + k % 26);
	RUN(&H, repmovsb);
	for (unsigned k = 0; k < 37; k++)
		ck_assert_uint_eq(h_peek(&H, DATA + 0x100 + k, 1), 'a' + k % 26);
	ck_assert_uint_eq(h_peek(&H, DATA + 0x100 + 37, 1), 0);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0);
	ck_assert_uint_eq(H.c->gpr[CPU_RSI], DATA + 37);
	ck_assert_uint_eq(H.c->gpr[CPU_RDI], DATA + 0x125);

	RUN(&H, stosd_df);
	for (unsigned k = 0; k < 16; k += 4)
		ck_assert_uint_eq(h_peek(&H, DATA + k, 4), 0xaabbccddu);
	ck_assert_uint_eq(H.c->gpr[CPU_RDI], DATA - 4);
	ck_assert_uint_eq(H.c->rflags & FL_DF, 0);

	for (unsigned k = 0; k < 16; k++) {
		h_poke(&H, DATA + k, 1, 'a' + k);
		h_poke(&H, DATA + 0x100 + k, 1, k == 5 ? 'X' : 'a' + k);
	}
	RUN(&H, repecmpsb);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 10);
	ck_assert_uint_eq(H.c->gpr[CPU_RSI], DATA + 6);
	ck_assert_uint_eq(H.c->rflags & FL_ZF, 0);

	h_poke(&H, DATA + 17, 1, 0x42);
	RUN(&H, repnescasb);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 82);
	ck_assert_uint_eq(H.c->gpr[CPU_RDI], DATA + 18);
	ck_assert_uint_eq(H.c->rflags & FL_ZF, FL_ZF);
}
END_TEST

/* mov rsi,0x20ff0; mov rdi,0x21ff8; mov rcx,32; rep movsb; int3: the
 * destination runs off the end of RAM after 8 bytes. */
static const uint8_t strfault[] = { 0x48, 0xc7, 0xc6, 0xf0, 0x0f, 0x02, 0x00, 0x48, 0xc7, 0xc7, 0xf8,
	0x1f, 0x02, 0x00, 0x48, 0xc7, 0xc1, 0x20, 0x00, 0x00, 0x00, 0xf3, 0xa4, 0xcc };
START_TEST(rep_fault_leaves_progress)
{
	h_load(&H, strfault, sizeof strfault);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_PF);
	ck_assert_uint_eq(H.c->cr2, DATA + 0x2000);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 24);
	ck_assert_uint_eq(H.c->gpr[CPU_RDI], DATA + 0x2000);
	ck_assert_uint_eq(H.c->rip, CODE + 21);
}
END_TEST

/* mov rdi,0x20010; mov rax,1; mov rdx,2; mov rbx,3; mov rcx,4; lock cmpxchg16b [rdi]; int3 */
static const uint8_t cx16[] = { 0x48, 0xc7, 0xc7, 0x10, 0x00, 0x02, 0x00, 0x48, 0xc7, 0xc0, 0x01, 0x00,
	0x00, 0x00, 0x48, 0xc7, 0xc2, 0x02, 0x00, 0x00, 0x00, 0x48, 0xc7, 0xc3, 0x03, 0x00, 0x00, 0x00,
	0x48, 0xc7, 0xc1, 0x04, 0x00, 0x00, 0x00, 0xf0, 0x48, 0x0f, 0xc7, 0x0f, 0xcc };
START_TEST(cmpxchg16b_success_and_failure)
{
	h_poke(&H, DATA + 0x10, 8, 1);
	h_poke(&H, DATA + 0x18, 8, 2);
	RUN(&H, cx16);
	ck_assert_uint_eq(H.c->rflags & FL_ZF, FL_ZF);
	ck_assert_uint_eq(h_peek(&H, DATA + 0x10, 8), 3);
	ck_assert_uint_eq(h_peek(&H, DATA + 0x18, 8), 4);
	RUN(&H, cx16);          /* memory is now 3:4, rdx:rax 2:1 */
	ck_assert_uint_eq(H.c->rflags & FL_ZF, 0);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 3);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 4);
	/* misaligned: #GP(0) */
	uint8_t mis[sizeof cx16];
	memcpy(mis, cx16, sizeof cx16);
	mis[3] = 0x18;
	h_load(&H, mis, sizeof mis);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_GP);
}
END_TEST

/* mov rdi,0x20000; mov dword [rdi],10; mov eax,5; lock xadd [rdi],eax; int3 */
static const uint8_t xadd[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xc7, 0x07, 0x0a, 0x00, 0x00,
	0x00, 0xb8, 0x05, 0x00, 0x00, 0x00, 0xf0, 0x0f, 0xc1, 0x07, 0xcc };
START_TEST(lock_xadd)
{
	RUN(&H, xadd);
	ck_assert_uint_eq(h_peek(&H, DATA, 4), 15);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 10);
}
END_TEST

START_TEST(cpuid_consistency)
{
	uint32_t r[4], e[4];
	cpu_cpuid(H.c, 0, 0, r);
	uint32_t maxb = r[0];
	ck_assert_uint_ge(maxb, 7);
	ck_assert(memcmp(&r[1], "Genu", 4) == 0);
	cpu_cpuid(H.c, 1, 0, r);
	ck_assert(r[3] & (1u << 26));           /* SSE2 */
	ck_assert(r[3] & (1u << 25));           /* SSE */
	ck_assert(!(r[2] & (1u << 0)));         /* no SSE3 */
	ck_assert(!(r[2] & (1u << 27)));        /* no OSXSAVE */
	ck_assert(!(r[2] & (1u << 28)));        /* no AVX */
	ck_assert(!(r[3] & (1u << 23)));        /* no MMX */
	ck_assert_uint_eq((r[1] >> 8) & 0xff, 8);       /* 64-byte clflush */
	cpu_cpuid(H.c, 0x80000000u, 0, r);
	uint32_t maxe = r[0];
	ck_assert_uint_ge(maxe, 0x80000004u);
	cpu_cpuid(H.c, 0x80000001u, 0, r);
	ck_assert(r[3] & (1u << 29));           /* LM */
	/* leaves past the maximum answer like the highest basic leaf */
	cpu_cpuid(H.c, maxb, 0, e);
	cpu_cpuid(H.c, maxb + 1, 0, r);
	ck_assert(memcmp(r, e, sizeof r) == 0);
	cpu_cpuid(H.c, maxe + 1, 0, r);
	ck_assert(memcmp(r, e, sizeof r) == 0);
	/* the brand string is NUL-terminated */
	char brand[49] = { 0 };
	for (unsigned k = 0; k < 3; k++)
		cpu_cpuid(H.c, 0x80000002u + k, 0, (uint32_t *)(brand + 16 * k));
	ck_assert(strstr(brand, "phantom-sim") != NULL);
	/* leaf 4 ends with a null cache type */
	cpu_cpuid(H.c, 4, 4, r);
	ck_assert_uint_eq(r[0] & 31, 0);
}
END_TEST

/* Every feature bit is checked against the instruction it promises:
 * advertised -> executes, not advertised -> #UD. */
START_TEST(cpuid_matches_implementation)
{
	static const struct {
		const char *name;
		uint32_t leaf, reg, bit;        /* reg: 0 eax 1 ebx 2 ecx 3 edx */
		uint8_t code[6];
	} probe[] = {
		{ "fpu: fld1", 1, 3, 0, { 0xd9, 0xe8 } },
		{ "tsc: rdtsc", 1, 3, 4, { 0x0f, 0x31 } },
		{ "cx8: cmpxchg8b [rdi]", 1, 3, 8, { 0x0f, 0xc7, 0x0f } },
		{ "cmov: cmovz eax,ebx", 1, 3, 15, { 0x0f, 0x44, 0xc3 } },
		{ "clfsh: clflush [rdi]", 1, 3, 19, { 0x0f, 0xae, 0x3f } },
		{ "mmx: paddb mm0,mm1", 1, 3, 23, { 0x0f, 0xfc, 0xc1 } },
		{ "fxsr: fxsave [rdi]", 1, 3, 24, { 0x0f, 0xae, 0x07 } },
		{ "sse: addps", 1, 3, 25, { 0x0f, 0x58, 0xc1 } },
		{ "sse2: paddq", 1, 3, 26, { 0x66, 0x0f, 0xd4, 0xc1 } },
		{ "sse3: haddps", 1, 2, 0, { 0xf2, 0x0f, 0x7c, 0xc1 } },
		{ "ssse3: pshufb", 1, 2, 9, { 0x66, 0x0f, 0x38, 0x00, 0xc1 } },
		{ "cx16: cmpxchg16b [rdi]", 1, 2, 13, { 0x48, 0x0f, 0xc7, 0x0f } },
		{ "sse4.1: pmulld", 1, 2, 19, { 0x66, 0x0f, 0x38, 0x40, 0xc1 } },
		{ "sse4.2: crc32", 1, 2, 20, { 0xf2, 0x0f, 0x38, 0xf1, 0xc3 } },
		{ "movbe: movbe eax,[rdi]", 1, 2, 22, { 0x0f, 0x38, 0xf0, 0x07 } },
		{ "popcnt", 1, 2, 23, { 0xf3, 0x0f, 0xb8, 0xc3 } },
		{ "osxsave: xgetbv", 1, 2, 27, { 0x0f, 0x01, 0xd0 } },
		{ "avx: vzeroupper", 1, 2, 28, { 0xc5, 0xf8, 0x77 } },
		{ "rdrand", 1, 2, 30, { 0x0f, 0xc7, 0xf0 } },
		{ "bmi1: andn", 7, 1, 3, { 0xc4, 0xe2, 0x78, 0xf2, 0xc3 } },
		{ "clflushopt", 7, 1, 23, { 0x66, 0x0f, 0xae, 0x3f } },
		{ "clwb", 7, 1, 24, { 0x66, 0x0f, 0xae, 0x37 } },
		{ "lahf-lm: lahf", 0x80000001u, 2, 0, { 0x9f } },
		{ "abm: lzcnt", 0x80000001u, 2, 5, { 0xf3, 0x0f, 0xbd, 0xc3 } },
		{ "prefetchw", 0x80000001u, 2, 8, { 0x0f, 0x0d, 0x0f } },
		{ "syscall", 0x80000001u, 3, 11, { 0x0f, 0x05 } },
		{ "rdtscp", 0x80000001u, 3, 27, { 0x0f, 0x01, 0xf9 } },
	};
	for (unsigned k = 0; k < sizeof probe / sizeof probe[0]; k++) {
		uint32_t r[4];
		cpu_cpuid(H.c, probe[k].leaf, 0, r);
		bool has = (r[probe[k].reg] >> probe[k].bit) & 1;
		cpu_set_mode_user64(H.c);
		H.c->gpr[CPU_RDI] = DATA;
		h_load(&H, probe[k].code, sizeof probe[k].code);
		enum cpu_exit e = cpu_run(H.c, 1);
		bool ud = e == CPU_EXIT_EXCEPTION && H.c->exc_vector == CPU_EXC_UD;
		if (has == ud)
			ck_abort_msg("%s: advertised %d but #UD %d", probe[k].name, has, ud);
	}
}
END_TEST

/* xor eax,eax; cpuid; int3 -- the instruction agrees with cpu_cpuid() */
static const uint8_t cpuid0[] = { 0x31, 0xc0, 0x0f, 0xa2, 0xcc };
START_TEST(cpuid_instruction)
{
	uint32_t r[4];
	H.c->gpr[CPU_RAX] = ~0ull;
	RUN(&H, cpuid0);
	cpu_cpuid(H.c, 0, 0, r);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], r[0]);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], r[1]);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], r[2]);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], r[3]);
}
END_TEST

/* mov byte [rip+2], 0x2a; nop; mov al, 5; int3 -- patches the 5 */
static const uint8_t smc[] = { 0xc6, 0x05, 0x02, 0x00, 0x00, 0x00, 0x2a, 0x90, 0xb0, 0x05, 0xcc };
/* mov eax, 1; int3 */
static const uint8_t mov1[] = { 0xb8, 0x01, 0x00, 0x00, 0x00, 0xcc };
START_TEST(self_modifying_code)
{
	/* Decode the target once, unpatched, so the cache holds it. */
	h_load(&H, smc, sizeof smc);
	H.c->rip = CODE + 8;
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 5);
	/* Now the guest patches it and runs it again. */
	H.c->rip = CODE;
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_BP);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX] & 0xff, 0x2a);
	ck_assert_uint_ge(stats_get(&H.sim.stats, "cpu.smc_invalidations"), 1);
	/* A host-side write (DMA) is seen too. */
	RUN(&H, mov1);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 1);
	uint8_t two[sizeof mov1];
	memcpy(two, mov1, sizeof two);
	two[1] = 2;
	RUN(&H, two);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 2);
}
END_TEST

START_TEST(smc_in_page_crossing_instruction)
{
	/* mov eax, 0x44332211 at CODE+0xffd: its immediate runs into the
	 * next page; int3 follows.  Patch the part in the second page. */
	static const uint8_t mov[] = { 0xb8, 0x11, 0x22, 0x33, 0x44, 0xcc };
	ck_assert_int_eq(bus_dma_write(&H.bus, CODE + 0xffd, mov, sizeof mov), 0);
	H.c->rip = CODE + 0xffd;
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x44332211u);
	h_poke(&H, CODE + 0x1001, 1, 0x99);             /* imm byte 3: 0x44 -> 0x99 */
	H.c->rip = CODE + 0xffd;
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_BP);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x99332211u);
}
END_TEST

START_TEST(decode_once_per_address)
{
	/* mov ecx,1000; l: add eax,1; loop l; int3 */
	static const uint8_t code[] = { 0xb9, 0xe8, 0x03, 0x00, 0x00, 0x83, 0xc0, 0x01, 0xe2, 0xfb, 0xcc };
	RUN(&H, code);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 1000);
	ck_assert_uint_eq(stats_get(&H.sim.stats, "cpu.decoded"), 4);
	ck_assert_uint_eq(H.sim.insns, 1 + 2 * 1000 + 1);
}
END_TEST

/* mov rdi,0x20ffe; mov eax,0x11223344; mov [rdi],eax; mov ebx,[rdi]; int3 */
static const uint8_t cross[] = { 0x48, 0xc7, 0xc7, 0xfe, 0x0f, 0x02, 0x00, 0xb8, 0x44, 0x33, 0x22, 0x11,
	0x89, 0x07, 0x8b, 0x1f, 0xcc };
START_TEST(page_crossing_access)
{
	RUN(&H, cross);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], 0x11223344u);
	ck_assert_uint_eq(h_peek(&H, DATA + 0xffe, 2), 0x3344);
	ck_assert_uint_eq(h_peek(&H, DATA + 0x1000, 2), 0x1122);
	/* The same store one page up runs into unmapped memory: #PF at the
	 * first missing byte, and nothing is written. */
	uint8_t f[sizeof cross];
	memcpy(f, cross, sizeof f);
	f[4] = 0x1f;
	h_poke(&H, DATA + 0x1ffe, 2, 0);
	h_load(&H, f, sizeof f);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_PF);
	ck_assert_uint_eq(H.c->cr2, DATA + 0x2000);
	ck_assert_uint_eq(H.c->exc_error, CPU_PF_W | CPU_PF_U);
	ck_assert_uint_eq(H.c->rip, CODE + 12);
	ck_assert_uint_eq(h_peek(&H, DATA + 0x1ffe, 2), 0);
}
END_TEST

/* mov rax, 0x20000; jmp rax -- data is not executable */
static const uint8_t nxfetch[] = { 0x48, 0xc7, 0xc0, 0x00, 0x00, 0x02, 0x00, 0xff, 0xe0 };
START_TEST(fetch_permission)
{
	h_load(&H, nxfetch, sizeof nxfetch);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_PF);
	ck_assert_uint_eq(H.c->cr2, DATA);
	ck_assert_uint_eq(H.c->exc_error, CPU_PF_P | CPU_PF_U | CPU_PF_I);
	ck_assert_uint_eq(H.c->rip, DATA);
	/* A write to read-only memory: protection fault with W. */
	ck_assert_int_eq(bus_protect(&H.bus, DATA, 0x1000, BUS_R), 0);
	h_load(&H, xadd, sizeof xadd);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_PF);
	ck_assert_uint_eq(H.c->exc_error, CPU_PF_P | CPU_PF_W | CPU_PF_U);
}
END_TEST

START_TEST(undefined_opcodes)
{
	static const uint8_t bad[][4] = {
		{ 0x06 },                       /* push es: invalid in 64-bit mode */
		{ 0x0f, 0x0a },                 /* reserved */
		{ 0x0f, 0x38, 0x00, 0xc1 },     /* pshufb: SSSE3, not implemented */
		{ 0xf0, 0x01, 0xd8 },           /* lock add eax, ebx: no memory operand */
		{ 0x0f, 0x0b },                 /* ud2 */
		{ 0xdf, 0x20 },                 /* fbld [rax]: not implemented */
	};
	for (unsigned k = 0; k < sizeof bad / sizeof bad[0]; k++) {
		h_load(&H, bad[k], 4);
		ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
		ck_assert_int_eq(H.c->exc_vector, CPU_EXC_UD);
		ck_assert_uint_eq(H.c->rip, CODE);
	}
	/* 16 bytes: 15 operand-size prefixes and a nop is too long. */
	uint8_t longi[16];
	memset(longi, 0x66, 15);
	longi[15] = 0x90;
	h_load(&H, longi, 16);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_GP);
	/* 14 prefixes and the nop is fine. */
	longi[14] = 0x90;
	longi[15] = 0xcc;
	h_load(&H, longi, 16);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_BP);
}
END_TEST

/* mov eax, 60; syscall; int3 */
static const uint8_t sys[] = { 0xb8, 0x3c, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xcc };
START_TEST(syscall_exits)
{
	h_load(&H, sys, sizeof sys);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_SYSCALL);
	ck_assert_uint_eq(H.c->rip, CODE + 7);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], CODE + 7);
	ck_assert_uint_eq(H.c->gpr[CPU_R11], H.c->rflags);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 60);
}
END_TEST

/* call f; int3; f: mov eax,7; ret */
static const uint8_t callret[] = { 0xe8, 0x01, 0x00, 0x00, 0x00, 0xcc, 0xb8, 0x07, 0x00, 0x00, 0x00, 0xc3 };
/* push 0x1234; pop rbx; push rsp; pop rcx; int3 */
static const uint8_t pushpop[] = { 0x68, 0x34, 0x12, 0x00, 0x00, 0x5b, 0x54, 0x59, 0xcc };
/* mov rbp,0x30800; enter 32,0; mov rbx,rbp; leave; int3 */
static const uint8_t enterleave[] = { 0x48, 0xc7, 0xc5, 0x00, 0x08, 0x03, 0x00, 0xc8, 0x20, 0x00, 0x00,
	0x48, 0x89, 0xeb, 0xc9, 0xcc };
START_TEST(stack_ops)
{
	h_load(&H, callret, sizeof callret);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_BP);
	ck_assert_uint_eq(H.c->rip, CODE + 6);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 7);
	ck_assert_uint_eq(H.c->gpr[CPU_RSP], STACK_TOP);
	RUN(&H, pushpop);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], 0x1234);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], STACK_TOP);
	RUN(&H, enterleave);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], STACK_TOP - 8);
	ck_assert_uint_eq(H.c->gpr[CPU_RBP], 0x30800);
	ck_assert_uint_eq(H.c->gpr[CPU_RSP], STACK_TOP);
}
END_TEST

/* mov eax,0x50; bsf ecx,eax; bsr edx,eax; popcnt esi,eax; tzcnt edi,eax; lzcnt r8d,eax; int3 */
static const uint8_t bits[] = { 0xb8, 0x50, 0x00, 0x00, 0x00, 0x0f, 0xbc, 0xc8, 0x0f, 0xbd, 0xd0, 0xf3,
	0x0f, 0xb8, 0xf0, 0xf3, 0x0f, 0xbc, 0xf8, 0xf3, 0x44, 0x0f, 0xbd, 0xc0, 0xcc };
/* mov rdi,0x20000; mov dword [rdi+4],0; mov eax,35; bts [rdi],eax; int3 */
static const uint8_t bts[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0xc7, 0x47, 0x04, 0x00, 0x00,
	0x00, 0x00, 0xb8, 0x23, 0x00, 0x00, 0x00, 0x0f, 0xab, 0x07, 0xcc };
/* mov eax,0x12345678; mov edx,0x9abcdef0; shld eax,edx,8; int3 */
static const uint8_t shld[] = { 0xb8, 0x78, 0x56, 0x34, 0x12, 0xba, 0xf0, 0xde, 0xbc, 0x9a, 0x0f, 0xa4,
	0xd0, 0x08, 0xcc };
START_TEST(bit_instructions)
{
	RUN(&H, bits);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 4);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 6);
	ck_assert_uint_eq(H.c->gpr[CPU_RSI], 2);
	ck_assert_uint_eq(H.c->gpr[CPU_RDI], 4);
	ck_assert_uint_eq(H.c->gpr[CPU_R8], 25);
	RUN(&H, bts);
	ck_assert_uint_eq(h_peek(&H, DATA + 4, 4), 8);
	ck_assert_uint_eq(H.c->rflags & FL_CF, 0);
	RUN(&H, shld);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 0x3456789au);
}
END_TEST

/* mov eax,3; cmp eax,5; setl bl; setg cl; mov edx,9; cmovl edx,eax; int3 */
static const uint8_t setcc[] = { 0xb8, 0x03, 0x00, 0x00, 0x00, 0x83, 0xf8, 0x05, 0x0f, 0x9c, 0xc3, 0x0f,
	0x9f, 0xc1, 0xba, 0x09, 0x00, 0x00, 0x00, 0x0f, 0x4c, 0xd0, 0xcc };
/* mov eax,0x80; movsx ebx,al; movzx ecx,al; movsxd rdx,ebx; int3 */
static const uint8_t movsx[] = { 0xb8, 0x80, 0x00, 0x00, 0x00, 0x0f, 0xbe, 0xd8, 0x0f, 0xb6, 0xc8, 0x48,
	0x63, 0xd3, 0xcc };
/* mov ecx,5; xor eax,eax; l: add eax,2; loop l; int3 */
static const uint8_t loop[] = { 0xb9, 0x05, 0x00, 0x00, 0x00, 0x31, 0xc0, 0x83, 0xc0, 0x02, 0xe2, 0xfb, 0xcc };
START_TEST(conditions_and_extension)
{
	H.c->gpr[CPU_RBX] = H.c->gpr[CPU_RCX] = 0xff;
	RUN(&H, setcc);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], 1);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 3);
	RUN(&H, movsx);
	ck_assert_uint_eq(H.c->gpr[CPU_RBX], 0xffffff80u);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0x80);
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 0xffffffffffffff80ull);
	RUN(&H, loop);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 10);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0);
}
END_TEST

/* rdtsc; int3 */
static const uint8_t rdtsc[] = { 0x0f, 0x31, 0xcc };
START_TEST(rdtsc_follows_simulated_time)
{
	H.sim.now = 1 * SIM_US;
	RUN(&H, rdtsc);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 2000);     /* 1 us at 2 GHz */
	ck_assert_uint_eq(H.c->gpr[CPU_RDX], 0);
	ck_assert_uint_eq(H.sim.now, 1 * SIM_US + 2 * H.c->ps_per_insn);     /* rdtsc and int3 */
}
END_TEST

struct hook_log {
	int flush, fence[6], nt;
	uint64_t flush_pa;
};

static void log_flush(void *ctx, uint64_t pa, int kind)
{
	struct hook_log *l = ctx;
	l->flush++;
	l->flush_pa = pa;
}

static void log_fence(void *ctx, int kind)
{
	struct hook_log *l = ctx;
	l->fence[kind]++;
}

/* mov rdi,0x20000; sfence; lfence; mfence; clflush [rdi]; lock inc dword [rdi]; int3 */
static const uint8_t fences[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x02, 0x00, 0x0f, 0xae, 0xf8, 0x0f, 0xae,
	0xe8, 0x0f, 0xae, 0xf0, 0x0f, 0xae, 0x3f, 0xf0, 0xff, 0x07, 0xcc };
START_TEST(memory_hooks)
{
	struct hook_log log = { 0 };
	struct cpu_mem_hooks hooks = { .flush = log_flush, .fence = log_fence, .ctx = &log };
	H.c->hooks = &hooks;
	H.c->gpr[CPU_RDI] = 0;
	RUN(&H, fences);
	ck_assert_int_eq(log.flush, 1);
	ck_assert_uint_eq(log.flush_pa, DATA);
	ck_assert_int_eq(log.fence[CPU_FENCE_SFENCE], 1);
	ck_assert_int_eq(log.fence[CPU_FENCE_LFENCE], 1);
	ck_assert_int_eq(log.fence[CPU_FENCE_MFENCE], 1);
	ck_assert_int_eq(log.fence[CPU_FENCE_LOCKED], 1);
	ck_assert_uint_eq(h_peek(&H, DATA, 4), 1);
	RUN(&H, cpuid0);
	ck_assert_int_eq(log.fence[CPU_FENCE_SERIALIZE], 1);
}
END_TEST

/* mov rdi,0x100000; mov ecx,0x30000; mov al,0x5a; rep stosb; int3 */
static const uint8_t bigstos[] = { 0x48, 0xc7, 0xc7, 0x00, 0x00, 0x10, 0x00, 0xb9, 0x00, 0x00, 0x03, 0x00,
	0xb0, 0x5a, 0xf3, 0xaa, 0xcc };
START_TEST(long_rep_retires_in_chunks)
{
	ck_assert_int_eq(bus_add_ram(&H.bus, "big", 0x100000, 0x40000, BUS_R | BUS_W), 0);
	h_load(&H, bigstos, sizeof bigstos);
	ck_assert_int_eq(cpu_run(H.c, 4), CPU_EXIT_BUDGET);     /* 3 movs, one chunk */
	ck_assert_uint_eq(H.c->rip, CODE + 14);                 /* still at the rep stosb */
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0x30000 - CPU_REP_CHUNK);
	ck_assert_uint_eq(H.c->gpr[CPU_RDI], 0x100000 + CPU_REP_CHUNK);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_BP);
	ck_assert_uint_eq(H.c->gpr[CPU_RCX], 0);
	ck_assert_uint_eq(h_peek(&H, 0x100000, 8), 0x5a5a5a5a5a5a5a5aull);
	ck_assert_uint_eq(h_peek(&H, 0x12fff8, 8), 0x5a5a5a5a5a5a5a5aull);
	ck_assert_uint_eq(h_peek(&H, 0x130000, 1), 0);
	ck_assert_uint_eq(H.sim.insns, 3 + 3 + 1);      /* 3 chunks of rep stosb */
}
END_TEST

START_TEST(map_change_flushes_caches)
{
	RUN(&H, mov1);                  /* decoded, TLB filled */
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 1);
	ck_assert_int_eq(bus_protect(&H.bus, CODE, 0x1000, BUS_R | BUS_W), 0);
	h_load(&H, mov1, sizeof mov1);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_PF);
	ck_assert_uint_eq(H.c->exc_error, CPU_PF_P | CPU_PF_U | CPU_PF_I);
	ck_assert_int_eq(bus_protect(&H.bus, CODE, 0x1000, BUS_RWX), 0);
	RUN(&H, cross);                 /* DATA's page now in the TLB */
	ck_assert_int_eq(bus_remove(&H.bus, DATA, 0x1000), 0);
	/* cross stores to DATA+0xffe, which the TLB had cached as RAM */
	h_load(&H, cross, sizeof cross);
	ck_assert_int_eq(h_go(&H), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_PF);
	ck_assert_uint_eq(H.c->cr2, DATA + 0xffe);
	ck_assert_uint_eq(H.c->exc_error, CPU_PF_W | CPU_PF_U);
}
END_TEST

START_TEST(budget_counts_instructions)
{
	RUN(&H, loop);          /* warm */
	h_load(&H, loop, sizeof loop);
	ck_assert_int_eq(cpu_run(H.c, 1), CPU_EXIT_BUDGET);
	ck_assert_uint_eq(H.c->rip, CODE + 5);
	ck_assert_int_eq(cpu_run(H.c, 2), CPU_EXIT_BUDGET);
	ck_assert_uint_eq(H.c->rip, CODE + 10);
	ck_assert_uint_eq(H.c->gpr[CPU_RAX], 2);
	cpu_request_exit(H.c);
	ck_assert_int_eq(cpu_run(H.c, 100), CPU_EXIT_STOP);
	ck_assert_uint_eq(H.c->rip, CODE + 10);
}
END_TEST

struct seen_stores {
	int n;
	uint64_t pa;
	unsigned len;
};

static void record_store(void *ctx, uint64_t pa, unsigned len)
{
	struct seen_stores *seen = ctx;
	seen->n++, seen->pa = pa, seen->len = len;
}

START_TEST(store_hook_sees_guest_stores)
{
	/* The xadd snippet stores to DATA, now a store-hooked region. */
	struct seen_stores seen = { 0 };
	ck_assert_int_eq(bus_set_store_hook(&H.bus, DATA, record_store, &seen), 0);
	RUN(&H, xadd);
	ck_assert_int_ge(seen.n, 2);    /* mov dword [rdi], 10 and the xadd */
	ck_assert_uint_eq(seen.pa, DATA);
	ck_assert_uint_eq(seen.len, 4);
	ck_assert_uint_eq(h_peek(&H, DATA, 4), 15);
}
END_TEST

Suite *cpu_sse_suite(void);

/* Non-canonical addresses (SDM Vol. 3 6.15): #SS(0) through SS (implicit
 * stack accesses, explicit operands based on rsp/rbp without an fs/gs
 * override), #GP(0) otherwise; checked against the host in tests/diff. */
#define NC 0x8000000000000000ull
static const struct {
	const char *name;
	uint8_t code[8];
	unsigned len;
	unsigned reg;           /* made non-canonical */
	unsigned vector;
} noncanon_cases[] = {
	{ "mov rax,[rsp]", { 0x48, 0x8b, 0x04, 0x24 }, 4, CPU_RSP, CPU_EXC_SS },
	{ "mov [rbp+8],rax", { 0x48, 0x89, 0x45, 0x08 }, 4, CPU_RBP, CPU_EXC_SS },
	{ "ds: mov rax,[rbp]", { 0x3e, 0x48, 0x8b, 0x45, 0x00 }, 5, CPU_RBP, CPU_EXC_SS },
	{ "add [rbp+rbx],eax", { 0x01, 0x44, 0x1d, 0x00 }, 4, CPU_RBP, CPU_EXC_SS },
	{ "mov rax,[rax]", { 0x48, 0x8b, 0x00 }, 3, CPU_RAX, CPU_EXC_GP },
	{ "fs: mov rax,[rbp]", { 0x64, 0x48, 0x8b, 0x45, 0x00 }, 5, CPU_RBP, CPU_EXC_GP },
	{ "gs: mov [rsp],eax", { 0x65, 0x89, 0x04, 0x24 }, 4, CPU_RSP, CPU_EXC_GP },
	{ "ss: mov rax,[rbx]", { 0x36, 0x48, 0x8b, 0x03 }, 4, CPU_RBX, CPU_EXC_GP },
	{ "mov rax,[r13]", { 0x49, 0x8b, 0x45, 0x00 }, 4, CPU_R13, CPU_EXC_GP },
	{ "mov rax,[r12]", { 0x49, 0x8b, 0x04, 0x24 }, 4, CPU_R12, CPU_EXC_GP },
	{ "mov rax,[rbx+rbp]", { 0x48, 0x8b, 0x04, 0x2b }, 4, CPU_RBP, CPU_EXC_GP },
	{ "push rax", { 0x50 }, 1, CPU_RSP, CPU_EXC_SS },
	{ "pop rax", { 0x58 }, 1, CPU_RSP, CPU_EXC_SS },
	{ "pushfq", { 0x9c }, 1, CPU_RSP, CPU_EXC_SS },
	{ "call .+5", { 0xe8, 0, 0, 0, 0 }, 5, CPU_RSP, CPU_EXC_SS },
	{ "ret", { 0xc3 }, 1, CPU_RSP, CPU_EXC_SS },
	{ "leave", { 0xc9 }, 1, CPU_RBP, CPU_EXC_SS },
	{ "enter 8,0", { 0xc8, 8, 0, 0 }, 4, CPU_RSP, CPU_EXC_SS },
	{ "push qword [rax]", { 0xff, 0x30 }, 2, CPU_RAX, CPU_EXC_GP },
	{ "pop qword [rax]", { 0x8f, 0x00 }, 2, CPU_RAX, CPU_EXC_GP },
	{ "push qword [rbp]", { 0xff, 0x75, 0x00 }, 3, CPU_RBP, CPU_EXC_SS },
	{ "call [rax]", { 0xff, 0x10 }, 2, CPU_RAX, CPU_EXC_GP },
	{ "fld qword [rbp]", { 0xdd, 0x45, 0x00 }, 3, CPU_RBP, CPU_EXC_SS },
	{ "movdqu xmm0,[rsp]", { 0xf3, 0x0f, 0x6f, 0x04, 0x24 }, 5, CPU_RSP, CPU_EXC_SS },
};

START_TEST(noncanonical_stack_segment)
{
	for (unsigned k = 0; k < sizeof noncanon_cases / sizeof noncanon_cases[0]; k++) {
		h_load(&H, noncanon_cases[k].code, noncanon_cases[k].len);
		for (unsigned r = 0; r < 16; r++)
			H.c->gpr[r] = r == CPU_RSP ? STACK_TOP - 64 : DATA + 0x100;
		H.c->gpr[noncanon_cases[k].reg] = NC;
		H.c->fs_base = H.c->gs_base = 0;
		H.c->exc_error = 0xdead;
		ck_assert_int_eq(cpu_run(H.c, 1), CPU_EXIT_EXCEPTION);
		ck_assert_msg(H.c->exc_vector == noncanon_cases[k].vector, "%s: vector %u, want %u",
			      noncanon_cases[k].name, H.c->exc_vector, noncanon_cases[k].vector);
		ck_assert_uint_eq(H.c->exc_error, 0);
		ck_assert_uint_eq(H.c->rip, CODE);              /* a fault: nothing retired */
		ck_assert_uint_eq(H.c->gpr[CPU_RSP], noncanon_cases[k].reg == CPU_RSP ? NC : STACK_TOP - 64);
		ck_assert(!H.c->stack_acc);
	}
	/* With a canonical rsp again, a non-canonical operand elsewhere is
	 * #GP: the stack flag did not stick. */
	static const uint8_t ld[] = { 0x48, 0x8b, 0x03 };       /* mov rax,[rbx] */
	h_load(&H, ld, sizeof ld);
	H.c->gpr[CPU_RSP] = STACK_TOP;
	H.c->gpr[CPU_RBX] = NC;
	ck_assert_int_eq(cpu_run(H.c, 1), CPU_EXIT_EXCEPTION);
	ck_assert_int_eq(H.c->exc_vector, CPU_EXC_GP);
}
END_TEST

static Suite *cpu_suite(void)
{
	Suite *s = suite_create("cpu");
	TCase *t = tcase_create("integer");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, add_signed_overflow);
	tcase_add_test(t, add_carry_zero);
	tcase_add_test(t, sub_borrow_flags);
	tcase_add_test(t, adc_carry_in);
	tcase_add_test(t, sbb_borrow_in);
	tcase_add_test(t, inc_preserves_cf);
	tcase_add_test(t, partial_register_writes);
	tcase_add_test(t, shifts_by_0_1_n);
	tcase_add_test(t, rotates);
	tcase_add_test(t, divide_error);
	tcase_add_test(t, multiply);
	tcase_add_test(t, string_ops);
	tcase_add_test(t, rep_fault_leaves_progress);
	tcase_add_test(t, cmpxchg16b_success_and_failure);
	tcase_add_test(t, lock_xadd);
	tcase_add_test(t, cpuid_consistency);
	tcase_add_test(t, cpuid_instruction);
	tcase_add_test(t, cpuid_matches_implementation);
	tcase_add_test(t, self_modifying_code);
	tcase_add_test(t, smc_in_page_crossing_instruction);
	tcase_add_test(t, decode_once_per_address);
	tcase_add_test(t, page_crossing_access);
	tcase_add_test(t, fetch_permission);
	tcase_add_test(t, undefined_opcodes);
	tcase_add_test(t, syscall_exits);
	tcase_add_test(t, stack_ops);
	tcase_add_test(t, bit_instructions);
	tcase_add_test(t, conditions_and_extension);
	tcase_add_test(t, rdtsc_follows_simulated_time);
	tcase_add_test(t, memory_hooks);
	tcase_add_test(t, budget_counts_instructions);
	tcase_add_test(t, long_rep_retires_in_chunks);
	tcase_add_test(t, map_change_flushes_caches);
	tcase_add_test(t, store_hook_sees_guest_stores);
	tcase_add_test(t, noncanonical_stack_segment);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *r = srunner_create(cpu_suite());
	srunner_add_suite(r, cpu_sse_suite());
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
