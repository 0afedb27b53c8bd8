/* traces/export_summary.c: the numbers a paper table needs, as JSON.
 *
 * Snapshot latency and phase durations (count, mean, nearest-rank p50,
 * p90, p99, max, in simulated microseconds), guest recoveries, bytes at
 * each level of the persistence path, write amplification, and the count
 * of every event type.  Keys are always present and always in the same
 * order; ratios that divide by zero are null.  docs/traces.md defines
 * every quantity.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "traces/trace_export.h"
#include "traces/trace_scan.h"

static void stats(FILE *out, const char *key, sim_time_t *v, size_t n, const char *tail)
{
	struct dur_stats d;
	char b[6][32];
	dur_stats(v, n, &d);
	fprintf(out, "    \"%s\": {\"count\": %" PRIu64 ", \"mean\": %s, \"p50\": %s, \"p90\": %s, "
		"\"p99\": %s, \"max\": %s}%s\n", key, d.count, fmt_us(b[0], d.mean),
		fmt_us(b[1], d.p50), fmt_us(b[2], d.p90), fmt_us(b[3], d.p99), fmt_us(b[4], d.max),
		tail);
}

/* num/den with six decimals, rounded half up, or null. */
static void ratio(FILE *out, uint64_t num, uint64_t den)
{
	if (den == 0) {
		fputs("null", out);
		return;
	}
	unsigned __int128 q = ((unsigned __int128)num * 2000000 + den) / ((unsigned __int128)den * 2);
	fprintf(out, "%" PRIu64 ".%06" PRIu64, (uint64_t)(q / 1000000), (uint64_t)(q % 1000000));
}

int trace_export_summary(const char *path, FILE *out, char *err, size_t errlen)
{
	struct trace_reader r;
	struct trace_event ev;
	struct trace_scan s;
	char b[32];
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
	if (rc < 0) {
		snprintf(err, errlen, "%s", r.err);
		trace_scan_free(&s);
		trace_reader_close(&r);
		return -1;
	}
	trace_scan_finish(&s, r.end_time);

	uint64_t n_committed = 0, n_aborted = 0, n_incomplete = 0;
	struct durv lat = {0};
	for (size_t i = 0; i < s.nsnaps; i++) {
		switch (s.snaps[i].outcome) {
		case SNAP_COMMITTED: n_committed++; break;
		case SNAP_ABORTED: n_aborted++; break;
		case SNAP_INCOMPLETE: n_incomplete++; break;
		}
	}
	lat.v = calloc(n_committed ? n_committed : 1, sizeof *lat.v);
	if (!lat.v) {
		snprintf(err, errlen, "%s: out of memory", path);
		trace_scan_free(&s);
		trace_reader_close(&r);
		return -1;
	}
	for (size_t i = 0; i < s.nsnaps; i++)
		if (s.snaps[i].outcome == SNAP_COMMITTED)
			lat.v[lat.n++] = s.snaps[i].end - s.snaps[i].begin;

	uint64_t media = s.pm_media_bytes + s.blk_media_bytes;
	fputs("{\n  \"trace\": {\n", out);
	fprintf(out, "    \"format_version\": %u,\n    \"sim_version\": ", r.version);
	json_string(out, r.sim_version);
	fprintf(out, ",\n    \"config_hash\": \"0x%016" PRIx64 "\",\n    \"seed\": %" PRIu64 ",\n"
		"    \"events\": %" PRIu64 ",\n    \"end_us\": %s,\n"
		"    \"digest\": \"0x%016" PRIx64 "\"\n  },\n",
		r.config_hash, r.seed, r.count, fmt_us(b, r.end_time), r.digest);

	fprintf(out, "  \"snapshots\": {\n    \"begun\": %zu,\n    \"committed\": %" PRIu64 ",\n"
		"    \"aborted\": %" PRIu64 ",\n    \"incomplete\": %" PRIu64 ",\n"
		"    \"dirty_unknown\": %" PRIu64 ",\n",
		s.nsnaps, n_committed, n_aborted, n_incomplete, s.dirty_unknown);
	stats(out, "latency_us", lat.v, lat.n, ",");
	stats(out, "pause_us", s.phase_durs[TRACE_PHASE_PAUSE].v, s.phase_durs[TRACE_PHASE_PAUSE].n, ",");
	stats(out, "writeback_us", s.phase_durs[TRACE_PHASE_WRITEBACK].v,
	      s.phase_durs[TRACE_PHASE_WRITEBACK].n, ",");
	stats(out, "commit_us", s.phase_durs[TRACE_PHASE_COMMIT].v,
	      s.phase_durs[TRACE_PHASE_COMMIT].n, "");
	fputs("  },\n", out);

	fprintf(out, "  \"recoveries\": {\n    \"completed\": %zu,\n    \"failed\": %" PRIu64 ",\n",
		s.recoveries.n, s.recovery_failures);
	stats(out, "latency_us", s.recoveries.v, s.recoveries.n, "");
	fputs("  },\n", out);

	fprintf(out, "  \"bytes\": {\n    \"dirtied\": %" PRIu64 ",\n    \"snapshot_pages\": %" PRIu64 ",\n"
		"    \"pm_stored\": %" PRIu64 ",\n    \"pm_media\": %" PRIu64 ",\n"
		"    \"blk_media\": %" PRIu64 ",\n    \"media\": %" PRIu64 ",\n"
		"    \"persisted\": %" PRIu64 ",\n    \"unflushed_at_end\": %" PRIu64 ",\n"
		"    \"lost_at_power_fail\": %" PRIu64 "\n  },\n",
		s.dirtied_bytes, s.snapshot_bytes, s.pm_stored_bytes, s.pm_media_bytes,
		s.blk_media_bytes, media, s.persisted_bytes, s.blk_pending_bytes, s.lost_bytes);
	fprintf(out, "  \"wpq\": {\"drains\": %" PRIu64 ", \"lines\": %" PRIu64
		", \"max_occupancy\": %" PRIu64 "},\n",
		s.wpq_drains, s.wpq_lines, s.wpq_max_occupancy);
	fputs("  \"write_amplification\": ", out);
	ratio(out, media, s.dirtied_bytes);
	fputs(",\n  \"pm_write_amplification\": ", out);
	ratio(out, s.pm_media_bytes, s.pm_stored_bytes);
	fprintf(out, ",\n  \"workload_ops\": %" PRIu64 ",\n  \"unmatched\": %" PRIu64 ",\n",
		s.workload_ops, s.unmatched);

	fputs("  \"event_counts\": {", out);
	bool first = true;
	for (unsigned t = 0; t < 256; t++) {
		if (t == TR_STRING || t == TR_END || !trace_type_name(t))
			continue;
		fprintf(out, "%s\n    \"%s\": %" PRIu64, first ? "" : ",", trace_type_name(t),
			s.type_count[t]);
		first = false;
	}
	fputs("\n  }\n}\n", out);

	free(lat.v);
	trace_scan_free(&s);
	trace_reader_close(&r);
	return 0;
}
