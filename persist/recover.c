/* persist/recover.c: formatting a store and recovering from it at boot.
 *
 * Recovery:
 *  1. Read the superblock.  Bad magic, version or checksum: the store is
 *     empty or foreign, so format it (first boot).
 *  2. Read root records A and B; keep those with the right magic, a good
 *     checksum, this format's id and the superblock's geometry.  No valid
 *     root: no snapshot was ever committed, so first boot.
 *  3. Newest generation first: read its map pages (each checked against
 *     the check value in the root), then every stored page into its
 *     object-space frame (each checked against its map entry); slot 0
 *     pages are zeroed.  Any mismatch, a slot out of range or used twice:
 *     report it and try the other root.  Neither loads: a clear error on
 *     the console, then a fresh object space (first boot).
 *  4. Recompute the digest over the restored space; selfcheck = it differs
 *     from the root's digest.  Rebuild the free-slot bitmap from the map.
 *
 * Pages are written into the frames through the identity map (the disk
 * reads them straight in by DMA, up to 42 at a time), so their
 * object-space PTEs keep D = 0: a restored page is clean.
 */
#include "persist/state.h"

static struct store_super sb __attribute__((aligned(4096)));
static struct store_root roots[2] __attribute__((aligned(4096)));
static struct store_seal seal_rec __attribute__((aligned(4096)));
static struct map_entry mapbuf[MAP_ENTRIES] __attribute__((aligned(4096)));
static bool sb_valid;

static bool super_ok(struct store *s)
{
	static uint8_t block[STORE_BLOCK] __attribute__((aligned(4096)));
	if (s->read(s, STORE_SB_BLOCK, block))
		return false;
	memcpy(&sb, block, sizeof sb);
	uint64_t sum = sb.checksum;
	((struct store_super *)block)->checksum = 0;
	return sb.magic == STORE_SB_MAGIC && sb.version == STORE_VERSION &&
	       sb.block_size == STORE_BLOCK && sb.nblocks <= s->nblocks &&
	       sb.objspace_base == OBJSPACE_BASE && sb.npages >= 1 &&
	       sb.npages <= (uint64_t)OBJSPACE_MAX_MB * 256 &&
	       sb.nslots == sb.nblocks - STORE_FIRST_SLOT_BLOCK &&
	       hash64(block, STORE_BLOCK) == sum;
}

uint64_t persist_probe(struct store *s, uint64_t want_pages)
{
	if (!s || cmdline.format)
		return want_pages;
	sb_valid = super_ok(s);
	if (!sb_valid) {
		kprintf("persist: no valid superblock on the %s store: it will be formatted\n", s->name);
		return want_pages;
	}
	s->nblocks = sb.nblocks;        /* the store's geometry is what it was formatted with */
	if (sb.npages != want_pages)
		kprintf("persist: the store holds a %lu MiB object space: using that, not objspace_mb=%lu\n",
			sb.npages >> 8, want_pages >> 8);
	return sb.npages;
}

static unsigned parse_bugs(const char *list)
{
	static const struct { const char *name; unsigned flag; } bugs[] = {
		{ "no-data-fence", BUG_NO_DATA_FENCE }, { "no-flush", BUG_NO_FLUSH },
		{ "no-cow", BUG_NO_COW }, { "in-place", BUG_IN_PLACE },
		{ "no-data-flush", BUG_NO_DATA_FLUSH }, { "no-commit-fence", BUG_NO_COMMIT_FENCE },
		{ "root-first", BUG_ROOT_FIRST }, { "root-in-place", BUG_ROOT_IN_PLACE },
		{ "no-verify", BUG_NO_VERIFY }, { "no-disk-flush", BUG_NO_DISK_FLUSH },
	};
	unsigned flags = 0;
	while (*list) {
		size_t n = 0;
		while (list[n] && list[n] != ',')
			n++;
		bool known = false;
		for (size_t k = 0; k < ARRAY_LEN(bugs); k++)
			if (strlen(bugs[k].name) == n && !memcmp(list, bugs[k].name, n)) {
				flags |= bugs[k].flag;
				known = true;
			}
		if (!known)
			panic("bug=: unknown variant '%.*s' (no-data-fence, no-flush, no-data-flush, "
			      "no-commit-fence, root-first, root-in-place, in-place, no-cow, no-verify, "
			      "no-disk-flush)",
			      (int)n, list);
		list += n + (list[n] == ',');
	}
	return flags;
}

