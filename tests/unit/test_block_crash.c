/* tests/unit/test_block_crash.c: crash states of the block device.
 *
 * The legal states are computed here by an enumerator that shares no code
 * with machine/blk_crash.c: it knows only the writes the test driver
 * issued (sector, length, pattern tag) and the rules of
 * docs/crash-model-block.md, tries every assignment of landed / lost to
 * the pieces (or whole writes without tearing), keeps the assignments in
 * which a later write to a sector lands only if every earlier write to
 * that sector landed, and collects the resulting disk contents.  The
 * random policy over many seeds must produce exactly that set.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "machine/persist.h"
#include "sim/rng.h"
#include "traces/trace.h"
#include "tests/unit/test_block.h"

struct twrite {
	uint64_t sector;        /* 512-byte units, as the driver sends them */
	uint32_t count;         /* 512-byte units */
	uint32_t tag;
	bool flush_after;       /* the driver flushes once this write is done */
};

struct hashset {
	uint64_t *v;
	size_t n, cap;
};

static void hs_add(struct hashset *s, uint64_t h)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == h)
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		ck_assert_ptr_nonnull(s->v);
	}
	s->v[s->n++] = h;
}

static bool hs_has(const struct hashset *s, uint64_t h)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->v[i] == h)
			return true;
	return false;
}

#define REGION_MAX 64   /* 512-byte sectors examined */

/* The independent enumerator. */
static void enumerate(const struct twrite *w, size_t nw, uint32_t sector_size,
		      uint32_t atomic, bool tearing, unsigned region, struct hashset *out)
{
	static uint8_t base[REGION_MAX * 512], img[REGION_MAX * 512], data[REGION_MAX * 512];
	memset(base, 0, sizeof base);
	/* Writes up to the last flush are durable. */
	size_t first = 0;
	for (size_t i = 0; i < nw; i++)
		if (w[i].flush_after)
			first = i + 1;
	for (size_t i = 0; i < first; i++) {
		tb_pattern(data, w[i].count * 512u, w[i].tag);
		memcpy(base + w[i].sector * 512, data, w[i].count * 512u);
	}
	/* Pieces: byte ranges of each pending write cut at atomic boundaries. */
	struct { size_t w; uint64_t a, b; } pc[64];
	size_t np = 0;
	for (size_t i = first; i < nw; i++) {
		uint64_t a = w[i].sector * 512, end = a + w[i].count * 512ull;
		while (a < end) {
			uint64_t b = (a / atomic + 1) * atomic;
			if (b > end)
				b = end;
			ck_assert_uint_lt(np, 64);
			pc[np].w = i;
			pc[np].a = a;
			pc[np].b = b;
			np++;
			a = b;
		}
	}
	size_t nvars = tearing ? np : nw - first;
	ck_assert_uint_le(nvars, 20);
	for (uint64_t mask = 0; mask < (1ull << nvars); mask++) {
		bool landed[64];
		for (size_t k = 0; k < np; k++)
			landed[k] = mask >> (tearing ? k : pc[k].w - first) & 1;
		/* Same-sector order: check every pair of pieces sharing a sector. */
		bool legal = true;
		for (size_t p = 0; p < np && legal; p++)
			for (size_t q = p + 1; q < np && legal; q++) {
				bool share = pc[p].a < pc[q].b && pc[q].a < pc[p].b;
				if (share && pc[q].w > pc[p].w && landed[q] && !landed[p])
					legal = false;
			}
		if (!legal)
			continue;
		memcpy(img, base, sizeof img);
		for (size_t k = 0; k < np; k++) {
			if (!landed[k])
				continue;
			const struct twrite *x = &w[pc[k].w];
			tb_pattern(data, x->count * 512u, x->tag);
			memcpy(img + pc[k].a, data + (pc[k].a - x->sector * 512), pc[k].b - pc[k].a);
		}
		hs_add(out, hash_fnv1a(img, region * 512u, HASH_FNV1A_INIT));
	}
	(void)sector_size;
}

