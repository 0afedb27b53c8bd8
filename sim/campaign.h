/* sim/campaign.h: running a fault-injection campaign (issue #8).
 *
 * A campaign runs the configured machine twice from an empty persistent
 * image (persistent memory, or the disk when the machine has no PM).  The
 * first run counts persistence events and logs the commits the guest
 * reports, and leaves checkpoints (forked copies of itself) in the guest's
 * boot.  The second run is the same run again (it is deterministic), from
 * those checkpoints: at every chosen crash point it computes the crash
 * state the policy picks, without disturbing itself, and hands it to a
 * fork server, which booted the recovery machine (with fast CPU timing)
 * once up to the guest's first read of its store and forks it for each
 * state; --jobs such children run at once.  No crash point re-runs the
 * workload or boots a machine (sim/campaign.c).
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

/* What recovery runs add to the guest's command line by default: a
 * snapshot every millisecond and 64 workload steps per tick, so progress
 * (a new commit) shows 1 ms after recovery at little cost. */
#define CAMPAIGN_RECOVERY_ARGS "snapshot_ms=1 work=64"

/* The default bound on recovery and progress, in simulated microseconds. */
#define CAMPAIGN_RECOVERY_US 100000

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
	bool reboot;                    /* boot a fresh machine per point, rerun from boot
					 * (checks the fork server and the checkpoints) */
	const char *recovery_args;      /* appended to the recovery runs' guest command line */
	bool recovery_config_timing;    /* recovery runs keep cpu.timing (default: fast) */
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
