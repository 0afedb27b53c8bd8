/* tests/unit/test_traces.c: the trace writer, reader and exports.
 *
 * Round trips of every record type, byte-identical output for identical
 * events, the instruction filter, clamped timestamps, the statistics the
 * summary reports, and the reader's behaviour on every truncation and on
 * every single-byte corruption of a real trace: each must be reported
 * with a message naming an offset, never read as a valid trace.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "sim/rng.h"
#include "traces/trace.h"
#include "traces/trace_export.h"
#include "traces/trace_reader.h"
#include "traces/trace_scan.h"

/* A fresh file name in the build directory. */
static char *tmpname(void)
{
	char *name = strdup("test_traces.XXXXXX");
	int fd = mkstemp(name);
	ck_assert_int_ge(fd, 0);
	close(fd);
	return name;
}

static const struct trace_params params = {
	.config_json = "{\"machine\":\"test\"}", .seed = 42, .sim_version = "test-1.0",
};

static struct trace *open_or_die(const char *path)
{
	char err[256];
	struct trace *t = trace_open(path, &params, err, sizeof err);
	ck_assert_msg(t != NULL, "%s", err);
	return t;
}

static void close_or_die(struct trace *t)
{
	char err[256];
	ck_assert_msg(trace_close(t, err, sizeof err) == 0, "%s", err);
}

static const uint8_t nop5[5] = {0x0f, 0x1f, 0x44, 0x00, 0x00};

/* One of every event type, with extreme values where they fit. */
static void write_all_types(struct trace *t)
{
	uint32_t put = trace_intern(t, "put");
	uint32_t adr = trace_intern(t, "adr, \"quoted\"");
	uint32_t dev = trace_intern(t, "nvme0");
	uint32_t cnt = trace_intern(t, "x.level");
	ck_assert_uint_eq(trace_intern(t, "put"), put);
	trace_snapshot_begin(t, 1000, 7, 123);
	trace_pages_written(t, 2000, 7, 100);
	trace_snapshot_dirty(t, 2500, 7, UINT64_MAX);
	trace_commit(t, 3000, 7, 0xdeadbeefcafef00dULL);
	trace_digest(t, 3500, 7, 0x0123456789abcdefULL);
	trace_recovery_begin(t, 4000);
	trace_recovery_end(t, 5000, 7, UINT64_MAX, 0, 3);
	trace_workload_op(t, 6000, put, 17);
	trace_phase_begin(t, 7000, TRACE_PHASE_PAUSE);
	trace_phase_end(t, 8000, TRACE_PHASE_PAUSE);
	trace_pm_store(t, 9000, 0xffffffffffffffc0ULL, 64);
	trace_flush(t, 10000, 0x1000, TRACE_FLUSH_CLWB);
	trace_fence(t, 11000, TRACE_FENCE_SFENCE);
	trace_wpq_drain(t, 12000, 4, 256, 3);
	trace_blk_write(t, 13000, 1ULL << 40, 8, true);
	trace_blk_flush(t, 14000);
	trace_power_fail(t, 15000, adr, 99);
	trace_recovery(t, 16000);
	trace_interrupt(t, 17000, 255);
	trace_queue_depth(t, 18000, dev, 31);
	trace_insn(t, 19000, 0x401000, sizeof nop5, nop5);
	trace_counter(t, SIM_TIME_MAX, cnt, UINT64_MAX);
}

static void next_or_die(struct trace_reader *r, struct trace_event *ev, enum trace_type type,
			sim_time_t time)
{
	int rc = trace_reader_next(r, ev);
	ck_assert_msg(rc == 1, "rc %d: %s", rc, r->err);
	ck_assert_str_eq(trace_type_name(ev->type), trace_type_name(type));
	ck_assert_uint_eq(ev->time, time);
}

