/* persist/digest.c: hash64, page hashes and the object-space digest
 * (the definitions are in digest.h). */
#include <stdbool.h>
#include "persist/digest.h"

#define P1 0x9E3779B185EBCA87ull        /* the xxHash64 primes */
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static inline uint64_t round64(uint64_t acc, uint64_t w)
{
	return rotl(acc + w * P2, 31) * P1;
}

static uint64_t avalanche(uint64_t h)
{
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

uint64_t hash64(const void *p, size_t n)
{
	const uint64_t *w = p;
	uint64_t acc = P3 + n * P1;
	for (size_t i = 0; i < n / 8; i++)
		acc = round64(acc, w[i]);
	return avalanche(acc);
}

/* sums[0..7] = a[0..7], sums[8..15] = b[0..7]: the lane sums of digest.h. */
static uint64_t page_fold(const uint64_t sums[16])
{
	uint64_t acc = P3 + 4096 * P1;
	for (int k = 0; k < 16; k++)
		acc = round64(acc, sums[k]);
	return avalanche(acc);
}

uint64_t page_hash(const void *page)
{
	const uint64_t *w = page;
	uint64_t s[16] = {0};
	for (int line = 0; line < 64; line++, w += 8) {
		for (int l = 0; l < 8; l++)
			s[l] += w[l];
		if (line % 4 == 3)
			for (int l = 0; l < 8; l++)
				s[8 + l] += s[l];
	}
	return page_fold(s);
}

/* The SSE2 loop behind the pmem store's page writes: n blocks of 256
 * bytes (four lines, one Optane XPLine; b[] is updated once per block),
 * with the sums carried in and out through sums[16] (a[] then b[]).
 * xmm4-7 hold a[] (two lanes each), xmm8-11 b[].
 * The kernel is compiled without SSE (-mgeneral-regs-only), so nothing
 * else lives in the xmm registers and interrupts need not save them;
 * cpu_init enables SSE (CR4.OSFXSR) for loops like this one.
 *   void copy_sum_nt(void *dst, const void *src, uint64_t sums[16], uint64_t n);
 *   copy_sum_wb: the same with cached stores (movdqa). */
#define LINE4(store, off)                                                       \
	"	movdqa " off "(%rsi), %xmm0\n	movdqa " off "+16(%rsi), %xmm1\n" \
	"	movdqa " off "+32(%rsi), %xmm2\n	movdqa " off "+48(%rsi), %xmm3\n" \
	"	" store " %xmm0, " off "(%rdi)\n	" store " %xmm1, " off "+16(%rdi)\n" \
	"	" store " %xmm2, " off "+32(%rdi)\n	" store " %xmm3, " off "+48(%rdi)\n" \
	"	paddq %xmm0, %xmm4\n	paddq %xmm1, %xmm5\n"                   \
	"	paddq %xmm2, %xmm6\n	paddq %xmm3, %xmm7\n"
#define COPY_SUM(name, store)                                                   \
	"	.text\n"                                                        \
	"	.globl " name "\n"                                              \
	"	.type " name ", @function\n"                                    \
	name ":\n"                                                              \
	"	movdqu (%rdx), %xmm4\n	movdqu 16(%rdx), %xmm5\n"             \
	"	movdqu 32(%rdx), %xmm6\n	movdqu 48(%rdx), %xmm7\n"         \
	"	movdqu 64(%rdx), %xmm8\n	movdqu 80(%rdx), %xmm9\n"         \
	"	movdqu 96(%rdx), %xmm10\n	movdqu 112(%rdx), %xmm11\n"       \
	"1:\n"                                                                  \
	LINE4(store, "0") LINE4(store, "64") LINE4(store, "128") LINE4(store, "192") \
	"	paddq %xmm4, %xmm8\n	paddq %xmm5, %xmm9\n"                   \
	"	paddq %xmm6, %xmm10\n	paddq %xmm7, %xmm11\n"                  \
	"	addq $256, %rsi\n	addq $256, %rdi\n"                      \
	"	decq %rcx\n	jnz 1b\n"                                       \
	"	movdqu %xmm4, (%rdx)\n	movdqu %xmm5, 16(%rdx)\n"             \
	"	movdqu %xmm6, 32(%rdx)\n	movdqu %xmm7, 48(%rdx)\n"         \
	"	movdqu %xmm8, 64(%rdx)\n	movdqu %xmm9, 80(%rdx)\n"         \
	"	movdqu %xmm10, 96(%rdx)\n	movdqu %xmm11, 112(%rdx)\n"       \
	"	ret\n"                                                          \
	"	.size " name ", . - " name "\n"

__asm__(COPY_SUM("copy_sum_nt", "movntdq") COPY_SUM("copy_sum_wb", "movdqa"));

/* The sums alone, for a page that is not being copied (frames=pm hashes
 * pages the workload wrote in place):
 *   void sum_blocks(const void *src, uint64_t sums[16], uint64_t n);  (rdi, rsi, rdx) */
#define SUM_LINE4(off)                                                          \
	"	movdqa " off "(%rdi), %xmm0\n	movdqa " off "+16(%rdi), %xmm1\n" \
	"	movdqa " off "+32(%rdi), %xmm2\n	movdqa " off "+48(%rdi), %xmm3\n" \
	"	paddq %xmm0, %xmm4\n	paddq %xmm1, %xmm5\n"                   \
	"	paddq %xmm2, %xmm6\n	paddq %xmm3, %xmm7\n"
__asm__("	.text\n"
	"	.globl sum_blocks\n"
	"	.type sum_blocks, @function\n"
	"sum_blocks:\n"
	"	movdqu (%rsi), %xmm4\n	movdqu 16(%rsi), %xmm5\n"
	"	movdqu 32(%rsi), %xmm6\n	movdqu 48(%rsi), %xmm7\n"
	"	movdqu 64(%rsi), %xmm8\n	movdqu 80(%rsi), %xmm9\n"
	"	movdqu 96(%rsi), %xmm10\n	movdqu 112(%rsi), %xmm11\n"
	"1:\n"
	SUM_LINE4("0") SUM_LINE4("64") SUM_LINE4("128") SUM_LINE4("192")
	"	paddq %xmm4, %xmm8\n	paddq %xmm5, %xmm9\n"
	"	paddq %xmm6, %xmm10\n	paddq %xmm7, %xmm11\n"
	"	addq $256, %rdi\n"
	"	decq %rdx\n	jnz 1b\n"
	"	movdqu %xmm4, (%rsi)\n	movdqu %xmm5, 16(%rsi)\n"
	"	movdqu %xmm6, 32(%rsi)\n	movdqu %xmm7, 48(%rsi)\n"
	"	movdqu %xmm8, 64(%rsi)\n	movdqu %xmm9, 80(%rsi)\n"
	"	movdqu %xmm10, 96(%rsi)\n	movdqu %xmm11, 112(%rsi)\n"
	"	ret\n"
	"	.size sum_blocks, . - sum_blocks\n");

uint64_t page_sums_fold(const uint64_t sums[16])
{
	return page_fold(sums);
}

/* The hash of an all-zero page: its sums are all zero. */
static uint64_t zero_page_hash(void)
{
	static const uint64_t zero_sums[16];
	static uint64_t h;
	static bool known;
	if (!known) {
		h = page_fold(zero_sums);
		known = true;
	}
	return h;
}

/* Zero pages contribute nothing, so recovery and first boot sum only the
 * pages that hold data instead of mixing a term for each of the space's
 * 16 K pages. */
uint64_t digest_term(uint64_t index, uint64_t h)
{
	if (h == zero_page_hash())
		return 0;
	return avalanche(h ^ (index * P1 + P2));
}

uint64_t digest_space(const uint64_t *page_hashes, uint64_t n)
{
	uint64_t d = 0, z = zero_page_hash();
	for (uint64_t i = 0; i < n; i++)
		if (page_hashes[i] != z)
			d += avalanche(page_hashes[i] ^ (i * P1 + P2));
	return d;
}
