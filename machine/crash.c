/* machine/crash.c: crash states by policy, and power-failure triggers.
 *
 * The legal crash states of a pending line with versions 0..n are the
 * versions themselves (a line is written back whole, at any moment, and
 * same-line write-backs land in order), and, with tearing, every line
 * whose aligned 8-byte word w comes from some version k_w in 0..n (a torn
 * write-back lands any subset of its words; see docs/crash-model.md for why
 * that set is exactly the word-wise independent choice).  Lines are
 * independent of each other.
 */
#include <stdlib.h>
#include <string.h>
#include "machine/crash.h"
#include "sim/config.h"
#include "sim/rng.h"

#define WORDS (PERSIST_LINE / PERSIST_WORD)

void crash_line(const struct persist *p, const struct pline *pl,
		const struct crash_policy *pol, struct rng *r, uint8_t out[PERSIST_LINE])
{
	switch (pol->policy) {
	case POLICY_LENIENT:
		persist_version(p, pl, pl->nver, out);
		return;
	case POLICY_RANDOM:
		break;
	default:        /* strict */
		persist_version(p, pl, 0, out);
		return;
	}
	if (!pol->tearing) {
		persist_version(p, pl, (unsigned)rng_below(r, pl->nver + 1u), out);
		return;
	}
	/* Versions are rebuilt one after another; each word keeps the value
	 * of the version it chose. */
	unsigned pick[WORDS];
	for (unsigned w = 0; w < WORDS; w++)
		pick[w] = (unsigned)rng_below(r, pl->nver + 1u);
	uint8_t v[PERSIST_LINE];
	for (unsigned k = 0; k <= pl->nver; k++) {
		persist_version(p, pl, k, v);
		for (unsigned w = 0; w < WORDS; w++)
			if (pick[w] == k)
				memcpy(out + w * PERSIST_WORD, v + w * PERSIST_WORD, PERSIST_WORD);
	}
}

struct choose_ctx {
	const struct persist *p;
	const struct crash_policy *pol;
	bool pages;
	struct rng *r;
	/* pages: the coin of each page seen so far (open addressing). */
	uint64_t *keys;
	uint8_t *landed;
	size_t cap, n;
};

/* pages: whether the pending lines of the line's page all land (a coin
 * tossed the first time the page comes up). */
static bool page_lands(struct choose_ctx *c, uint64_t line)
{
	uint64_t page = line / (PERSIST_PAGE / PERSIST_LINE);
	if (2 * (c->n + 1) > c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		uint64_t *k = malloc(cap * sizeof *k);
		uint8_t *l = malloc(cap);
		if (!k || !l)
			abort();
		memset(k, 0xff, cap * sizeof *k);
		for (size_t i = 0; i < c->cap; i++) {
			if (c->keys[i] == UINT64_MAX)
				continue;
			size_t j = (size_t)(c->keys[i] * 0x9e3779b97f4a7c15ull) & (cap - 1);
			while (k[j] != UINT64_MAX)
				j = (j + 1) & (cap - 1);
			k[j] = c->keys[i];
			l[j] = c->landed[i];
		}
		free(c->keys);
		free(c->landed);
		c->keys = k;
		c->landed = l;
		c->cap = cap;
	}
	size_t j = (size_t)(page * 0x9e3779b97f4a7c15ull) & (c->cap - 1);
	while (c->keys[j] != UINT64_MAX && c->keys[j] != page)
		j = (j + 1) & (c->cap - 1);
	if (c->keys[j] == UINT64_MAX) {
		c->keys[j] = page;
		c->landed[j] = (uint8_t)rng_below(c->r, 2);
		c->n++;
	}
	return c->landed[j];
}

static void choose(void *ctx, const struct pline *pl, uint8_t out[PERSIST_LINE])
{
	struct choose_ctx *c = ctx;
	if (c->pol->policy == POLICY_RANDOM && c->pages && c->r) {
		persist_version(c->p, pl, page_lands(c, pl->line) ? pl->nver : 0, out);
		return;
	}
	crash_line(c->p, pl, c->pol, c->r, out);
}

void crash_apply(struct persist *p, const struct crash_policy *pol, struct rng *r)
{
	/* persist_settle() visits the lines in table order, which depends only
	 * on the run's history, so a seed gives the same state every time. */
	struct choose_ctx c = {.p = p, .pol = pol, .r = r};
	persist_settle(p, choose, &c);
	free(c.keys);
	free(c.landed);
}

void crash_peek(const struct persist *p, const struct crash_policy *pol, bool pages,
		struct rng *r,
		void (*fn)(void *ctx, const struct pline *pl, const uint8_t line[PERSIST_LINE]),
		void *ctx)
{
	/* The same lines in the same (table) order as persist_settle(), so
	 * the same stream gives the same state as crash_apply(). */
	struct choose_ctx c = {.p = p, .pol = pol, .pages = pages, .r = r};
	uint8_t line[PERSIST_LINE];
	for (size_t j = 0; j < p->tabcap; j++) {
		if (!p->tab[j])
			continue;
		choose(&c, p->tab[j], line);
		fn(ctx, p->tab[j], line);
	}
	free(c.keys);
	free(c.landed);
}

void power_fail_plan_random(struct power_fail_plan *plan, struct rng *r,
			    enum power_fail_kind kind, uint64_t lo, uint64_t hi)
{
	plan->kind = kind;
	if (hi < lo)
		hi = lo;
	uint64_t span = hi - lo;
	plan->at = lo + (span == UINT64_MAX ? rng_next(r) : rng_below(r, span + 1));
}

bool power_fail_due(const struct power_fail_plan *plan, sim_time_t now,
		    uint64_t insns, uint64_t events)
{
	switch (plan->kind) {
	case POWER_FAIL_AT_TIME:
		return now >= plan->at;
	case POWER_FAIL_AT_INSN:
		return insns >= plan->at;
	case POWER_FAIL_AT_EVENT:
		return events >= plan->at;
	default:
		return false;
	}
}

void power_fail_arm(const struct power_fail_plan *plan, struct persist *p,
		    void (*stop)(void *), void *ctx)
{
	if (plan->kind != POWER_FAIL_AT_EVENT)
		return;
	if (plan->at == 0) {            /* before any event: now */
		persist_freeze(p);
		if (stop)
			stop(ctx);
		return;
	}
	persist_freeze_after(p, plan->at, stop, ctx);
}

const char *crash_policy_name(unsigned policy)
{
	switch (policy) {
	case POLICY_STRICT: return "strict";
	case POLICY_LENIENT: return "lenient";
	case POLICY_RANDOM: return "random";
	default: return "?";
	}
}
