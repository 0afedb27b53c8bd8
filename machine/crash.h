/* machine/crash.h: building the state a power failure leaves, by policy.
 *
 * A power failure (or the normal end of a run, which is a power-off too)
 * replaces every pending line of the persistence model by one of its legal
 * crash states (docs/crash-model.md):
 *
 *   strict    only what is guaranteed: every pending line reverts to its
 *             guaranteed version (version 0);
 *   lenient   everything issued survives: every line at its newest version;
 *   random    a seeded choice among the legal states of each line, the
 *             whole line at one version, or (tearing) each aligned 8-byte
 *             word at its own version.
 *
 *     struct crash_policy pol = {.policy = POLICY_RANDOM, .tearing = true};
 *     struct rng r;
 *     sim_rng(sim, &r, "power.random");
 *     crash_apply(&pm, &pol, &r);     // media and mem now hold the crash state
 *
 * The power-failure triggers (issue 5 item 4) are plain data the machine
 * loop checks; an event-count trigger freezes the model at exactly the k-th
 * persistence event (persist_freeze_after()).
 */
#ifndef MACHINE_CRASH_H
#define MACHINE_CRASH_H

#include <stdbool.h>
#include <stdint.h>
#include "machine/persist.h"
#include "sim/clock.h"

struct rng;

struct crash_policy {
	unsigned policy;        /* enum power_policy (sim/config.h) */
	bool tearing;           /* random: choose per aligned 8-byte word */
};

/* The crash state of one pending line under pol into out (r is used by
 * random only and may be NULL otherwise). */
void crash_line(const struct persist *p, const struct pline *pl,
		const struct crash_policy *pol, struct rng *r, uint8_t out[PERSIST_LINE]);
/* Apply the policy to every pending line: afterwards media and mem both
 * hold the crash state, nothing is pending and the model is unfrozen,
 * ready for the machine to boot again. */
void crash_apply(struct persist *p, const struct crash_policy *pol, struct rng *r);
/* The state crash_apply() would leave, without changing the model: fn gets
 * each pending line with the content it would have, in the order
 * crash_apply() draws them (the same stream gives the same state).  Safe
 * inside the model's observers.
 *
 * pages (random only): one coin per 4 KiB page instead of a choice per
 * line: every pending line of the page at its newest version, or every
 * one at its guaranteed version.  A subset of the legal states (lines are
 * independent), but the one that exposes ordering bugs between blocks: a
 * whole record landed, the data it names not (docs/crash-model.md). */
void crash_peek(const struct persist *p, const struct crash_policy *pol, bool pages,
		struct rng *r,
		void (*fn)(void *ctx, const struct pline *pl, const uint8_t line[PERSIST_LINE]),
		void *ctx);

/* --- Power-failure triggers ----------------------------------------- */
enum power_fail_kind {
	POWER_FAIL_NEVER,
	POWER_FAIL_AT_TIME,     /* at simulated time `at` (ps) */
	POWER_FAIL_AT_INSN,     /* once `at` instructions have retired */
	POWER_FAIL_AT_EVENT,    /* right after the `at`-th persistence event */
};

struct power_fail_plan {
	enum power_fail_kind kind;
	uint64_t at;
};

/* A seeded random point: kind with `at` uniform in [lo, hi]. */
void power_fail_plan_random(struct power_fail_plan *plan, struct rng *r,
			    enum power_fail_kind kind, uint64_t lo, uint64_t hi);
/* Whether the plan's point has been reached. */
bool power_fail_due(const struct power_fail_plan *plan, sim_time_t now,
		    uint64_t insns, uint64_t events);
/* Arm an event-count plan on the model (a no-op for other kinds): the model
 * freezes right after event plan->at and calls stop(ctx). */
void power_fail_arm(const struct power_fail_plan *plan, struct persist *p,
		    void (*stop)(void *), void *ctx);

const char *crash_policy_name(unsigned policy);

#endif
