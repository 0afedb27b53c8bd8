/* tests/user/progs/alloc.c: malloc-heavy: many small blocks, large blocks
 * that the allocator takes with mmap, realloc growth (mremap), calloc
 * zeroing after free, and a checksum over everything written. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 88172645463325252ULL;
static uint64_t next(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

int main(void)
{
	enum { SLOTS = 1024, ROUNDS = 20000 };
	unsigned char **slot = calloc(SLOTS, sizeof *slot);
	size_t *size = calloc(SLOTS, sizeof *size);
	uint64_t sum = 0, bad = 0;	/* sum: of mismatches, must stay 0 */

	for (int r = 0; r < ROUNDS; r++) {
		unsigned k = (unsigned)(next() % SLOTS);
		if (slot[k]) {
			for (size_t i = 0; i < size[k]; i += 61)
				sum += slot[k][i] ^ (unsigned char)(k + i);
			if (next() % 3 == 0) {
				size_t ns = size[k] * 2 + 1;
				unsigned char *p = realloc(slot[k], ns);
				if (!p)
					return 3;
				for (size_t i = 0; i < size[k]; i += 61)
					bad += p[i] != (unsigned char)(k + i);
				memset(p + size[k], 0, ns - size[k]);
				for (size_t i = 0; i < ns; i += 61)
					p[i] = (unsigned char)(k + i);
				slot[k] = p;
				size[k] = ns;
				continue;
			}
			free(slot[k]);
			slot[k] = NULL;
			continue;
		}
		uint64_t kind = next() % 100;
		size_t n = kind < 90 ? 1 + next() % 256 : kind < 99 ? 1 + next() % 65536 : 1 + next() % (1 << 20);
		unsigned char *p = kind % 2 ? calloc(n, 1) : malloc(n);
		if (!p)
			return 2;
		if (kind % 2)
			for (size_t i = 0; i < n; i += 97)
				bad += p[i] != 0;
		for (size_t i = 0; i < n; i += 61)
			p[i] = (unsigned char)(k + i);
		slot[k] = p;
		size[k] = n;
	}
	size_t live = 0;
	for (unsigned k = 0; k < SLOTS; k++) {
		live += size[k] * (slot[k] != NULL);
		free(slot[k]);
	}
	printf("sum %llu bad %llu live %zu\n", (unsigned long long)sum, (unsigned long long)bad, live);
	free(slot);
	free(size);
	return bad != 0;
}
