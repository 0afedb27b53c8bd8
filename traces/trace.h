/* traces/trace.h: the trace recorder that producers call.
 *
 * A trace is a compact binary log of what happened in simulated time:
 * the guest's snapshot protocol (begin, pages written, commit, recovery),
 * the persistence model's stores, flushes, fences and media writes, the
 * machine's power failures and interrupts, and optionally every executed
 * instruction.  The byte layout is specified in docs/traces.md; the record
 * type numbers and field orders below are that specification's.
 *
 * A producer keeps a `struct trace *` that is NULL when tracing is off.
 * Every trace_NAME() helper below is inline and returns at once on NULL,
 * so a disabled trace costs one predictable branch per call site:
 *
 *     struct trace *t = trace_open("run.trace", &(struct trace_params){
 *             .config_json = json_text, .seed = seed}, err, sizeof err);
 *     uint32_t put = trace_intern(t, "put");
 *     trace_snapshot_begin(t, sim->now, gen, dirty);
 *     trace_workload_op(t, sim->now, put, 1);
 *     if (trace_insn_enabled(t, pc))
 *             trace_insn(t, sim->now, pc, len, bytes);
 *     trace_close(t, err, sizeof err);
 *
 * Timestamps are simulated picoseconds and must not go backwards: a
 * timestamp earlier than the previous record's is recorded as the previous
 * one (and counted in t->clamped), so readers can rely on order.
 */
#ifndef TRACES_TRACE_H
#define TRACES_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sim/clock.h"

#define TRACE_MAGIC         "\x89PHTRC\r\n"     /* 8 bytes, see docs/traces.md */
#define TRACE_MAGIC_LEN     8
#define TRACE_VERSION       3                   /* written; readers accept 1..3 */
#define TRACE_VERSION_MIN   1                   /* oldest version readers accept */
#define TRACE_HEADER_FIXED  34                  /* header bytes before the version string */
#define TRACE_SIMVER_MAX    255
#define TRACE_NAME_MAX      1024                /* longest interned string */
#define TRACE_INSN_MAX      15                  /* longest x86 instruction */
#define TRACE_BODY_MAX      (TRACE_NAME_MAX + 32) /* largest record body */
#define TRACE_PAGE_SIZE     4096                /* unit of snapshot_begin/pages_written */
#define TRACE_SECTOR_SIZE   512                 /* unit of blk_write */

/* Record types: the first byte of every record.  Numbers are part of the
 * format; a new type needs a new TRACE_VERSION. */
enum trace_type {
	TR_STRING = 0x01,               /* id, len, bytes: defines a name */
	TR_END = 0x02,                  /* count, digest: last record */

	/* guest trace port */
	TR_SNAPSHOT_BEGIN = 0x10,       /* generation, dirty_pages */
	TR_PAGES_WRITTEN = 0x11,        /* generation, pages (since last report) */
	TR_COMMIT = 0x12,               /* generation, digest */
	TR_RECOVERY_BEGIN = 0x13,       /* - */
	TR_RECOVERY_END = 0x14,         /* generation, digest, selfcheck, invariant */
	TR_WORKLOAD_OP = 0x15,          /* kind (name), count */
	TR_PHASE_BEGIN = 0x16,          /* phase */
	TR_PHASE_END = 0x17,            /* phase */
	TR_SNAPSHOT_DIRTY = 0x18,       /* generation, dirty_pages (version 2) */
	TR_DIGEST = 0x19,               /* generation, digest (version 3) */

	/* persistence model */
	TR_PM_STORE = 0x20,             /* pa, len */
	TR_FLUSH = 0x21,                /* pa, kind */
	TR_FENCE = 0x22,                /* kind */
	TR_WPQ_DRAIN = 0x23,            /* lines, bytes, occupancy */
	TR_BLK_WRITE = 0x24,            /* sector, count, fua */
	TR_BLK_FLUSH = 0x25,            /* - */

