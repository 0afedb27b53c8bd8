/* tests/guests/bench.c: a CPU-bound kernel for bench/cpu-boot (not a
 * test).  Integer work typical of the guest (hashing, table updates,
 * branches, calls) over a 1 MiB table, then a digest on COM1.  "n=K" on
 * the command line sets the rounds (default 64). */
#include "tests/guests/lib.h"

static uint64_t table[131072];

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

static unsigned arg_n(const char *s)
{
	for (; *s; s++) {
		if (s[0] == 'n' && s[1] == '=') {
			unsigned v = 0;
			for (s += 2; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (unsigned)(*s - '0');
			return v;
		}
	}
	return 64;
}

int tk_main(const char *cmdline)
{
	unsigned rounds = arg_n(cmdline);
	uint64_t h = 1;
	for (unsigned r = 0; r < rounds; r++) {
		for (unsigned k = 0; k < 131072; k++) {
			uint64_t v = table[k] + mix(h + k);
			if (v & 1)
				h ^= v;
			else
				h += v >> 3;
			table[k] = v;
			table[(k * 7) & 131071] ^= h;
		}
	}
	tk_printf("bench: rounds %u digest %lx\n", rounds, h);
	return 0;
}
