/* persist/snapshot.c: taking a snapshot.
 *
 * 1. Pause (persist_begin, workload stopped at a safe point): scan the
 *    object space's PTEs; every page with the dirty bit set gets D and RW
 *    cleared and the PTE_SNAP mark, and goes on the dirty list.  That is
 *    all the pause does: one pass over the PTEs plus one TLB flush.
 *    The pass skips every page table whose PDE accessed bit is clear:
 *    the pause clears those bits and flushes the TLB (CR3 reload, which
 *    also drops the paging-structure caches), so a later write to any of
 *    the table's pages must walk through the PDE and set its A again
 *    (SDM Vol. 3 §4.8).  persist_init checks once that the CPU does so;
 *    if not, every table is scanned.
 * 2. The workload runs again.  A write to a page still marked PTE_SNAP
 *    faults; persist_fault copies the frozen contents to a fresh DRAM
 *    page, makes the PTE writable again and lets the write proceed.
 * 3. persist_step writes dirty pages (from the copy if one was made, else
 *    from the still-protected page, which it then unprotects) to free
 *    slots, hashing each.  Zero pages are not written (slot 0).
 * 4. After the last page: the changed map pages go to free slots, then
 *    barrier, root record (gen, digest, map) to block 1 + gen % 2,
 *    barrier.  Only now are the previous snapshot's replaced slots freed.
 *
 * The snapshot therefore holds the object space exactly as it was at the
 * pause, and its digest is computed over that frozen state.
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

/* --- the pause ---------------------------------------------------------- */

bool persist_busy(void)
{
	return P.writing;
}

static void flush_tlb_pages(uint64_t n)
{
	if (n > 64) {
		write_cr3(read_cr3());
		return;
	}
	for (uint64_t k = 0; k < n; k++)
		invlpg(OBJSPACE_BASE + (uint64_t)P.dirty[k].page * PAGE_SIZE);
}

int persist_begin(void)
{
	if (!P.st || P.writing)
		return -1;
	uint64_t gen = P.gen + 1;
	trace_snapshot_begin(gen);
	uint64_t t0 = rdtsc();
	uint64_t n = 0;
	for (uint64_t t = 0; t * 512 < P.npages; t++) {
		if (P.pde_accessed) {
			if (!(P.pd[t] & PTE_A))
				continue;
			P.pd[t] &= ~PTE_A;
		}
		uint64_t end = (t + 1) * 512 < P.npages ? (t + 1) * 512 : P.npages;
		for (uint64_t i = t * 512; i < end; i++) {
			uint64_t e = P.pte[i];
			if (!(e & PTE_D))
				continue;
			P.pte[i] = P.bugs & BUG_NO_COW ? e & ~PTE_D : (e & ~(PTE_D | PTE_RW)) | PTE_SNAP;
			P.dirty[n] = (struct dirty_page){ .page = (uint32_t)i };
			P.dirty_index[i] = (uint32_t)(n + 1);
			n++;
		}
	}
	if (P.pde_accessed)
		write_cr3(read_cr3());
	else
		flush_tlb_pages(n);
	/* Worst case every dirty page and every map page needs a new slot. */
	uint64_t need = n + (n < P.nmap ? n : P.nmap);
	if (need > P.slots_free) {
		/* Undo: the pages stay dirty for the next attempt. */
		for (uint64_t k = 0; k < n; k++) {
			uint32_t i = P.dirty[k].page;
			P.pte[i] = (P.pte[i] & ~PTE_SNAP) | PTE_RW | PTE_D;
			P.pd[i / 512] |= PTE_A;     /* so the next pause scans it again */
			P.dirty_index[i] = 0;
		}
		flush_tlb_pages(n);
		if (P.full_reported != gen)
			kprintf("persist: store full (snapshot needs up to %lu slots, %lu free): "
				"gen %lu skipped until there is room\n", need, P.slots_free, gen);
		P.full_reported = gen;
		trace_pause_end(gen, rdtsc() - t0);
		return -1;
	}
	uint64_t t1 = rdtsc();
	P.ndirty = n;
	P.nwritten = 0;
	P.nblocks_written = 0;
	P.nold_map = 0;
	P.cow_faults = 0;
	P.writing = true;
	P.t_begin = t0;
	P.stats.last_pause_tsc = t1 - t0;
	P.stats.last_dirty = n;
	trace_pause_end(gen, t1 - t0);
	return 0;
}

