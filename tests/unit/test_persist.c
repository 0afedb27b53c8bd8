/* tests/unit/test_persist.c: the persistence model and the crash policies.
 *
 * The model is driven through the calls the CPU and bus hooks make
 * (persist_store_hook after a store landed in mem, persist_ntstore,
 * persist_flush, persist_fence), without a CPU.  Scripts of operations are
 * replayed on a fresh model for each seed; an independent reference,
 * written here from the rules of docs/crash-model.md with whole-line
 * snapshots, lists every legal crash state, and the random policy must
 * produce exactly that set.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/test_persist.h"
#include "machine/crash.h"
#include "machine/guest_abi.h"
#include "machine/persist.h"
#include "sim/config.h"
#include "sim/sim.h"

#define BASE    0x100000000ULL
#define NLINES  12
#define SIZE    (NLINES * 64)

/* --- A script of operations ------------------------------------------ */

enum op_kind { OP_STORE, OP_NT, OP_FLUSH, OP_FENCE, OP_EVICT, OP_PORT };

struct op {
	enum op_kind kind;
	unsigned off;           /* byte offset in the region */
	unsigned len;           /* store: bytes */
	uint8_t val;            /* store: bytes are val, val+1, ... */
	int sub;                /* flush kind, fence kind, port */
};

#define ST(o, l, v)     {OP_STORE, (o), (l), (v), 0}
#define NT(o, l, v)     {OP_NT, (o), (l), (v), 0}
#define FL(o, k)        {OP_FLUSH, (o), 0, 0, (k)}
#define FE(k)           {OP_FENCE, 0, 0, 0, (k)}
#define EV(o)           {OP_EVICT, (o), 0, 0, 0}
#define PORT(p)         {OP_PORT, 0, 0, 0, (p)}

struct rig {
	struct sim sim;
	struct persist p;
	uint8_t mem[SIZE], media[SIZE];
};

static void initial(uint8_t *buf)
{
	for (unsigned i = 0; i < SIZE; i++)
		buf[i] = (uint8_t)(0xA0 + i % 7);
}

static void rig_init(struct rig *r, unsigned domain)
{
	sim_init(&r->sim, 1);
	initial(r->mem);
	initial(r->media);
	ck_assert_int_eq(persist_init(&r->p, &r->sim, BASE, SIZE, r->mem, r->media, domain), 0);
}

static void rig_free(struct rig *r)
{
	persist_free(&r->p);
	sim_free(&r->sim);
}

/* What the bus and CPU do: land the bytes, then report them.  The bus
 * reports at most 8 bytes per call; an NT store is reported by the bus and
 * then named by the CPU's ntstore hook. */
static void run_op(struct rig *r, const struct op *o)
{
	switch (o->kind) {
	case OP_STORE:
	case OP_NT:
		for (unsigned i = 0; i < o->len; i++)
			r->mem[o->off + i] = (uint8_t)(o->val + i);
		for (unsigned i = 0; i < o->len; i += 8)
			persist_store_hook(&r->p, BASE + o->off + i, o->len - i < 8 ? o->len - i : 8);
		if (o->kind == OP_NT)
			persist_ntstore(&r->p, BASE + o->off, o->len);
		break;
	case OP_FLUSH:
		persist_flush(&r->p, BASE + o->off, o->sub);
		break;
	case OP_FENCE:
		persist_fence(&r->p, o->sub);
		break;
	case OP_EVICT:
		persist_evict(&r->p, BASE + o->off);
		break;
	case OP_PORT:
		persist_port_access(&r->p, (uint16_t)o->sub);
		break;
	}
}

static void run_script(struct rig *r, const struct op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++)
		run_op(r, &ops[i]);
}

/* --- The independent reference ----------------------------------------
 * Per line: the guaranteed content and the snapshots after each store
 * since, plus the snapshot index a fence would make guaranteed. */

#define REF_MAXV 64

struct ref_line {
	uint8_t v[REF_MAXV + 1][64];    /* v[0] guaranteed, v[n] newest */
	int n;
	int target;                     /* 0 = none */
};

struct ref {
	unsigned domain;
	struct ref_line l[NLINES];
	uint8_t cur[SIZE];
};

static void ref_guarantee(struct ref_line *l, int k)
{
	memmove(l->v[0], l->v[k], 64);
	for (int i = 1; i + k <= l->n; i++)
		memmove(l->v[i], l->v[i + k], 64);
	l->n -= k;
	l->target = l->target > k ? l->target - k : 0;
}

static void ref_fence(struct ref *f)
{
	if (f->domain == PDOMAIN_NONE)
		return;
	for (int i = 0; i < NLINES; i++)
		if (f->l[i].target)
			ref_guarantee(&f->l[i], f->l[i].target);
}

static void ref_build(struct ref *f, unsigned domain, const struct op *ops, size_t nops)
{
	memset(f, 0, sizeof *f);
	f->domain = domain;
	initial(f->cur);
	for (int i = 0; i < NLINES; i++)
		memcpy(f->l[i].v[0], f->cur + 64 * i, 64);
	for (size_t k = 0; k < nops; k++) {
		const struct op *o = &ops[k];
		struct ref_line *l = &f->l[o->off / 64];
		switch (o->kind) {
		case OP_STORE:
		case OP_NT:
			for (unsigned i = 0; i < o->len; i++)
				f->cur[o->off + i] = (uint8_t)(o->val + i);
			/* The bus reports a cached store in pieces of at most 8
			 * bytes, each a store; an NT store is named whole by the
			 * CPU.  Each line a store touches gets one new version. */
			for (unsigned p = 0; p < o->len; p += (o->kind == OP_NT ? o->len : 8)) {
				unsigned plen = o->kind == OP_NT ? o->len : (o->len - p < 8 ? o->len - p : 8);
				unsigned first = (o->off + p) / 64, last = (o->off + p + plen - 1) / 64;
				for (unsigned line = first; line <= last; line++) {
					l = &f->l[line];
					ck_assert_int_lt(l->n, REF_MAXV);
					l->n++;
					memcpy(l->v[l->n], f->cur + 64 * line, 64);
					if (o->kind == OP_STORE && domain == PDOMAIN_EADR)
						ref_guarantee(l, l->n);         /* caches persist */
					else if (o->kind == OP_NT && domain != PDOMAIN_NONE)
						l->target = l->n;               /* until a fence */
				}
			}
			break;
		case OP_FLUSH:
			if (domain != PDOMAIN_ADR)
				break;
			if (o->sub == PERSIST_CLFLUSH)
				ref_guarantee(l, l->n);
			else if (l->n)
				l->target = l->n;
			break;
		case OP_FENCE:
			if (o->sub != PERSIST_LFENCE)
				ref_fence(f);
			break;
		case OP_EVICT:
			if (domain == PDOMAIN_ADR)
				ref_guarantee(l, l->n);
			break;
		case OP_PORT:
			if (o->sub != ABI_PORT_TRACE_ARG && o->sub != ABI_PORT_TRACE_EMIT)
				ref_fence(f);
			break;
		}
	}
}

