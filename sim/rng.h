/* sim/rng.h: the seeded random number generator.
 *
 * xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64.  Every
 * component takes its own stream, derived from the run seed and the
 * component's name, so adding a random draw in one device never shifts the
 * numbers another device sees:
 *
 *     struct rng r;
 *     rng_stream(&r, run_seed, "power.policy");
 *     uint64_t k = rng_below(&r, n_events);
 *
 * This is the only source of randomness on the simulation path.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
void rng_stream(struct rng *r, uint64_t seed, const char *name);
uint64_t rng_next(struct rng *r);
/* Uniform in [0, bound), without modulo bias.  bound must be non-zero. */
uint64_t rng_below(struct rng *r, uint64_t bound);
/* Uniform double in [0, 1). */
double rng_unit(struct rng *r);
void rng_fill(struct rng *r, void *buf, size_t len);

/* 64-bit FNV-1a, also used to name streams and hash configs. */
uint64_t hash_fnv1a(const void *data, size_t len, uint64_t h);
#define HASH_FNV1A_INIT 0xcbf29ce484222325ULL

#endif