START_TEST(round_trip_every_type)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	write_all_types(t);
	close_or_die(t);

	struct trace_reader r;
	struct trace_event ev;
	ck_assert_msg(trace_reader_open(&r, path) == 0, "%s", r.err);
	ck_assert_uint_eq(r.version, TRACE_VERSION);
	ck_assert_uint_eq(r.seed, 42);
	ck_assert_uint_eq(r.config_hash, trace_config_hash("{\"machine\":\"test\"}"));
	ck_assert_str_eq(r.sim_version, "test-1.0");

	next_or_die(&r, &ev, TR_SNAPSHOT_BEGIN, 1000);
	ck_assert_uint_eq(ev.a, 7);
	ck_assert_uint_eq(ev.b, 123);
	next_or_die(&r, &ev, TR_PAGES_WRITTEN, 2000);
	ck_assert_uint_eq(ev.b, 100);
	next_or_die(&r, &ev, TR_SNAPSHOT_DIRTY, 2500);
	ck_assert_uint_eq(ev.a, 7);
	ck_assert_uint_eq(ev.b, UINT64_MAX);
	next_or_die(&r, &ev, TR_COMMIT, 3000);
	ck_assert_uint_eq(ev.b, 0xdeadbeefcafef00dULL);
	next_or_die(&r, &ev, TR_DIGEST, 3500);
	ck_assert_uint_eq(ev.a, 7);
	ck_assert_uint_eq(ev.b, 0x0123456789abcdefULL);
	next_or_die(&r, &ev, TR_RECOVERY_BEGIN, 4000);
	next_or_die(&r, &ev, TR_RECOVERY_END, 5000);
	ck_assert_uint_eq(ev.a, 7);
	ck_assert_uint_eq(ev.b, UINT64_MAX);
	ck_assert_uint_eq(ev.c, 0);
	ck_assert_uint_eq(ev.d, 3);
	next_or_die(&r, &ev, TR_WORKLOAD_OP, 6000);
	ck_assert_str_eq(ev.name, "put");
	ck_assert_uint_eq(ev.b, 17);
	next_or_die(&r, &ev, TR_PHASE_BEGIN, 7000);
	ck_assert_uint_eq(ev.a, TRACE_PHASE_PAUSE);
	next_or_die(&r, &ev, TR_PHASE_END, 8000);
	next_or_die(&r, &ev, TR_PM_STORE, 9000);
	ck_assert_uint_eq(ev.a, 0xffffffffffffffc0ULL);
	ck_assert_uint_eq(ev.b, 64);
	next_or_die(&r, &ev, TR_FLUSH, 10000);
	ck_assert_uint_eq(ev.b, TRACE_FLUSH_CLWB);
	next_or_die(&r, &ev, TR_FENCE, 11000);
	ck_assert_uint_eq(ev.a, TRACE_FENCE_SFENCE);
	next_or_die(&r, &ev, TR_WPQ_DRAIN, 12000);
	ck_assert_uint_eq(ev.a, 4);
	ck_assert_uint_eq(ev.b, 256);
	ck_assert_uint_eq(ev.c, 3);
	next_or_die(&r, &ev, TR_BLK_WRITE, 13000);
	ck_assert_uint_eq(ev.a, 1ULL << 40);
	ck_assert_uint_eq(ev.c, 1);
	next_or_die(&r, &ev, TR_BLK_FLUSH, 14000);
	next_or_die(&r, &ev, TR_POWER_FAIL, 15000);
	ck_assert_str_eq(ev.name, "adr, \"quoted\"");
	ck_assert_uint_eq(ev.b, 99);
	next_or_die(&r, &ev, TR_RECOVERY, 16000);
	next_or_die(&r, &ev, TR_INTERRUPT, 17000);
	ck_assert_uint_eq(ev.a, 255);
	next_or_die(&r, &ev, TR_QUEUE_DEPTH, 18000);
	ck_assert_str_eq(ev.name, "nvme0");
	ck_assert_uint_eq(ev.b, 31);
	next_or_die(&r, &ev, TR_INSN, 19000);
	ck_assert_uint_eq(ev.a, 0x401000);
	ck_assert_uint_eq(ev.len, 5);
	ck_assert_mem_eq(ev.bytes, nop5, 5);
	next_or_die(&r, &ev, TR_COUNTER, SIM_TIME_MAX);
	ck_assert_str_eq(ev.name, "x.level");
	ck_assert_uint_eq(ev.b, UINT64_MAX);
	ck_assert_int_eq(trace_reader_next(&r, &ev), 0);
	ck_assert_uint_eq(r.count, 22);
	ck_assert_int_eq(trace_reader_next(&r, &ev), 0);    /* stays at the end */
	trace_reader_close(&r);
	unlink(path);
	free(path);
}
END_TEST

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	rewind(f);
	char *buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void spill(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
}

/* Run an export into memory. */
static char *export_mem(int (*fn)(const char *, FILE *, char *, size_t), const char *path,
			size_t *len)
{
	char *buf = NULL, err[600];
	FILE *m = open_memstream(&buf, len);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(fn(path, m, err, sizeof err) == 0, "%s", err);
	fclose(m);
	return buf;
}

START_TEST(same_events_same_bytes)
{
	char *p1 = tmpname(), *p2 = tmpname();
	struct trace *t = open_or_die(p1);
	write_all_types(t);
	close_or_die(t);
	t = open_or_die(p2);
	write_all_types(t);
	close_or_die(t);
	size_t n1, n2;
	char *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2);
	ck_assert_uint_eq(n1, n2);
	ck_assert_mem_eq(b1, b2, n1);

	int (*fns[])(const char *, FILE *, char *, size_t) = {
		trace_export_summary, trace_export_chrome, trace_export_csv,
		trace_export_csv_snapshots, trace_export_insn,
	};
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		size_t l1, l2;
		char *e1 = export_mem(fns[i], p1, &l1), *e2 = export_mem(fns[i], p2, &l2);
		ck_assert_uint_eq(l1, l2);
		ck_assert_mem_eq(e1, e2, l1);
		free(e1);
		free(e2);
	}
	free(b1);
	free(b2);
	unlink(p1);
	unlink(p2);
	free(p1);
	free(p2);
}
END_TEST

START_TEST(off_costs_nothing_and_does_nothing)
{
	struct trace *t = NULL;
	write_all_types(t);
	ck_assert_uint_eq(trace_intern(t, "x"), 0);
	ck_assert(!trace_insn_enabled(t, 0));
	trace_insn_filter(t, 0, 0);
	ck_assert_int_eq(trace_close(t, NULL, 0), 0);
}
END_TEST