/* The distinct legal contents of line i: whole versions, or with tearing
 * every word-wise combination.  Returns the count; out gets them. */
static int ref_line_states(const struct ref *f, int i, bool tearing, uint8_t (*out)[64], int max)
{
	const struct ref_line *l = &f->l[i];
	int n = 0;
	if (!tearing) {
		for (int k = 0; k <= l->n; k++) {
			bool dup = false;
			for (int j = 0; j < n && !dup; j++)
				dup = !memcmp(out[j], l->v[k], 64);
			if (!dup) {
				ck_assert_int_lt(n, max);
				memcpy(out[n++], l->v[k], 64);
			}
		}
		return n;
	}
	/* Word w takes any of the distinct values it has across versions. */
	uint8_t wv[8][REF_MAXV + 1][8];
	int nw[8];
	for (int w = 0; w < 8; w++) {
		nw[w] = 0;
		for (int k = 0; k <= l->n; k++) {
			bool dup = false;
			for (int j = 0; j < nw[w] && !dup; j++)
				dup = !memcmp(wv[w][j], l->v[k] + 8 * w, 8);
			if (!dup)
				memcpy(wv[w][nw[w]++], l->v[k] + 8 * w, 8);
		}
	}
	int idx[8] = {0};
	for (;;) {
		ck_assert_int_lt(n, max);
		for (int w = 0; w < 8; w++)
			memcpy(out[n] + 8 * w, wv[w][idx[w]], 8);
		n++;
		int w = 0;
		while (w < 8 && ++idx[w] == nw[w])
			idx[w++] = 0;
		if (w == 8)
			return n;
	}
}

/* --- A set of region states ------------------------------------------ */

struct stateset {
	uint8_t (*s)[SIZE];
	uint64_t *h;
	size_t n, cap;          /* cap is a power of two; slots in h (0 = empty) */
};

static uint64_t state_hash(const uint8_t *s)
{
	uint64_t h = hash_fnv1a(s, SIZE, HASH_FNV1A_INIT);
	return h ? h : 1;
}

static void set_init(struct stateset *ss, size_t cap)
{
	ss->cap = cap;
	ss->n = 0;
	ss->s = calloc(cap, SIZE);
	ss->h = calloc(cap, sizeof *ss->h);
	ck_assert(ss->s && ss->h);
}

static bool set_insert(struct stateset *ss, const uint8_t *s)
{
	ck_assert_uint_lt(2 * ss->n, ss->cap);
	uint64_t h = state_hash(s);
	size_t j = h & (ss->cap - 1);
	while (ss->h[j]) {
		if (ss->h[j] == h && !memcmp(ss->s[j], s, SIZE))
			return false;
		j = (j + 1) & (ss->cap - 1);
	}
	ss->h[j] = h;
	memcpy(ss->s[j], s, SIZE);
	ss->n++;
	return true;
}

static void set_free(struct stateset *ss)
{
	free(ss->s);
	free(ss->h);
}

/* --- Checking a script ------------------------------------------------ */

struct legal {
	uint8_t st[NLINES][512][64];
	int n[NLINES];
	double minp;            /* lower bound on any state's probability */
	double count;
};

static void legal_build(struct legal *lg, const struct ref *f, bool tearing)
{
	lg->minp = 1;
	lg->count = 1;
	for (int i = 0; i < NLINES; i++) {
		lg->n[i] = ref_line_states(f, i, tearing, lg->st[i], 512);
		lg->count *= lg->n[i];
		/* random picks a version index uniformly (per word with tearing) */
		int varying = 0;
		if (tearing) {
			for (int w = 0; w < 8; w++)
				for (int k = 1; k <= f->l[i].n; k++)
					if (memcmp(f->l[i].v[k] + 8 * w, f->l[i].v[0] + 8 * w, 8)) {
						varying++;
						break;
					}
		} else {
			varying = lg->n[i] > 1;
		}
		lg->minp *= pow(1.0 / (f->l[i].n + 1), varying);
	}
}

static bool legal_has(const struct legal *lg, const uint8_t *state)
{
	for (int i = 0; i < NLINES; i++) {
		bool ok = false;
		for (int j = 0; j < lg->n[i] && !ok; j++)
			ok = !memcmp(lg->st[i][j], state + 64 * i, 64);
		if (!ok)
			return false;
	}
	return true;
}

/* Replay the script, crash under pol with seed, return the state in out
 * (and check that mem equals media afterwards: the region is rebooted on
 * exactly what the media holds). */
static void crash_once(unsigned domain, const struct op *ops, size_t nops,
		       const struct crash_policy *pol, uint64_t seed, unsigned maxver,
		       uint8_t out[SIZE])
{
	static struct rig r;
	rig_init(&r, domain);
	if (maxver)
		r.p.max_versions = maxver;
	run_script(&r, ops, nops);
	struct rng g;
	rng_stream(&g, seed, "power.random");
	crash_apply(&r.p, pol, &g);
	ck_assert_mem_eq(r.mem, r.media, SIZE);
	ck_assert_uint_eq(persist_pending(&r.p), 0);
	memcpy(out, r.media, SIZE);
	rig_free(&r);
}

/* The reference's strict (every line at v0) and lenient (every line at
 * its newest) states. */
static void ref_extreme(const struct ref *f, bool newest, uint8_t out[SIZE])
{
	for (int i = 0; i < NLINES; i++)
		memcpy(out + 64 * i, f->l[i].v[newest ? f->l[i].n : 0], 64);
}

