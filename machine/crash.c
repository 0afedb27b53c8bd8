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
	struct rng *r;
};

static void choose(void *ctx, const struct pline *pl, uint8_t out[PERSIST_LINE])
{
	struct choose_ctx *c = ctx;
	crash_line(c->p, pl, c->pol, c->r, out);
}

void crash_apply(struct persist *p, const struct crash_policy *pol, struct rng *r)
{
	/* persist_settle() visits the lines in table order, which depends only
	 * on the run's history, so a seed gives the same state every time. */
	struct choose_ctx c = {p, pol, r};
	persist_settle(p, choose, &c);
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