START_TEST(insn_filter_bounds)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	ck_assert(!trace_insn_enabled(t, 0x1000));          /* off until asked */
	trace_insn_filter(t, 0x1000, 0x2000);
	ck_assert(!trace_insn_enabled(t, 0xfff));
	ck_assert(trace_insn_enabled(t, 0x1000));
	ck_assert(trace_insn_enabled(t, 0x1fff));
	ck_assert(!trace_insn_enabled(t, 0x2000));
	ck_assert(!trace_insn_enabled(t, UINT64_MAX));
	trace_insn_filter(t, 0x1000, 0);
	ck_assert(!trace_insn_enabled(t, 0xfff));
	ck_assert(trace_insn_enabled(t, UINT64_MAX));
	trace_insn_filter(t, 0, 0);
	ck_assert(trace_insn_enabled(t, 0));
	ck_assert(trace_insn_enabled(t, UINT64_MAX));
	trace_insn_filter(t, 0x2000, 0x1000);
	ck_assert(!trace_insn_enabled(t, 0x1800));
	ck_assert(!trace_insn_enabled(t, 0x2000));
	close_or_die(t);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(backward_time_is_clamped)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	trace_interrupt(t, 5000, 1);
	trace_interrupt(t, 4000, 2);
	ck_assert_uint_eq(t->clamped, 1);
	close_or_die(t);
	struct trace_reader r;
	struct trace_event ev;
	ck_assert_int_eq(trace_reader_open(&r, path), 0);
	ck_assert_int_eq(trace_reader_next(&r, &ev), 1);
	ck_assert_int_eq(trace_reader_next(&r, &ev), 1);
	ck_assert_uint_eq(ev.time, 5000);
	ck_assert_uint_eq(ev.a, 2);
	trace_reader_close(&r);
	unlink(path);
	free(path);
}
END_TEST

/* Snapshots of 1..100 us: nearest-rank percentiles are exact. */
START_TEST(summary_statistics)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	sim_time_t now = 0;
	for (uint64_t g = 1; g <= 100; g++) {
		trace_snapshot_begin(t, now, g, 2);
		trace_phase_begin(t, now, TRACE_PHASE_PAUSE);
		trace_phase_end(t, now + SIM_US, TRACE_PHASE_PAUSE);
		trace_pages_written(t, now + SIM_US, g, 2);
		trace_blk_write(t, now + SIM_US, g * 16, 16, false);
		trace_commit(t, now + g * SIM_US, g, g);
		now += 1000 * SIM_US;
	}
	trace_blk_flush(t, now);
	close_or_die(t);

	size_t len;
	char *text = export_mem(trace_export_summary, path, &len);
	cJSON *root = cJSON_Parse(text);
	ck_assert_msg(root != NULL, "summary is not JSON");
	cJSON *snaps = cJSON_GetObjectItem(root, "snapshots");
	cJSON *lat = cJSON_GetObjectItem(snaps, "latency_us");
	ck_assert_int_eq(cJSON_GetObjectItem(snaps, "committed")->valueint, 100);
	ck_assert_double_eq(cJSON_GetObjectItem(lat, "count")->valuedouble, 100);
	ck_assert_double_eq(cJSON_GetObjectItem(lat, "mean")->valuedouble, 50.5);
	ck_assert_double_eq(cJSON_GetObjectItem(lat, "p50")->valuedouble, 50);
	ck_assert_double_eq(cJSON_GetObjectItem(lat, "p90")->valuedouble, 90);
	ck_assert_double_eq(cJSON_GetObjectItem(lat, "p99")->valuedouble, 99);
	ck_assert_double_eq(cJSON_GetObjectItem(lat, "max")->valuedouble, 100);
	cJSON *pause = cJSON_GetObjectItem(snaps, "pause_us");
	ck_assert_double_eq(cJSON_GetObjectItem(pause, "p99")->valuedouble, 1);
	/* 100 x 16 sectors x 512 B written for 100 x 2 pages x 4096 B dirtied */
	ck_assert_double_eq(cJSON_GetObjectItem(root, "write_amplification")->valuedouble, 1);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(root, "pm_write_amplification")));
	cJSON *bytes = cJSON_GetObjectItem(root, "bytes");
	ck_assert_double_eq(cJSON_GetObjectItem(bytes, "persisted")->valuedouble, 819200);
	ck_assert(strstr(text, "\"mean\": 50.500000,") != NULL);
	cJSON_Delete(root);
	free(text);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(csv_headers_are_fixed)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	write_all_types(t);
	close_or_die(t);
	size_t len;
	char *text = export_mem(trace_export_csv, path, &len);
	ck_assert(strncmp(text, "seq,time_ps,time_us,type,arg1,arg2,arg3,arg4,name\n", 50) == 0);
	ck_assert(strstr(text, "\n16,15000,0.015000,power_fail,99,,,,\"adr, \"\"quoted\"\"\"\n") != NULL);
	free(text);
	text = export_mem(trace_export_csv_snapshots, path, &len);
	/* dirty_pages: snapshot_dirty's count replaced snapshot_begin's;
	 * digest: the digest record's replaced the commit's */
	ck_assert_str_eq(text, "generation,outcome,begin_ps,end_ps,latency_ps,pause_ps,writeback_ps,"
			 "commit_ps,dirty_pages,pages_written,digest\n"
			 "7,committed,1000,3000,2000,0,0,0,18446744073709551615,100,0x0123456789abcdef\n");
	free(text);
	unlink(path);
	free(path);
}
END_TEST