struct check_result {
	size_t legal, produced, samples;
};

/* Strict and lenient give the reference's extreme states; random over
 * many seeds gives exactly the legal set (or, with maxver, a subset that
 * contains both extremes). */
static struct check_result check_script(unsigned domain, const struct op *ops, size_t nops,
					bool tearing, unsigned maxver)
{
	static struct ref f;
	static struct legal lg;
	static uint8_t got[SIZE], want[SIZE];
	ref_build(&f, domain, ops, nops);
	legal_build(&lg, &f, tearing);

	struct crash_policy strict = {POLICY_STRICT, false}, lenient = {POLICY_LENIENT, false};
	crash_once(domain, ops, nops, &strict, 1, maxver, got);
	ref_extreme(&f, false, want);
	ck_assert_mem_eq(got, want, SIZE);
	crash_once(domain, ops, nops, &lenient, 1, maxver, got);
	ref_extreme(&f, true, want);
	ck_assert_mem_eq(got, want, SIZE);

	ck_assert(lg.count < 200000);
	struct stateset seen;
	size_t cap = 16;
	while (cap < 4 * (size_t)lg.count + 16)
		cap *= 2;
	set_init(&seen, cap);
	/* Enough samples that missing any one legal state has probability
	 * below 1e-6 (union bound over all states). */
	size_t samples = maxver ? 3000 : (size_t)ceil(log(lg.count * 1e6) / lg.minp);
	struct crash_policy rnd = {POLICY_RANDOM, tearing};
	size_t s;
	for (s = 0; s < samples; s++) {
		crash_once(domain, ops, nops, &rnd, 1000 + s, maxver, got);
		ck_assert_msg(legal_has(&lg, got), "seed %zu produced an illegal state", 1000 + s);
		set_insert(&seen, got);
		if (!maxver && seen.n == (size_t)lg.count)
			break;
	}
	struct check_result res = {(size_t)lg.count, seen.n, s + (s < samples)};
	if (!maxver)
		ck_assert_msg(seen.n == (size_t)lg.count, "random produced %zu of %zu legal states",
			      seen.n, (size_t)lg.count);
	if (maxver && !tearing) {
		/* the guaranteed state is among those produced */
		ref_extreme(&f, false, want);
		ck_assert(!set_insert(&seen, want));
	}
	set_free(&seen);
	return res;
}

/* --- Scripts ---------------------------------------------------------- */

#define L(i) ((i) * 64)

/* ADR: a bit of everything on ten lines. */
static const struct op adr_mix[] = {
	ST(L(0), 8, 0x10),                                      /* lost or kept */
	ST(L(1), 8, 0x20), FL(L(1), PERSIST_CLWB), FE(PERSIST_SFENCE),  /* kept */
	ST(L(2), 8, 0x30), FL(L(2), PERSIST_CLWB),              /* no fence yet */
	ST(L(3), 4, 0x40), ST(L(3) + 8, 4, 0x44),               /* two versions */
	NT(L(4), 16, 0x50),                                     /* NT, no fence yet */
	ST(L(5), 8, 0x60), FL(L(5), PERSIST_CLFLUSH),           /* kept at once */
	ST(L(6), 8, 0x70), FL(L(6), PERSIST_CLFLUSHOPT), ST(L(6) + 8, 8, 0x78),
	ST(L(7), 8, 0x80), FL(L(7), PERSIST_CLWB), FE(PERSIST_LFENCE),  /* lfence: nothing */
	ST(L(8), 8, 0x90), EV(L(8)), ST(L(8) + 16, 8, 0x98),    /* evicted, then more */
	ST(L(9), 8, 0xA0), ST(L(9), 8, 0xA8), ST(L(9), 8, 0xA0), /* same-line rewrites */
	FE(PERSIST_MFENCE),                                     /* commits 2, 4, 6 (first) */
	ST(L(2) + 32, 8, 0xB0),
	NT(L(10), 8, 0xC0), FE(PERSIST_LOCKED),                 /* kept */
	ST(L(11), 2, 0xD0), FL(L(11), PERSIST_CLWB), PORT(ABI_PORT_TRACE_EMIT),
	ST(L(10) + 60, 8, 0xE0),                                /* crosses lines 10 and 11 */
};

/* Same shape under eADR: cached stores all survive, NT stores need a fence. */
static const struct op eadr_mix[] = {
	ST(L(0), 8, 0x10),
	NT(L(2), 8, 0x30), FE(PERSIST_SFENCE),
	NT(L(6), 8, 0x70), PORT(0x3F8),                         /* I/O orders */
	ST(L(8), 8, 0x90), FL(L(8), PERSIST_CLWB),
	/* after the last ordering instruction: */
	NT(L(1), 8, 0x20),
	NT(L(3), 8, 0x40), NT(L(3) + 8, 8, 0x48),
	NT(L(4), 8, 0x50), FE(PERSIST_LFENCE),                  /* lfence: nothing */
	NT(L(5), 8, 0x60), FL(L(5), PERSIST_CLFLUSH),           /* clflush: not for WC */
	NT(L(7), 8, 0x80), PORT(ABI_PORT_TRACE_ARG),            /* the trace port: nothing */
	NT(L(9), 16, 0xA0),
	NT(L(10), 8, 0xB0), ST(L(10) + 8, 8, 0xB8),             /* cached after NT */
	ST(L(11), 8, 0xC0), NT(L(11), 8, 0xC8),                 /* NT after cached */
};

/* No persistence domain: nothing written in the run is guaranteed. */
static const struct op none_mix[] = {
	ST(L(0), 8, 0x10), FL(L(0), PERSIST_CLFLUSH),
	ST(L(1), 8, 0x20), FL(L(1), PERSIST_CLWB), FE(PERSIST_SFENCE),
	NT(L(2), 8, 0x30), FE(PERSIST_MFENCE),
	ST(L(3), 8, 0x40), ST(L(3) + 8, 8, 0x48),
	ST(L(4), 8, 0x50), EV(L(4)),
	ST(L(5), 8, 0x60),
};