	/* machine */
	TR_POWER_FAIL = 0x30,           /* policy (name), point */
	TR_RECOVERY = 0x31,             /* - */
	TR_INTERRUPT = 0x32,            /* vector */
	TR_QUEUE_DEPTH = 0x33,          /* device (name), depth */

	/* CPU and generic */
	TR_INSN = 0x40,                 /* pc, len, bytes[len] */
	TR_COUNTER = 0x41,              /* name, value */
};

/* Snapshot phases (TR_PHASE_BEGIN/END). */
enum trace_phase {
	TRACE_PHASE_PAUSE = 1,          /* guest threads stopped */
	TRACE_PHASE_WRITEBACK = 2,      /* dirty pages going to media */
	TRACE_PHASE_COMMIT = 3,         /* the single commit write (superblock) */
};

/* TR_FLUSH kinds. */
enum trace_flush_kind {
	TRACE_FLUSH_CLFLUSH = 1,
	TRACE_FLUSH_CLFLUSHOPT = 2,
	TRACE_FLUSH_CLWB = 3,
};

/* TR_FENCE kinds. */
enum trace_fence_kind {
	TRACE_FENCE_SFENCE = 1,
	TRACE_FENCE_MFENCE = 2,
	TRACE_FENCE_LFENCE = 3,
	TRACE_FENCE_LOCKED = 4,         /* a locked read-modify-write */
};

/* What goes in the header.  config_hash is used as given unless
 * config_json is set, in which case it is trace_config_hash(config_json). */
struct trace_params {
	const char *config_json;        /* effective config as JSON text, or NULL */
	uint64_t config_hash;
	uint64_t seed;
	const char *sim_version;        /* NULL: this build's PACKAGE_VERSION */
};

struct trace_names;                     /* the intern table, in trace_writer.c */

/* Writer state.  Producers treat it as opaque; the fields are here only so
 * the inline helpers can test the instruction filter without a call. */
struct trace {
	bool insn_on;                   /* instruction trace requested */
	uint64_t insn_lo, insn_reach;   /* pc filter: pc - lo <= reach */

	FILE *f;
	bool own_file;
	char *path;
	uint8_t *buf;
	size_t len;
	sim_time_t last;                /* timestamp of the previous record */
	uint64_t offset;                /* file offset of buf[0] */
	uint64_t count;                 /* records written, END excluded */
	uint64_t digest;                /* FNV-1a 64 over every byte so far */
	uint64_t clamped;               /* timestamps that went backwards */
	int err;                        /* first errno of a failed write, sticky */
	struct trace_names *names;
};

/* FNV-1a 64 of the config text: what the header's config hash means. */
uint64_t trace_config_hash(const char *config_json);

/* Create path and write the header.  On failure returns NULL and puts one
 * line naming the file and the reason in err. */
struct trace *trace_open(const char *path, const struct trace_params *p,
			 char *err, size_t errlen);
/* The same on a stream the caller owns (left open by trace_close). */
struct trace *trace_open_stream(FILE *f, const char *name, const struct trace_params *p,
				char *err, size_t errlen);
/* Write the END record, flush, close.  Returns 0, or -1 with a message in
 * err if any write failed.  NULL is a no-op returning 0. */
int trace_close(struct trace *t, char *err, size_t errlen);

/* Record instructions whose pc is in [lo, hi); hi == 0 means no upper
 * bound, and hi <= lo (hi != 0) turns the instruction trace off. */
void trace_insn_filter(struct trace *t, uint64_t lo, uint64_t hi);

/* The id of name in the stream's string table, defining it on first use.
 * Producers intern their names once, at setup.  Names longer than
 * TRACE_NAME_MAX bytes are cut to that length.  Returns 0 when t is NULL. */
uint32_t trace_intern(struct trace *t, const char *name);