/* A trace of a few hundred records, in memory. */
static char *sample(size_t *len)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	write_all_types(t);
	uint32_t k = trace_intern(t, "k");
	for (uint64_t i = 0; i < 40; i++) {
		trace_snapshot_begin(t, SIM_TIME_MAX, i, i * 1000);
		trace_counter(t, SIM_TIME_MAX, k, i << 40);
	}
	close_or_die(t);
	char *buf = slurp(path, len);
	unlink(path);
	free(path);
	return buf;
}

static void expect_error(const char *path, const char *what)
{
	char err[600];
	ck_assert_msg(trace_validate(path, err, sizeof err) != 0, "%s: accepted", what);
	ck_assert_msg(strncmp(err, path, strlen(path)) == 0, "%s: message does not name the file: %s",
		      what, err);
	ck_assert_msg(strstr(err, "offset ") != NULL, "%s: message names no offset: %s", what, err);
}

START_TEST(every_truncation_is_reported)
{
	size_t len;
	char *buf = sample(&len);
	char *path = tmpname();
	spill(path, buf, len);
	char err[600];
	ck_assert_msg(trace_validate(path, err, sizeof err) == 0, "%s", err);
	for (size_t cut = 0; cut < len; cut++) {
		char what[64];
		snprintf(what, sizeof what, "cut at %zu of %zu", cut, len);
		spill(path, buf, cut);
		expect_error(path, what);
		ck_assert(trace_validate(path, err, sizeof err) != 0);
		ck_assert_msg(strstr(err, "truncated") != NULL, "%s: %s", what, err);
	}
	free(buf);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(every_byte_flip_is_reported)
{
	size_t len;
	char *buf = sample(&len);
	char *path = tmpname();
	for (size_t i = 0; i < len; i++) {
		/* one bit (a different one for each byte) and then all eight */
		const unsigned char masks[2] = {(unsigned char)(1u << (i % 8)), 0xff};
		for (int m = 0; m < 2; m++) {
			char what[64];
			snprintf(what, sizeof what, "byte %zu xor 0x%02x", i, masks[m]);
			buf[i] ^= (char)masks[m];
			spill(path, buf, len);
			expect_error(path, what);
			buf[i] ^= (char)masks[m];
		}
	}
	/* and appended garbage */
	char *longer = malloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0x10;
	spill(path, longer, len + 1);
	expect_error(path, "a byte appended");
	free(longer);
	free(buf);
	unlink(path);
	free(path);
}
END_TEST

/* Several bytes overwritten at once, from a fixed seed: still always caught,
 * and (under the sanitizers) never read out of bounds. */
START_TEST(random_damage_is_reported)
{
	size_t len;
	char *orig = sample(&len);
	char *buf = malloc(len);
	char *path = tmpname();
	struct rng r;
	rng_stream(&r, 1, "test_traces.damage");
	for (int round = 0; round < 400; round++) {
		memcpy(buf, orig, len);
		unsigned k = 1 + (unsigned)rng_below(&r, 8);
		for (unsigned j = 0; j < k; j++)
			buf[rng_below(&r, len)] = (char)rng_below(&r, 256);
		size_t cut = rng_below(&r, 4) == 0 ? rng_below(&r, len) : len;
		if (cut == len && memcmp(buf, orig, len) == 0)
			continue;
		char what[64];
		snprintf(what, sizeof what, "damage round %d", round);
		spill(path, buf, cut);
		expect_error(path, what);
	}
	free(buf);
	free(orig);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(header_errors_are_exact)
{
	size_t len;
	char *buf = sample(&len);
	char *path = tmpname();
	char err[600], want[700];

	buf[0] = 'X';
	spill(path, buf, len);
	ck_assert(trace_validate(path, err, sizeof err) != 0);
	snprintf(want, sizeof want, "%s: not a phantom-sim trace (bad magic at offset 0)", path);
	ck_assert_str_eq(err, want);
	buf[0] = TRACE_MAGIC[0];

	buf[8] = 9;
	spill(path, buf, len);
	ck_assert(trace_validate(path, err, sizeof err) != 0);
	snprintf(want, sizeof want, "%s: unsupported trace format version 9 at offset 8 "
		 "(this build reads versions %d to %d)", path, TRACE_VERSION_MIN, TRACE_VERSION);
	ck_assert_str_eq(err, want);
	buf[8] = TRACE_VERSION;

	spill(path, buf, 20);
	ck_assert(trace_validate(path, err, sizeof err) != 0);
	snprintf(want, sizeof want, "%s: truncated header at offset 20 (the fixed header is 34 bytes)", path);
	ck_assert_str_eq(err, want);

	/* cut inside the last record: the message names where it starts */
	spill(path, buf, len - 3);
	ck_assert(trace_validate(path, err, sizeof err) != 0);
	ck_assert_msg(strstr(err, ": truncated record at offset ") != NULL, "%s", err);
	free(buf);
	unlink(path);
	free(path);
}
END_TEST

/* The last 8 bytes of a trace are the end record's digest of everything
 * before the end record, which is 12 bytes long when its dt is 0 and its
 * count under 128: recompute it after patching a byte. */
static void redigest(char *buf, size_t len)
{
	ck_assert_int_eq(buf[len - 12], TR_END);
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len - 12; i++)
		h = (h ^ (uint8_t)buf[i]) * 0x100000001b3ULL;
	for (int i = 0; i < 8; i++)
		buf[len - 8 + i] = (char)(h >> (8 * i));
}

/* Rewrites the trace at path as format version v (header byte 8, end
 * digest recomputed) and validates it: 0 if it reads. */
static int as_version(const char *path, int v, char *err, size_t errlen)
{
	size_t len;
	char *buf = slurp(path, &len);
	buf[8] = (char)v;
	redigest(buf, len);
	spill(path, buf, len);
	free(buf);
	return trace_validate(path, err, errlen);
}

/* Version 1 traces still read; a version 1 trace holding a record type
 * that version 2 introduced is corrupt, as any unknown type is. */
START_TEST(version_1_is_read)
{
	char *path = tmpname();
	char err[600], want[700];
	struct trace *t = open_or_die(path);
	trace_snapshot_begin(t, 1000, 1, 3);
	trace_commit(t, 2000, 1, 9);
	close_or_die(t);
	ck_assert_msg(as_version(path, 1, err, sizeof err) == 0, "%s", err);

	t = open_or_die(path);
	trace_snapshot_begin(t, 1000, 1, 0);
	trace_snapshot_dirty(t, 1500, 1, 3);
	close_or_die(t);
	ck_assert(as_version(path, 1, err, sizeof err) != 0);
	/* header 34 + "test-1.0", then snapshot_begin: type, size, dt (2
	 * bytes for 1000), generation, dirty_pages */
	snprintf(want, sizeof want, "%s: corrupt record at offset %d: unknown record type 0x18",
		 path, TRACE_HEADER_FIXED + 8 + 6);
	ck_assert_str_eq(err, want);
	unlink(path);
	free(path);
}
END_TEST

/* Version 2 traces still read; a version 2 (or 1) trace holding a digest
 * record, which version 3 introduced, is corrupt, as any unknown type is. */
START_TEST(version_2_is_read)
{
	char *path = tmpname();
	char err[600], want[700];
	struct trace *t = open_or_die(path);
	trace_snapshot_begin(t, 1000, 1, 0);
	trace_snapshot_dirty(t, 1500, 1, 3);
	trace_commit(t, 2000, 1, 9);
	close_or_die(t);
	ck_assert_msg(as_version(path, 2, err, sizeof err) == 0, "%s", err);

	/* header 34 + "test-1.0"; snapshot_begin: type, size, dt (2 bytes
	 * for 1000), generation, dirty_pages; commit: type, size, dt,
	 * generation, 8-byte digest */
	snprintf(want, sizeof want, "%s: corrupt record at offset %d: unknown record type 0x19",
		 path, TRACE_HEADER_FIXED + 8 + 6 + 13);
	for (int v = 2; v >= 1; v--) {
		t = open_or_die(path);
		trace_snapshot_begin(t, 1000, 1, 3);
		trace_commit(t, 2000, 1, 0);
		trace_digest(t, 3000, 1, 9);
		close_or_die(t);
		ck_assert_msg(trace_validate(path, err, sizeof err) == 0, "%s", err);
		ck_assert_msg(as_version(path, v, err, sizeof err) != 0, "version %d: accepted", v);
		ck_assert_str_eq(err, want);
	}
	unlink(path);
	free(path);
}
END_TEST

/* A guest that hashes after the root is durable commits with digest 0 and
 * reports the digest later, possibly after the next snapshot began: the
 * committed snapshot gets it, through every export that shows digests. */
START_TEST(late_digest_reaches_the_snapshot)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	trace_snapshot_begin(t, 1 * SIM_US, 1, 2);
	trace_commit(t, 2 * SIM_US, 1, 0);
	trace_snapshot_begin(t, 3 * SIM_US, 2, 2);
	trace_digest(t, 4 * SIM_US, 1, 0xa1);         /* the next snapshot is open */
	trace_commit(t, 5 * SIM_US, 2, 0);
	trace_digest(t, 6 * SIM_US, 2, 0xa2);
	/* generation 3 tried twice: the digest is the second try's */
	trace_snapshot_begin(t, 10 * SIM_US, 3, 2);
	trace_power_fail(t, 11 * SIM_US, 0, 1);
	trace_snapshot_begin(t, 12 * SIM_US, 3, 2);
	trace_commit(t, 13 * SIM_US, 3, 0);
	trace_digest(t, 14 * SIM_US, 3, 0xa3);
	trace_digest(t, 15 * SIM_US, 9, 0xa9);        /* no such snapshot */
	close_or_die(t);

	size_t len;
	char *text = export_mem(trace_export_csv_snapshots, path, &len);
	ck_assert_str_eq(text, "generation,outcome,begin_ps,end_ps,latency_ps,pause_ps,writeback_ps,"
			 "commit_ps,dirty_pages,pages_written,digest\n"
			 "1,committed,1000000,2000000,1000000,0,0,0,2,0,0x00000000000000a1\n"
			 "2,committed,3000000,5000000,2000000,0,0,0,2,0,0x00000000000000a2\n"
			 "3,aborted,10000000,11000000,1000000,0,0,0,2,0,\n"
			 "3,committed,12000000,13000000,1000000,0,0,0,2,0,0x00000000000000a3\n");
	free(text);

	struct trace_reader r;
	struct trace_event ev;
	struct trace_scan s;
	trace_scan_init(&s, NULL, NULL);
	ck_assert_msg(trace_reader_open(&r, path) == 0, "%s", r.err);
	int rc;
	while ((rc = trace_reader_next(&r, &ev)) > 0)
		trace_scan_event(&s, &ev);
	ck_assert_msg(rc == 0, "%s", r.err);
	trace_scan_finish(&s, r.end_time);
	ck_assert_uint_eq(s.nsnaps, 4);
	ck_assert_uint_eq(s.snaps[2].digest, 0);      /* the aborted try */
	ck_assert_uint_eq(s.snaps[3].digest, 0xa3);
	ck_assert_uint_eq(s.unmatched, 1);
	trace_scan_free(&s);
	trace_reader_close(&r);

	text = export_mem(trace_export_summary, path, &len);
	cJSON *root = cJSON_Parse(text);
	ck_assert_msg(root != NULL, "summary is not JSON");
	ck_assert_int_eq(cJSON_GetObjectItem(root, "unmatched")->valueint, 1);
	cJSON *counts = cJSON_GetObjectItem(root, "event_counts");
	ck_assert_int_eq(cJSON_GetObjectItem(counts, "digest")->valueint, 4);
	cJSON_Delete(root);
	free(text);

	text = export_mem(trace_export_csv, path, &len);
	ck_assert(strstr(text, ",4.000000,digest,1,0x00000000000000a1,,,\n") != NULL);
	free(text);

	text = export_mem(trace_export_chrome, path, &len);
	root = cJSON_Parse(text);
	ck_assert_msg(root != NULL, "chrome export is not JSON");
	cJSON_Delete(root);
	/* the slice went out at the commit; the digest is an instant of its own */
	ck_assert(strstr(text, "\"generation\":1,\"outcome\":\"committed\",\"dirty_pages\":2,"
			 "\"pages_written\":0,\"pause_us\":0.000000,\"digest\":\"0x0000000000000000\"}}")
		  != NULL);
	ck_assert(strstr(text, "{\"name\":\"digest 1\",\"cat\":\"snapshot\",\"ph\":\"i\",\"ts\":4.000000,"
			 "\"pid\":1,\"tid\":9,\"s\":\"t\",\"args\":{\"generation\":1,"
			 "\"digest\":\"0x00000000000000a1\"}}") != NULL);
	free(text);
	unlink(path);
	free(path);
}
END_TEST