/* Tearing: lines whose versions differ in a few words. */
static const struct op tear_mix[] = {
	ST(L(0), 8, 0x10), ST(L(0) + 8, 8, 0x18),               /* 2 words, 3 versions */
	ST(L(1), 16, 0x20),                                     /* one 16-byte store */
	ST(L(2), 8, 0x30), FL(L(2), PERSIST_CLWB), FE(PERSIST_SFENCE),
	ST(L(2) + 24, 8, 0x38),
	NT(L(3), 8, 0x40), ST(L(3) + 56, 8, 0x48),
};

/* Many stores to one line: more than a short history keeps. */
static const struct op long_history[] = {
	ST(L(0), 8, 0x01), FL(L(0), PERSIST_CLWB),
	ST(L(0) + 8, 8, 0x02), ST(L(0) + 16, 8, 0x03), ST(L(0) + 24, 8, 0x04),
	ST(L(0) + 32, 8, 0x05), ST(L(0) + 40, 8, 0x06), ST(L(0) + 48, 8, 0x07),
	ST(L(1), 8, 0x11), ST(L(1) + 8, 8, 0x12), ST(L(1) + 16, 8, 0x13),
	ST(L(1) + 24, 8, 0x14), ST(L(1) + 32, 8, 0x15),
};

/* The same, fenced: the first store of line 0 is guaranteed, and stays so
 * however the history is collapsed. */
static const struct op long_history_fenced[] = {
	ST(L(0), 8, 0x01), FL(L(0), PERSIST_CLWB),
	ST(L(0) + 8, 8, 0x02), ST(L(0) + 16, 8, 0x03), ST(L(0) + 24, 8, 0x04),
	ST(L(0) + 32, 8, 0x05), ST(L(0) + 40, 8, 0x06), ST(L(0) + 48, 8, 0x07),
	FE(PERSIST_SFENCE),
	ST(L(1), 8, 0x11), FL(L(1), PERSIST_CLWB), ST(L(1) + 8, 8, 0x12),
	ST(L(1) + 16, 8, 0x13), ST(L(1) + 24, 8, 0x14), ST(L(1) + 32, 8, 0x15),
	FE(PERSIST_MFENCE),
};

#define N(a) (sizeof a / sizeof a[0])

START_TEST(exhaustive_adr)
{
	struct check_result r = check_script(PDOMAIN_ADR, adr_mix, N(adr_mix), false, 0);
	ck_assert_uint_ge(r.legal, 100);        /* the script is not trivial */
	fprintf(stderr, "persist: adr: %zu legal states, all produced in %zu samples\n",
		r.legal, r.samples);
}
END_TEST

START_TEST(exhaustive_eadr)
{
	struct check_result r = check_script(PDOMAIN_EADR, eadr_mix, N(eadr_mix), false, 0);
	ck_assert_uint_ge(r.legal, 32);
	fprintf(stderr, "persist: eadr: %zu legal states, all produced in %zu samples\n",
		r.legal, r.samples);
}
END_TEST

START_TEST(exhaustive_none)
{
	struct check_result r = check_script(PDOMAIN_NONE, none_mix, N(none_mix), false, 0);
	ck_assert_uint_ge(r.legal, 64);
	fprintf(stderr, "persist: none: %zu legal states, all produced in %zu samples\n",
		r.legal, r.samples);
}
END_TEST

START_TEST(exhaustive_tearing)
{
	struct check_result r = check_script(PDOMAIN_ADR, tear_mix, N(tear_mix), true, 0);
	ck_assert_uint_ge(r.legal, 64);
	fprintf(stderr, "persist: adr+tearing: %zu legal states, all produced in %zu samples\n",
		r.legal, r.samples);
	/* and the eADR script torn */
	r = check_script(PDOMAIN_EADR, eadr_mix, N(eadr_mix), true, 0);
	fprintf(stderr, "persist: eadr+tearing: %zu legal states, all produced in %zu samples\n",
		r.legal, r.samples);
}
END_TEST

START_TEST(exhaustive_adr_full_history)
{
	/* long_history fits the default history: exact. */
	struct check_result r = check_script(PDOMAIN_ADR, long_history, N(long_history), false, 0);
	ck_assert_uint_eq(r.legal, 8 * 6);
}
END_TEST

START_TEST(collapsed_history_stays_sound)
{
	/* With 3 versions kept, random loses some legal states but produces no
	 * illegal one, and strict/lenient are unchanged (checked inside). */
	struct check_result r = check_script(PDOMAIN_ADR, long_history, N(long_history), false, 3);
	ck_assert_uint_lt(r.produced, r.legal);
	ck_assert_uint_ge(r.produced, 4);
	r = check_script(PDOMAIN_ADR, long_history, N(long_history), true, 3);
	ck_assert_uint_lt(r.produced, r.legal);
	r = check_script(PDOMAIN_ADR, long_history_fenced, N(long_history_fenced), false, 3);
	ck_assert_uint_lt(r.produced, r.legal);
}
END_TEST

/* --- Named rules ------------------------------------------------------ */

/* The crash state of a script under a policy (seed 1). */
static void crash_of(unsigned domain, const struct op *ops, size_t n, unsigned policy,
		     uint8_t out[SIZE])
{
	struct crash_policy pol = {policy, false};
	crash_once(domain, ops, n, &pol, 1, 0, out);
}

static bool line_is(const uint8_t *state, unsigned off, unsigned len, uint8_t val)
{
	for (unsigned i = 0; i < len; i++)
		if (state[off + i] != (uint8_t)(val + i))
			return false;
	return true;
}

START_TEST(strict_loses_unflushed)
{
	uint8_t s[SIZE], init[SIZE];
	const struct op ops[] = {ST(L(0), 8, 0x10), ST(L(3), 2, 0x20), NT(L(4), 8, 0x30)};
	crash_of(PDOMAIN_ADR, ops, N(ops), POLICY_STRICT, s);
	initial(init);
	ck_assert_mem_eq(s, init, SIZE);
}
END_TEST