/* Out-of-line emitters: call the inline wrappers below instead. */
void trace_emit0(struct trace *t, enum trace_type type, sim_time_t now);
void trace_emit1(struct trace *t, enum trace_type type, sim_time_t now, uint64_t a);
void trace_emit2(struct trace *t, enum trace_type type, sim_time_t now, uint64_t a, uint64_t b);
void trace_emit3(struct trace *t, enum trace_type type, sim_time_t now,
		 uint64_t a, uint64_t b, uint64_t c);
void trace_emit_commit(struct trace *t, sim_time_t now, uint64_t generation, uint64_t digest);
void trace_emit_digest(struct trace *t, sim_time_t now, uint64_t generation, uint64_t digest);
void trace_emit_recovery_end(struct trace *t, sim_time_t now, uint64_t generation,
			     uint64_t digest, uint64_t selfcheck, uint64_t invariant);
void trace_emit_insn(struct trace *t, sim_time_t now, uint64_t pc, unsigned len,
		     const uint8_t *bytes);

#define TRACE_OFF(t) __builtin_expect((t) == NULL, 1)

/* --- guest trace port --------------------------------------------------- */

/* A snapshot of `generation` starts with dirty_pages pages to write. */
static inline void trace_snapshot_begin(struct trace *t, sim_time_t now,
					uint64_t generation, uint64_t dirty_pages)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_SNAPSHOT_BEGIN, now, generation, dirty_pages);
}

/* The pause of `generation` found dirty_pages dirty pages: the guest
 * knows the count only once its threads are stopped, after snapshot_begin
 * was recorded, so it comes as its own record (format version 2). */
static inline void trace_snapshot_dirty(struct trace *t, sim_time_t now,
					uint64_t generation, uint64_t dirty_pages)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_SNAPSHOT_DIRTY, now, generation, dirty_pages);
}

/* pages more pages of `generation` reached media since the last report. */
static inline void trace_pages_written(struct trace *t, sim_time_t now,
				       uint64_t generation, uint64_t pages)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_PAGES_WRITTEN, now, generation, pages);
}

/* The snapshot is durable: digest is the guest's digest of its state. */
static inline void trace_commit(struct trace *t, sim_time_t now,
				uint64_t generation, uint64_t digest)
{
	if (TRACE_OFF(t))
		return;
	trace_emit_commit(t, now, generation, digest);
}

/* The digest of committed `generation`, reported after its commit: a
 * guest that hashes its pages only once the root is durable commits with
 * digest 0 and sends the real one here (format version 3). */
static inline void trace_digest(struct trace *t, sim_time_t now,
				uint64_t generation, uint64_t digest)
{
	if (TRACE_OFF(t))
		return;
	trace_emit_digest(t, now, generation, digest);
}

static inline void trace_recovery_begin(struct trace *t, sim_time_t now)
{
	if (TRACE_OFF(t))
		return;
	trace_emit0(t, TR_RECOVERY_BEGIN, now);
}

/* Recovery found `generation`; selfcheck and invariant are 0 when they
 * passed, otherwise the guest's failure code. */
static inline void trace_recovery_end(struct trace *t, sim_time_t now, uint64_t generation,
				      uint64_t digest, uint64_t selfcheck, uint64_t invariant)
{
	if (TRACE_OFF(t))
		return;
	trace_emit_recovery_end(t, now, generation, digest, selfcheck, invariant);
}

/* count operations of kind (an id from trace_intern) completed. */
static inline void trace_workload_op(struct trace *t, sim_time_t now, uint32_t kind,
				     uint64_t count)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_WORKLOAD_OP, now, kind, count);
}

static inline void trace_phase_begin(struct trace *t, sim_time_t now, enum trace_phase phase)
{
	if (TRACE_OFF(t))
		return;
	trace_emit1(t, TR_PHASE_BEGIN, now, (uint64_t)phase);
}

static inline void trace_phase_end(struct trace *t, sim_time_t now, enum trace_phase phase)
{
	if (TRACE_OFF(t))
		return;
	trace_emit1(t, TR_PHASE_END, now, (uint64_t)phase);
}

