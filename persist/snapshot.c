/* persist/snapshot.c: taking a snapshot.
 *
 * 0. Between snapshots every object-space page that is clean (as stored)
 *    is read-only.  The first write to it faults; persist_fault makes it
 *    writable and appends it to the log.  So the set of dirty pages is
 *    known at every moment, and the pause costs O(dirty pages), not a
 *    scan of every PTE of the space (16 K for 64 MiB).
 *    Write-behind (persist_pageout, Phantom's lazy pageout): between
 *    snapshots, with the workload stopped at a safe point, pages logged in
 *    an earlier tick are copied (and hashed) to free slots and made
 *    read-only again.  The committed snapshot does not use those slots, so
 *    a crash loses nothing; the next snapshot takes them as they are.  A
 *    page written again first frees its copy and is "hot": not written
 *    behind again in this interval, so a page the workload keeps writing
 *    costs at most one wasted copy per interval.
 * 1. Pause (persist_begin, workload stopped at a safe point): each page
 *    written behind goes on the dirty list as already written; each
 *    logged page becomes read-only again with the PTE_SNAP mark and goes
 *    on the dirty list; one TLB flush.  Nothing is copied or hashed.
 * 2. The workload runs again.  A write to a page still marked PTE_SNAP
 *    faults; persist_fault copies the frozen contents to a fresh DRAM
 *    page, makes the PTE writable again (the page is logged for the next
 *    snapshot) and lets the write proceed.
 * 3. persist_step takes the pages written behind (their slot and hash are
 *    known) and writes the other dirty pages (from the copy if one was made, else
 *    from the still-protected page, which simply stays read-only: it is
 *    clean now) to free slots.  The store hashes each page while copying
 *    it (non-temporal stores on PM), and the digest, a sum of per-page
 *    terms, is updated by each page's change.  Zero pages are not stored
 *    (slot 0).
 * 4. After the last page: the changed map pages go to free slots, then
 *    barrier, root record (gen, digest, map) to block 1 + gen % 2,
 *    barrier.  Only now are the previous snapshot's replaced slots freed.
 *    Nothing in the commit is proportional to the size of the space.
 *
 * The snapshot therefore holds the object space exactly as it was at the
 * pause, and its digest is computed over that frozen state.
 *
 * frames=pm (docs/guest.md, "PM frames"): step 0's first write instead
 * moves the page into a free slot (move_to_pm) and maps it there, so the
 * workload writes PM directly; step 3 writes back the frozen slot's lines
 * (page_flushed) instead of copying it; step 4 commits an unsealed root,
 * whose entries for those pages have no check yet; then seal() hashes
 * the frozen slots and write_seal() records the checks and the digest.
 */
#include "persist/state.h"

struct persist_state P;

/* --- slots ---------------------------------------------------------- */

bool slot_is_used(uint64_t s)
{
	return P.slot_used[s / 64] & (1ull << (s % 64));
}

void slot_mark_used(uint64_t s)
{
	P.slot_used[s / 64] |= 1ull << (s % 64);
	P.slots_free--;
}

/* Slots are handed out round-robin, so consecutive snapshots write
 * mostly ascending blocks and reuse freed slots last. */
uint64_t slot_alloc(void)
{
	for (uint64_t k = 0; k < P.nslots; k++) {
		uint64_t s = 1 + (P.slot_cursor + k) % P.nslots;
		if (!slot_is_used(s)) {
			slot_mark_used(s);
			P.slot_cursor = s % P.nslots;
			return s;
		}
	}
	return 0;
}

void slot_free(uint64_t s)
{
	if (s == 0)
		return;
	P.slot_used[s / 64] &= ~(1ull << (s % 64));
	P.slots_free++;
}

/* --- dirty tracking and the pause ----------------------------------- */

bool persist_busy(void)
{
	return P.writing;
}

static void log_page(uint64_t i)
{
	if (!P.logged[i]) {
		P.logged[i] = 1;
		P.log[P.nlog++] = (uint32_t)i;
	}
}

/* --- PM frames (frames=pm) ------------------------------------------- */

