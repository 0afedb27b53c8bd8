/* traces/trace_reader.c: decoding and validating a trace file.
 *
 * The reader streams the file through a 256 KiB window, so a trace of any
 * size is read in constant memory (plus its string table).  It trusts
 * nothing: every varint is bounded, every record's fields must fill its
 * declared size exactly, names must be defined before use, and the end
 * record's event count and FNV-1a digest must match what was read.  Any
 * failure stops the walk with one message naming the byte offset of the
 * record (or header field) at fault.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "sim/rng.h"
#include "traces/trace_reader.h"

#define WINDOW (256 * 1024)

static int fail(struct trace_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, sizeof r->err, "%s: ", r->path ? r->path : "trace");
	if (n < 0 || (size_t)n >= sizeof r->err)
		n = 0;
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof r->err - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Make at least `need` bytes available at r->pos if the file has them;
 * returns how many are available. */
static size_t avail(struct trace_reader *r, size_t need)
{
	while (r->len - r->pos < need && !r->eof) {
		if (r->pos) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->base += r->pos;
			r->len -= r->pos;
			r->pos = 0;
		}
		size_t got = fread(r->buf + r->len, 1, WINDOW - r->len, r->f);
		r->len += got;
		if (got == 0)
			r->eof = true;
	}
	return r->len - r->pos;
}

