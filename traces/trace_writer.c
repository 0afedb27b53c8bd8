/* traces/trace_writer.c: encoding records into a buffered trace file.
 *
 * Every record is `type, size, body` with body = `dt, fields...`, all
 * integers as LEB128 varints except digests (8 bytes little-endian); see
 * docs/traces.md.  Event records are encoded straight into a 64 KiB
 * output buffer and folded into the running FNV-1a digest as they are
 * closed, so the END record can carry the digest of everything before it
 * without a second pass, and a record costs no copy and no allocation.
 *
 * Write errors are sticky: producers never check a return value, and
 * trace_close() reports the first failure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "config.h"
#include "sim/rng.h"
#include "traces/trace.h"

#define OUT_BUF_SIZE (64 * 1024)
#define REC_MAX TRACE_BODY_MAX
#define FNV_PRIME 0x100000001b3ULL      /* FNV-1a 64, as hash_fnv1a() */

/* Open-addressed map from name to id; keys are owned copies. */
struct trace_names {
	char **keys;
	uint32_t *ids;
	size_t cap, len;
};

uint64_t trace_config_hash(const char *config_json)
{
	return hash_fnv1a(config_json, strlen(config_json), HASH_FNV1A_INIT);
}

static inline size_t put_uv(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

static inline size_t put_u64le(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
	return 8;
}

static void flush_buf(struct trace *t)
{
	if (t->len && !t->err && fwrite(t->buf, 1, t->len, t->f) != t->len)
		t->err = errno ? errno : EIO;
	t->offset += t->len;
	t->len = 0;
}

static void append(struct trace *t, const uint8_t *p, size_t n)
{
	t->digest = hash_fnv1a(p, n, t->digest);
	if (t->len + n > OUT_BUF_SIZE)
		flush_buf(t);
	memcpy(t->buf + t->len, p, n);
	t->len += n;
}

/* Start a record's body: returns the body length after the dt field. */
static size_t begin_body(struct trace *t, uint8_t *body, sim_time_t now)
{
	if (now < t->last) {
		t->clamped++;
		now = t->last;
	}
	size_t n = put_uv(body, now - t->last);
	t->last = now;
	return n;
}

static void finish(struct trace *t, enum trace_type type, const uint8_t *body, size_t blen)
{
	uint8_t rec[REC_MAX + 16];
	size_t n = 0;
	rec[n++] = (uint8_t)type;
	n += put_uv(rec + n, blen);
	memcpy(rec + n, body, blen);
	append(t, rec, n + blen);
	if (type != TR_END)
		t->count++;
}

/* Every record but string and end records has a body under 128 bytes
 * (the largest, recovery_end, is at most 48), so its size field is one
 * byte and the record can be encoded straight into the output buffer:
 * rec_open() writes the type and dt, the caller the fields, rec_close()
 * the size, and folds the record into the digest. */
#define SMALL_BODY_MAX 127

static inline uint8_t *rec_open(struct trace *t, enum trace_type type, sim_time_t now)
{
	if (OUT_BUF_SIZE - t->len < SMALL_BODY_MAX + 2)
		flush_buf(t);
	uint8_t *p = t->buf + t->len;
	p[0] = (uint8_t)type;
	if (now < t->last) {
		t->clamped++;
		now = t->last;
	}
	uint8_t *q = p + 2;
	q += put_uv(q, now - t->last);
	t->last = now;
	return q;
}

static inline void rec_close(struct trace *t, uint8_t *end)
{
	uint8_t *p = t->buf + t->len;
	size_t n = (size_t)(end - p);
	p[1] = (uint8_t)(n - 2);
	uint64_t h = t->digest;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * FNV_PRIME;
	t->digest = h;
	t->len += n;
	t->count++;
}

void trace_emit0(struct trace *t, enum trace_type type, sim_time_t now)
{
	rec_close(t, rec_open(t, type, now));
}

void trace_emit1(struct trace *t, enum trace_type type, sim_time_t now, uint64_t a)
{
	uint8_t *q = rec_open(t, type, now);
	q += put_uv(q, a);
	rec_close(t, q);
}

void trace_emit2(struct trace *t, enum trace_type type, sim_time_t now, uint64_t a, uint64_t b)
{
	uint8_t *q = rec_open(t, type, now);
	q += put_uv(q, a);
	q += put_uv(q, b);
	rec_close(t, q);
}

void trace_emit3(struct trace *t, enum trace_type type, sim_time_t now,
		 uint64_t a, uint64_t b, uint64_t c)
{
	uint8_t *q = rec_open(t, type, now);
	q += put_uv(q, a);
	q += put_uv(q, b);
	q += put_uv(q, c);
	rec_close(t, q);
}

void trace_emit_commit(struct trace *t, sim_time_t now, uint64_t generation, uint64_t digest)
{
	uint8_t *q = rec_open(t, TR_COMMIT, now);
	q += put_uv(q, generation);
	q += put_u64le(q, digest);
	rec_close(t, q);
}

void trace_emit_digest(struct trace *t, sim_time_t now, uint64_t generation, uint64_t digest)
{
	uint8_t *q = rec_open(t, TR_DIGEST, now);
	q += put_uv(q, generation);
	q += put_u64le(q, digest);
	rec_close(t, q);
}

void trace_emit_recovery_end(struct trace *t, sim_time_t now, uint64_t generation,
			     uint64_t digest, uint64_t selfcheck, uint64_t invariant)
{
	uint8_t *q = rec_open(t, TR_RECOVERY_END, now);
	q += put_uv(q, generation);
	q += put_u64le(q, digest);
	q += put_uv(q, selfcheck);
	q += put_uv(q, invariant);
	rec_close(t, q);
}

void trace_emit_insn(struct trace *t, sim_time_t now, uint64_t pc, unsigned len,
		     const uint8_t *bytes)
{
	if (len > TRACE_INSN_MAX)
		len = TRACE_INSN_MAX;
	uint8_t *q = rec_open(t, TR_INSN, now);
	q += put_uv(q, pc);
	q += put_uv(q, len);
	for (unsigned i = 0; i < len; i++)
		q[i] = bytes[i];
	rec_close(t, q + len);
}

void trace_insn_filter(struct trace *t, uint64_t lo, uint64_t hi)
{
	if (!t)
		return;
	t->insn_on = hi == 0 || hi > lo;
	t->insn_lo = lo;
	t->insn_reach = (hi ? hi - 1 : UINT64_MAX) - lo;
}

/* --- string table ------------------------------------------------------- */

static void names_free(struct trace_names *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++)
		free(m->keys[i]);
	free(m->keys);
	free(m->ids);
	free(m);
}