static void *slot_ptr(uint64_t s)
{
	return (void *)(P.st->phys_base + STORE_SLOT_BLOCK(s) * STORE_BLOCK);
}

/* Give page i (contents at src) a free slot and map it there, writable,
 * so the workload writes PM directly and the snapshot need not copy it.
 * The move uses non-temporal stores: no line of the slot is read for
 * ownership, and the snapshot's first barrier makes them durable.  The
 * slot it leaves (if any) is the committed snapshot's, freed at the next
 * commit.  Without a spare slot (the pause must find one for every
 * logged page still in DRAM and every map page, and the snapshot being
 * written one for each of its pages) the page goes back to its DRAM frame
 * and is copied at the snapshot, as under frames=dram. */
static void move_to_pm(uint64_t i, const void *src)
{
	uint64_t spare = (P.nlog - P.nlog_pm) + P.nmap + STORE_BATCH + (P.writing ? P.ndirty : 0);
	uint64_t s = P.slots_free > spare ? slot_alloc() : 0;
	uint8_t *dst = s ? slot_ptr(s) : (uint8_t *)P.frame[i];
	if (s) {
		uint64_t sums[16] = {0};
		copy_sum_nt(dst, src, sums, PAGE_SIZE / 256);
	} else if (dst != src) {
		memcpy(dst, src, PAGE_SIZE);
	}
	P.nlog_pm += s != 0;            /* the caller logs it */
	P.pte[i] = (P.pte[i] & ~(PTE_ADDR | PTE_SNAP)) | (uint64_t)dst | PTE_RW;
}

/* The page-fault hook: a write (error bit 1) to a present (bit 0),
 * read-only page of the object space.  Either a clean page written for the
 * first time since it was stored, or one the snapshot in progress still
 * waits for (PTE_SNAP: copy it aside first).  Under frames=pm either kind
 * of page moves into a fresh slot (a page frozen in its DRAM frame is
 * still copied aside, as it is not in a slot). */
bool persist_fault(uint64_t addr, uint64_t error)
{
	if ((error & 3) != 3 || addr < OBJSPACE_BASE || addr >= OBJSPACE_BASE + P.npages * PAGE_SIZE)
		return false;
	uint64_t i = (addr - OBJSPACE_BASE) / PAGE_SIZE;
	uint64_t e = P.pte[i];
	if (e & PTE_RW)
		return false;
	if (e & PTE_SNAP) {
		if (!P.dirty_index[i])
			return false;
		struct dirty_page *d = &P.dirty[P.dirty_index[i] - 1];
		P.cow_faults++;
		if (d->pm_slot) {
			/* Frozen in its slot for the snapshot: the page moves on. */
			move_to_pm(i, (const void *)(e & PTE_ADDR));
			invlpg(OBJSPACE_BASE + i * PAGE_SIZE);
			log_page(i);
			return true;
		}
		d->cow = page_alloc();
		memcpy((void *)d->cow, (void *)(e & PTE_ADDR), PAGE_SIZE);
	} else if (P.pm_frames) {
		move_to_pm(i, (const void *)(e & PTE_ADDR));
		invlpg(OBJSPACE_BASE + i * PAGE_SIZE);
		log_page(i);
		return true;
	} else if (P.pre_slot[i]) {
		/* Written again after its write-behind: that copy is stale. */
		if (P.pre_slot[i] != PRE_ZERO)
			slot_free(P.pre_slot[i]);
		P.pre_slot[i] = 0;
		P.hot[i] = P.interval;
	}
	P.pte[i] = (e & ~PTE_SNAP) | PTE_RW;
	invlpg(OBJSPACE_BASE + i * PAGE_SIZE);
	log_page(i);
	return true;
}

/* All object-space pages read-only: the state after a format or a
 * recovery, where every page is as stored. */
void persist_protect_all(void)
{
	for (uint64_t i = 0; i < P.npages; i++)
		P.pte[i] &= ~(PTE_RW | PTE_SNAP | PTE_D);
	write_cr3(read_cr3());
	for (uint64_t k = 0; k < P.nlog; k++)
		P.logged[P.log[k]] = 0;
	P.nlog = 0;
	P.nlog_pm = 0;
}