/* The dirty page count arriving after snapshot_begin, unknown counts, and
 * the WPQ records, through every export that shows them. */
START_TEST(dirty_pages_and_wpq_exports)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	/* snapshot 1: count unknown at begin, 5 pages found by the pause */
	trace_snapshot_begin(t, 1 * SIM_US, 1, 0);
	trace_snapshot_dirty(t, 2 * SIM_US, 1, 5);
	trace_wpq_drain(t, 3 * SIM_US, 0, 0, 2);      /* two lines queued */
	trace_pages_written(t, 4 * SIM_US, 1, 2);
	trace_wpq_drain(t, 5 * SIM_US, 2, 128, 0);    /* both drained */
	trace_commit(t, 6 * SIM_US, 1, 11);
	/* snapshot 2: an older guest, the count never comes */
	trace_snapshot_begin(t, 10 * SIM_US, 2, 0);
	trace_commit(t, 11 * SIM_US, 2, 12);
	/* snapshot 3: a count at begin, replaced by the pause's */
	trace_snapshot_begin(t, 20 * SIM_US, 3, 4);
	trace_snapshot_dirty(t, 21 * SIM_US, 3, 1);
	trace_snapshot_dirty(t, 22 * SIM_US, 9, 1);   /* not the open snapshot */
	trace_commit(t, 23 * SIM_US, 3, 13);
	close_or_die(t);

	size_t len;
	char *text = export_mem(trace_export_summary, path, &len);
	cJSON *root = cJSON_Parse(text);
	ck_assert_msg(root != NULL, "summary is not JSON");
	cJSON *bytes = cJSON_GetObjectItem(root, "bytes");
	ck_assert_double_eq(cJSON_GetObjectItem(bytes, "dirtied")->valuedouble, 6 * 4096);
	ck_assert_double_eq(cJSON_GetObjectItem(bytes, "pm_media")->valuedouble, 128);
	ck_assert_double_eq(cJSON_GetObjectItem(bytes, "media")->valuedouble, 128);
	ck_assert_double_eq(cJSON_GetObjectItem(bytes, "persisted")->valuedouble, 128);
	cJSON *snaps = cJSON_GetObjectItem(root, "snapshots");
	ck_assert_int_eq(cJSON_GetObjectItem(snaps, "dirty_unknown")->valueint, 1);
	cJSON *wpq = cJSON_GetObjectItem(root, "wpq");
	ck_assert_int_eq(cJSON_GetObjectItem(wpq, "drains")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(wpq, "lines")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(wpq, "max_occupancy")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(root, "unmatched")->valueint, 1);
	cJSON *counts = cJSON_GetObjectItem(root, "event_counts");
	ck_assert_int_eq(cJSON_GetObjectItem(counts, "snapshot_dirty")->valueint, 3);
	ck_assert_int_eq(cJSON_GetObjectItem(counts, "wpq_drain")->valueint, 2);
	cJSON_Delete(root);
	free(text);

	text = export_mem(trace_export_chrome, path, &len);
	cJSON *chrome = cJSON_Parse(text);
	ck_assert_msg(chrome != NULL, "chrome export is not JSON");
	cJSON_Delete(chrome);
	/* the pause's count, then what is left after the pages written */
	ck_assert(strstr(text, "{\"name\":\"dirty\",\"cat\":\"counter\",\"ph\":\"C\",\"ts\":2.000000,"
			 "\"pid\":1,\"tid\":0,\"args\":{\"pages\":5}}") != NULL);
	ck_assert(strstr(text, "\"ts\":4.000000,\"pid\":1,\"tid\":0,\"args\":{\"pages\":3}}") != NULL);
	ck_assert(strstr(text, "{\"name\":\"WPQ\",\"cat\":\"counter\",\"ph\":\"C\",\"ts\":3.000000,"
			 "\"pid\":1,\"tid\":0,\"args\":{\"occupancy\":2}}") != NULL);
	ck_assert(strstr(text, "{\"name\":\"WPQ\",\"cat\":\"counter\",\"ph\":\"C\",\"ts\":5.000000,"
			 "\"pid\":1,\"tid\":0,\"args\":{\"occupancy\":0}}") != NULL);
	/* persisted bytes move only with a drain that wrote something */
	ck_assert(strstr(text, "\"ts\":3.000000,\"pid\":1,\"tid\":0,\"args\":{\"bytes\"") == NULL);
	ck_assert(strstr(text, "\"ts\":5.000000,\"pid\":1,\"tid\":0,\"args\":{\"bytes\":128}}") != NULL);
	ck_assert(strstr(text, "\"generation\":1,\"outcome\":\"committed\",\"dirty_pages\":5,") != NULL);
	ck_assert(strstr(text, "\"generation\":2,\"outcome\":\"committed\",\"dirty_pages\":null,") != NULL);
	ck_assert(strstr(text, "\"generation\":3,\"outcome\":\"committed\",\"dirty_pages\":1,") != NULL);
	free(text);

	text = export_mem(trace_export_csv_snapshots, path, &len);
	ck_assert(strstr(text, "\n1,committed,1000000,6000000,5000000,0,0,0,5,2,0x000000000000000b\n") != NULL);
	ck_assert(strstr(text, "\n2,committed,10000000,11000000,1000000,0,0,0,,0,0x000000000000000c\n") != NULL);
	free(text);
	text = export_mem(trace_export_csv, path, &len);
	ck_assert(strstr(text, ",2.000000,snapshot_dirty,1,5,,,\n") != NULL);
	ck_assert(strstr(text, ",3.000000,wpq_drain,0,0,2,,\n") != NULL);
	free(text);
	unlink(path);
	free(path);
}
END_TEST

