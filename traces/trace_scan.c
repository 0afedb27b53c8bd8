/* traces/trace_scan.c: intervals and totals from the event stream.
 *
 * See trace_scan.h for the pairing rules.  Everything here is integer
 * arithmetic on picoseconds, so every export built on it is exact and
 * byte-identical for identical input.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "traces/trace_scan.h"

void trace_scan_init(struct trace_scan *s, void (*on_slice)(void *, const struct slice *),
		     void *arg)
{
	memset(s, 0, sizeof *s);
	s->on_slice = on_slice;
	s->arg = arg;
}

void trace_scan_free(struct trace_scan *s)
{
	free(s->snaps);
	s->snaps = NULL;
	for (unsigned p = 0; p < SCAN_PHASES; p++) {
		free(s->phase_durs[p].v);
		s->phase_durs[p].v = NULL;
	}
	free(s->recoveries.v);
	s->recoveries.v = NULL;
}

static void emit(struct trace_scan *s, const struct slice *sl)
{
	if (s->on_slice)
		s->on_slice(s->arg, sl);
}

static void push_dur(struct trace_scan *s, struct durv *dv, sim_time_t d)
{
	if (dv->n == dv->cap) {
		size_t c = dv->cap ? dv->cap * 2 : 256;
		sim_time_t *nv = realloc(dv->v, c * sizeof *nv);
		if (!nv) {
			s->oom = true;
			return;
		}
		dv->v = nv;
		dv->cap = c;
	}
	dv->v[dv->n++] = d;
}

static void close_snap(struct trace_scan *s, sim_time_t t, enum snap_outcome o)
{
	if (!s->snap_open)
		return;
	struct snap *sn = &s->snaps[s->nsnaps - 1];
	sn->end = t;
	sn->outcome = o;
	if (!sn->dirty_known)
		s->dirty_unknown++;
	s->snap_open = false;
	struct slice sl = {.kind = SLICE_SNAPSHOT, .begin = sn->begin, .end = t,
			   .aborted = o != SNAP_COMMITTED, .snap = sn};
	emit(s, &sl);
}

static void close_phase(struct trace_scan *s, unsigned p, sim_time_t t, bool aborted)
{
	if (!s->phase[p].open)
		return;
	sim_time_t d = t - s->phase[p].begin;
	s->phase[p].open = false;
	if (s->phase[p].snap >= 0)
		s->snaps[s->phase[p].snap].phase[p] += d;
	if (!aborted)
		push_dur(s, &s->phase_durs[p], d);
	struct slice sl = {.kind = SLICE_PHASE, .begin = s->phase[p].begin, .end = t,
			   .aborted = aborted, .phase = p};
	emit(s, &sl);
}

static void close_recovery(struct trace_scan *s, sim_time_t t, const struct trace_event *end)
{
	sim_time_t begin = s->rec_open ? s->rec_begin : t;
	if (!s->rec_open && end)
		s->unmatched++;
	s->rec_open = false;
	if (end) {
		push_dur(s, &s->recoveries, t - begin);
		if (end->c || end->d)
			s->recovery_failures++;
	}
	struct slice sl = {.kind = SLICE_RECOVERY, .begin = begin, .end = t,
			   .aborted = end == NULL, .end_ev = end};
	emit(s, &sl);
}

static void open_snap(struct trace_scan *s, const struct trace_event *ev)
{
	if (s->nsnaps == s->capsnaps) {
		size_t c = s->capsnaps ? s->capsnaps * 2 : 64;
		struct snap *n = realloc(s->snaps, c * sizeof *n);
		if (!n) {
			s->oom = true;
			return;
		}
		s->snaps = n;
		s->capsnaps = c;
	}
	struct snap *sn = &s->snaps[s->nsnaps++];
	memset(sn, 0, sizeof *sn);
	sn->generation = ev->a;
	sn->dirty_pages = ev->b;
	/* Version 1 producers put 0 here when they did not know the count;
	 * a snapshot_dirty record may still come and settle it. */
	sn->dirty_known = ev->b != 0;
	sn->begin = ev->time;
	s->snap_open = true;
}