int persist_begin(void)
{
	if (!P.st || P.writing)
		return -1;
	uint64_t gen = P.gen + 1;
	trace_snapshot_begin(gen);
	uint64_t t0 = rdtsc();
	uint64_t n = P.nlog;
	/* Worst case every dirty page not yet written behind (nor in PM) and
	 * every map page needs a new slot: known before anything is touched,
	 * so a skip needs no undo (the pages stay logged and writable for the
	 * next attempt, those written behind keep their slots). */
	uint64_t ncopy = n - P.nlog_pm;
	uint64_t need = ncopy + (n + P.npre < P.nmap ? n + P.npre : P.nmap);
	if (need > P.slots_free) {
		if (P.full_reported != gen)
			kprintf("persist: store full (snapshot needs up to %lu slots, %lu free): "
				"gen %lu skipped until there is room\n", need, P.slots_free, gen);
		P.full_reported = gen;
		trace_pause_end(gen, rdtsc() - t0, (uint32_t)n);
		return -1;
	}
	/* Pages written behind: clean and read-only since, so their copies
	 * are the pages as they are now.  They come first on the list. */
	uint64_t nd = 0;
	for (uint64_t k = 0; k < P.npre; k++) {
		uint32_t i = P.pre[k];
		P.on_pre[i] = 0;
		if (!P.pre_slot[i])
			continue;       /* rewritten since: on the log */
		P.dirty[nd++] = (struct dirty_page){ .page = i, .pre_slot = P.pre_slot[i],
						     .pre_hash = P.pre_hash[i] };
		P.pre_slot[i] = 0;
	}
	P.npre = 0;
	uint64_t npre = nd;
	/* Logged pages: those written in PM (frames=pm) first, then those to
	 * copy, so the writer takes each kind in one run. */
	uint64_t next_pm = nd, next_copy = nd + (n - ncopy);
	for (uint64_t k = 0; k < n; k++) {
		uint32_t i = P.log[k];
		uint32_t ws = pte_slot(P.pte[i]);
		uint64_t j = ws ? next_pm++ : next_copy++;
		P.logged[i] = 0;
		/* bug=no-cow leaves the page writable: it is written as it is
		 * when its turn comes. */
		if (!(P.bugs & BUG_NO_COW))
			P.pte[i] = (P.pte[i] & ~PTE_RW) | PTE_SNAP;
		P.dirty[j] = (struct dirty_page){ .page = i, .pm_slot = ws };
		P.dirty_index[i] = (uint32_t)(j + 1);
	}
	nd += n;
	P.nlog = 0;
	P.nlog_pm = 0;
	P.interval++;
	if (!(P.bugs & BUG_NO_COW)) {
		/* A CR3 reload costs one invlpg and drops the whole TLB. */
		if (n > 8)
			write_cr3(read_cr3());
		else
			for (uint64_t k = npre; k < nd; k++)
				invlpg(OBJSPACE_BASE + (uint64_t)P.dirty[k].page * PAGE_SIZE);
	}
	uint64_t t1 = rdtsc();
	n = nd;
	P.npm = n - npre - ncopy;
	P.npre_taken = npre;
	P.ndirty = n;
	P.nwritten = 0;
	P.nblocks_written = 0;
	P.cow_faults = 0;
	P.writing = true;
	P.t_begin = t0;
	P.stats.last_pause_tsc = t1 - t0;
	P.stats.last_dirty = n;
	trace_pause_end(gen, t1 - t0, (uint32_t)n);
	return 0;
}

/* --- writing and committing ----------------------------------------- */

static bool is_zero_page(const uint64_t *p)
{
	for (int i = 0; i < 512; i++)
		if (p[i])
			return false;
	return true;
}