static size_t names_slot(const struct trace_names *m, const char *s, size_t len)
{
	size_t i = hash_fnv1a(s, len, HASH_FNV1A_INIT) & (m->cap - 1);
	while (m->keys[i] && (strlen(m->keys[i]) != len || memcmp(m->keys[i], s, len) != 0))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int names_grow(struct trace_names *m)
{
	size_t cap = m->cap ? m->cap * 2 : 64;
	char **keys = calloc(cap, sizeof *keys);
	uint32_t *ids = calloc(cap, sizeof *ids);
	if (!keys || !ids) {
		free(keys);
		free(ids);
		return -1;
	}
	struct trace_names old = *m;
	m->keys = keys;
	m->ids = ids;
	m->cap = cap;
	for (size_t i = 0; i < old.cap; i++) {
		if (!old.keys[i])
			continue;
		size_t j = names_slot(m, old.keys[i], strlen(old.keys[i]));
		m->keys[j] = old.keys[i];
		m->ids[j] = old.ids[i];
	}
	free(old.keys);
	free(old.ids);
	return 0;
}

uint32_t trace_intern(struct trace *t, const char *name)
{
	if (!t)
		return 0;
	struct trace_names *m = t->names;
	size_t len = strnlen(name, TRACE_NAME_MAX);
	if ((m->len + 1) * 2 > m->cap && names_grow(m) != 0) {
		t->err = ENOMEM;
		return 0;
	}
	size_t i = names_slot(m, name, len);
	if (m->keys[i])
		return m->ids[i];
	char *key = strndup(name, len);
	if (!key) {
		t->err = ENOMEM;
		return 0;
	}
	uint32_t id = (uint32_t)++m->len;
	m->keys[i] = key;
	m->ids[i] = id;

	uint8_t b[REC_MAX];
	size_t n = begin_body(t, b, t->last);
	n += put_uv(b + n, id);
	n += put_uv(b + n, len);
	memcpy(b + n, name, len);
	finish(t, TR_STRING, b, n + len);
	return id;
}

/* --- open and close ----------------------------------------------------- */

static void set_err(char *err, size_t errlen, const char *fmt, const char *name, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, fmt, name, why);
}

