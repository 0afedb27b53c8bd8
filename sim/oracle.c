/* sim/oracle.c: judging one crash point (see oracle.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include "sim/oracle.h"

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_PASS: return "pass";
	case VERDICT_SELFCHECK: return "selfcheck";
	case VERDICT_DURABILITY: return "durability";
	case VERDICT_ATOMICITY: return "atomicity";
	case VERDICT_LIVENESS: return "liveness";
	}
	return "?";
}

/* The digest the guest reported for generation g, if it did.  A
 * generation committed twice (after an earlier recovery rolled back past
 * it) counts with its latest digest. */
static bool committed_digest(const struct oracle_input *in, uint64_t g, uint64_t *digest)
{
	bool found = false;
	for (size_t i = 0; i < in->ncommits; i++) {
		if (in->commits[i].generation == g) {
			*digest = in->commits[i].digest;
			found = true;
		}
	}
	return found;
}

/* Fill the verdict; returns 1 so judges can write `return say(...)`. */
static int say(struct oracle_verdict *out, enum verdict v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int say(struct oracle_verdict *out, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	out->verdict = v;
	va_start(ap, fmt);
	vsnprintf(out->why, sizeof out->why, fmt, ap);
	va_end(ap);
	return 1;
}

static int judge(const struct oracle_input *in, struct oracle_verdict *out)
{
	if (!in->recovered)
		return say(out, VERDICT_LIVENESS, "recovery did not finish within its bound");
	if (in->first_boot) {
		/* An empty store is only right if nothing had become durable. */
		if (in->have_durable)
			return say(out, VERDICT_DURABILITY, "guest booted empty, but generation %" PRIu64
				   " was durable", in->durable_gen);
		if (in->have_reported)
			return say(out, VERDICT_DURABILITY, "guest booted empty, but it had reported "
				   "generation %" PRIu64 " committed before its commit record was durable",
				   in->reported_gen);
	} else {
		if (in->selfcheck)
			return say(out, VERDICT_SELFCHECK, "guest self-check failed (code %" PRIu32 ")",
				   in->selfcheck);
		if (in->invariant)
			return say(out, VERDICT_SELFCHECK, "workload invariant failed (code %" PRIu32 ")",
				   in->invariant);
		if (in->have_durable && in->recovered_gen < in->durable_gen)
			return say(out, VERDICT_DURABILITY, "recovered generation %" PRIu64
				   " but %" PRIu64 " was durable", in->recovered_gen, in->durable_gen);
		if (in->have_reported && in->recovered_gen < in->reported_gen)
			return say(out, VERDICT_DURABILITY, "recovered generation %" PRIu64 " but the guest had "
				   "reported %" PRIu64 " committed before its commit record was durable",
				   in->recovered_gen, in->reported_gen);
		uint64_t want;
		if (!committed_digest(in, in->recovered_gen, &want))
			return say(out, VERDICT_ATOMICITY, "recovered generation %" PRIu64
				   " was never committed", in->recovered_gen);
		if (want != in->recovered_digest)
			return say(out, VERDICT_ATOMICITY, "generation %" PRIu64 ": recovered digest %016"
				   PRIx64 ", committed %016" PRIx64, in->recovered_gen,
				   in->recovered_digest, want);
	}
	if (!in->progressed)
		return say(out, VERDICT_LIVENESS, "the workload made no progress after recovery");
	return say(out, VERDICT_PASS, "ok");
}

void oracle_judge(const struct oracle_input *in, struct oracle_verdict *out)
{
	judge(in, out);
}