/* A slot for dirty page d (its old slot is freed at the commit). */
static uint64_t page_slot(struct dirty_page *d)
{
	uint64_t s;
	d->old_slot = P.ment[d->page].slot;
	if ((P.bugs & BUG_IN_PLACE) && d->old_slot) {
		s = d->old_slot;        /* overwrites the committed snapshot's copy */
		d->old_slot = 0;
	} else {
		s = slot_alloc();
	}
	if (s == 0)
		panic("persist: out of slots despite the check at the pause");
	return s;
}

/* After the store wrote page d to slot s and hashed it. */
static void page_written(struct dirty_page *d, const void *src, uint64_t s, uint64_t h)
{
	uint32_t i = d->page;
	/* A page that turns out to be all zeros gives its slot back (what was
	 * copied there is garbage in a free slot).  Zero pages are rare in a
	 * snapshot, so the common case reads the page once.  src is NULL for
	 * a page written behind (s = 0 if that found zeros). */
	if (!src) {
		/* nothing written now */
	} else if (h == P.zero_hash && is_zero_page((const uint64_t *)src)) {
		if (s != d->old_slot)
			slot_free(s);
		s = 0;
	} else {
		P.nblocks_written++;
	}
	P.ment[i] = (struct map_entry){ (uint32_t)s, s ? (uint32_t)h : 0 };
	P.dsum += digest_term(i, h) - digest_term(i, P.phash[i]);
	P.phash[i] = h;
	if (!src) {
		return;         /* not on dirty_index; its PTE is the workload's again */
	} else if (d->cow) {
		page_free(d->cow);
		d->cow = 0;
	} else if (P.bugs & BUG_NO_COW) {
		/* Writable all along: protect it now, so later writes log it. */
		P.pte[i] &= ~PTE_RW;
		invlpg(OBJSPACE_BASE + (uint64_t)i * PAGE_SIZE);
	} else {
		P.pte[i] &= ~PTE_SNAP;  /* stays read-only: clean until written */
	}
	P.dirty_index[i] = 0;
}

/* frames=pm: page d was written in place, in its slot.  Its lines go
 * back to PM (the commit's first barrier orders them) and its entry
 * names the slot; its hash comes once the root is durable (seal). */
static int page_flushed(struct dirty_page *d)
{
	uint32_t i = d->page;
	d->old_slot = P.ment[i].slot;
	P.ment[i] = (struct map_entry){ d->pm_slot, 0 };
	P.nblocks_written++;
	return P.st->writeback(P.st, STORE_SLOT_BLOCK(d->pm_slot));
}

static bool unsealed(uint32_t i)
{
	return P.dirty_index[i] && P.dirty[P.dirty_index[i] - 1].pm_slot;
}

/* frames=pm: hash the pages of this snapshot that were written in PM.
 * Each is frozen in its slot since the pause (a write moves the page to
 * another slot), so this may come after the commit, off the latency. */
static void seal(void)
{
	for (uint64_t k = 0; k < P.ndirty; k++) {
		struct dirty_page *d = &P.dirty[k];
		if (!d->pm_slot)
			continue;
		uint32_t i = d->page;
		uint64_t sums[16] = {0};
		sum_blocks(slot_ptr(d->pm_slot), sums, PAGE_SIZE / 256);
		uint64_t h = page_sums_fold(sums);
		P.ment[i].check = (uint32_t)h;
		P.dsum += digest_term(i, h) - digest_term(i, P.phash[i]);
		P.phash[i] = h;
		if (pte_slot(P.pte[i]) == d->pm_slot)
			P.pte[i] &= ~PTE_SNAP;  /* still there: read-only, clean until written */
		P.dirty_index[i] = 0;
	}
	P.npm = 0;
}

/* Write dirty[first .. first+n) (n <= STORE_BATCH) as one batch. */
static int write_batch(uint64_t first, unsigned n)
{
	uint64_t slots[STORE_BATCH], blocks[STORE_BATCH], hashes[STORE_BATCH];
	const void *srcs[STORE_BATCH];
	for (unsigned k = 0; k < n; k++) {
		struct dirty_page *d = &P.dirty[first + k];
		srcs[k] = d->cow ? (const void *)d->cow : page_frame(d->page);
		slots[k] = page_slot(d);
		blocks[k] = STORE_SLOT_BLOCK(slots[k]);
	}
	int rc = P.st->write_pages(P.st, n, blocks, srcs, hashes);
	for (unsigned k = 0; k < n; k++)
		page_written(&P.dirty[first + k], srcs[k], slots[k], hashes[k]);
	return rc;
}