void persist_init(struct store *s, uint64_t *pte, uint64_t npages, const char *workload)
{
	static uint64_t zero_page[512] __attribute__((aligned(4096)));
	P.st = s;
	P.pte = pte;
	P.npages = npages;
	P.nmap = (npages + MAP_ENTRIES - 1) / MAP_ENTRIES;
	P.zero_hash = page_hash(zero_page);
	strncpy0(P.workload, workload, sizeof P.workload);
	if (!s)
		return;
	P.bugs = parse_bugs(cmdline.bug);
	s->bug_no_flush = P.bugs & (BUG_NO_FLUSH | BUG_NO_DATA_FLUSH);
	s->bug_no_disk_flush = P.bugs & BUG_NO_DISK_FLUSH;
	if (P.bugs)
		kprintf("persist: BUG VARIANT bug=%s: snapshots are deliberately unsafe\n", cmdline.bug);
	if (P.nmap > ROOT_MAP_MAX)
		panic("persist: %lu map pages exceed the root record's %u", P.nmap, ROOT_MAP_MAX);
	if (s->nblocks <= STORE_FIRST_SLOT_BLOCK + 1)
		panic("persist: the %s store is too small (%lu blocks)", s->name, s->nblocks);
	/* A huge PM region would need a huge slot bitmap: use at most
	 * STORE_MAX_BLOCKS of it (64 GiB, a 2 MiB bitmap). */
	if (s->nblocks > STORE_MAX_BLOCKS) {
		kprintf("persist: using the first %lu of the store's %lu blocks\n",
			(uint64_t)STORE_MAX_BLOCKS, s->nblocks);
		s->nblocks = STORE_MAX_BLOCKS;
	}
	P.nslots = s->nblocks - STORE_FIRST_SLOT_BLOCK;
	P.ment = (struct map_entry *)page_alloc_contig(P.nmap * MAP_ENTRIES * sizeof *P.ment / PAGE_SIZE);
	P.log = (uint32_t *)page_alloc_contig((npages * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.logged = (uint8_t *)page_alloc_contig((npages + PAGE_SIZE - 1) / PAGE_SIZE);
	P.pre_slot = (uint32_t *)page_alloc_contig((npages * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.pre_hash = (uint64_t *)page_alloc_contig((npages * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.pre = (uint32_t *)page_alloc_contig((npages * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.on_pre = (uint8_t *)page_alloc_contig((npages + PAGE_SIZE - 1) / PAGE_SIZE);
	P.hot = (uint32_t *)page_alloc_contig((npages * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.changed = (uint32_t *)page_alloc();
	P.phash = (uint64_t *)page_alloc_contig((npages * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.dirty_index = (uint32_t *)page_alloc_contig((npages * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.dirty = (struct dirty_page *)page_alloc_contig((npages * sizeof(struct dirty_page) + PAGE_SIZE - 1) / PAGE_SIZE);
	P.map = (struct map_entry *)page_alloc();
	P.fmap = (struct map_entry *)page_alloc();
	P.newmap = (struct map_entry *)page_alloc();
	P.delta = (uint32_t *)page_alloc_contig((npages * 4 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.in_delta = (uint8_t *)page_alloc_contig((npages + PAGE_SIZE - 1) / PAGE_SIZE);
	P.map_changed = (uint8_t *)page_alloc();
	P.slot_used = (uint64_t *)page_alloc_contig(((P.nslots + 1 + 63) / 64 * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
	P.frame = (uint64_t *)page_alloc_contig((npages * 8 + PAGE_SIZE - 1) / PAGE_SIZE);
	for (uint64_t i = 0; i < npages; i++)
		P.frame[i] = pte[i] & PTE_ADDR;
	/* frames=pm writes pages in the store, so it needs a store that is
	 * memory; the two bug variants about the DRAM copy keep that copy. */
	if (!strcmp(cmdline.frames, "pm")) {
		P.pm_frames = s->writeback && !(P.bugs & (BUG_IN_PLACE | BUG_NO_COW));
		kprintf(P.pm_frames ? "persist: frames=pm: pages written since their snapshot live in "
				      "the store\n"
				    : "persist: frames=pm needs the pmem backend and no in-place or "
				      "no-cow bug: using frames=dram\n");
	}
	for (uint64_t i = 0; i < npages; i++)
		P.phash[i] = P.zero_hash;
	P.dsum = digest_space(P.phash, npages);
	P.frames_zeroed = true;         /* objspace_map() zeroes them */
	P.slots_free = P.nslots;
	P.interval = 1;                 /* hot[] starts at 0: no page is hot */
	page_fault_hook = persist_fault;
	/* Every page starts clean (zero, or restored by recovery, which writes
	 * through the identity map): read-only until its first write. */
	persist_protect_all();
	/* Shadow paging holds the committed snapshot and the one being
	 * written: a store with fewer slots than twice the space (pages and
	 * map pages) can stall once most of the space is dirty. */
	if (P.nslots < 2 * (npages + P.nmap))
		kprintf("persist: warning: %lu slots for %lu pages (%lu needed to never stall); "
			"snapshots are skipped while the store is full\n",
			P.nslots, npages, 2 * (npages + P.nmap));
}

static int format(void)
{
	static uint8_t block[STORE_BLOCK] __attribute__((aligned(4096)));
	struct store *s = P.st;
	uint64_t old_id = sb_valid ? sb.format_id : 0;
	memset(block, 0, sizeof block);
	int rc = s->write(s, STORE_ROOT_BLOCK(0), block);
	rc |= s->write(s, STORE_ROOT_BLOCK(1), block);
	rc |= s->write(s, STORE_SEAL_BLOCK, block);
	rc |= s->barrier(s);
	struct store_super *n = (struct store_super *)block;
	*n = (struct store_super){
		.magic = STORE_SB_MAGIC, .version = STORE_VERSION, .block_size = STORE_BLOCK,
		.nblocks = s->nblocks, .objspace_base = OBJSPACE_BASE, .npages = P.npages,
		.nslots = P.nslots,
		/* Any value unlike the previous one will do; derive it from the
		 * old id and the seed so runs stay reproducible. */
		.format_id = (old_id + 1) ^ (cmdline.seed << 32),
	};
	n->checksum = hash64(block, STORE_BLOCK);
	sb = *n;
	sb_valid = true;
	rc |= s->write(s, STORE_SB_BLOCK, block);
	rc |= s->barrier(s);
	if (rc)
		panic("persist: I/O error formatting the %s store", s->name);
	P.format_id = sb.format_id;
	P.gen = 0;
	kprintf("persist: formatted the %s store: %lu slots, format id %lx\n", s->name, P.nslots,
		sb.format_id);
	return 0;
}

static bool root_ok(const struct store_root *r)
{
	struct store_root copy = *r;
	copy.checksum = 0;
	return r->magic == STORE_ROOT_MAGIC && r->format_id == sb.format_id && r->gen >= 1 &&
	       r->npages == sb.npages && r->nmap == P.nmap && r->ndelta <= ROOT_DELTA_MAX(P.nmap) &&
	       (r->flags & ~ROOT_UNSEALED) == 0 &&
	       hash64(&copy, sizeof copy) == r->checksum;
}

static void reset_slots(void)
{
	memset(P.slot_used, 0, (P.nslots + 1 + 63) / 64 * 8);
	P.slots_free = P.nslots;
}

static bool claim(uint64_t s, const char **why)
{
	if (s > P.nslots) {
		*why = "slot out of range";
		return false;
	}
	if (slot_is_used(s)) {
		*why = "slot used twice";
		return false;
	}
	slot_mark_used(s);
	return true;
}

/* The seal record that completes unsealed root r, if the store holds it
 * intact; else NULL, and r's own pages are taken unchecked. */
static const struct store_seal *seal_for(const struct store_root *r)
{
	static uint8_t block[STORE_BLOCK] __attribute__((aligned(4096)));
	if (!(r->flags & ROOT_UNSEALED) || P.st->read(P.st, STORE_SEAL_BLOCK, block))
		return 0;
	memcpy(&seal_rec, block, sizeof seal_rec);
	((struct store_seal *)block)->checksum = 0;
	bool ok = seal_rec.magic == STORE_SEAL_MAGIC && seal_rec.format_id == r->format_id &&
		  seal_rec.gen == r->gen && seal_rec.root_checksum == r->checksum &&
		  hash64(block, STORE_BLOCK) == seal_rec.checksum;
	return ok ? &seal_rec : 0;
}

/* Root r's delta entries for pages first .. end-1 replace map page
 * entries e[0 ..], and mark unchecked[] those without a check (only an
 * unsealed root has them; its seal record sl, if any, gives them); false
 * if any entry names a page outside the space or is unchecked in a
 * sealed root. */
static bool apply_delta(const struct store_root *r, const struct store_seal *sl,
			struct map_entry *e, bool *unchecked, uint64_t first, uint64_t end)
{
	const struct delta_entry *de = root_delta((struct store_root *)r);
	memset(unchecked, 0, MAP_ENTRIES * sizeof *unchecked);
	for (uint32_t k = 0; k < r->ndelta; k++) {
		uint32_t i = de[k].page & ~DELTA_UNCHECKED;
		bool u = de[k].page & DELTA_UNCHECKED;
		if (i >= P.npages || (u && !(r->flags & ROOT_UNSEALED)))
			return false;
		if (i >= first && i < end) {
			e[i - first] = (struct map_entry){ de[k].slot, u && sl ? sl->check[k] : de[k].check };
			unchecked[i - first] = u && !sl;
		}
	}
	return true;
}

/* Load root r into the object space; NULL on success, else the reason. */
static const char *load(const struct store_root *r, const struct store_seal *sl)
{
	static bool unchecked[MAP_ENTRIES];
	const char *why = 0;
	/* The frames come zeroed from page_alloc(); only a second attempt
	 * (the newer root was damaged) finds them written. */
	bool zeroed = P.frames_zeroed;
	P.frames_zeroed = false;
	reset_slots();
	for (uint64_t m = 0; m < P.nmap; m++) {
		P.map[m] = r->map[m];
		uint64_t first = m * MAP_ENTRIES;
		uint64_t end = first + MAP_ENTRIES < P.npages ? first + MAP_ENTRIES : P.npages;
		if (r->map[m].slot == 0) {
			memset(mapbuf, 0, sizeof mapbuf);
		} else {
			if (!claim(r->map[m].slot, &why))
				return why;
			if (P.st->read(P.st, STORE_SLOT_BLOCK(r->map[m].slot), mapbuf))
				return "read error (map page)";
			if ((uint32_t)page_hash(mapbuf) != r->map[m].check && !(P.bugs & BUG_TRUST_ORDER))
				return "map page checksum mismatch";
		}
		/* The root's delta overrides the map page (checked above as
		 * stored). */
		if (!apply_delta(r, sl, mapbuf, unchecked, first, end))
			return "delta entry out of range";
		/* 512 zero pages: on fresh frames nothing to do (slots and
		 * hashes are as persist_init left them). */
		if (zeroed && r->map[m].slot == 0) {
			bool any = false;
			for (uint64_t i = first; i < end && !any; i++)
				any = mapbuf[i - first].slot != 0;
			if (!any)
				continue;
		}
		/* Queue the reads of this map page's pages, then check them. */
		int rc = 0;
		for (uint64_t i = first; i < end; i++) {
			uint32_t s = mapbuf[i - first].slot;
			P.ment[i] = mapbuf[i - first];
			if (s == 0) {
				if (!zeroed)
					memset(page_frame(i), 0, PAGE_SIZE);
				continue;
			}
			if (!claim(s, &why)) {
				P.st->read_wait(P.st);
				return why;
			}
			rc |= P.st->read_start(P.st, STORE_SLOT_BLOCK(s), page_frame(i));
		}
		if (P.st->read_wait(P.st) || rc)
			return "read error (page)";
		for (uint64_t i = first; i < end; i++) {
			if (P.ment[i].slot == 0) {
				P.ment[i].check = 0;
				P.phash[i] = P.zero_hash;
				continue;
			}
			P.phash[i] = page_hash(page_frame(i));
			/* Unchecked (an unsealed root's own pages): taken on the
			 * commit's order, and checked from now on. */
			if (unchecked[i - first]) {
				P.ment[i].check = (uint32_t)P.phash[i];
				continue;
			}
			/* bug=no-verify and no-data-fence trust the map: a guest
			 * that relies on write ordering instead of checking. */
			if ((uint32_t)P.phash[i] != mapbuf[i - first].check && !(P.bugs & BUG_TRUST_ORDER))
				return "page checksum mismatch";
		}
	}
	return 0;
}

enum recover_result persist_recover(char *workload, uint32_t *selfcheck)
{
	if (!P.st)
		return RECOVER_FRESH;
	if (!sb_valid || cmdline.format) {
		format();
		return RECOVER_FRESH;
	}
	trace_recovery_begin();
	P.format_id = sb.format_id;
	bool ok[2];
	for (int k = 0; k < 2; k++)
		ok[k] = P.st->read(P.st, STORE_ROOT_BLOCK(k), &roots[k]) == 0 && root_ok(&roots[k]);
	int order[2] = { 0, 1 };
	if (ok[1] && (!ok[0] || roots[1].gen > roots[0].gen)) {
		order[0] = 1;
		order[1] = 0;
	}
	for (int k = 0; k < 2; k++) {
		const struct store_root *r = &roots[order[k]];
		if (!ok[order[k]])
			continue;
		const struct store_seal *sl = seal_for(r);
		kprintf("persist: loading snapshot gen %lu (root %c%s)\n", r->gen, 'A' + order[k],
			!(r->flags & ROOT_UNSEALED) ? "" : sl ? ", unsealed, with its seal record"
							      : ", unsealed, no seal record");
		const char *why = load(r, sl);
		if (why) {
			kprintf("persist: ERROR: snapshot gen %lu is damaged: %s\n", r->gen, why);
			continue;
		}
		P.gen = r->gen;
		/* The delta is what the root carries: pages differing from
		 * the map pages it names. */
		for (uint64_t k = 0; k < P.ndelta; k++)
			P.in_delta[P.delta[k]] = 0;
		P.ndelta = 0;
		const struct delta_entry *de = root_delta((struct store_root *)r);
		for (uint32_t k = 0; k < r->ndelta; k++) {
			uint32_t i = de[k].page & ~DELTA_UNCHECKED;
			if (!P.in_delta[i]) {
				P.in_delta[i] = 1;
				P.delta[P.ndelta++] = i;
			}
		}
		P.digest = P.dsum = digest_space(P.phash, P.npages);
		/* An unsealed root carries no digest to check against; its
		 * seal record does. */
		bool sealed = !(r->flags & ROOT_UNSEALED) || sl;
		uint64_t want = sl ? sl->digest : r->digest;
		*selfcheck = !sealed || P.digest == want ? 0 : 1;
		P.stats.gen = P.gen;
		P.stats.digest = P.digest;
		P.slot_cursor = 0;
		strncpy0(workload, r->workload, 32);
		strncpy0(P.workload, r->workload, sizeof P.workload);
		if (sealed)
			kprintf("persist: restored gen %lu: digest %016lx (%s says %016lx), %lu slots free\n",
				P.gen, P.digest, sl ? "seal" : "root", want, P.slots_free);
		else
			kprintf("persist: restored gen %lu: digest %016lx (unsealed root: no digest to "
				"check), %lu slots free\n", P.gen, P.digest, P.slots_free);
		return RECOVER_OK;
	}
	if (ok[0] || ok[1])
		kprintf("persist: ERROR: no snapshot on the %s store is intact; starting with an empty "
			"object space (the store is reformatted)\n", P.st->name);
	else
		kprintf("persist: no committed snapshot on the %s store\n", P.st->name);
	for (uint64_t i = 0; i < P.npages; i++) {
		if (!P.frames_zeroed)
			memset(page_frame(i), 0, PAGE_SIZE);
		P.phash[i] = P.zero_hash;
		P.ment[i] = (struct map_entry){ 0, 0 };
	}
	P.dsum = digest_space(P.phash, P.npages);
	memset(P.map, 0, PAGE_SIZE);
	reset_slots();
	format();
	return RECOVER_FRESH;
}