/* --- copy-on-write ---------------------------------------------------- */

/* The page-fault hook: a write (error bit 1) to a present (bit 0) page of
 * the object space that the pause write-protected. */
bool persist_fault(uint64_t addr, uint64_t error)
{
	if ((error & 3) != 3 || addr < OBJSPACE_BASE || addr >= OBJSPACE_BASE + P.npages * PAGE_SIZE)
		return false;
	uint64_t i = (addr - OBJSPACE_BASE) / PAGE_SIZE;
	uint64_t e = P.pte[i];
	if (!(e & PTE_SNAP) || !P.dirty_index[i])
		return false;
	struct dirty_page *d = &P.dirty[P.dirty_index[i] - 1];
	d->cow = page_alloc();
	memcpy((void *)d->cow, (void *)(e & PTE_ADDR), PAGE_SIZE);
	P.pte[i] = (e & ~PTE_SNAP) | PTE_RW;
	invlpg(OBJSPACE_BASE + i * PAGE_SIZE);
	P.cow_faults++;
	return true;
}

/* --- writing and committing ----------------------------------------- */

static bool is_zero_page(const uint64_t *p)
{
	for (int i = 0; i < 512; i++)
		if (p[i])
			return false;
	return true;
}

static int write_page(struct dirty_page *d)
{
	uint32_t i = d->page;
	const uint8_t *src = d->cow ? (const uint8_t *)d->cow : page_frame(i);
	uint64_t h = page_hash(src);
	uint64_t s = 0;
	int rc = 0;
	d->old_slot = P.slot[i];
	if (h != P.zero_hash || !is_zero_page((const uint64_t *)src)) {
		if ((P.bugs & BUG_IN_PLACE) && d->old_slot) {
			s = d->old_slot;        /* overwrites the committed snapshot's copy */
			d->old_slot = 0;
		} else {
			s = slot_alloc();
		}
		if (s == 0)
			panic("persist: out of slots despite the check at the pause");
		rc = P.st->write(P.st, STORE_SLOT_BLOCK(s), src);
		P.nblocks_written++;
	}
	P.slot[i] = (uint32_t)s;
	P.phash[i] = h;
	P.map_changed[i / MAP_ENTRIES] = 1;
	if (d->cow) {
		page_free(d->cow);
		d->cow = 0;
	} else if (!(P.bugs & BUG_NO_COW)) {
		P.pte[i] = (P.pte[i] & ~PTE_SNAP) | PTE_RW;
		invlpg(OBJSPACE_BASE + (uint64_t)i * PAGE_SIZE);
	}
	P.dirty_index[i] = 0;
	return rc;
}

static uint64_t map_page_build(uint64_t m, struct map_entry *buf)
{
	for (uint64_t k = 0; k < MAP_ENTRIES; k++) {
		uint64_t i = m * MAP_ENTRIES + k;
		buf[k] = i < P.npages ? (struct map_entry){ P.slot[i], P.slot[i] ? (uint32_t)P.phash[i] : 0 }
				      : (struct map_entry){ 0, 0 };
	}
	return hash64(buf, STORE_BLOCK);
}

static int write_map_pages(const uint32_t *changed, uint64_t n, struct map_entry *mapbuf)
{
	int rc = 0;
	for (uint64_t k = 0; k < n; k++) {
		map_page_build(changed[k], mapbuf);
		rc |= P.st->write(P.st, STORE_SLOT_BLOCK(P.map[changed[k]].slot), mapbuf);
		P.nblocks_written++;
	}
	return rc;
}

