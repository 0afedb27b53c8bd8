/* tests/user/progs/intmath.c: integer arithmetic the CPU must get exactly
 * right: widths, signedness, division, 128-bit products, bit operations,
 * overflow checks.  Prints results and a running hash. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

static uint64_t hash = 0xcbf29ce484222325ULL;

static void mix(uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		hash ^= (v >> (8 * i)) & 0xff;
		hash *= 0x100000001b3ULL;
	}
}

int main(void)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint64_t y = x | 1;
		int64_t sx = (int64_t)x, sy = (int64_t)(y >> (i & 31)) | 1;
		mix(x / y);
		mix(x % y);
		mix((uint64_t)(sx / sy));
		mix((uint64_t)(sx % sy));
		mix((uint32_t)x / ((uint32_t)y | 1));
		mix((uint64_t)((int32_t)x / ((int32_t)(y >> 3) | 1)));
		mix((uint16_t)x * (uint16_t)y);
		mix((uint8_t)x + (int8_t)y);
		unsigned __int128 p = (unsigned __int128)x * y;
		mix((uint64_t)p);
		mix((uint64_t)(p >> 64));
		__int128 q = (__int128)sx * sy;
		mix((uint64_t)(q >> 64));
		mix((uint64_t)__builtin_popcountll(x));
		mix((uint64_t)__builtin_clzll(y));
		mix((uint64_t)__builtin_ctzll(y));
		mix(__builtin_bswap64(x));
		mix(x >> (i & 63));
		mix((uint64_t)(sx >> (i & 63)));
		mix((x << (i & 63)) | (x >> ((64 - i) & 63)));
		uint64_t r;
		mix(__builtin_add_overflow(x, y, &r));
		mix(r);
		mix(__builtin_mul_overflow(sx, sy, (int64_t *)&r));
		mix(r);
		mix(x > y ? 1 : 0);
		mix(sx < sy ? 1 : 0);
	}
	printf("hash %016" PRIx64 "\n", hash);
	printf("%d %u %ld %lu %lld %llu\n", -12345, 4000000000u, -9000000000000000000L,
	       18000000000000000000UL, -1LL, ~0ULL);
	printf("%x %o %#x %08X %+d % d\n", 0xdeadbeef, 0777, 255, 0xabc, 5, 7);
	printf("%" PRIu64 " %" PRId64 "\n", (uint64_t)1 << 63, INT64_MIN);
	return (int)(hash & 0x3f);
}
