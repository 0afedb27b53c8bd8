/* traces/trace_reader.h: walking a trace file record by record.
 *
 *     struct trace_reader r;
 *     struct trace_event ev;
 *     int rc;
 *     if (trace_reader_open(&r, "run.trace") != 0)
 *             die("%s", r.err);
 *     while ((rc = trace_reader_next(&r, &ev)) > 0)
 *             use(&ev);
 *     if (rc < 0)
 *             die("%s", r.err);        // "run.trace: truncated record at offset 1234"
 *     trace_reader_close(&r);
 *
 * String and end records are consumed by the reader: names arrive already
 * resolved in ev.name, and a clean 0 from trace_reader_next() means the end
 * record was present and its event count and digest matched.
 */
#ifndef TRACES_TRACE_READER_H
#define TRACES_TRACE_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "traces/trace.h"

/* One record.  Fields a..d hold the record's fields in format order (see
 * trace.h); a digest occupies the slot of its position.  For records with
 * a name field (workload_op, power_fail, queue_depth, counter), a is the
 * string id and name its text ("" for id 0). */
struct trace_event {
	enum trace_type type;
	sim_time_t time;
	uint64_t offset;                /* file offset of the record's first byte */
	uint64_t a, b, c, d;
	const char *name;               /* valid until trace_reader_close() */
	unsigned len;                   /* insn: instruction length */
	uint8_t bytes[TRACE_INSN_MAX];  /* insn: instruction bytes */
};

struct trace_reader {
	/* header */
	unsigned version;
	uint64_t config_hash;
	uint64_t seed;
	char sim_version[TRACE_SIMVER_MAX + 1];

	/* after trace_reader_next() returned 0 */
	uint64_t count;                 /* events (string and end records excluded) */
	uint64_t records;               /* every record but the end record */
	uint64_t digest;                /* FNV-1a 64 of the bytes before the end record */
	sim_time_t end_time;            /* timestamp of the end record */

	char err[512];                  /* one line: "PATH: what at offset N" */

	/* private */
	FILE *f;
	char *path;
	uint8_t *buf;
	size_t len, pos;
	bool eof, ended;
	uint64_t base;                  /* file offset of buf[0] */
	sim_time_t now;
	uint64_t running;               /* digest so far */
	char **names;
	size_t nnames, capnames;
};

/* Open and check the header.  0, or -1 with r->err set (r must still be
 * closed). */
int trace_reader_open(struct trace_reader *r, const char *path);
/* 1: *ev holds the next event; 0: clean end; -1: error in r->err. */
int trace_reader_next(struct trace_reader *r, struct trace_event *ev);
void trace_reader_close(struct trace_reader *r);

/* Read the whole file once.  0 if it is a complete, uncorrupted trace;
 * otherwise -1 with the message in err. */
int trace_validate(const char *path, char *err, size_t errlen);

#endif