static uint64_t get_u64le(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* A bounded cursor over one record body. */
struct cur {
	const uint8_t *p, *end;
	bool bad;                       /* a field ran past the end, or overflowed */
};

static uint64_t uv(struct cur *c)
{
	uint64_t v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (c->p >= c->end) {
			c->bad = true;
			return 0;
		}
		uint8_t b = *c->p++;
		if (shift == 63 && b > 1) {
			c->bad = true;
			return 0;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return v;
	}
	c->bad = true;
	return 0;
}

static uint64_t u64le(struct cur *c)
{
	if (c->end - c->p < 8) {
		c->bad = true;
		return 0;
	}
	uint64_t v = get_u64le(c->p);
	c->p += 8;
	return v;
}

int trace_reader_open(struct trace_reader *r, const char *path)
{
	memset(r, 0, sizeof *r);
	r->path = strdup(path);
	r->buf = malloc(WINDOW);
	if (!r->path || !r->buf)
		return fail(r, "out of memory");
	r->f = fopen(path, "rb");
	if (!r->f)
		return fail(r, "cannot open trace: %s", strerror(errno));

	size_t have = avail(r, TRACE_HEADER_FIXED);
	/* A file shorter than the magic that matches as far as it goes is a
	 * truncated trace; anything else that does not match is not a trace. */
	size_t cmp = have < TRACE_MAGIC_LEN ? have : TRACE_MAGIC_LEN;
	if (memcmp(r->buf, TRACE_MAGIC, cmp) != 0)
		return fail(r, "not a phantom-sim trace (bad magic at offset 0)");
	if (have < TRACE_HEADER_FIXED)
		return fail(r, "truncated header at offset %zu (the fixed header is %d bytes)",
			    have, TRACE_HEADER_FIXED);
	const uint8_t *h = r->buf;
	r->version = h[8] | (unsigned)h[9] << 8;
	if (r->version < TRACE_VERSION_MIN || r->version > TRACE_VERSION)
		return fail(r, "unsupported trace format version %u at offset 8 (this build reads "
			    "versions %d to %d)", r->version, TRACE_VERSION_MIN, TRACE_VERSION);
	if (h[10] | h[11])
		return fail(r, "corrupt header: unknown flags 0x%04x at offset 10", h[10] | h[11] << 8);
	uint32_t hlen = h[12] | (uint32_t)h[13] << 8 | (uint32_t)h[14] << 16 | (uint32_t)h[15] << 24;
	r->config_hash = get_u64le(h + 16);
	r->seed = get_u64le(h + 24);
	unsigned vlen = h[32] | (unsigned)h[33] << 8;
	if (vlen > TRACE_SIMVER_MAX)
		return fail(r, "corrupt header: version string length %u at offset 32 exceeds %d",
			    vlen, TRACE_SIMVER_MAX);
	if (hlen != TRACE_HEADER_FIXED + vlen)
		return fail(r, "corrupt header: header length %" PRIu32 " at offset 12 does not match "
			    "the version string length %u", hlen, vlen);
	if (avail(r, hlen) < hlen)
		return fail(r, "truncated header at offset %zu (the header is %" PRIu32 " bytes)",
			    r->len, hlen);
	memcpy(r->sim_version, r->buf + TRACE_HEADER_FIXED, vlen);
	r->sim_version[vlen] = '\0';
	r->running = hash_fnv1a(r->buf, hlen, HASH_FNV1A_INIT);
	r->pos = hlen;
	return 0;
}

static int add_name(struct trace_reader *r, uint64_t off, uint64_t id, const uint8_t *s, size_t len)
{
	if (id != r->nnames + 1)
		return fail(r, "corrupt record at offset %" PRIu64 ": string id %" PRIu64
			    " out of sequence (expected %zu)", off, id, r->nnames + 1);
	if (r->nnames == r->capnames) {
		size_t cap = r->capnames ? r->capnames * 2 : 64;
		char **n = realloc(r->names, cap * sizeof *n);
		if (!n)
			return fail(r, "out of memory");
		r->names = n;
		r->capnames = cap;
	}
	char *copy = malloc(len + 1);
	if (!copy)
		return fail(r, "out of memory");
	memcpy(copy, s, len);
	copy[len] = '\0';
	r->names[r->nnames++] = copy;
	return 0;
}

static int name_of(struct trace_reader *r, struct trace_event *ev)
{
	if (ev->a == 0) {
		ev->name = "";
		return 0;
	}
	if (ev->a > r->nnames)
		return fail(r, "corrupt record at offset %" PRIu64 ": undefined string id %" PRIu64,
			    ev->offset, ev->a);
	ev->name = r->names[ev->a - 1];
	return 0;
}

int trace_reader_next(struct trace_reader *r, struct trace_event *ev)
{
	if (r->ended)
		return 0;
	for (;;) {
		uint64_t off = r->base + r->pos;
		size_t have = avail(r, 1 + 10);
		if (have == 0)
			return fail(r, "truncated: no end record (the file ends at offset %" PRIu64 ")", off);
		const uint8_t *rec = r->buf + r->pos;
		unsigned type = rec[0];
		/* A type newer than the file's version is as foreign as an
		 * unknown one: version 1 never had snapshot_dirty, nor
		 * version 2 digest. */
		if (!trace_type_name(type) || (type == TR_SNAPSHOT_DIRTY && r->version < 2) ||
		    (type == TR_DIGEST && r->version < 3))
			return fail(r, "corrupt record at offset %" PRIu64 ": unknown record type 0x%02x",
				    off, type);
		struct cur c = {rec + 1, rec + have, false};
		uint64_t size = uv(&c);
		if (c.bad)
			return have < 1 + 10 ? fail(r, "truncated record at offset %" PRIu64, off)
					     : fail(r, "corrupt record at offset %" PRIu64 ": bad size field", off);
		if (size > TRACE_BODY_MAX)
			return fail(r, "corrupt record at offset %" PRIu64 ": size %" PRIu64
				    " exceeds the largest record (%d)", off, size, TRACE_BODY_MAX);
		size_t hdr = (size_t)(c.p - rec);
		size_t total = hdr + (size_t)size;
		if (avail(r, total) < total)
			return fail(r, "truncated record at offset %" PRIu64 " (it needs %zu bytes, the file "
				    "has %zu)", off, total, r->len - r->pos);
		rec = r->buf + r->pos;          /* avail() may have moved the window */
		c = (struct cur){rec + hdr, rec + total, false};

		memset(ev, 0, sizeof *ev);
		ev->type = (enum trace_type)type;
		ev->offset = off;
		uint64_t dt = uv(&c);
		if (!c.bad && dt > SIM_TIME_MAX - r->now)
			return fail(r, "corrupt record at offset %" PRIu64 ": time overflows", off);
		ev->time = r->now + dt;

		int rc = 0;
		switch (ev->type) {
		case TR_STRING: {
			uint64_t id = uv(&c), len = uv(&c);
			if (c.bad || len > TRACE_NAME_MAX || len > (uint64_t)(c.end - c.p)) {
				c.bad = true;
				break;
			}
			rc = add_name(r, off, id, c.p, (size_t)len);
			c.p += len;
			break;
		}
		case TR_END:
			ev->a = uv(&c);
			ev->b = u64le(&c);
			break;
		case TR_SNAPSHOT_BEGIN: case TR_PAGES_WRITTEN: case TR_PM_STORE: case TR_FLUSH:
		case TR_SNAPSHOT_DIRTY:
			ev->a = uv(&c);
			ev->b = uv(&c);
			break;
		case TR_WORKLOAD_OP: case TR_POWER_FAIL: case TR_QUEUE_DEPTH: case TR_COUNTER:
			ev->a = uv(&c);
			ev->b = uv(&c);
			if (!c.bad)
				rc = name_of(r, ev);
			break;
		case TR_COMMIT: case TR_DIGEST:
			ev->a = uv(&c);
			ev->b = u64le(&c);
			break;
		case TR_RECOVERY_END:
			ev->a = uv(&c);
			ev->b = u64le(&c);
			ev->c = uv(&c);
			ev->d = uv(&c);
			break;
		case TR_PHASE_BEGIN: case TR_PHASE_END: case TR_FENCE: case TR_INTERRUPT:
			ev->a = uv(&c);
			break;
		case TR_WPQ_DRAIN: case TR_BLK_WRITE:
			ev->a = uv(&c);
			ev->b = uv(&c);
			ev->c = uv(&c);
			break;
		case TR_RECOVERY_BEGIN: case TR_BLK_FLUSH: case TR_RECOVERY:
			break;
		case TR_INSN: {
			ev->a = uv(&c);
			uint64_t len = uv(&c);
			if (c.bad || len == 0 || len > TRACE_INSN_MAX || len > (uint64_t)(c.end - c.p)) {
				c.bad = true;
				break;
			}
			ev->len = (unsigned)len;
			memcpy(ev->bytes, c.p, (size_t)len);
			c.p += len;
			break;
		}
		}
		if (rc)
			return rc;
		if (c.bad)
			return fail(r, "corrupt record at offset %" PRIu64 ": %s fields overrun its size (%" PRIu64 ")",
				    off, trace_type_name(type), size);
		if (c.p != c.end)
			return fail(r, "corrupt record at offset %" PRIu64 ": %zu bytes left after the %s fields",
				    off, (size_t)(c.end - c.p), trace_type_name(type));

		if (ev->type == TR_END) {
			if (ev->a != r->count)
				return fail(r, "corrupt trace: the end record at offset %" PRIu64 " counts %" PRIu64
					    " records, %" PRIu64 " were read", off, ev->a, r->count);
			if (ev->b != r->running)
				return fail(r, "corrupt trace: digest mismatch at the end record (offset %" PRIu64
					    "): stored 0x%016" PRIx64 ", computed 0x%016" PRIx64, off, ev->b, r->running);
			r->pos += total;
			if (avail(r, 1) != 0)
				return fail(r, "corrupt trace: data after the end record at offset %" PRIu64,
					    r->base + r->pos);
			r->digest = r->running;
			r->records = r->count;
			r->count -= r->nnames;
			r->end_time = ev->time;
			r->ended = true;
			return 0;
		}
		r->running = hash_fnv1a(rec, total, r->running);
		r->count++;
		r->now = ev->time;
		r->pos += total;
		if (ev->type != TR_STRING)
			return 1;
	}
}

void trace_reader_close(struct trace_reader *r)
{
	if (r->f)
		fclose(r->f);
	for (size_t i = 0; i < r->nnames; i++)
		free(r->names[i]);
	free(r->names);
	free(r->buf);
	free(r->path);
	r->f = NULL;
	r->names = NULL;
	r->buf = NULL;
	r->path = NULL;
	r->nnames = r->capnames = 0;
}

int trace_validate(const char *path, char *err, size_t errlen)
{
	struct trace_reader r;
	struct trace_event ev;
	int rc = trace_reader_open(&r, path);
	while (rc == 0 && (rc = trace_reader_next(&r, &ev)) > 0)
		rc = 0;
	if (rc < 0 && err && errlen)
		snprintf(err, errlen, "%s", r.err);
	trace_reader_close(&r);
	return rc < 0 ? -1 : 0;
}
