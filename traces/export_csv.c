/* traces/export_csv.c: the trace as CSV tables.
 *
 * Two fixed layouts (docs/traces.md documents every column):
 *
 *     seq,time_ps,time_us,type,arg1,arg2,arg3,arg4,name
 *         one row per event, in trace order; what arg1..arg4 and name hold
 *         depends on the type and is listed in the docs;
 *     generation,outcome,begin_ps,end_ps,latency_ps,pause_ps,writeback_ps,commit_ps,dirty_pages,pages_written,digest
 *         one row per snapshot (--snapshots), in begin order.
 *
 * Addresses and digests are hex with a 0x prefix, everything else decimal.
 */
#include <inttypes.h>
#include <string.h>
#include "traces/trace_export.h"
#include "traces/trace_scan.h"

const char trace_csv_events_header[] = "seq,time_ps,time_us,type,arg1,arg2,arg3,arg4,name";
const char trace_csv_snapshots_header[] =
	"generation,outcome,begin_ps,end_ps,latency_ps,pause_ps,writeback_ps,commit_ps,"
	"dirty_pages,pages_written,digest";

static void row(FILE *out, uint64_t seq, const struct trace_event *ev)
{
	char b[32], hex[2 * TRACE_INSN_MAX + 1];
	const char *name = "";
	fprintf(out, "%" PRIu64 ",%" PRIu64 ",%s,%s,", seq, ev->time, fmt_us(b, ev->time),
		trace_type_name(ev->type));
	switch (ev->type) {
	case TR_SNAPSHOT_BEGIN: case TR_PAGES_WRITTEN: case TR_SNAPSHOT_DIRTY:
		fprintf(out, "%" PRIu64 ",%" PRIu64 ",,", ev->a, ev->b);
		break;
	case TR_COMMIT: case TR_DIGEST:
		fprintf(out, "%" PRIu64 ",0x%016" PRIx64 ",,", ev->a, ev->b);
		break;
	case TR_RECOVERY_END:
		fprintf(out, "%" PRIu64 ",0x%016" PRIx64 ",%" PRIu64 ",%" PRIu64,
			ev->a, ev->b, ev->c, ev->d);
		break;
	case TR_WORKLOAD_OP: case TR_POWER_FAIL: case TR_QUEUE_DEPTH: case TR_COUNTER:
		fprintf(out, "%" PRIu64 ",,,", ev->b);
		name = ev->name;
		break;
	case TR_PHASE_BEGIN: case TR_PHASE_END:
		fprintf(out, "%" PRIu64 ",,,", ev->a);
		name = trace_phase_name(ev->a);
		break;
	case TR_PM_STORE:
		fprintf(out, "0x%" PRIx64 ",%" PRIu64 ",,", ev->a, ev->b);
		break;
	case TR_FLUSH:
		fprintf(out, "0x%" PRIx64 ",%" PRIu64 ",,", ev->a, ev->b);
		name = trace_flush_name(ev->b);
		break;
	case TR_FENCE:
		fprintf(out, "%" PRIu64 ",,,", ev->a);
		name = trace_fence_name(ev->a);
		break;
	case TR_WPQ_DRAIN: case TR_BLK_WRITE:
		fprintf(out, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", ev->a, ev->b, ev->c);
		break;
	case TR_INTERRUPT:
		fprintf(out, "%" PRIu64 ",,,", ev->a);
		break;
	case TR_INSN:
		for (unsigned i = 0; i < ev->len; i++)
			snprintf(hex + 2 * i, 3, "%02x", ev->bytes[i]);
		hex[2 * ev->len] = '\0';
		fprintf(out, "0x%" PRIx64 ",%u,%s,", ev->a, ev->len, hex);
		break;
	default:                        /* recovery_begin, blk_flush, recovery */
		fputs(",,,", out);
		break;
	}
	putc(',', out);
	csv_field(out, name ? name : "");
	putc('\n', out);
}

int trace_export_csv(const char *path, FILE *out, char *err, size_t errlen)
{
	struct trace_reader r;
	struct trace_event ev;
	uint64_t seq = 0;
	int rc = trace_reader_open(&r, path);
	if (rc == 0) {
		fprintf(out, "%s\n", trace_csv_events_header);
		while ((rc = trace_reader_next(&r, &ev)) > 0)
			row(out, seq++, &ev);
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	trace_reader_close(&r);
	return rc < 0 ? -1 : 0;
}

int trace_export_csv_snapshots(const char *path, FILE *out, char *err, size_t errlen)
{
	struct trace_reader r;
	struct trace_event ev;
	struct trace_scan s;
	trace_scan_init(&s, NULL, NULL);
	int rc = trace_reader_open(&r, path);
	if (rc == 0) {
		while ((rc = trace_reader_next(&r, &ev)) > 0)
			trace_scan_event(&s, &ev);
	}
	if (rc == 0 && s.oom) {
		snprintf(r.err, sizeof r.err, "%s: out of memory", path);
		rc = -1;
	}
	if (rc == 0) {
		trace_scan_finish(&s, r.end_time);
		fprintf(out, "%s\n", trace_csv_snapshots_header);
		for (size_t i = 0; i < s.nsnaps; i++) {
			const struct snap *sn = &s.snaps[i];
			fprintf(out, "%" PRIu64 ",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
				",%" PRIu64 ",%" PRIu64 ",",
				sn->generation, snap_outcome_name(sn->outcome), sn->begin, sn->end,
				sn->end - sn->begin, sn->phase[TRACE_PHASE_PAUSE],
				sn->phase[TRACE_PHASE_WRITEBACK], sn->phase[TRACE_PHASE_COMMIT]);
			/* Unknown (an older guest): empty, not a misleading 0. */
			if (sn->dirty_known)
				fprintf(out, "%" PRIu64, sn->dirty_pages);
			fprintf(out, ",%" PRIu64 ",", sn->pages_written);
			if (sn->outcome == SNAP_COMMITTED)
				fprintf(out, "0x%016" PRIx64, sn->digest);
			putc('\n', out);
		}
	}
	if (rc < 0)
		snprintf(err, errlen, "%s", r.err);
	trace_scan_free(&s);
	trace_reader_close(&r);
	return rc < 0 ? -1 : 0;
}