START_TEST(strict_keeps_flushed_and_fenced)
{
	uint8_t s[SIZE];
	const struct op ops[] = {
		ST(L(0), 8, 0x10), FL(L(0), PERSIST_CLWB), FE(PERSIST_SFENCE),
		ST(L(1), 8, 0x20), FL(L(1) + 5, PERSIST_CLFLUSHOPT), FE(PERSIST_MFENCE),
		ST(L(2), 8, 0x30), FL(L(2), PERSIST_CLWB), FE(PERSIST_LOCKED),
		ST(L(3), 8, 0x40), FL(L(3), PERSIST_CLWB), FE(PERSIST_SERIALIZE),
		ST(L(4), 8, 0x50), FL(L(4), PERSIST_CLWB), PORT(0x80),
		NT(L(5), 16, 0x60), FE(PERSIST_SFENCE),
	};
	crash_of(PDOMAIN_ADR, ops, N(ops), POLICY_STRICT, s);
	ck_assert(line_is(s, L(0), 8, 0x10));
	ck_assert(line_is(s, L(1), 8, 0x20));
	ck_assert(line_is(s, L(2), 8, 0x30));
	ck_assert(line_is(s, L(3), 8, 0x40));
	ck_assert(line_is(s, L(4), 8, 0x50));
	ck_assert(line_is(s, L(5), 16, 0x60));
}
END_TEST

START_TEST(clflush_alone_survives)
{
	uint8_t s[SIZE];
	const struct op ops[] = {ST(L(0), 8, 0x10), FL(L(0), PERSIST_CLFLUSH)};
	crash_of(PDOMAIN_ADR, ops, N(ops), POLICY_STRICT, s);
	ck_assert(line_is(s, L(0), 8, 0x10));
}
END_TEST

START_TEST(weak_flush_without_fence_is_lost)
{
	uint8_t s[SIZE], init[SIZE];
	const struct op ops[] = {
		ST(L(0), 8, 0x10), FL(L(0), PERSIST_CLWB),
		ST(L(1), 8, 0x20), FL(L(1), PERSIST_CLFLUSHOPT), FE(PERSIST_LFENCE),
		ST(L(2), 8, 0x30), FL(L(2), PERSIST_CLWB), PORT(ABI_PORT_TRACE_EMIT),
		PORT(ABI_PORT_TRACE_ARG),
	};
	crash_of(PDOMAIN_ADR, ops, N(ops), POLICY_STRICT, s);
	initial(init);
	ck_assert_mem_eq(s, init, SIZE);
}
END_TEST

START_TEST(fence_covers_only_earlier_flushes)
{
	/* store, clwb, store again, fence: the first store is guaranteed, the
	 * second is not (the write-back may have taken either version). */
	uint8_t s[SIZE];
	const struct op ops[] = {
		ST(L(0), 8, 0x10), FL(L(0), PERSIST_CLWB), ST(L(0) + 8, 8, 0x20),
		FE(PERSIST_SFENCE),
	};
	crash_of(PDOMAIN_ADR, ops, N(ops), POLICY_STRICT, s);
	ck_assert(line_is(s, L(0), 8, 0x10));
	ck_assert(!line_is(s, L(0) + 8, 8, 0x20));
}
END_TEST

START_TEST(eadr_keeps_cached_not_unfenced_nt)
{
	uint8_t s[SIZE], init[SIZE];
	const struct op ops[] = {
		ST(L(0), 8, 0x10),                      /* no flush: kept */
		NT(L(2), 8, 0x30), FE(PERSIST_SFENCE),  /* kept */
		NT(L(1), 8, 0x20),                      /* no fence: lost */
		NT(L(3), 8, 0x40), FE(PERSIST_LFENCE),
		ST(L(4), 8, 0x50), NT(L(4), 8, 0x58),   /* cached kept, NT over it not */
	};
	crash_of(PDOMAIN_EADR, ops, N(ops), POLICY_STRICT, s);
	initial(init);
	ck_assert(line_is(s, L(0), 8, 0x10));
	ck_assert_mem_eq(s + L(1), init + L(1), 64);
	ck_assert(line_is(s, L(2), 8, 0x30));
	ck_assert_mem_eq(s + L(3), init + L(3), 64);
	ck_assert(line_is(s, L(4), 8, 0x50));
}
END_TEST

START_TEST(adr_loses_unflushed_that_eadr_keeps)
{
	uint8_t s[SIZE], init[SIZE];
	const struct op ops[] = {ST(L(0), 8, 0x10), FE(PERSIST_SFENCE)};
	crash_of(PDOMAIN_ADR, ops, N(ops), POLICY_STRICT, s);
	initial(init);
	ck_assert_mem_eq(s, init, SIZE);
	crash_of(PDOMAIN_EADR, ops, N(ops), POLICY_STRICT, s);
	ck_assert(line_is(s, L(0), 8, 0x10));
}
END_TEST

START_TEST(none_keeps_nothing_new)
{
	uint8_t s[SIZE], init[SIZE];
	crash_of(PDOMAIN_NONE, none_mix, N(none_mix), POLICY_STRICT, s);
	initial(init);
	ck_assert_mem_eq(s, init, SIZE);
}
END_TEST

START_TEST(lenient_keeps_everything_issued)
{
	static struct rig r;
	uint8_t s[SIZE];
	for (unsigned d = PDOMAIN_NONE; d <= PDOMAIN_EADR; d++) {
		rig_init(&r, d);
		run_script(&r, adr_mix, N(adr_mix));
		uint8_t issued[SIZE];
		memcpy(issued, r.mem, SIZE);
		rig_free(&r);
		crash_of(d, adr_mix, N(adr_mix), POLICY_LENIENT, s);
		ck_assert_mem_eq(s, issued, SIZE);
	}
}
END_TEST

START_TEST(same_line_stores_never_persist_out_of_order)
{
	/* Three stores to three words of one line, never flushed: a state
	 * holding a later store's word must hold every earlier one's. */
	const struct op ops[] = {ST(L(0), 8, 0x10), ST(L(0) + 8, 8, 0x20), ST(L(0) + 16, 8, 0x30)};
	struct crash_policy pol = {POLICY_RANDOM, false};
	uint8_t s[SIZE];
	int seen[8] = {0};
	for (uint64_t seed = 0; seed < 400; seed++) {
		crash_once(PDOMAIN_ADR, ops, N(ops), &pol, seed, 0, s);
		bool a = line_is(s, 0, 8, 0x10), b = line_is(s, 8, 8, 0x20), c = line_is(s, 16, 8, 0x30);
		ck_assert(!b || a);
		ck_assert(!c || b);
		seen[a + b + c]++;
	}
	for (int k = 0; k <= 3; k++)
		ck_assert_int_gt(seen[k], 0);   /* and every prefix occurs */
}
END_TEST