/* Map page m's entries are kept in P.ment as they go to the store, so
 * writing map pages is a copy (hashed on the way), in batches too.  The
 * map pages in P.changed go to the slots ref[m] names; their checks are
 * stored there. */
static int write_map_pages(struct map_entry *ref)
{
	int rc = 0;
	for (uint64_t k = 0; k < P.nchanged; k += STORE_BATCH) {
		unsigned n = P.nchanged - k < STORE_BATCH ? (unsigned)(P.nchanged - k) : STORE_BATCH;
		uint64_t blocks[STORE_BATCH], hashes[STORE_BATCH];
		const void *srcs[STORE_BATCH];
		for (unsigned j = 0; j < n; j++) {
			uint32_t m = P.changed[k + j];
			blocks[j] = STORE_SLOT_BLOCK(ref[m].slot);
			srcs[j] = &P.ment[(uint64_t)m * MAP_ENTRIES];
		}
		rc |= P.st->write_pages(P.st, n, blocks, srcs, hashes);
		for (unsigned j = 0; j < n; j++)
			ref[P.changed[k + j]].check = (uint32_t)hashes[j];
		P.nblocks_written += n;
	}
	return rc;
}

/* P.changed = the map pages holding the delta's pages, each with a fresh
 * slot in ref[]; false if the store ran out (never at a commit: the pause
 * checked). */
static bool delta_map_pages(struct map_entry *ref)
{
	P.nchanged = 0;
	for (uint64_t k = 0; k < P.ndelta; k++) {
		uint32_t m = P.delta[k] / MAP_ENTRIES;
		if (!P.map_changed[m]) {
			P.map_changed[m] = 1;
			P.changed[P.nchanged++] = m;
		}
	}
	bool ok = true;
	for (uint64_t k = 0; k < P.nchanged; k++) {
		uint32_t m = P.changed[k];
		P.map_changed[m] = 0;
		uint64_t s = ok ? slot_alloc() : 0;
		ok = ok && s;
		ref[m].slot = (uint32_t)s;
	}
	return ok;
}

static void delta_clear(void)
{
	for (uint64_t k = 0; k < P.ndelta; k++)
		P.in_delta[P.delta[k]] = 0;
	P.ndelta = 0;
}

/* After seal(): the seal record that completes unsealed root r, written
 * over the previous one (layout.h), then a fence.  Off the latency: the
 * commit is durable and reported already. */
static int write_seal(const struct store_root *r, uint64_t digest)
{
	static struct store_seal sl __attribute__((aligned(4096)));
	const struct delta_entry *de = root_delta((struct store_root *)r);
	memset(&sl, 0, sizeof sl);
	sl.magic = STORE_SEAL_MAGIC;
	sl.format_id = r->format_id;
	sl.gen = r->gen;
	sl.root_checksum = r->checksum;
	sl.digest = digest;
	for (uint32_t k = 0; k < r->ndelta; k++)
		if (de[k].page & DELTA_UNCHECKED)
			sl.check[k] = P.ment[de[k].page & ~DELTA_UNCHECKED].check;
	sl.checksum = hash64(&sl, sizeof sl);
	return P.st->write(P.st, STORE_SEAL_BLOCK, &sl) | P.st->barrier(P.st);
}

/* After the pages: the root, and the map pages if the delta does not fit
 * in it.  The base it names is the committed one (map), or the one
 * write-behind folded (fmap), whose delta is this snapshot's pages only. */