static void issue(struct tb *t, const struct twrite *w, size_t nw)
{
	static uint8_t data[REGION_MAX * 512];
	for (size_t i = 0; i < nw; i++) {
		tb_pattern(data, w[i].count * 512u, w[i].tag);
		tb_poke(t, TB_DATA, data, w[i].count * 512u);
		ck_assert_uint_eq(tb_do(t, VIRTIO_BLK_T_OUT, w[i].sector, TB_DATA, w[i].count * 512u),
				  VIRTIO_BLK_S_OK);
		if (w[i].flush_after)
			ck_assert_uint_eq(tb_do(t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	}
}

/* The states one policy produces over `seeds` seeds. */
static void sample(struct tb *t, unsigned policy, bool tearing, unsigned seeds,
		   unsigned region, struct hashset *out)
{
	static uint8_t img[REGION_MAX * 512];
	struct crash_policy pol = {policy, tearing};
	uint32_t ss = t->bd.sector_size;
	for (unsigned s = 0; s < seeds; s++) {
		struct rng r;
		rng_seed(&r, s);
		struct blk_crash_state cs;
		ck_assert_int_eq(blk_crash_choose(&t->bd, &pol, &r, &cs), 0);
		blk_crash_render(&t->bd, &cs, 0, region * 512u / ss, img);
		blk_crash_state_free(&cs);
		hs_add(out, hash_fnv1a(img, region * 512u, HASH_FNV1A_INIT));
	}
}

struct scenario {
	const char *name;
	uint32_t sector_size, atomic;
	bool tearing;
	unsigned region;
	size_t nw;
	struct twrite w[12];
};

static const struct scenario scenarios[] = {
	{"torn multi-unit writes", 512, 4096, true, 24, 4, {
		{0, 16, 1, false}, {4, 8, 2, false}, {8, 1, 3, false}, {14, 4, 4, false}}},
	{"same writes, no tearing", 512, 4096, false, 24, 4, {
		{0, 16, 1, false}, {4, 8, 2, false}, {8, 1, 3, false}, {14, 4, 4, false}}},
	{"ten writes on three sectors", 512, 4096, false, 8, 10, {
		{0, 1, 1, false}, {1, 1, 2, false}, {2, 1, 3, false}, {0, 1, 4, false}, {1, 2, 5, false},
		{0, 1, 6, false}, {2, 1, 7, false}, {1, 1, 8, false}, {0, 1, 9, false}, {2, 1, 10, false}}},
	{"flush in the middle, 512-byte atomic unit", 512, 512, true, 24, 5, {
		{0, 16, 1, true}, {6, 4, 2, false}, {7, 1, 3, false}, {9, 3, 4, false},
		{0, 2, 5, false}}},
	{"4 KiB sectors", 4096, 4096, true, 32, 3, {
		{0, 24, 1, false}, {8, 16, 2, false}, {16, 8, 3, false}}},
	{"five writes torn at 4 KiB", 512, 4096, true, 40, 5, {
		{6, 4, 1, false}, {7, 2, 2, false}, {12, 8, 3, false}, {15, 2, 4, false}, {30, 4, 5, false}}},
};

START_TEST(random_covers_exactly_the_legal_states)
{
	const struct scenario *sc = &scenarios[_i];
	struct tb t;
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME, .sector_size = sc->sector_size,
				    .atomic_bytes = sc->atomic});
	issue(&t, sc->w, sc->nw);
	size_t pending = 0;
	for (size_t i = 0; i < sc->nw; i++)
		pending = sc->w[i].flush_after ? 0 : pending + 1;
	ck_assert_uint_eq(blockdev_pending(&t.bd), pending);
	ck_assert_uint_le(pending, 10);

	struct hashset legal = {0}, rnd = {0}, strict = {0}, lenient = {0};
	enumerate(sc->w, sc->nw, sc->sector_size, sc->atomic, sc->tearing, sc->region, &legal);
	sample(&t, POLICY_RANDOM, sc->tearing, 40000, sc->region, &rnd);
	sample(&t, POLICY_STRICT, false, 4, sc->region, &strict);
	sample(&t, POLICY_LENIENT, false, 4, sc->region, &lenient);

	/* strict and lenient: one state each, the extremes of the legal set. */
	ck_assert_uint_eq(strict.n, 1);
	ck_assert_uint_eq(lenient.n, 1);
	ck_assert(hs_has(&legal, strict.v[0]));
	ck_assert(hs_has(&legal, lenient.v[0]));
	/* random: the same set as the enumerator's. */
	for (size_t i = 0; i < rnd.n; i++)
		ck_assert_msg(hs_has(&legal, rnd.v[i]), "%s: random produced an illegal state",
			      sc->name);
	ck_assert_msg(rnd.n == legal.n, "%s: random produced %zu of %zu legal states",
		      sc->name, rnd.n, legal.n);
	fprintf(stderr, "blk_crash %-44s pending %zu: legal %zu, random %zu, strict %zu, lenient %zu\n",
		sc->name, pending, legal.n, rnd.n, strict.n, lenient.n);
	free(legal.v);
	free(rnd.v);
	free(strict.v);
	free(lenient.v);
	tb_down(&t);
}
END_TEST