/* More than the reader's 256 KiB window, so records straddle refills. */
START_TEST(large_trace_reads_back)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	trace_insn_filter(t, 0, 0);
	const uint64_t n = 200000;
	for (uint64_t i = 0; i < n; i++) {
		uint8_t b[15] = {(uint8_t)i};
		trace_insn(t, i * 300, 0x400000 + i * 7, 1 + (unsigned)(i % 15), b);
	}
	close_or_die(t);
	struct trace_reader r;
	struct trace_event ev;
	ck_assert_int_eq(trace_reader_open(&r, path), 0);
	uint64_t k = 0;
	int rc;
	while ((rc = trace_reader_next(&r, &ev)) > 0) {
		ck_assert_uint_eq(ev.a, 0x400000 + k * 7);
		ck_assert_uint_eq(ev.len, 1 + k % 15);
		ck_assert_uint_eq(ev.bytes[0], (uint8_t)k);
		k++;
	}
	ck_assert_msg(rc == 0, "%s", r.err);
	ck_assert_uint_eq(k, n);
	trace_reader_close(&r);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(chrome_export_is_json)
{
	char *path = tmpname();
	struct trace *t = open_or_die(path);
	write_all_types(t);
	close_or_die(t);
	size_t len;
	char *text = export_mem(trace_export_chrome, path, &len);
	cJSON *root = cJSON_Parse(text);
	ck_assert_msg(root != NULL, "chrome export is not JSON");
	cJSON *evs = cJSON_GetObjectItem(root, "traceEvents");
	ck_assert(cJSON_IsArray(evs));
	ck_assert_int_gt(cJSON_GetArraySize(evs), 10);
	/* the snapshot slice: 1000 ps to 3000 ps */
	ck_assert(strstr(text, "{\"name\":\"snapshot 7\",\"cat\":\"snapshot\",\"ph\":\"X\",\"ts\":0.001000,"
			 "\"pid\":1,\"tid\":1,\"dur\":0.002000,") != NULL);
	cJSON_Delete(root);
	free(text);
	unlink(path);
	free(path);
}
END_TEST

