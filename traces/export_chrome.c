/* traces/export_chrome.c: Chrome Trace Event JSON for Perfetto.
 *
 * Layout (docs/traces.md has the full list): one process, pid 1, with a
 * thread track per kind of interval so that slices on a track never
 * overlap, which both Perfetto and the legacy viewer require of "X"
 * events:
 *
 *     tid 1        snapshots       X, one per snapshot, begin..commit
 *     tid 2..8     phase tracks    X, one track per phase (pause, writeback, commit, ...)
 *     tid 9        digests         i, a committed snapshot's digest reported after
 *                                  its commit (named only when there is one)
 *     tid 10       guest recovery  X, recovery_begin..recovery_end
 *     tid 11       machine         i, power failures and machine recoveries
 *     tid 12       interrupts      i, one per interrupt
 *
 * and process-wide counter ("C") events (tid 0) for dirty pages, WPQ
 * occupancy, bytes persisted, device queue depths, workload operations and
 * generic counters.  Perfetto names a counter track "NAME SERIES" (the
 * event name, a space, the args key), so names and keys are chosen to read
 * as one phrase: "dirty pages", "WPQ occupancy", "nvme0 queue depth".
 *
 * An interval is written when it closes, and intervals on one track close
 * in order, so timestamps rise along every track.
 *
 * Timestamps are microseconds (Chrome's unit) printed exactly from
 * picoseconds with six decimals.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "traces/trace_export.h"
#include "traces/trace_scan.h"

enum {
	PID = 1,
	TID_COUNTERS = 0,
	TID_SNAPSHOTS = 1,
	TID_PHASE0 = 1,                 /* phase p is on tid 1 + p */
	TID_DIGESTS = 9,
	TID_RECOVERY = 10,
	TID_MACHINE = 11,
	TID_IRQ = 12,
};

struct chrome {
	FILE *out;
	bool first;
	bool phase_named[SCAN_PHASES];
	bool digests_named;
	uint64_t dirty;                 /* pages of the open snapshot still to write */
	uint64_t *ops;                  /* cumulative ops per kind id */
	size_t nops;
	bool oom;
};

static void sep(struct chrome *c)
{
	fputs(c->first ? "\n" : ",\n", c->out);
	c->first = false;
}

static void ts(struct chrome *c, const char *key, uint64_t ps)
{
	char b[32];
	fprintf(c->out, ",\"%s\":%s", key, fmt_us(b, ps));
}

static void meta(struct chrome *c, const char *what, int tid, const char *name)
{
	sep(c);
	fprintf(c->out, "{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,\"args\":{\"name\":",
		what, PID, tid);
	json_string(c->out, name);
	fputs("}}", c->out);
}

static void sort_index(struct chrome *c, int tid)
{
	sep(c);
	fprintf(c->out, "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
		"\"args\":{\"sort_index\":%d}}", PID, tid, tid);
}

static void track(struct chrome *c, int tid, const char *name)
{
	meta(c, "thread_name", tid, name);
	sort_index(c, tid);
}

static void phase_track(struct chrome *c, uint64_t p)
{
	if (c->phase_named[p])
		return;
	c->phase_named[p] = true;
	char name[32];
	const char *pn = trace_phase_name(p);
	if (pn)
		snprintf(name, sizeof name, "phase: %s", pn);
	else
		snprintf(name, sizeof name, "phase: %" PRIu64, p);
	track(c, TID_PHASE0 + (int)p, name);
}

/* Begin an event object up to its args. */
static void event(struct chrome *c, const char *name, const char *cat, char ph,
		  int tid, uint64_t t)
{
	sep(c);
	fputs("{\"name\":", c->out);
	json_string(c->out, name);
	fprintf(c->out, ",\"cat\":\"%s\",\"ph\":\"%c\"", cat, ph);
	ts(c, "ts", t);
	fprintf(c->out, ",\"pid\":%d,\"tid\":%d", PID, tid);
}

static void counter(struct chrome *c, const char *name, const char *series, uint64_t t,
		    uint64_t v)
{
	event(c, name, "counter", 'C', TID_COUNTERS, t);
	fprintf(c->out, ",\"args\":{\"%s\":%" PRIu64 "}}", series, v);
}

