/* traces/trace_scan.h: rebuilding snapshots, phases and byte totals from
 * the event stream, for the exports.
 *
 * The trace records points in time; the exports want intervals (a snapshot
 * from begin to commit, a pause phase, a guest recovery) and totals.  A
 * trace_scan is fed every event in order and reports each interval through
 * a callback when it closes, so an export can stream:
 *
 *     struct trace_scan s;
 *     trace_scan_init(&s, on_slice, ctx);
 *     while (trace_reader_next(&r, &ev) > 0)
 *             trace_scan_event(&s, &ev);
 *     trace_scan_finish(&s, r.end_time);
 *
 * The pairing rules (docs/traces.md, "Snapshots and phases"):
 *  - a snapshot runs from snapshot_begin to the next commit; a power_fail
 *    or another snapshot_begin first ends it as aborted, the end of the
 *    trace as incomplete;
 *  - a phase runs from phase_begin to phase_end of the same phase and
 *    belongs to the snapshot open at its begin; a power_fail aborts it;
 *  - a guest recovery runs from recovery_begin to recovery_end;
 *  - a digest record sets the digest of the newest snapshot of its
 *    generation, after that snapshot's slice was reported (a callback
 *    sees the commit's digest, 0 for a guest that hashes late).
 */
#ifndef TRACES_TRACE_SCAN_H
#define TRACES_TRACE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "traces/trace_reader.h"

#define SCAN_PHASES 8                   /* phase numbers 1..7 are tracked */

enum snap_outcome {
	SNAP_COMMITTED,
	SNAP_ABORTED,                   /* power failure or a newer snapshot_begin */
	SNAP_INCOMPLETE,                /* still open when the trace ended */
};

struct snap {
	uint64_t generation;
	sim_time_t begin, end;
	sim_time_t phase[SCAN_PHASES];  /* time spent in each phase */
	uint64_t dirty_pages, pages_written;
	bool dirty_known;               /* a snapshot_dirty, or a non-zero snapshot_begin count */
	uint64_t digest;                /* from the commit, or a later digest record */
	enum snap_outcome outcome;
};

enum slice_kind {
	SLICE_SNAPSHOT,
	SLICE_PHASE,
	SLICE_RECOVERY,
};

/* A closed interval, as reported to the callback. */
struct slice {
	enum slice_kind kind;
	sim_time_t begin, end;
	bool aborted;                   /* cut short by a power failure or the end */
	const struct snap *snap;        /* SLICE_SNAPSHOT */
	uint64_t phase;                 /* SLICE_PHASE */
	const struct trace_event *end_ev; /* SLICE_RECOVERY: the recovery_end, or NULL */
};

/* Nearest-rank statistics of a set of durations. */
struct dur_stats {
	uint64_t count;
	sim_time_t mean, p50, p90, p99, max;  /* mean rounds down to a ps */
};

/* A growing array of durations. */
struct durv {
	sim_time_t *v;
	size_t n, cap;
};

struct trace_scan {
	uint64_t type_count[256];

	/* bytes, as defined in docs/traces.md */
	uint64_t dirtied_bytes;         /* 4096 x sum of the snapshots' dirty_pages */
	uint64_t snapshot_bytes;        /* 4096 x sum of pages_written pages */
	uint64_t pm_stored_bytes;       /* sum of pm_store len */
	uint64_t pm_media_bytes;        /* sum of wpq_drain bytes */
	uint64_t blk_media_bytes;       /* 512 x sum of blk_write count */
	uint64_t persisted_bytes;       /* media bytes made durable */
	uint64_t blk_pending_bytes;     /* written without FUA, not yet flushed */
	uint64_t lost_bytes;            /* pending when the power failed */
	uint64_t workload_ops;
	uint64_t dirty_unknown;         /* snapshots whose dirty page count never came */

	/* write-pending queue, from wpq_drain records */
	uint64_t wpq_drains;            /* wpq_drain records with lines > 0 */
	uint64_t wpq_lines;             /* sum of their lines */
	uint64_t wpq_max_occupancy;

	struct snap *snaps;
	size_t nsnaps, capsnaps;
	struct durv phase_durs[SCAN_PHASES]; /* every completed phase, per phase */
	struct durv recoveries;         /* every completed guest recovery */
	uint64_t recovery_failures;     /* selfcheck or invariant non-zero */
	uint64_t unmatched;             /* commits, phase ends, recovery ends with no begin,
					   digests with no snapshot */

	bool snap_open;
	struct {
		bool open;
		sim_time_t begin;
		long snap;              /* index in snaps, or -1 */
	} phase[SCAN_PHASES];
	bool rec_open;
	sim_time_t rec_begin;
	bool oom;

	void (*on_slice)(void *arg, const struct slice *s);
	void *arg;
};

void trace_scan_init(struct trace_scan *s, void (*on_slice)(void *, const struct slice *),
		     void *arg);
void trace_scan_event(struct trace_scan *s, const struct trace_event *ev);
void trace_scan_finish(struct trace_scan *s, sim_time_t end);
void trace_scan_free(struct trace_scan *s);

/* Statistics of v[0..n) (sorted in place). */
void dur_stats(sim_time_t *v, size_t n, struct dur_stats *out);

/* ps as microseconds with 6 decimals, exact: "12.345678".  buf >= 32. */
const char *fmt_us(char *buf, uint64_t ps);

const char *snap_outcome_name(enum snap_outcome o);

#endif