/* A field value: mostly small, sometimes an extreme. */
static uint64_t field(struct rng *r)
{
	switch (rng_below(r, 6)) {
	case 0: return 0;
	case 1: return UINT64_MAX;
	case 2: return rng_next(r);
	default: return rng_below(r, 16);
	}
}

/* Well-formed traces of random events, in any order and with any values
 * (commits with no snapshot, unknown phases, huge times): every export
 * must cope, and the chrome export must still be valid JSON. */
START_TEST(random_events_export_cleanly)
{
	static const enum trace_type types[] = {
		TR_SNAPSHOT_BEGIN, TR_SNAPSHOT_DIRTY, TR_PAGES_WRITTEN, TR_COMMIT, TR_RECOVERY_BEGIN,
		TR_RECOVERY_END, TR_WORKLOAD_OP, TR_PHASE_BEGIN, TR_PHASE_END, TR_PM_STORE,
		TR_FLUSH, TR_FENCE, TR_WPQ_DRAIN, TR_BLK_WRITE, TR_BLK_FLUSH, TR_POWER_FAIL,
		TR_RECOVERY, TR_INTERRUPT, TR_QUEUE_DEPTH, TR_INSN, TR_COUNTER, TR_DIGEST,
	};
	int (*fns[])(const char *, FILE *, char *, size_t) = {
		trace_export_summary, trace_export_chrome, trace_export_csv,
		trace_export_csv_snapshots, trace_export_insn,
	};
	struct rng r;
	rng_stream(&r, 2, "test_traces.random");
	char *path = tmpname();
	for (int round = 0; round < 40; round++) {
		struct trace *t = open_or_die(path);
		trace_insn_filter(t, 0, 0);
		uint32_t names[3] = {trace_intern(t, "a"), trace_intern(t, "b,\"c\"\n"), 0};
		sim_time_t now = 0;
		for (int i = 0; i < 300; i++) {
			uint64_t step = rng_below(&r, 4) ? rng_below(&r, 1000000) : field(&r);
			now = step > SIM_TIME_MAX - now ? SIM_TIME_MAX : now + step;
			enum trace_type ty = types[rng_below(&r, sizeof types / sizeof types[0])];
			uint64_t a = field(&r), b = field(&r), c = field(&r), d = field(&r);
			uint32_t nm = names[rng_below(&r, 3)];
			uint8_t bytes[TRACE_INSN_MAX];
			rng_fill(&r, bytes, sizeof bytes);
			switch (ty) {
			case TR_COMMIT: trace_commit(t, now, a, b); break;
			case TR_DIGEST: trace_digest(t, now, a, b); break;
			case TR_RECOVERY_END: trace_recovery_end(t, now, a, b, c, d); break;
			case TR_INSN: trace_insn(t, now, a, 1 + (unsigned)rng_below(&r, 15), bytes); break;
			case TR_WORKLOAD_OP: case TR_POWER_FAIL: case TR_QUEUE_DEPTH: case TR_COUNTER:
				trace_emit2(t, ty, now, nm, b);
				break;
			case TR_PHASE_BEGIN: case TR_PHASE_END:
				trace_emit1(t, ty, now, rng_below(&r, 2) ? 1 + rng_below(&r, 9) : a);
				break;
			case TR_RECOVERY_BEGIN: case TR_BLK_FLUSH: case TR_RECOVERY:
				trace_emit0(t, ty, now);
				break;
			case TR_FENCE: case TR_INTERRUPT:
				trace_emit1(t, ty, now, a);
				break;
			case TR_WPQ_DRAIN: case TR_BLK_WRITE:
				trace_emit3(t, ty, now, a, b, c);
				break;
			default:
				trace_emit2(t, ty, now, a, b);
				break;
			}
		}
		close_or_die(t);
		for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
			size_t len;
			char *text = export_mem(fns[i], path, &len);
			if (fns[i] == trace_export_chrome || fns[i] == trace_export_summary) {
				cJSON *root = cJSON_Parse(text);
				ck_assert_msg(root != NULL, "round %d: export %zu is not JSON", round, i);
				cJSON_Delete(root);
			}
			free(text);
		}
	}
	unlink(path);
	free(path);
}
END_TEST