static int commit(void)
{
	static struct store_root root __attribute__((aligned(4096)));
	uint64_t gen = P.gen + 1;
	uint64_t t0 = rdtsc();
	int rc = 0;

	uint64_t npm = P.npm;
	memcpy(P.newmap, P.fold_ready ? P.fmap : P.map, P.nmap * sizeof *P.map);
	if (P.fold_ready)
		delta_clear();
	for (uint64_t k = 0; k < P.ndirty; k++) {
		uint32_t i = P.dirty[k].page;
		if (!P.in_delta[i]) {
			P.in_delta[i] = 1;
			P.delta[P.ndelta++] = i;
		}
	}
	/* bug=root-first is about map pages, so it always has them. */
	bool inline_delta = P.ndelta <= ROOT_DELTA_MAX(P.nmap) && !(P.bugs & BUG_ROOT_FIRST);
	/* Pages written in PM are hashed after the commit when the root can
	 * carry them as unchecked delta entries; map pages need the checks. */
	if (!inline_delta && P.npm)
		seal();
	bool sealed = P.npm == 0;
	uint64_t digest = sealed ? P.dsum : 0;
	if (!inline_delta) {
		if (!delta_map_pages(P.newmap))
			panic("persist: out of slots for map pages");
		/* Under bug=root-first the checks are computed ahead and the
		 * pages written after the root. */
		if (P.bugs & BUG_ROOT_FIRST)
			for (uint64_t k = 0; k < P.nchanged; k++) {
				uint32_t m = P.changed[k];
				P.newmap[m].check = (uint32_t)page_hash(&P.ment[(uint64_t)m * MAP_ENTRIES]);
			}
		else
			rc |= write_map_pages(P.newmap);
	}
	/* Barrier 1: every page and map page of gen is durable before the
	 * root that names them can be. */
	if (!(P.bugs & BUG_NO_DATA_FENCE))
		rc |= P.st->barrier(P.st);
	/* Only the trace port hears of it now: its console line, an OUT that
	 * would order pending write-backs like a fence (SDM Vol. 1 §13.6) and
	 * so quietly restore the barrier bug=no-data-fence leaves out, is held
	 * until after the commit (pvm/kernel/trace.c). */
	trace_pages_written(gen, (uint32_t)P.nblocks_written);

	memset(&root, 0, sizeof root);
	root.magic = STORE_ROOT_MAGIC;
	root.format_id = P.format_id;
	root.gen = gen;
	root.digest = digest;
	root.npages = P.npages;
	root.nmap = (uint32_t)P.nmap;
	root.flags = sealed ? 0 : ROOT_UNSEALED;
	strncpy0(root.workload, P.workload, sizeof root.workload);
	memcpy(root.map, P.newmap, P.nmap * sizeof *P.map);
	if (inline_delta) {
		struct delta_entry *de = root_delta(&root);
		root.ndelta = (uint32_t)P.ndelta;
		for (uint64_t k = 0; k < P.ndelta; k++) {
			uint32_t i = P.delta[k];
			de[k] = (struct delta_entry){ i | (!sealed && unsealed(i) ? DELTA_UNCHECKED : 0),
						      P.ment[i].slot, P.ment[i].check };
		}
	}
	root.checksum = hash64(&root, sizeof root);
	/* Two root slots, alternating, so a torn root write leaves the other
	 * one (bug=root-in-place: always the same slot). */
	uint64_t root_block = STORE_ROOT_BLOCK(P.bugs & BUG_ROOT_IN_PLACE ? 0 : gen);
	trace_commit_begin(gen);
	bool no_flush = P.st->bug_no_flush;
	P.st->bug_no_flush = P.bugs & BUG_NO_FLUSH;     /* the root is flushed under no-data-flush */
	rc |= P.st->write(P.st, root_block, &root);
	P.st->bug_no_flush = no_flush;
	/* Barrier 2: the root is durable; gen is the snapshot recovery finds. */
	if (!(P.bugs & BUG_NO_COMMIT_FENCE))
		rc |= P.st->barrier(P.st);
	if (P.bugs & BUG_ROOT_FIRST) {
		rc |= write_map_pages(P.newmap);
		rc |= P.st->barrier(P.st);
	}
	if (rc)
		return -1;

	/* Now free what only the previous snapshot named: its pages' old
	 * slots, its map pages that the new base replaced, and folded map
	 * pages this commit did not use after all. */
	for (uint64_t k = 0; k < P.ndirty; k++)
		slot_free(P.dirty[k].old_slot);
	for (uint64_t m = 0; m < P.nmap; m++) {
		if (P.map[m].slot != P.newmap[m].slot)
			slot_free(P.map[m].slot);
		if (P.fold_ready && P.fmap[m].slot != P.map[m].slot && P.fmap[m].slot != P.newmap[m].slot)
			slot_free(P.fmap[m].slot);
	}
	memcpy(P.map, P.newmap, P.nmap * sizeof *P.map);
	P.fold_ready = false;
	if (!inline_delta)
		delta_clear();
	uint64_t t1 = rdtsc();
	P.gen = gen;
	P.stats.gen = gen;
	P.stats.commits++;
	P.stats.last_written = P.nblocks_written;
	P.stats.last_cow = P.cow_faults;
	P.stats.last_commit_tsc = t1 - t0;
	P.stats.last_total_tsc = t1 - P.t_begin;
	P.stats.slots_free = P.slots_free;
	trace_commit(gen, digest, P.st->phys_base ? P.st->phys_base + root_block * STORE_BLOCK : 0,
		     P.st->phys_base ? STORE_BLOCK : 0, sealed);
	if (!sealed) {
		seal();
		digest = P.dsum;
		if (write_seal(&root, digest))
			return -1;
		trace_digest(gen, digest);
	}
	P.digest = digest;
	P.stats.digest = digest;
	P.writing = false;
	kprintf("persist: gen %lu: %lu dirty pages (%lu written behind, %lu written in PM), "
		"%lu blocks written, %lu in the root's delta, %lu cow faults, pause %lu tsc, "
		"commit %lu tsc, total %lu tsc, %lu slots free\n",
		gen, P.ndirty, P.npre_taken, npm, P.nblocks_written, inline_delta ? P.ndelta : 0,
		P.cow_faults, P.stats.last_pause_tsc, t1 - t0, t1 - P.t_begin, P.slots_free);
	return 1;
}