static void read_image(const struct tb *t, uint64_t off, void *buf, size_t len)
{
	int fd = open(t->path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* A then FLUSH then B (then FLUSH or not); power fails under each policy;
 * the image file must hold what the policy allows. */
START_TEST(power_fail_writes_policy_state_to_image)
{
	unsigned policy = (unsigned)_i / 2;
	bool flushed = _i % 2;
	static uint8_t a[4096], b[4096], got[4096];
	tb_pattern(a, sizeof a, 21);
	tb_pattern(b, sizeof b, 22);
	int saw_a = 0, saw_b = 0;
	for (uint64_t seed = 1; seed <= (policy == POLICY_RANDOM ? 12 : 1); seed++) {
		struct tb t;
		tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME_CONSUMER});
		tb_poke(&t, TB_DATA, a, 4096);
		tb_poke(&t, TB_DATA + 4096, b, 4096);
		ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 8, TB_DATA, 4096), VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
		ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 8, TB_DATA + 4096, 4096), VIRTIO_BLK_S_OK);
		if (flushed)
			ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
		/* The file is untouched until the power fails. */
		read_image(&t, 8 * 512, got, 4096);
		for (int i = 0; i < 4096; i++)
			ck_assert_uint_eq(got[i], 0);
		struct crash_policy pol = {policy, true};
		struct rng r;
		rng_seed(&r, seed);
		char err[512];
		ck_assert_int_eq(virtio_blk_power_fail(&t.vb, &pol, &r, err, sizeof err), 0);
		ck_assert_uint_eq(tb_dev_status(&t), 0);        /* the device was reset */
		ck_assert_int_eq(entries(t.dir), 1);            /* no temporary left */
		read_image(&t, 8 * 512, got, 4096);
		bool is_a = !memcmp(got, a, 4096), is_b = !memcmp(got, b, 4096);
		ck_assert(is_a || is_b);                        /* one atomic unit: never torn */
		if (flushed || policy == POLICY_LENIENT)
			ck_assert(is_b);
		if (!flushed && policy == POLICY_STRICT)
			ck_assert(is_a);
		saw_a += is_a;
		saw_b += is_b;
		/* After the reboot the driver reads what the image holds. */
		tb_driver_init(&t, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH);
		t.used_seen = 0;
		ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, 8, TB_DATA + 8192, 4096), VIRTIO_BLK_S_OK);
		uint8_t back[4096];
		tb_peek(&t, TB_DATA + 8192, back, 4096);
		ck_assert_mem_eq(back, got, 4096);
		tb_down(&t);
	}
	if (policy == POLICY_RANDOM && !flushed)
		ck_assert(saw_a && saw_b);
}
END_TEST