/* --- persistence model -------------------------------------------------- */

static inline void trace_pm_store(struct trace *t, sim_time_t now, uint64_t pa, uint64_t len)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_PM_STORE, now, pa, len);
}

static inline void trace_flush(struct trace *t, sim_time_t now, uint64_t pa,
			       enum trace_flush_kind kind)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_FLUSH, now, pa, (uint64_t)kind);
}

static inline void trace_fence(struct trace *t, sim_time_t now, enum trace_fence_kind kind)
{
	if (TRACE_OFF(t))
		return;
	trace_emit1(t, TR_FENCE, now, (uint64_t)kind);
}

/* The WPQ wrote `lines` lines (`bytes` bytes) to media; `occupancy`
 * entries remain queued.  lines = 0 records a change of occupancy alone
 * (entries arrived, none left). */
static inline void trace_wpq_drain(struct trace *t, sim_time_t now, uint64_t lines,
				   uint64_t bytes, uint64_t occupancy)
{
	if (TRACE_OFF(t))
		return;
	trace_emit3(t, TR_WPQ_DRAIN, now, lines, bytes, occupancy);
}

/* count 512-byte sectors from `sector` reached the device; fua: forced
 * unit access (durable on completion, no flush needed). */
static inline void trace_blk_write(struct trace *t, sim_time_t now, uint64_t sector,
				   uint64_t count, bool fua)
{
	if (TRACE_OFF(t))
		return;
	trace_emit3(t, TR_BLK_WRITE, now, sector, count, fua ? 1 : 0);
}

static inline void trace_blk_flush(struct trace *t, sim_time_t now)
{
	if (TRACE_OFF(t))
		return;
	trace_emit0(t, TR_BLK_FLUSH, now);
}

/* --- machine ------------------------------------------------------------ */

/* Power failed at failure point `point` under `policy` (an interned name). */
static inline void trace_power_fail(struct trace *t, sim_time_t now, uint32_t policy,
				    uint64_t point)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_POWER_FAIL, now, policy, point);
}

/* Power came back and the machine restarts. */
static inline void trace_recovery(struct trace *t, sim_time_t now)
{
	if (TRACE_OFF(t))
		return;
	trace_emit0(t, TR_RECOVERY, now);
}

static inline void trace_interrupt(struct trace *t, sim_time_t now, unsigned vector)
{
	if (TRACE_OFF(t))
		return;
	trace_emit1(t, TR_INTERRUPT, now, vector);
}

/* device: an interned name. */
static inline void trace_queue_depth(struct trace *t, sim_time_t now, uint32_t device,
				     uint64_t depth)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_QUEUE_DEPTH, now, device, depth);
}

/* --- CPU and generic ---------------------------------------------------- */

static inline bool trace_insn_enabled(const struct trace *t, uint64_t pc)
{
	return !TRACE_OFF(t) && t->insn_on && pc - t->insn_lo <= t->insn_reach;
}

/* Record one executed instruction; call only when trace_insn_enabled(). */
static inline void trace_insn(struct trace *t, sim_time_t now, uint64_t pc, unsigned len,
			      const uint8_t *bytes)
{
	if (TRACE_OFF(t))
		return;
	trace_emit_insn(t, now, pc, len, bytes);
}

/* A named value (name: an interned id), e.g. a model's internal level. */
static inline void trace_counter(struct trace *t, sim_time_t now, uint32_t name,
				 uint64_t value)
{
	if (TRACE_OFF(t))
		return;
	trace_emit2(t, TR_COUNTER, now, name, value);
}

/* Name of a record type as used by the exports ("snapshot_begin"), or
 * NULL for a number that is not a type. */
const char *trace_type_name(unsigned type);
const char *trace_phase_name(uint64_t phase);         /* "pause", or NULL */
const char *trace_flush_name(uint64_t kind);
const char *trace_fence_name(uint64_t kind);

#endif