int persist_step(uint64_t max_pages)
{
	if (!P.writing)
		return 0;
	int rc = 0;
	for (; P.nwritten < P.ndirty && P.dirty[P.nwritten].pre_slot; P.nwritten++) {
		struct dirty_page *d = &P.dirty[P.nwritten];
		d->old_slot = P.ment[d->page].slot;
		page_written(d, NULL, d->pre_slot == PRE_ZERO ? 0 : d->pre_slot, d->pre_hash);
	}
	for (; P.nwritten < P.ndirty && P.dirty[P.nwritten].pm_slot && max_pages; P.nwritten++) {
		rc |= page_flushed(&P.dirty[P.nwritten]);
		max_pages--;
	}
	while (P.nwritten < P.ndirty && max_pages) {
		uint64_t n = P.ndirty - P.nwritten;
		if (n > STORE_BATCH)
			n = STORE_BATCH;
		if (n > max_pages)
			n = max_pages;
		rc |= write_batch(P.nwritten, (unsigned)n);
		P.nwritten += n;
		max_pages -= n;
	}
	if (rc) {
		kprintf("persist: I/O error writing snapshot gen %lu\n", P.gen + 1);
		return -1;
	}
	if (P.nwritten < P.ndirty)
		return 0;
	rc = commit();
	if (rc < 0)
		kprintf("persist: I/O error committing snapshot gen %lu\n", P.gen + 1);
	return rc;
}

/* --- write-behind ----------------------------------------------------- */

/* Copy pages[0..n) (n <= STORE_BATCH, all logged, the workload stopped)
 * to free slots and make them read-only: clean, until written again. */