START_TEST(random_is_reproducible_from_the_seed)
{
	struct crash_policy pol = {POLICY_RANDOM, true};
	uint8_t a[SIZE], b[SIZE], c[SIZE];
	crash_once(PDOMAIN_ADR, adr_mix, N(adr_mix), &pol, 77, 0, a);
	crash_once(PDOMAIN_ADR, adr_mix, N(adr_mix), &pol, 77, 0, b);
	ck_assert_mem_eq(a, b, SIZE);
	bool differs = false;
	for (uint64_t seed = 78; seed < 90 && !differs; seed++) {
		crash_once(PDOMAIN_ADR, adr_mix, N(adr_mix), &pol, seed, 0, c);
		differs = memcmp(a, c, SIZE) != 0;
	}
	ck_assert(differs);
}
END_TEST

/* --- Bookkeeping ------------------------------------------------------ */

START_TEST(records_exist_only_for_pending_lines)
{
	static struct rig r;
	rig_init(&r, PDOMAIN_ADR);
	ck_assert_uint_eq(persist_pending(&r.p), 0);
	const struct op a[] = {ST(L(0), 8, 1), ST(L(1), 8, 2), ST(L(2), 8, 3), ST(L(0), 8, 4)};
	run_script(&r, a, N(a));
	ck_assert_uint_eq(persist_pending(&r.p), 3);
	ck_assert_uint_eq(persist_line(&r.p, BASE + L(0))->nver, 2);
	const struct op b[] = {FL(L(0), PERSIST_CLWB), FL(L(1), PERSIST_CLFLUSH)};
	run_script(&r, b, N(b));
	ck_assert_uint_eq(persist_pending(&r.p), 2);
	ck_assert_ptr_null(persist_line(&r.p, BASE + L(1)));
	const struct op c[] = {FE(PERSIST_SFENCE), EV(L(2))};
	run_script(&r, c, N(c));
	ck_assert_uint_eq(persist_pending(&r.p), 0);
	ck_assert_mem_eq(r.mem, r.media, SIZE);
	/* Many lines pending, then all guaranteed: the table empties again. */
	for (unsigned i = 0; i < NLINES; i++) {
		const struct op s = ST(L(i) + 3, 1, (uint8_t)i);
		run_op(&r, &s);
	}
	ck_assert_uint_eq(persist_pending(&r.p), NLINES);
	persist_writeback_all(&r.p);
	ck_assert_uint_eq(persist_pending(&r.p), 0);
	ck_assert_mem_eq(r.mem, r.media, SIZE);
	rig_free(&r);
}
END_TEST

START_TEST(history_is_bounded)
{
	static struct rig r;
	rig_init(&r, PDOMAIN_NONE);
	for (unsigned i = 0; i < 1000; i++) {
		const struct op s = ST(L(0) + (i % 8) * 8, 8, (uint8_t)i);
		run_op(&r, &s);
	}
	const struct pline *pl = persist_line(&r.p, BASE);
	ck_assert_uint_eq(pl->nver, PERSIST_DEFAULT_VERSIONS);
	ck_assert_uint_le(pl->len, PERSIST_DEFAULT_VERSIONS * (8 + 64));
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.collapsed_versions"),
			  1000 - PERSIST_DEFAULT_VERSIONS);
	uint8_t v[64];
	persist_version(&r.p, pl, pl->nver, v);
	ck_assert_mem_eq(v, r.mem, 64);                 /* newest = what the CPU sees */
	persist_version(&r.p, pl, 0, v);
	ck_assert_mem_eq(v, r.media, 64);               /* oldest = guaranteed */
	rig_free(&r);
}
END_TEST

START_TEST(nt_store_is_counted_once_and_not_cached)
{
	static struct rig r;
	rig_init(&r, PDOMAIN_EADR);
	const struct op ops[] = {NT(L(0), 16, 0x10), ST(L(1), 8, 0x20)};
	run_script(&r, ops, N(ops));
	ck_assert_uint_eq(persist_event_count(&r.p), 2);
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.ntstore"), 1);
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.store"), 1);
	ck_assert_ptr_nonnull(persist_line(&r.p, BASE));        /* NT: pending */
	ck_assert_ptr_null(persist_line(&r.p, BASE + 64));      /* cached: kept */
	rig_free(&r);
}
END_TEST

START_TEST(trace_port_does_not_order)
{
	static struct rig r;
	rig_init(&r, PDOMAIN_ADR);
	const struct op ops[] = {ST(L(0), 8, 1), FL(L(0), PERSIST_CLWB)};
	run_script(&r, ops, N(ops));
	/* The CPU reports the fence of an OUT before the access; the trace
	 * port's handler then exempts it. */
	persist_fence(&r.p, PERSIST_IO);
	persist_io_exempt(&r.p);
	ck_assert_ptr_nonnull(persist_line(&r.p, BASE));
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.fence"), 0);
	/* Any other port orders. */
	persist_fence(&r.p, PERSIST_IO);
	ck_assert_ptr_null(persist_line(&r.p, BASE));
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.fence"), 1);
	rig_free(&r);
}
END_TEST

/* --- Power-failure points --------------------------------------------- */

struct recorder {
	struct persist_event ev[64];
	int n;
	int stops;
};

static void record_event(void *ctx, const struct persist_event *ev)
{
	struct recorder *rc = ctx;
	if (rc->n < 64)
		rc->ev[rc->n++] = *ev;
}

static void record_stop(void *ctx)
{
	((struct recorder *)ctx)->stops++;
}