void trace_scan_event(struct trace_scan *s, const struct trace_event *ev)
{
	s->type_count[ev->type & 0xff]++;
	sim_time_t t = ev->time;
	switch (ev->type) {
	case TR_SNAPSHOT_BEGIN:
		close_snap(s, t, SNAP_ABORTED);
		open_snap(s, ev);
		s->dirtied_bytes += ev->b * TRACE_PAGE_SIZE;
		break;
	case TR_SNAPSHOT_DIRTY: {
		struct snap *sn = s->snap_open ? &s->snaps[s->nsnaps - 1] : NULL;
		if (!sn || sn->generation != ev->a) {
			s->unmatched++;
			break;
		}
		/* The pause's count replaces whatever snapshot_begin said. */
		s->dirtied_bytes -= sn->dirty_pages * TRACE_PAGE_SIZE;
		sn->dirty_pages = ev->b;
		sn->dirty_known = true;
		s->dirtied_bytes += ev->b * TRACE_PAGE_SIZE;
		break;
	}
	case TR_PAGES_WRITTEN:
		if (s->snap_open)
			s->snaps[s->nsnaps - 1].pages_written += ev->b;
		s->snapshot_bytes += ev->b * TRACE_PAGE_SIZE;
		break;
	case TR_COMMIT:
		if (!s->snap_open) {
			s->unmatched++;
			break;
		}
		s->snaps[s->nsnaps - 1].digest = ev->b;
		close_snap(s, t, SNAP_COMMITTED);
		break;
	case TR_DIGEST: {
		/* It follows the commit, so its snapshot is usually closed
		 * already; the newest of that generation is the one committed
		 * (an aborted try of the same generation comes before it). */
		size_t i = s->nsnaps;
		while (i > 0 && s->snaps[i - 1].generation != ev->a)
			i--;
		if (i == 0) {
			s->unmatched++;
			break;
		}
		s->snaps[i - 1].digest = ev->b;
		break;
	}
	case TR_PHASE_BEGIN:
		if (ev->a == 0 || ev->a >= SCAN_PHASES)
			break;
		close_phase(s, (unsigned)ev->a, t, false);
		s->phase[ev->a].open = true;
		s->phase[ev->a].begin = t;
		s->phase[ev->a].snap = s->snap_open ? (long)s->nsnaps - 1 : -1;
		break;
	case TR_PHASE_END:
		if (ev->a == 0 || ev->a >= SCAN_PHASES || !s->phase[ev->a].open) {
			s->unmatched++;
			break;
		}
		close_phase(s, (unsigned)ev->a, t, false);
		break;
	case TR_RECOVERY_BEGIN:
		if (s->rec_open)
			close_recovery(s, t, NULL);
		s->rec_open = true;
		s->rec_begin = t;
		break;
	case TR_RECOVERY_END:
		close_recovery(s, t, ev);
		break;
	case TR_WORKLOAD_OP:
		s->workload_ops += ev->b;
		break;
	case TR_PM_STORE:
		s->pm_stored_bytes += ev->b;
		break;
	case TR_WPQ_DRAIN:
		if (ev->a) {            /* lines = 0: an occupancy change alone */
			s->wpq_drains++;
			s->wpq_lines += ev->a;
		}
		if (ev->c > s->wpq_max_occupancy)
			s->wpq_max_occupancy = ev->c;
		s->pm_media_bytes += ev->b;
		s->persisted_bytes += ev->b;
		break;
	case TR_BLK_WRITE: {
		uint64_t bytes = ev->b * TRACE_SECTOR_SIZE;
		s->blk_media_bytes += bytes;
		if (ev->c)
			s->persisted_bytes += bytes;
		else
			s->blk_pending_bytes += bytes;
		break;
	}
	case TR_BLK_FLUSH:
		s->persisted_bytes += s->blk_pending_bytes;
		s->blk_pending_bytes = 0;
		break;
	case TR_POWER_FAIL:
		for (unsigned p = 1; p < SCAN_PHASES; p++)
			close_phase(s, p, t, true);
		close_snap(s, t, SNAP_ABORTED);
		if (s->rec_open)
			close_recovery(s, t, NULL);
		s->lost_bytes += s->blk_pending_bytes;
		s->blk_pending_bytes = 0;
		break;
	default:
		break;
	}
}

void trace_scan_finish(struct trace_scan *s, sim_time_t end)
{
	for (unsigned p = 1; p < SCAN_PHASES; p++)
		close_phase(s, p, end, true);
	close_snap(s, end, SNAP_INCOMPLETE);
	if (s->rec_open)
		close_recovery(s, end, NULL);
}

static int cmp_time(const void *a, const void *b)
{
	sim_time_t x = *(const sim_time_t *)a, y = *(const sim_time_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest rank: the smallest value with at least p% of the set at or below it. */
static sim_time_t rank(const sim_time_t *v, size_t n, unsigned p)
{
	size_t k = (size_t)(((unsigned __int128)n * p + 99) / 100);
	return v[k ? k - 1 : 0];
}

void dur_stats(sim_time_t *v, size_t n, struct dur_stats *out)
{
	memset(out, 0, sizeof *out);
	if (n == 0)
		return;
	qsort(v, n, sizeof *v, cmp_time);
	unsigned __int128 sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	out->count = n;
	out->mean = (sim_time_t)(sum / n);
	out->p50 = rank(v, n, 50);
	out->p90 = rank(v, n, 90);
	out->p99 = rank(v, n, 99);
	out->max = v[n - 1];
}

const char *fmt_us(char *buf, uint64_t ps)
{
	snprintf(buf, 32, "%" PRIu64 ".%06" PRIu64, ps / 1000000, ps % 1000000);
	return buf;
}

const char *snap_outcome_name(enum snap_outcome o)
{
	switch (o) {
	case SNAP_COMMITTED: return "committed";
	case SNAP_ABORTED: return "aborted";
	case SNAP_INCOMPLETE: return "incomplete";
	}
	return "?";
}