static int pageout_batch(const uint32_t *pages, unsigned n)
{
	uint64_t slots[STORE_BATCH], blocks[STORE_BATCH] = {0}, hashes[STORE_BATCH];
	const void *srcs[STORE_BATCH] = {0};
	for (unsigned k = 0; k < n; k++) {
		uint32_t i = pages[k];
		P.pte[i] &= ~PTE_RW;
		invlpg(OBJSPACE_BASE + (uint64_t)i * PAGE_SIZE);
		srcs[k] = page_frame(i);
		slots[k] = slot_alloc();
		if (slots[k] == 0)
			panic("persist: out of slots despite the check before the write-behind");
		blocks[k] = STORE_SLOT_BLOCK(slots[k]);
	}
	int rc = P.st->write_pages(P.st, n, blocks, srcs, hashes);
	for (unsigned k = 0; k < n; k++) {
		uint32_t i = pages[k];
		uint32_t s = (uint32_t)slots[k];
		if (hashes[k] == P.zero_hash && is_zero_page((const uint64_t *)srcs[k])) {
			slot_free(s);
			s = PRE_ZERO;
		}
		P.pre_slot[i] = s;
		P.pre_hash[i] = hashes[k];
		if (!P.on_pre[i]) {
			P.on_pre[i] = 1;
			P.pre[P.npre++] = i;
		}
	}
	return rc;
}

/* Fold the root's delta into fresh map pages (fmap): the committed map
 * as it stands (ment does not change between snapshots), so the next
 * commit can name them and carry only its own pages as its delta.  Not
 * under bug=root-first, which always writes map pages itself. */
static int fold_map(void)
{
	if (P.fold_ready || !P.ndelta || (P.bugs & BUG_ROOT_FIRST))
		return 0;
	memcpy(P.fmap, P.map, P.nmap * sizeof *P.map);
	if (P.slots_free <= P.nlog + 2 * P.nmap + STORE_BATCH || !delta_map_pages(P.fmap))
		return 0;       /* (cannot fail: the check leaves room for every map page) */
	P.fold_ready = true;
	return write_map_pages(P.fmap);
}

/* Write up to max_pages logged pages behind, leaving hot ones logged,
 * then fold the delta.  max_pages = 0: no background writes at all.
 * Called with the workload stopped at a safe point and no snapshot in
 * progress.  It keeps enough free slots for the next pause to find room
 * for every page still logged and every map page, so write-behind never
 * makes a snapshot skip.  bug=in-place writes pages over their committed
 * slots in the snapshot itself; it has no write-behind. */
int persist_pageout(uint64_t max_pages)
{
	if (!P.st || P.writing || (P.bugs & BUG_IN_PLACE) || !max_pages)
		return 0;
	uint32_t batch[STORE_BATCH];
	unsigned nb = 0;
	uint64_t keep = 0, done = 0;
	/* frames=pm: the logged pages are in PM already (or back in DRAM for
	 * want of a slot, copied at the pause); only the fold remains. */
	if (P.pm_frames)
		max_pages = 0;
	int rc = 0;
	for (uint64_t k = 0; k < P.nlog; k++) {
		uint32_t i = P.log[k];
		if (done == max_pages || P.hot[i] == P.interval ||
		    P.slots_free <= P.nlog + P.nmap + STORE_BATCH) {
			P.log[keep++] = i;
			continue;
		}
		P.logged[i] = 0;
		batch[nb++] = i;
		done++;
		if (nb == STORE_BATCH) {
			rc |= pageout_batch(batch, nb);
			nb = 0;
		}
	}
	if (nb)
		rc |= pageout_batch(batch, nb);
	bool folded = !P.fold_ready;
	rc |= fold_map();
	folded = folded && P.fold_ready;
	/* A stale copy's slot is freed at the next write fault and may be
	 * reused at once: on the disk, the write queued to it must not be
	 * able to land after a newer one (no FLUSH: durability comes with
	 * the snapshot's barrier). */
	if (done || folded)
		rc |= P.st->read_wait(P.st);
	P.nlog = keep;
	if (rc) {
		kprintf("persist: I/O error writing pages behind\n");
		return -1;
	}
	return (int)done;
}

void persist_get_stats(struct persist_stats *out)
{
	*out = P.stats;
}
