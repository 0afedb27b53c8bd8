/* tests/guests/fxsave.c: fxsave/fxrstor, CR0.TS and #NM, CR4.OSFXSR. */
#include "tests/guests/lib.h"

static uint8_t area[512] __attribute__((aligned(16)));
static uint8_t pattern[16] __attribute__((aligned(16))) = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static uint8_t out[16] __attribute__((aligned(16)));

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("fxsave: fxsave/fxrstor, #NM, OSFXSR\n");
	uint64_t cr0 = read_cr0() & ~(1ull << 2);       /* EM off */
	write_cr0(cr0 | 2);                             /* MP */
	write_cr4(read_cr4() & ~(1ull << 9));
	tk_expect(6);
	TK_TRY("movdqu (%0), %%xmm0", : "r"(pattern));
	tk_check_exc("sse without OSFXSR", 6, 0);
	write_cr4(read_cr4() | (1ull << 9) | (1ull << 10));
	__asm__ volatile("fninit; movdqu (%0), %%xmm3" :: "r"(pattern) : "memory");
	write_cr0(read_cr0() | 8);                      /* TS */
	tk_expect(7);
	TK_TRY("fxsave (%0)", : "r"(area));
	tk_check_exc("fxsave with TS", 7, 0);
	tk_expect(7);
	TK_TRY("movdqu %%xmm3, (%0)", : "r"(out));
	tk_check_exc("sse with TS", 7, 0);
	tk_expect(7);
	TK_TRY("fld1");
	tk_check_exc("x87 with TS", 7, 0);
	__asm__ volatile("clts");
	__asm__ volatile("fxsave (%0)" :: "r"(area) : "memory");
	uint16_t fcw = area[0] | area[1] << 8;
	uint32_t mxcsr = area[24] | area[25] << 8 | area[26] << 16 | (uint32_t)area[27] << 24;
	tk_check("fxsave fcw 0x37f", fcw == 0x37F);
	tk_check("fxsave mxcsr 0x1f80", mxcsr == 0x1F80);
	bool same = true;
	for (int k = 0; k < 16; k++)
		same &= area[160 + 3 * 16 + k] == pattern[k];
	tk_check("fxsave xmm3", same);
	for (int k = 0; k < 16; k++)
		area[160 + 5 * 16 + k] = (uint8_t)(0xA0 + k);
	area[24] = 0x80;        /* MXCSR 0x1f80 -> 0x1f80 with RC changed below */
	area[25] = 0x7F;        /* RC = 11b */
	__asm__ volatile("fxrstor (%0); movdqu %%xmm5, (%1)" :: "r"(area), "r"(out) : "memory");
	same = true;
	for (int k = 0; k < 16; k++)
		same &= out[k] == 0xA0 + k;
	tk_check("fxrstor xmm5", same);
	uint32_t m;
	__asm__ volatile("stmxcsr %0" : "=m"(m));
	tk_check("fxrstor mxcsr", m == 0x7F80);
	area[26] = 0x01;        /* reserved MXCSR bit 16 */
	tk_expect(13);
	TK_TRY("fxrstor (%0)", : "r"(area));
	tk_sdm("fxrstor reserved mxcsr bit #GP", tk_got_vector == 13 && tk_got_error == 0);
	tk_expect(13);
	TK_TRY("fxsave (%0)", : "r"(area + 8));
	tk_check_exc("fxsave misaligned", 13, 0);
	return 0;
}