/* A write still in flight when the power fails: only random may land it. */
START_TEST(in_flight_write_is_a_random_candidate)
{
	static uint8_t w[4096], got[4096];
	tb_pattern(w, sizeof w, 31);
	int landed[3] = {0}, runs[3] = {0};
	for (unsigned policy = 0; policy < 3; policy++) {
		for (uint64_t seed = 1; seed <= (policy == POLICY_RANDOM ? 12 : 1); seed++) {
			struct tb t;
			tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_SATA});
			tb_poke(&t, TB_DATA, w, 4096);
			tb_submit(&t, 0, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096);
			ck_assert_uint_eq(t.vb.inflight, 1);
			struct crash_policy pol = {policy, false};
			struct rng r;
			rng_seed(&r, seed);
			char err[512];
			ck_assert_int_eq(virtio_blk_power_fail(&t.vb, &pol, &r, err, sizeof err), 0);
			tb_run(&t);                     /* the completion was dropped */
			read_image(&t, 0, got, 4096);
			landed[policy] += !memcmp(got, w, 4096);
			runs[policy]++;
			tb_down(&t);
		}
	}
	ck_assert_int_eq(landed[POLICY_STRICT], 0);
	ck_assert_int_eq(landed[POLICY_LENIENT], 0);
	ck_assert_int_gt(landed[POLICY_RANDOM], 0);
	ck_assert_int_lt(landed[POLICY_RANDOM], runs[POLICY_RANDOM]);
	/* Writing through, the same holds: completed means durable, in
	 * flight means maybe. */
	int wt = 0;
	for (uint64_t seed = 1; seed <= 12; seed++) {
		struct tb t;
		tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_SATA, .write_through = true});
		tb_poke(&t, TB_DATA, w, 4096);
		tb_submit(&t, 0, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096);
		struct crash_policy pol = {POLICY_RANDOM, false};
		struct rng r;
		rng_seed(&r, seed);
		char err[512];
		ck_assert_int_eq(virtio_blk_power_fail(&t.vb, &pol, &r, err, sizeof err), 0);
		read_image(&t, 0, got, 4096);
		wt += !memcmp(got, w, 4096);
		tb_down(&t);
	}
	ck_assert(wt > 0 && wt < 12);
}
END_TEST

/* A frozen device changes nothing: completions after the failure point
 * are not part of the crash state. */
START_TEST(frozen_device_ignores_completions)
{
	struct tb t;
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME});
	static uint8_t w[4096];
	tb_pattern(w, sizeof w, 41);
	tb_poke(&t, TB_DATA, w, 4096);
	tb_submit(&t, 0, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096);
	blockdev_freeze(&t.bd);
	tb_run(&t);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 0);
	struct crash_policy pol = {POLICY_LENIENT, false};
	char err[512];
	ck_assert_int_eq(blk_crash_apply(&t.bd, &pol, NULL, err, sizeof err), 0);
	ck_assert(!t.bd.frozen);
	ck_assert_uint_eq(t.bd.media[0], 0);
	tb_down(&t);
}
END_TEST

static void freeze_block(void *ctx)
{
	blockdev_freeze(ctx);
}

/* Block writes and flushes are persistence events (issue 5 item 4): a
 * power failure right after the k-th event, wired as the machine does
 * (the persist model's freeze callback freezes the blockdev), keeps the
 * writes up to that event and nothing after it. */
START_TEST(power_fail_after_kth_block_event)
{
	struct tb t;
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME});
	static uint8_t pm_mem[4096], pm_media[4096];
	struct persist pm;
	ck_assert_int_eq(persist_init(&pm, &t.sim, 1ull << 32, sizeof pm_mem, pm_mem, pm_media,
				      PDOMAIN_ADR), 0);
	t.bd.pm = &pm;
	persist_freeze_after(&pm, 3, freeze_block, &t.bd);
	static uint8_t w[4][4096], got[4096];
	for (int i = 0; i < 4; i++) {
		tb_pattern(w[i], 4096, 50 + i);
		tb_poke(&t, TB_DATA + 4096 * i, w[i], 4096);
	}
	/* events: 1 write A, 2 flush, 3 write B (freeze), then C and a flush. */
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 8, TB_DATA + 4096, 4096), VIRTIO_BLK_S_OK);
	ck_assert(t.bd.frozen);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 16, TB_DATA + 8192, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(persist_event_count(&pm), 3);
	ck_assert_uint_eq(stats_get(&t.sim.stats, "persist.events.block_write"), 2);
	struct crash_policy pol = {POLICY_LENIENT, false};
	char err[512];
	ck_assert_int_eq(virtio_blk_power_fail(&t.vb, &pol, NULL, err, sizeof err), 0);
	read_image(&t, 0, got, 4096);
	ck_assert_mem_eq(got, w[0], 4096);
	read_image(&t, 8 * 512, got, 4096);
	ck_assert_mem_eq(got, w[1], 4096);              /* lenient: the cached B lands */
	read_image(&t, 16 * 512, got, 4096);
	for (int i = 0; i < 4096; i++)
		ck_assert_uint_eq(got[i], 0);           /* C came after the failure */
	persist_free(&pm);
	tb_down(&t);
}
END_TEST