START_TEST(events_are_counted_and_observed)
{
	static struct rig r;
	struct recorder rc = {0};
	rig_init(&r, PDOMAIN_ADR);
	persist_set_observer(&r.p, record_event, &rc);
	const struct op ops[] = {
		ST(L(0), 8, 1), NT(L(1), 8, 2), FL(L(0), PERSIST_CLWB), FE(PERSIST_LFENCE),
		FE(PERSIST_SFENCE), PORT(ABI_PORT_TRACE_EMIT), PORT(0x70), ST(L(2), 4, 3),
	};
	run_script(&r, ops, N(ops));
	persist_block_write(&r.p, 8, 4, true);
	persist_block_flush(&r.p);
	ck_assert_uint_eq(persist_event_count(&r.p), 8);
	ck_assert_int_eq(rc.n, 8);
	const enum persist_event_kind want[] = {
		PERSIST_EV_STORE, PERSIST_EV_NTSTORE, PERSIST_EV_FLUSH, PERSIST_EV_FENCE,
		PERSIST_EV_FENCE, PERSIST_EV_STORE, PERSIST_EV_BLOCK_WRITE, PERSIST_EV_BLOCK_FLUSH,
	};
	for (int i = 0; i < 8; i++) {
		ck_assert_int_eq(rc.ev[i].kind, want[i]);
		ck_assert_uint_eq(rc.ev[i].seq, (uint64_t)i + 1);
	}
	ck_assert_int_eq(rc.ev[4].sub, PERSIST_IO);
	ck_assert_uint_eq(rc.ev[0].pa, BASE);
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.fence"), 2);
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.block_write"), 1);
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.events.total"), 8);
	rig_free(&r);
}
END_TEST

/* A power failure right after event k leaves what a run of only the first
 * k operations leaves (every op of this script is one event), whatever
 * the machine does before it stops. */
START_TEST(power_fails_at_the_kth_event)
{
	const struct op *ops = adr_mix;
	size_t n = N(adr_mix);
	struct crash_policy pol = {POLICY_LENIENT, false};
	for (size_t k = 1; k <= n; k++) {
		/* the trace port, evictions and lfence are no events */
		size_t events = 0, cut = 0;
		for (cut = 0; cut < n; cut++) {
			if (!(ops[cut].kind == OP_PORT || ops[cut].kind == OP_EVICT ||
			      (ops[cut].kind == OP_FENCE && ops[cut].sub == PERSIST_LFENCE)))
				events++;
			if (events == k)
				break;
		}
		if (cut == n)
			break;
		uint8_t want[SIZE];
		crash_once(PDOMAIN_ADR, ops, cut + 1, &pol, 1, 0, want);

		static struct rig r;
		struct recorder rc = {0};
		struct power_fail_plan plan = {POWER_FAIL_AT_EVENT, k};
		rig_init(&r, PDOMAIN_ADR);
		power_fail_arm(&plan, &r.p, record_stop, &rc);
		run_script(&r, ops, n);
		ck_assert(power_fail_due(&plan, 0, 0, persist_event_count(&r.p)));
		ck_assert_uint_eq(persist_event_count(&r.p), k);
		ck_assert_int_eq(rc.stops, 1);
		struct rng g;
		rng_stream(&g, 1, "power.random");
		crash_apply(&r.p, &pol, &g);
		ck_assert_msg(!memcmp(r.media, want, SIZE), "k = %zu (cut %zu)", k, cut);
		ck_assert_mem_eq(r.mem, want, SIZE);    /* later stores undone in mem */
		rig_free(&r);
	}
}
END_TEST

START_TEST(power_fail_plans)
{
	struct power_fail_plan t = {POWER_FAIL_AT_TIME, 5 * SIM_US};
	ck_assert(!power_fail_due(&t, 5 * SIM_US - 1, 1000, 1000));
	ck_assert(power_fail_due(&t, 5 * SIM_US, 0, 0));
	struct power_fail_plan i = {POWER_FAIL_AT_INSN, 100};
	ck_assert(!power_fail_due(&i, SIM_S, 99, 1000));
	ck_assert(power_fail_due(&i, 0, 100, 0));
	struct power_fail_plan e = {POWER_FAIL_AT_EVENT, 7};
	ck_assert(!power_fail_due(&e, SIM_S, 1000, 6));
	ck_assert(power_fail_due(&e, 0, 0, 7));
	struct power_fail_plan never = {POWER_FAIL_NEVER, 0};
	ck_assert(!power_fail_due(&never, SIM_S, 1000, 1000));

	struct rng a, b;
	rng_stream(&a, 42, "power.point");
	rng_stream(&b, 42, "power.point");
	struct power_fail_plan pa, pb;
	bool lo = false, hi = false;
	for (int k = 0; k < 200; k++) {
		power_fail_plan_random(&pa, &a, POWER_FAIL_AT_EVENT, 10, 13);
		power_fail_plan_random(&pb, &b, POWER_FAIL_AT_EVENT, 10, 13);
		ck_assert_uint_eq(pa.at, pb.at);
		ck_assert_uint_ge(pa.at, 10);
		ck_assert_uint_le(pa.at, 13);
		lo |= pa.at == 10;
		hi |= pa.at == 13;
	}
	ck_assert(lo && hi);

	/* At event 0: before anything, at once. */
	static struct rig r;
	struct recorder rc = {0};
	struct power_fail_plan zero = {POWER_FAIL_AT_EVENT, 0};
	rig_init(&r, PDOMAIN_ADR);
	power_fail_arm(&zero, &r.p, record_stop, &rc);
	ck_assert_int_eq(rc.stops, 1);
	run_script(&r, adr_mix, N(adr_mix));
	ck_assert_uint_eq(persist_event_count(&r.p), 0);
	ck_assert_uint_eq(persist_pending(&r.p), 0);
	rig_free(&r);
}
END_TEST

START_TEST(freeze_now_ignores_the_rest)
{
	static struct rig r;
	rig_init(&r, PDOMAIN_ADR);
	const struct op a[] = {ST(L(0), 8, 0x10), FL(L(0), PERSIST_CLFLUSH)};
	run_script(&r, a, N(a));
	persist_freeze(&r.p);
	const struct op b[] = {ST(L(0), 8, 0x20), ST(L(1), 8, 0x30), FL(L(1), PERSIST_CLFLUSH)};
	run_script(&r, b, N(b));
	ck_assert_uint_eq(persist_event_count(&r.p), 2);
	struct crash_policy pol = {POLICY_LENIENT, false};
	crash_apply(&r.p, &pol, NULL);
	uint8_t want[SIZE];
	initial(want);
	for (int i = 0; i < 8; i++)
		want[i] = (uint8_t)(0x10 + i);
	ck_assert_mem_eq(r.media, want, SIZE);
	ck_assert_mem_eq(r.mem, want, SIZE);
	/* unfrozen after the crash: the machine runs again */
	run_op(&r, &a[0]);
	ck_assert_uint_eq(persist_event_count(&r.p), 3);
	rig_free(&r);
}
END_TEST

