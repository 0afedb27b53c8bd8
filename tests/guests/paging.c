/* tests/guests/paging.c: 4-level paging: #PF error codes and CR2,
 * accessed and dirty bits, CR0.WP, NX, reserved bits, INVLPG and CR3
 * reloads, 1 GiB pages when CPUID has them. */
#include "tests/guests/lib.h"

#define P 1ull
#define RW 2ull
#define US 4ull
#define A (1ull << 5)
#define D (1ull << 6)
#define PS (1ull << 7)
#define NX (1ull << 63)

#define BASE 0x8000000000ull    /* PML4[1]: our test window */

static uint64_t *pt;
static uint8_t *frames[8];

static volatile uint8_t *va(int n)
{
	return (volatile uint8_t *)(BASE + 4096ull * n);
}

static void map(int n, uint64_t flags)
{
	pt[n] = (uint64_t)frames[n] | flags;
	invlpg(va(n));
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("paging: 4-level paging, #PF, A/D bits\n");
	uint64_t *pdpt = tk_page_alloc(), *pd = tk_page_alloc();
	pt = tk_page_alloc();
	for (int k = 0; k < 8; k++)
		frames[k] = tk_page_alloc();
	tk_pml4[1] = (uint64_t)pdpt | P | RW | US;
	pdpt[0] = (uint64_t)pd | P | RW | US;
	pd[0] = (uint64_t)pt | P | RW | US;
	write_cr3(read_cr3());

	/* Accessed and dirty bits. */
	map(0, P | RW);
	frames[0][0] = 0x5A;
	uint8_t x = va(0)[0];
	tk_check("read through the mapping", x == 0x5A);
	tk_check("read sets A, not D", (pt[0] & (A | D)) == A);
	tk_check("walk sets A in the PDE and PDPTE", (pd[0] & A) && (pdpt[0] & A) && (tk_pml4[1] & A));
	va(0)[1] = 1;
	tk_check("write sets D", (pt[0] & (A | D)) == (A | D));
	pt[0] &= ~(A | D);
	invlpg(va(0));
	va(0)[2] = 2;
	tk_check("write after invlpg sets A and D again", (pt[0] & (A | D)) == (A | D));

	/* Not present. */
	map(1, 0);
	tk_expect(14);
	TK_TRY("movb (%0), %%al", : "r"(va(1) + 3) : "rax");
	tk_check_exc("read not present", 14, 0);
	tk_check("cr2", tk_got_cr2 == (uint64_t)(va(1) + 3));
	tk_expect(14);
	TK_TRY("movb $1, (%0)", : "r"(va(1) + 5));
	tk_check_exc("write not present", 14, 2);
	tk_check("cr2", tk_got_cr2 == (uint64_t)(va(1) + 5));

	/* Read-only: faults at CPL 0 only with CR0.WP. */
	map(2, P);
	write_cr0(read_cr0() | (1ull << 16));
	tk_expect(14);
	TK_TRY("movb $1, (%0)", : "r"(va(2)));
	tk_check_exc("write read-only, wp=1", 14, 3);
	tk_check("no D on a faulting write", !(pt[2] & D));
	write_cr0(read_cr0() & ~(1ull << 16));
	va(2)[0] = 7;
	tk_check("write read-only, wp=0", frames[2][0] == 7 && (pt[2] & D));
	write_cr0(read_cr0() | (1ull << 16));

	/* A read-only PDE makes the whole range read-only. */
	map(3, P | RW);
	pd[0] &= ~RW;
	write_cr3(read_cr3());
	tk_expect(14);
	TK_TRY("movb $1, (%0)", : "r"(va(3)));
	tk_check_exc("write under a read-only PDE", 14, 3);
	pd[0] |= RW;
	write_cr3(read_cr3());

	/* NX. */
	wrmsr(0xC0000080, rdmsr(0xC0000080) | (1ull << 11));
	frames[4][0] = 0xC3;    /* ret */
	map(4, P | RW | NX);
	tk_expect(14);
	__asm__ volatile("leaq 1f(%%rip), %%r11; movq %%r11, tk_resume(%%rip); movq %%rsp, %%r10;"
			 "call *%0; 1: movq %%r10, %%rsp" :: "r"(va(4)) : "r10", "r11", "memory");
	tk_check_exc("fetch from an NX page", 14, 0x11);
	tk_check("cr2 = fetch address", tk_got_cr2 == (uint64_t)va(4));
	map(4, P | RW);
	uint64_t called = 0;
	__asm__ volatile("call *%1; movq $1, %0" : "=r"(called) : "r"(va(4)) : "memory");
	tk_check("fetch from an executable page", called == 1);

	/* Reserved bit (above MAXPHYADDR 40): P=1 RSVD=1. */
	pt[5] = (uint64_t)frames[5] | P | RW | (1ull << 51);
	invlpg(va(5));
	tk_expect(14);
	TK_TRY("movb (%0), %%al", : "r"(va(5)) : "rax");
	tk_sdm("reserved bit: error 0x9", tk_got_vector == 14 && tk_got_error == 9);

	/* Remapping takes effect after invlpg and after a CR3 write. */
	map(6, P | RW);
	frames[6][0] = 0x66;
	frames[7][0] = 0x77;
	x = va(6)[0];
	pt[6] = (uint64_t)frames[7] | P | RW;
	invlpg(va(6));
	tk_check("invlpg", va(6)[0] == 0x77);
	pt[6] = (uint64_t)frames[6] | P | RW;
	write_cr3(read_cr3());
	tk_check("cr3 reload", va(6)[0] == 0x66);

	/* Non-canonical: #GP(0), not #PF. */
	tk_expect(13);
	TK_TRY("movq (%0), %%rax", : "r"(0x0000800000000000ull) : "rax");
	tk_check_exc("non-canonical read", 13, 0);

	/* 1 GiB pages, where CPUID says so. */
	uint32_t r[4];
	cpuid(0x80000001u, 0, r);
	if (r[3] & (1u << 26)) {
		pdpt[1] = 0 | P | RW | PS;      /* 0x8040000000 -> physical 0 */
		write_cr3(read_cr3());
		volatile uint8_t *p = (volatile uint8_t *)(BASE + (1ull << 30) + (uint64_t)frames[0]);
		tk_sdm("1 GiB page", p[0] == frames[0][0]);
	} else {
		tk_printf("SDM 1 GiB page: not advertised by CPUID\n");
	}
	return 0;
}