/* Writes with and without FLUSH, the power cut after every block event in
 * turn (as the machine wires it: the persist model's freeze callback
 * freezes the blockdev), under each policy.  Each crash state is checked
 * against the rules with the independent enumerator: what was flushed
 * before the failure survives under every policy, strict keeps nothing
 * else, lenient every completed write, random one legal state, and
 * nothing issued after the failure point ever lands. */
struct bstep {
	bool flush;
	struct twrite w;
};

static const struct bstep sweep_script[] = {
	{false, {0, 8, 61, false}},             /* 4 KiB, one atomic unit */
	{false, {8, 8, 62, false}},
	{true, {0}},
	{false, {4, 8, 63, false}},             /* straddles two units */
	{false, {0, 1, 64, false}},
	{true, {0}},
	{false, {16, 8, 65, false}},
	{false, {8, 1, 66, false}},
	{false, {0, 16, 67, false}},            /* 8 KiB over everything */
	{false, {20, 2, 68, false}},
};
#define SWEEP_STEPS (sizeof sweep_script / sizeof sweep_script[0])
#define SWEEP_REGION 24                 /* sectors examined */

/* The disk after the first n writes of w, all landed. */
static uint64_t all_landed(const struct twrite *w, size_t n)
{
	static uint8_t img[SWEEP_REGION * 512], data[SWEEP_REGION * 512];
	memset(img, 0, sizeof img);
	for (size_t i = 0; i < n; i++) {
		tb_pattern(data, w[i].count * 512u, w[i].tag);
		memcpy(img + w[i].sector * 512, data, w[i].count * 512u);
	}
	return hash_fnv1a(img, sizeof img, HASH_FNV1A_INIT);
}

/* One crash: the script with the power cut right after event k. */
static uint64_t sweep_crash(uint64_t k, unsigned policy, bool tearing, uint64_t seed)
{
	struct tb t;
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME});
	static uint8_t pm_mem[4096], pm_media[4096];
	struct persist pm;
	ck_assert_int_eq(persist_init(&pm, &t.sim, 1ull << 32, sizeof pm_mem, pm_mem, pm_media,
				      PDOMAIN_ADR), 0);
	t.bd.pm = &pm;
	persist_freeze_after(&pm, k, freeze_block, &t.bd);
	static uint8_t data[SWEEP_REGION * 512];
	for (size_t i = 0; i < SWEEP_STEPS; i++) {
		const struct bstep *s = &sweep_script[i];
		if (s->flush) {
			ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
			continue;
		}
		tb_pattern(data, s->w.count * 512u, s->w.tag);
		tb_poke(&t, TB_DATA, data, s->w.count * 512u);
		ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, s->w.sector, TB_DATA, s->w.count * 512u),
				  VIRTIO_BLK_S_OK);
	}
	ck_assert(t.bd.frozen);
	struct crash_policy pol = {.policy = policy, .tearing = tearing};
	struct rng r;
	rng_seed(&r, seed);
	char err[512];
	ck_assert_int_eq(virtio_blk_power_fail(&t.vb, &pol, &r, err, sizeof err), 0);
	static uint8_t img[SWEEP_REGION * 512];
	read_image(&t, 0, img, sizeof img);
	persist_free(&pm);
	tb_down(&t);
	return hash_fnv1a(img, sizeof img, HASH_FNV1A_INIT);
}