/* persist_line_written_back(): the cache model's write-back of a line
 * (an eviction) puts the line's current content in the persistence domain.
 * Under ADR that is the newest version, so the line survives every policy
 * and stops costing a record; a store after it is pending again; eADR and
 * "none" are unchanged by it; it is no persistence event. */
START_TEST(written_back_line_is_persistent)
{
	static struct rig r;
	struct crash_policy strict = {.policy = POLICY_STRICT};
	uint8_t init[SIZE];
	initial(init);

	rig_init(&r, PDOMAIN_ADR);
	run_op(&r, &(struct op)ST(L(0), 8, 0x10));
	run_op(&r, &(struct op)ST(L(0) + 8, 8, 0x18));          /* two versions */
	run_op(&r, &(struct op)ST(L(1), 8, 0x20));
	run_op(&r, &(struct op)FL(L(1), PERSIST_CLWB));         /* armed, unfenced */
	uint64_t events = persist_event_count(&r.p);
	ck_assert_uint_eq(persist_pending(&r.p), 2);
	persist_line_written_back(&r.p, BASE + L(0) + 17);      /* any byte of the line */
	persist_line_written_back(&r.p, BASE + L(1));
	persist_line_written_back(&r.p, BASE + SIZE);           /* outside: ignored */
	ck_assert_uint_eq(persist_pending(&r.p), 0);
	ck_assert_uint_eq(persist_event_count(&r.p), events);
	ck_assert_uint_eq(stats_get(&r.sim.stats, "persist.evictions"), 2);
	ck_assert_mem_eq(r.media, r.mem, SIZE);
	run_op(&r, &(struct op)FE(PERSIST_SFENCE));             /* nothing left to do */
	run_op(&r, &(struct op)ST(L(0) + 16, 8, 0x30));         /* pending again */
	ck_assert_uint_eq(persist_pending(&r.p), 1);
	const struct pline *pl = persist_line(&r.p, BASE + L(0));
	ck_assert_ptr_nonnull(pl);
	ck_assert_uint_eq(pl->nver, 1);
	crash_apply(&r.p, &strict, NULL);
	ck_assert(line_is(r.media, L(0), 8, 0x10));
	ck_assert(line_is(r.media, L(0) + 8, 8, 0x18));
	ck_assert(line_is(r.media, L(1), 8, 0x20));
	ck_assert_mem_eq(r.media + L(0) + 16, init + L(0) + 16, 8);     /* the later store: lost */
	rig_free(&r);

	/* eADR: already persistent; none: the write-pending queue is not. */
	rig_init(&r, PDOMAIN_EADR);
	run_op(&r, &(struct op)NT(L(2), 8, 0x40));              /* WC buffer, not the cache */
	persist_line_written_back(&r.p, BASE + L(2));
	ck_assert_uint_eq(persist_pending(&r.p), 1);
	rig_free(&r);
	rig_init(&r, PDOMAIN_NONE);
	run_op(&r, &(struct op)ST(L(3), 8, 0x50));
	persist_line_written_back(&r.p, BASE + L(3));
	ck_assert_uint_eq(persist_pending(&r.p), 1);
	crash_apply(&r.p, &strict, NULL);
	ck_assert_mem_eq(r.media, init, SIZE);
	rig_free(&r);

	/* Frozen (power gone): ignored. */
	rig_init(&r, PDOMAIN_ADR);
	run_op(&r, &(struct op)ST(L(4), 8, 0x60));
	persist_freeze(&r.p);
	persist_line_written_back(&r.p, BASE + L(4));
	crash_apply(&r.p, &strict, NULL);
	ck_assert_mem_eq(r.media, init, SIZE);
	rig_free(&r);
}
END_TEST

Suite *persist_suite(void)
{
	Suite *s = suite_create("persist");
	TCase *t = tcase_create("rules");
	tcase_add_test(t, strict_loses_unflushed);
	tcase_add_test(t, strict_keeps_flushed_and_fenced);
	tcase_add_test(t, clflush_alone_survives);
	tcase_add_test(t, weak_flush_without_fence_is_lost);
	tcase_add_test(t, fence_covers_only_earlier_flushes);
	tcase_add_test(t, eadr_keeps_cached_not_unfenced_nt);
	tcase_add_test(t, adr_loses_unflushed_that_eadr_keeps);
	tcase_add_test(t, none_keeps_nothing_new);
	tcase_add_test(t, lenient_keeps_everything_issued);
	tcase_add_test(t, same_line_stores_never_persist_out_of_order);
	tcase_add_test(t, random_is_reproducible_from_the_seed);
	tcase_add_test(t, written_back_line_is_persistent);
	suite_add_tcase(s, t);
	t = tcase_create("exhaustive");
	tcase_set_timeout(t, 600);
	tcase_add_test(t, exhaustive_adr);
	tcase_add_test(t, exhaustive_eadr);
	tcase_add_test(t, exhaustive_none);
	tcase_add_test(t, exhaustive_tearing);
	tcase_add_test(t, exhaustive_adr_full_history);
	tcase_add_test(t, collapsed_history_stays_sound);
	suite_add_tcase(s, t);
	t = tcase_create("bookkeeping");
	tcase_add_test(t, records_exist_only_for_pending_lines);
	tcase_add_test(t, history_is_bounded);
	tcase_add_test(t, nt_store_is_counted_once_and_not_cached);
	tcase_add_test(t, trace_port_does_not_order);
	suite_add_tcase(s, t);
	t = tcase_create("power-fail");
	tcase_add_test(t, events_are_counted_and_observed);
	tcase_add_test(t, power_fails_at_the_kth_event);
	tcase_add_test(t, power_fail_plans);
	tcase_add_test(t, freeze_now_ignores_the_rest);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(persist_suite());
	srunner_add_suite(sr, persist_image_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