struct trace *trace_open_stream(FILE *f, const char *name, const struct trace_params *p,
				char *err, size_t errlen)
{
	struct trace *t = calloc(1, sizeof *t);
	if (t) {
		t->buf = malloc(OUT_BUF_SIZE);
		t->names = calloc(1, sizeof *t->names);
		t->path = strdup(name ? name : "trace");
	}
	if (!t || !t->buf || !t->names || !t->path) {
		if (t) {
			free(t->buf);
			free(t->names);
			free(t->path);
			free(t);
		}
		set_err(err, errlen, "%s: %s", name ? name : "trace", strerror(ENOMEM));
		return NULL;
	}
	t->f = f;
	t->digest = HASH_FNV1A_INIT;

	const char *ver = p->sim_version ? p->sim_version : PACKAGE_VERSION;
	size_t vlen = strnlen(ver, TRACE_SIMVER_MAX);
	uint64_t chash = p->config_json ? trace_config_hash(p->config_json) : p->config_hash;
	uint8_t h[TRACE_HEADER_FIXED + TRACE_SIMVER_MAX];
	memcpy(h, TRACE_MAGIC, TRACE_MAGIC_LEN);
	h[8] = TRACE_VERSION & 0xff;
	h[9] = TRACE_VERSION >> 8;
	h[10] = h[11] = 0;                      /* flags: none defined */
	uint32_t hlen = (uint32_t)(TRACE_HEADER_FIXED + vlen);
	for (int i = 0; i < 4; i++)
		h[12 + i] = (uint8_t)(hlen >> (8 * i));
	put_u64le(h + 16, chash);
	put_u64le(h + 24, p->seed);
	h[32] = (uint8_t)vlen;
	h[33] = 0;
	memcpy(h + TRACE_HEADER_FIXED, ver, vlen);
	append(t, h, hlen);
	return t;
}

struct trace *trace_open(const char *path, const struct trace_params *p,
			 char *err, size_t errlen)
{
	FILE *f = fopen(path, "wb");
	if (!f) {
		set_err(err, errlen, "%s: cannot create trace: %s", path, strerror(errno));
		return NULL;
	}
	struct trace *t = trace_open_stream(f, path, p, err, errlen);
	if (!t) {
		fclose(f);
		return NULL;
	}
	t->own_file = true;
	return t;
}

int trace_close(struct trace *t, char *err, size_t errlen)
{
	if (!t)
		return 0;
	uint8_t b[32];
	size_t n = begin_body(t, b, t->last);
	n += put_uv(b + n, t->count);
	/* The digest covers every byte before this record. */
	n += put_u64le(b + n, t->digest);
	finish(t, TR_END, b, n);
	flush_buf(t);
	if (!t->err && fflush(t->f) != 0)
		t->err = errno ? errno : EIO;
	if (t->own_file && fclose(t->f) != 0 && !t->err)
		t->err = errno ? errno : EIO;
	int rc = 0;
	if (t->err) {
		set_err(err, errlen, "%s: writing trace failed: %s", t->path, strerror(t->err));
		rc = -1;
	}
	names_free(t->names);
	free(t->buf);
	free(t->path);
	free(t);
	return rc;
}

/* --- names of things ---------------------------------------------------- */

const char *trace_type_name(unsigned type)
{
	switch (type) {
	case TR_STRING: return "string";
	case TR_END: return "end";
	case TR_SNAPSHOT_BEGIN: return "snapshot_begin";
	case TR_PAGES_WRITTEN: return "pages_written";
	case TR_COMMIT: return "commit";
	case TR_RECOVERY_BEGIN: return "recovery_begin";
	case TR_RECOVERY_END: return "recovery_end";
	case TR_WORKLOAD_OP: return "workload_op";
	case TR_PHASE_BEGIN: return "phase_begin";
	case TR_PHASE_END: return "phase_end";
	case TR_SNAPSHOT_DIRTY: return "snapshot_dirty";
	case TR_DIGEST: return "digest";
	case TR_PM_STORE: return "pm_store";
	case TR_FLUSH: return "flush";
	case TR_FENCE: return "fence";
	case TR_WPQ_DRAIN: return "wpq_drain";
	case TR_BLK_WRITE: return "blk_write";
	case TR_BLK_FLUSH: return "blk_flush";
	case TR_POWER_FAIL: return "power_fail";
	case TR_RECOVERY: return "recovery";
	case TR_INTERRUPT: return "interrupt";
	case TR_QUEUE_DEPTH: return "queue_depth";
	case TR_INSN: return "insn";
	case TR_COUNTER: return "counter";
	}
	return NULL;
}

const char *trace_phase_name(uint64_t phase)
{
	switch (phase) {
	case TRACE_PHASE_PAUSE: return "pause";
	case TRACE_PHASE_WRITEBACK: return "writeback";
	case TRACE_PHASE_COMMIT: return "commit";
	}
	return NULL;
}

const char *trace_flush_name(uint64_t kind)
{
	switch (kind) {
	case TRACE_FLUSH_CLFLUSH: return "clflush";
	case TRACE_FLUSH_CLFLUSHOPT: return "clflushopt";
	case TRACE_FLUSH_CLWB: return "clwb";
	}
	return NULL;
}

const char *trace_fence_name(uint64_t kind)
{
	switch (kind) {
	case TRACE_FENCE_SFENCE: return "sfence";
	case TRACE_FENCE_MFENCE: return "mfence";
	case TRACE_FENCE_LFENCE: return "lfence";
	case TRACE_FENCE_LOCKED: return "locked";
	}
	return NULL;
}
