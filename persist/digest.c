/* persist/digest.c: hash64, page hashes and the object-space digest. */
#include "persist/digest.h"

#define P1 0x9E3779B185EBCA87ull        /* the xxHash64 primes */
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull

static inline uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
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
		acc = rotl(acc + w[i] * P2, 31) * P1;
	return avalanche(acc);
}

uint64_t page_hash(const void *page)
{
	return hash64(page, 4096);
}

uint64_t digest_fold(const uint64_t *page_hashes, uint64_t npages)
{
	return hash64(page_hashes, npages * 8);
}
