/* sim/campaign.h: running a fault-injection campaign (issue #8).
 *
 * A campaign runs the configured machine twice from an empty persistent
 * image.  The first run counts persistence events and notes when each
 * commit the guest reports becomes durable.  The second run is the same
 * run again (it is deterministic) and, at every chosen crash point, forks:
 * the child process freezes the persistence model right after that
 * event, builds the crash state the policy picks, writes it to a private
 * image and boots a fresh machine on it to watch the guest recover; the
 * parent runs on to the next point.  No crash point re-runs the workload
 * from boot, and --jobs children run at once.
 *
 * The oracle (sim/oracle.h) judges each point; the report (sim/report.h)
 * lists them all.
 */
#ifndef SIM_CAMPAIGN_H
#define SIM_CAMPAIGN_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/crash_points.h"
#include "sim/report.h"

struct config;

struct campaign_opts {
	const struct config *cfg;       /* its run.max_time_us bounds the workload */
	const char *config_path;
	uint64_t crashes;
	uint64_t seed;
	unsigned policy;                /* enum power_policy */
	bool tearing;
	enum point_mode mode;
	uint64_t window_lo, window_hi;  /* exhaustive */
	uint64_t around;                /* around-commits: events either side */
	unsigned jobs;
	unsigned shard_k, shard_m;
	uint64_t recovery_us;           /* simulated bound on recovery + progress */
	bool only;                      /* run just point only_ordinal */
	uint64_t only_ordinal;
	bool progress;                  /* progress bar on stderr */
	const char *repro_args;         /* options for the one-line reproducer */
};

struct campaign_stats {
	uint64_t events;                /* persistence events in the workload run */
	uint64_t commits;               /* commits the guest reported */
	uint64_t durable;               /* anchors for around-commits points */
	uint64_t durable_at[8];         /* events at which the first commits were reported */
	double host_seconds;            /* wall time of the crash-point pass */
};

/* Fill rep (header and results); -1 with one line in err on setup errors. */
int campaign_run(const struct campaign_opts *o, struct report *rep,
		 struct campaign_stats *st, char *err, size_t errlen);

#endif