static Suite *traces_suite(void)
{
	Suite *s = suite_create("traces");
	TCase *tc = tcase_create("format");
	tcase_add_test(tc, round_trip_every_type);
	tcase_add_test(tc, same_events_same_bytes);
	tcase_add_test(tc, off_costs_nothing_and_does_nothing);
	tcase_add_test(tc, insn_filter_bounds);
	tcase_add_test(tc, backward_time_is_clamped);
	tcase_add_test(tc, large_trace_reads_back);
	suite_add_tcase(s, tc);
	tc = tcase_create("errors");
	tcase_set_timeout(tc, 120);             /* thousands of files, slow under ASan */
	tcase_add_test(tc, every_truncation_is_reported);
	tcase_add_test(tc, every_byte_flip_is_reported);
	tcase_add_test(tc, random_damage_is_reported);
	tcase_add_test(tc, header_errors_are_exact);
	tcase_add_test(tc, version_1_is_read);
	tcase_add_test(tc, version_2_is_read);
	suite_add_tcase(s, tc);
	tc = tcase_create("exports");
	tcase_add_test(tc, summary_statistics);
	tcase_add_test(tc, dirty_pages_and_wpq_exports);
	tcase_add_test(tc, late_digest_reaches_the_snapshot);
	tcase_add_test(tc, csv_headers_are_fixed);
	tcase_add_test(tc, chrome_export_is_json);
	tcase_add_test(tc, random_events_export_cleanly);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(traces_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