static int commit(void)
{
	static struct map_entry mapbuf[MAP_ENTRIES] __attribute__((aligned(4096)));
	static struct store_root root __attribute__((aligned(4096)));
	uint64_t gen = P.gen + 1;
	uint64_t t0 = rdtsc();
	int rc = 0;

	/* The digest needs only the page hashes, all final now: computing it
	 * before the barrier overlaps it with the write-backs in flight. */
	uint64_t digest = digest_fold(P.phash, P.npages);
	/* Map pages get their slots (and the root its content) first; they
	 * are written before the root, except under bug=root-first. */
	uint64_t nchanged = 0;
	static uint32_t changed[ROOT_MAP_MAX];
	for (uint64_t m = 0; m < P.nmap; m++) {
		if (!P.map_changed[m])
			continue;
		P.map_changed[m] = 0;
		uint64_t h = map_page_build(m, mapbuf);
		uint64_t s = slot_alloc();
		if (s == 0)
			panic("persist: out of slots for map pages");
		P.old_map_slots[P.nold_map++] = P.map[m].slot;
		P.map[m] = (struct map_entry){ (uint32_t)s, (uint32_t)h };
		changed[nchanged++] = (uint32_t)m;
	}
	if (!(P.bugs & BUG_ROOT_FIRST))
		rc |= write_map_pages(changed, nchanged, mapbuf);
	/* Barrier 1: every page and map page of gen is durable before the
	 * root that names them can be. */
	if (!(P.bugs & BUG_NO_DATA_FENCE))
		rc |= P.st->barrier(P.st);
	/* Its console line is an OUT, which orders pending write-backs like a
	 * fence (SDM Vol. 1 §13.6): under bug=no-data-fence it would quietly
	 * restore the barrier the variant leaves out, so it comes last then. */
	if (!(P.bugs & BUG_NO_DATA_FENCE))
		trace_pages_written(gen, (uint32_t)P.nblocks_written);

	memset(&root, 0, sizeof root);
	root.magic = STORE_ROOT_MAGIC;
	root.format_id = P.format_id;
	root.gen = gen;
	root.digest = digest;
	root.npages = P.npages;
	root.nmap = (uint32_t)P.nmap;
	strncpy0(root.workload, P.workload, sizeof root.workload);
	memcpy(root.map, P.map, P.nmap * sizeof *P.map);
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
		rc |= write_map_pages(changed, nchanged, mapbuf);
		rc |= P.st->barrier(P.st);
	}
	if (P.bugs & BUG_NO_DATA_FENCE)
		trace_pages_written(gen, (uint32_t)P.nblocks_written);
	if (rc)
		return -1;

	for (uint64_t k = 0; k < P.ndirty; k++)
		slot_free(P.dirty[k].old_slot);
	for (uint64_t k = 0; k < P.nold_map; k++)
		slot_free(P.old_map_slots[k]);
	uint64_t t1 = rdtsc();
	P.gen = gen;
	P.digest = digest;
	P.writing = false;
	P.stats.gen = gen;
	P.stats.digest = digest;
	P.stats.commits++;
	P.stats.last_written = P.nblocks_written;
	P.stats.last_cow = P.cow_faults;
	P.stats.last_commit_tsc = t1 - t0;
	P.stats.last_total_tsc = t1 - P.t_begin;
	P.stats.slots_free = P.slots_free;
	trace_commit(gen, digest, P.st->phys_base ? P.st->phys_base + root_block * STORE_BLOCK : 0,
		     P.st->phys_base ? STORE_BLOCK : 0);
	kprintf("persist: gen %lu: %lu dirty pages, %lu blocks written, %lu cow faults, "
		"pause %lu tsc, commit %lu tsc, total %lu tsc, %lu slots free\n",
		gen, P.ndirty, P.nblocks_written, P.cow_faults, P.stats.last_pause_tsc,
		t1 - t0, t1 - P.t_begin, P.slots_free);
	return 1;
}

int persist_step(uint64_t max_pages)
{
	if (!P.writing)
		return 0;
	int rc = 0;
	for (; P.nwritten < P.ndirty && max_pages; max_pages--)
		rc |= write_page(&P.dirty[P.nwritten++]);
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

void persist_get_stats(struct persist_stats *out)
{
	*out = P.stats;
}