START_TEST(every_block_event_is_a_legal_crash_state)
{
	unsigned checked[3] = {0};
	size_t distinct = 0;
	for (uint64_t k = 1; k <= SWEEP_STEPS; k++) {
		/* The writes done by event k (each step is one event), with
		 * flush_after set when a flush done by k follows them. */
		struct twrite w[SWEEP_STEPS];
		size_t nw = 0;
		for (size_t i = 0; i < k; i++) {
			if (sweep_script[i].flush) {
				if (nw)
					w[nw - 1].flush_after = true;
			} else {
				w[nw++] = sweep_script[i].w;
			}
		}
		size_t durable = 0;
		for (size_t i = 0; i < nw; i++)
			if (w[i].flush_after)
				durable = i + 1;
		struct hashset legal[2] = {{0}}, seen = {0};
		enumerate(w, nw, 512, 4096, false, SWEEP_REGION, &legal[0]);
		enumerate(w, nw, 512, 4096, true, SWEEP_REGION, &legal[1]);
		ck_assert_uint_eq(sweep_crash(k, POLICY_STRICT, false, 1), all_landed(w, durable));
		ck_assert_uint_eq(sweep_crash(k, POLICY_LENIENT, false, 1), all_landed(w, nw));
		checked[POLICY_STRICT]++;
		checked[POLICY_LENIENT]++;
		for (int tear = 0; tear < 2; tear++)
			for (uint64_t seed = 1; seed <= 8; seed++) {
				uint64_t h = sweep_crash(k, POLICY_RANDOM, tear, seed);
				ck_assert_msg(hs_has(&legal[tear], h),
					      "event %llu seed %llu%s: random produced an illegal state",
					      (unsigned long long)k, (unsigned long long)seed,
					      tear ? " (torn)" : "");
				hs_add(&seen, h);
				checked[POLICY_RANDOM]++;
			}
		distinct += seen.n;
		free(legal[0].v);
		free(legal[1].v);
		free(seen.v);
	}
	ck_assert_uint_gt(distinct, SWEEP_STEPS);       /* random did vary */
	fprintf(stderr, "blk_crash sweep over %zu block events: crash states checked: strict %u, "
		"lenient %u, random %u (%zu distinct)\n", SWEEP_STEPS, checked[POLICY_STRICT],
		checked[POLICY_LENIENT], checked[POLICY_RANDOM], distinct);
}
END_TEST

/* The trace records every write, flush and queue-depth change. */
START_TEST(trace_records)
{
	struct tb t;
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME});
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char err[256];
	struct trace *tr = trace_open_stream(f, "mem", &(struct trace_params){.seed = 1}, err,
					     sizeof err);
	ck_assert_ptr_nonnull(tr);
	t.bd.trace = tr;
	t.vb.trace = tr;
	t.vb.trace_name = trace_intern(tr, "virtio-blk");
	uint64_t before = tr->count;
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	/* write: depth 1, blk_write, depth 0; flush: depth 1, blk_flush, depth 0 */
	ck_assert_uint_eq(tr->count - before, 6);
	ck_assert_int_eq(trace_close(tr, err, sizeof err), 0);
	fclose(f);
	free(buf);
	t.bd.trace = NULL;
	t.vb.trace = NULL;
	tb_down(&t);
}
END_TEST

Suite *blk_crash_suite(void)
{
	Suite *s = suite_create("blk_crash");
	TCase *tc = tcase_create("states");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, random_covers_exactly_the_legal_states, 0,
			    sizeof scenarios / sizeof scenarios[0]);
	tcase_add_loop_test(tc, power_fail_writes_policy_state_to_image, 0, 6);
	tcase_add_test(tc, in_flight_write_is_a_random_candidate);
	tcase_add_test(tc, frozen_device_ignores_completions);
	tcase_add_test(tc, power_fail_after_kth_block_event);
	tcase_add_test(tc, every_block_event_is_a_legal_crash_state);
	tcase_add_test(tc, trace_records);
	suite_add_tcase(s, tc);
	return s;
}