static void on_slice(void *arg, const struct slice *s)
{
	struct chrome *c = arg;
	char name[64], b[32];
	switch (s->kind) {
	case SLICE_SNAPSHOT: {
		const struct snap *sn = s->snap;
		snprintf(name, sizeof name, "snapshot %" PRIu64, sn->generation);
		event(c, name, "snapshot", 'X', TID_SNAPSHOTS, s->begin);
		ts(c, "dur", s->end - s->begin);
		fprintf(c->out, ",\"args\":{\"generation\":%" PRIu64 ",\"outcome\":\"%s\","
			"\"dirty_pages\":", sn->generation, snap_outcome_name(sn->outcome));
		if (sn->dirty_known)
			fprintf(c->out, "%" PRIu64, sn->dirty_pages);
		else
			fputs("null", c->out);
		fprintf(c->out, ",\"pages_written\":%" PRIu64, sn->pages_written);
		fprintf(c->out, ",\"pause_us\":%s", fmt_us(b, sn->phase[TRACE_PHASE_PAUSE]));
		if (sn->outcome == SNAP_COMMITTED)
			fprintf(c->out, ",\"digest\":\"0x%016" PRIx64 "\"", sn->digest);
		fputs("}}", c->out);
		break;
	}
	case SLICE_PHASE: {
		phase_track(c, s->phase);
		const char *pn = trace_phase_name(s->phase);
		if (!pn) {
			snprintf(name, sizeof name, "phase %" PRIu64, s->phase);
			pn = name;
		}
		event(c, pn, "phase", 'X', TID_PHASE0 + (int)s->phase, s->begin);
		ts(c, "dur", s->end - s->begin);
		fprintf(c->out, ",\"args\":{\"aborted\":%s}}", s->aborted ? "true" : "false");
		break;
	}
	case SLICE_RECOVERY:
		event(c, "recovery", "recovery", 'X', TID_RECOVERY, s->begin);
		ts(c, "dur", s->end - s->begin);
		if (s->end_ev)
			fprintf(c->out, ",\"args\":{\"generation\":%" PRIu64 ",\"digest\":\"0x%016" PRIx64
				"\",\"selfcheck\":%" PRIu64 ",\"invariant\":%" PRIu64 "}}",
				s->end_ev->a, s->end_ev->b, s->end_ev->c, s->end_ev->d);
		else
			fputs(",\"args\":{\"aborted\":true}}", c->out);
		break;
	}
}

static void add_ops(struct chrome *c, const struct trace_event *ev)
{
	if (ev->a >= c->nops) {
		size_t n = (size_t)ev->a + 64;
		uint64_t *v = realloc(c->ops, n * sizeof *v);
		if (!v) {
			c->oom = true;
			return;
		}
		memset(v + c->nops, 0, (n - c->nops) * sizeof *v);
		c->ops = v;
		c->nops = n;
	}
	c->ops[ev->a] += ev->b;
	char name[TRACE_NAME_MAX + 16];
	snprintf(name, sizeof name, "workload %s", ev->name);
	counter(c, name, "ops", ev->time, c->ops[ev->a]);
}

