/* sim/oracle.h: the verdict on one crash point of a fault-injection
 * campaign (issue #8).
 *
 * A crash point passes only if all four hold:
 *   (a) self-check: the guest's own recovery check passed;
 *   (b) durability: the recovered generation is at least the newest one
 *       whose commit had become durable before the crash, as the
 *       persistence model judges it (not as the guest claims); and a
 *       commit the guest had already reported may not be lost either:
 *       the model then names the broken promise (reported at a point
 *       where its commit record was not yet durable);
 *   (c) atomicity: the recovered digest equals the digest the guest
 *       reported when it committed that generation;
 *   (d) liveness: recovery finished within its bound, and the workload
 *       then made progress.
 * The checks are made in that order and the first that fails names the
 * category, so a report says what went wrong first.
 */
#ifndef SIM_ORACLE_H
#define SIM_ORACLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum verdict {
	VERDICT_PASS,
	VERDICT_SELFCHECK,
	VERDICT_DURABILITY,
	VERDICT_ATOMICITY,
	VERDICT_LIVENESS,
};

/* One commit the guest reported before the crash. */
struct commit_record {
	uint64_t generation;
	uint64_t digest;
};

struct oracle_input {
	/* Every commit the guest reports in the uninterrupted run (the
	 * digest of a recovered generation is looked up here). */
	const struct commit_record *commits;    /* in the order reported */
	size_t ncommits;
	bool have_durable;              /* the model saw a commit become durable */
	uint64_t durable_gen;           /* newest such generation */
	/* The newest commit the guest had reported when the power failed.  A
	 * guest reports a commit to say it is durable; if the model had not
	 * made it durable yet and it is lost, the guest broke that promise. */
	bool have_reported;
	uint64_t reported_gen;

	/* After the reboot. */
	bool recovered;                 /* recovery-end event seen in bound */
	bool first_boot;                /* the guest found no snapshot */
	uint64_t recovered_gen, recovered_digest;
	uint32_t selfcheck, invariant;  /* 0 = passed */
	bool progressed;                /* the workload moved on afterwards */
};

struct oracle_verdict {
	enum verdict verdict;
	char why[200];                  /* one line, for reports */
};

void oracle_judge(const struct oracle_input *in, struct oracle_verdict *out);
const char *verdict_name(enum verdict v);

#endif