static void on_event(struct chrome *c, const struct trace_scan *s, const struct trace_event *ev)
{
	char name[TRACE_NAME_MAX + 32];
	switch (ev->type) {
	case TR_SNAPSHOT_BEGIN:
		c->dirty = ev->b;
		counter(c, "dirty", "pages", ev->time, c->dirty);
		break;
	case TR_SNAPSHOT_DIRTY:
		/* The count the pause found, less what is already written of
		 * this snapshot (nothing, for a guest that reports in order). */
		if (s->snap_open && s->snaps[s->nsnaps - 1].generation == ev->a) {
			uint64_t done = s->snaps[s->nsnaps - 1].pages_written;
			c->dirty = ev->b > done ? ev->b - done : 0;
			counter(c, "dirty", "pages", ev->time, c->dirty);
		}
		break;
	case TR_PAGES_WRITTEN:
		c->dirty -= ev->b < c->dirty ? ev->b : c->dirty;
		counter(c, "dirty", "pages", ev->time, c->dirty);
		break;
	case TR_COMMIT:
		c->dirty = 0;
		counter(c, "dirty", "pages", ev->time, c->dirty);
		break;
	case TR_DIGEST:
		/* The snapshot's slice went out at its commit, with digest 0;
		 * an instant carries the late digest.  Its own track: it may
		 * come after the next snapshot began, whose slice is written
		 * later with an earlier timestamp. */
		if (!c->digests_named) {
			c->digests_named = true;
			track(c, TID_DIGESTS, "digests");
		}
		snprintf(name, sizeof name, "digest %" PRIu64, ev->a);
		event(c, name, "snapshot", 'i', TID_DIGESTS, ev->time);
		fprintf(c->out, ",\"s\":\"t\",\"args\":{\"generation\":%" PRIu64
			",\"digest\":\"0x%016" PRIx64 "\"}}", ev->a, ev->b);
		break;
	case TR_WORKLOAD_OP:
		add_ops(c, ev);
		break;
	case TR_WPQ_DRAIN:
		counter(c, "WPQ", "occupancy", ev->time, ev->c);
		if (ev->b)              /* lines = 0 records move only the occupancy */
			counter(c, "persisted", "bytes", ev->time, s->persisted_bytes);
		break;
	case TR_BLK_WRITE:
		if (ev->c)
			counter(c, "persisted", "bytes", ev->time, s->persisted_bytes);
		break;
	case TR_BLK_FLUSH:
		counter(c, "persisted", "bytes", ev->time, s->persisted_bytes);
		break;
	case TR_POWER_FAIL:
		event(c, "power failure", "machine", 'i', TID_MACHINE, ev->time);
		fputs(",\"s\":\"g\",\"args\":{\"policy\":", c->out);
		json_string(c->out, ev->name);
		fprintf(c->out, ",\"point\":%" PRIu64 "}}", ev->b);
		break;
	case TR_RECOVERY:
		event(c, "machine recovery", "machine", 'i', TID_MACHINE, ev->time);
		fputs(",\"s\":\"g\"}", c->out);
		break;
	case TR_INTERRUPT:
		snprintf(name, sizeof name, "irq %" PRIu64, ev->a);
		event(c, name, "interrupt", 'i', TID_IRQ, ev->time);
		fputs(",\"s\":\"t\"}", c->out);
		break;
	case TR_QUEUE_DEPTH:
		snprintf(name, sizeof name, "%s queue", ev->name);
		counter(c, name, "depth", ev->time, ev->b);
		break;
	case TR_COUNTER:
		counter(c, ev->name, "value", ev->time, ev->b);
		break;
	default:
		break;
	}
}

int trace_export_chrome(const char *path, FILE *out, char *err, size_t errlen)
{
	struct trace_reader r;
	struct trace_event ev;
	struct trace_scan s;
	struct chrome c = {.out = out, .first = true};
	int rc = trace_reader_open(&r, path);
	if (rc != 0)
		goto done;

	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[", out);
	meta(&c, "process_name", 0, "phantom-sim");
	track(&c, TID_SNAPSHOTS, "snapshots");
	for (unsigned p = TRACE_PHASE_PAUSE; p <= TRACE_PHASE_COMMIT; p++)
		phase_track(&c, p);
	track(&c, TID_RECOVERY, "guest recovery");
	track(&c, TID_MACHINE, "machine");
	track(&c, TID_IRQ, "interrupts");

	trace_scan_init(&s, on_slice, &c);
	while ((rc = trace_reader_next(&r, &ev)) > 0) {
		trace_scan_event(&s, &ev);
		on_event(&c, &s, &ev);
	}
	if (rc == 0) {
		trace_scan_finish(&s, r.end_time);
		fprintf(out, "\n],\"otherData\":{\"format\":\"phantom-sim trace\",\"format_version\":%u,"
			"\"sim_version\":", r.version);
		json_string(out, r.sim_version);
		fprintf(out, ",\"config_hash\":\"0x%016" PRIx64 "\",\"seed\":\"%" PRIu64 "\","
			"\"events\":\"%" PRIu64 "\",\"digest\":\"0x%016" PRIx64 "\"}}\n",
			r.config_hash, r.seed, r.count, r.digest);
	}
	trace_scan_free(&s);
	if (c.oom || s.oom) {
		snprintf(r.err, sizeof r.err, "%s: out of memory", path);
		rc = -1;
	}
done:
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	free(c.ops);
	trace_reader_close(&r);
	return rc < 0 ? -1 : 0;
}
