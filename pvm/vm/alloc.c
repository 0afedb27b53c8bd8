/* pvm/vm/alloc.c: the object allocator, inside the object space.
 *
 * As in Phantom (phantom/vm/alloc.c) the space is cut into five arenas by
 * fixed shares: static 15% (classes, interfaces, code, the root), stack
 * 15% (call frames and stacks), int 2% (boxed ints), small 28% (< 1000
 * bytes) and large 40%.  Each arena is a sequence of blocks that tile it
 * exactly; every block starts with an allocation header, free or not, so
 * the heap can be walked linearly.  Allocation is first fit from a rolling
 * cursor, merging adjacent free blocks on the way.
 *
 * Divergence: an arena is only a preference.  When the preferred arena is
 * full the request spills into the others (and asks for a GC), so a small
 * space does not die because 2% of it is full of ints.
 *
 * Nothing is freed here except by the sweep (gc.c drives it): there is no
 * reference counting, so refCount is 1 (or saturated for static objects).
 */
#include "pvm/vm/vm.h"

#define MAX_BLOCK 0x7FFFFFF8u

static const unsigned arena_share[PVM_N_ARENAS] = { 15, 15, 2, 28, 40 };

static inline struct pvm_alloc_header *hdr_at(uintptr_t p)
{
	return (struct pvm_alloc_header *)p;
}

static void make_free(uintptr_t p, uint64_t size)
{
	struct pvm_alloc_header *h = hdr_at(p);
	h->object_start_marker = PVM_OBJECT_START_MARKER;
	h->refCount = 0;
	h->alloc_flags = PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE;
	h->gc_flags = 0;
	h->_pad = 0;
	h->exact_size = (uint32_t)size;
}

/* Tile [start, end) with free blocks no bigger than exact_size can hold. */
static void tile_free(uintptr_t start, uintptr_t end)
{
	while (end - start >= PVM_MIN_BLOCK) {
		uint64_t n = end - start;
		if (n > MAX_BLOCK)
			n = MAX_BLOCK;
		if (end - (start + n) != 0 && end - (start + n) < PVM_MIN_BLOCK)
			n -= PVM_MIN_BLOCK;	/* leave a usable tail */
		make_free(start, n);
		start += n;
	}
}

void pvm_arenas_layout(struct data_area_4_vmstate *st, uintptr_t base, size_t size)
{
	uintptr_t p = base;
	uintptr_t end = base + (size & ~(uintptr_t)(PVM_ALIGN - 1));
	for (unsigned i = 0; i < PVM_N_ARENAS; i++) {
		uintptr_t len = (uintptr_t)((uint64_t)size / 100 * arena_share[i]);
		len &= ~(uintptr_t)(PVM_ALIGN - 1);
		uintptr_t e = (i == PVM_N_ARENAS - 1) ? end : p + len;
		st->arena[i].start = p;
		st->arena[i].end = e;
		st->arena[i].cursor = p;
		st->arena[i].in_use = 0;
		st->arena[i].fail_size = 0;
		tile_free(p, e);
		p = e;
	}
}

static unsigned arena_for(uint32_t flags, uint64_t total, int is_static)
{
	if (is_static || (flags & (PHANTOM_OBJECT_STORAGE_FLAG_IS_CLASS |
				   PHANTOM_OBJECT_STORAGE_FLAG_IS_INTERFACE |
				   PHANTOM_OBJECT_STORAGE_FLAG_IS_CODE)))
		return PVM_ARENA_STATIC;
	if (flags & (PHANTOM_OBJECT_STORAGE_FLAG_IS_CALL_FRAME | PHANTOM_OBJECT_STORAGE_FLAG_IS_STACK_FRAME))
		return PVM_ARENA_STACK;
	if (flags & PHANTOM_OBJECT_STORAGE_FLAG_IS_INT)
		return PVM_ARENA_INT;
	return total < 1000 ? PVM_ARENA_SMALL : PVM_ARENA_LARGE;
}

/* A block header we are about to trust: sane marker and size. */
static int block_ok(const struct pvm_arena *a, uintptr_t p)
{
	const struct pvm_alloc_header *h = hdr_at(p);
	return h->object_start_marker == PVM_OBJECT_START_MARKER &&
	       h->exact_size >= PVM_MIN_BLOCK && (h->exact_size & (PVM_ALIGN - 1)) == 0 &&
	       h->exact_size <= a->end - p;
}

/* Merge the free blocks that follow the free block at p. */
static void coalesce(struct pvm_arena *a, uintptr_t p)
{
	struct pvm_alloc_header *h = hdr_at(p);
	for (;;) {
		uintptr_t q = p + h->exact_size;
		if (q >= a->end || !block_ok(a, q))
			return;
		struct pvm_alloc_header *n = hdr_at(q);
		if (n->alloc_flags != PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE ||
		    (uint64_t)h->exact_size + n->exact_size > MAX_BLOCK)
			return;
		h->exact_size += n->exact_size;
		if (a->cursor == q)
			a->cursor = p;
	}
}

/* First fit in [from, to); returns the block or 0.  *bad on corruption. */
static uintptr_t scan(struct pvm_arena *a, uintptr_t from, uintptr_t to, uint32_t need, int *bad)
{
	uintptr_t p = from;
	while (p < to) {
		if (!block_ok(a, p)) {
			*bad = 1;
			return 0;
		}
		struct pvm_alloc_header *h = hdr_at(p);
		if (h->alloc_flags == PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE) {
			coalesce(a, p);
			if (h->exact_size >= need)
				return p;
		}
		p += h->exact_size;
	}
	return 0;
}

static uintptr_t arena_alloc(struct pvm_arena *a, uint32_t need)
{
	if (a->fail_size && need >= a->fail_size)
		return 0;
	int bad = 0;
	uintptr_t cur = a->cursor;
	if (cur < a->start || cur >= a->end || !block_ok(a, cur))
		cur = a->cursor = a->start;	/* cursor past the end or stale: restart */
	uintptr_t p = scan(a, cur, a->end, need, &bad);
	if (!p && !bad)
		p = scan(a, a->start, cur, need, &bad);
	if (bad) {
		pvm_set_panic(PVM_PANIC_CORRUPT, "allocator: bad block header");
		return 0;
	}
	if (!p) {
		if (!a->fail_size || need < a->fail_size)
			a->fail_size = need;
		return 0;
	}
	struct pvm_alloc_header *h = hdr_at(p);
	uint32_t have = h->exact_size;
	if (have - need >= PVM_MIN_BLOCK) {
		make_free(p + need, have - need);
		h->exact_size = need;
	}
	h->alloc_flags = PVM_OBJECT_AH_ALLOCATOR_FLAG_ALLOCATED;
	h->gc_flags = 0;
	h->refCount = 1;
	a->cursor = p + h->exact_size;
	if (a->cursor >= a->end)
		a->cursor = a->start;
	a->in_use += h->exact_size;
	return p;
}

/* Allocate and zero an object; returns 0 when the space is exhausted
 * (and requests a GC: the caller's instruction will be retried). */
pvm_ref pvm_alloc_object(pvm_ref cls, uint32_t flags, uint32_t da_size, int is_static)
{
	struct data_area_4_vmstate *st = pvm_g.st;
	uint64_t total = (uint64_t)PVM_HDR_SIZE + da_size;
	total = (total + PVM_ALIGN - 1) & ~(uint64_t)(PVM_ALIGN - 1);
	if (total > MAX_BLOCK)
		return 0;
	unsigned pref = arena_for(flags, total, is_static);
	static const unsigned order[PVM_N_ARENAS] = {
		PVM_ARENA_SMALL, PVM_ARENA_LARGE, PVM_ARENA_STACK, PVM_ARENA_INT, PVM_ARENA_STATIC };
	uintptr_t p = arena_alloc(&st->arena[pref], (uint32_t)total);
	for (unsigned i = 0; !p && i < PVM_N_ARENAS && !st->panic; i++) {
		if (order[i] == pref)
			continue;
		p = arena_alloc(&st->arena[order[i]], (uint32_t)total);
		if (p && st->bytes_since_gc >= st->gc_budget / 8)
			st->gc_request = 1;	/* spilled: collect soon */
	}
	if (!p) {
		st->gc_request = 1;
		return 0;
	}
	pvm_ref o = (pvm_ref)p;
	if (pref == PVM_ARENA_STATIC)
		o->_ah.refCount = PVM_REFCOUNT_SATURATED;
	o->_class = cls;
	o->_satellites = 0;
	o->_flags = flags;
	o->_da_size = da_size;
	pvm_memset(o->da, 0, o->_ah.exact_size - PVM_HDR_SIZE);
	st->bytes_since_gc += o->_ah.exact_size;
	return o;
}

/* Free every allocated block not marked with gen, merge free neighbours. */
void pvm_sweep(uint32_t gen)
{
	struct data_area_4_vmstate *st = pvm_g.st;
	for (unsigned i = 0; i < PVM_N_ARENAS; i++) {
		struct pvm_arena *a = &st->arena[i];
		uintptr_t p = a->start, run = 0;
		while (p < a->end) {
			if (!block_ok(a, p)) {
				pvm_set_panic(PVM_PANIC_CORRUPT, "sweep: bad block header");
				return;
			}
			struct pvm_alloc_header *h = hdr_at(p);
			if (h->alloc_flags != PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE && h->gc_flags != gen) {
				h->alloc_flags = PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE;
				h->refCount = 0;
				a->in_use -= h->exact_size;
				st->objects_freed++;
			}
			if (h->alloc_flags == PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE) {
				if (run && (uint64_t)hdr_at(run)->exact_size + h->exact_size <= MAX_BLOCK) {
					hdr_at(run)->exact_size += h->exact_size;
					p = run + hdr_at(run)->exact_size;
					continue;
				}
				run = p;
			} else {
				run = 0;
			}
			p += h->exact_size;
		}
		a->cursor = a->start;
		a->fail_size = 0;
	}
}

/* Walk every arena: headers sane, blocks tile the arena, objects fit. */
int pvm_heap_check(void)
{
	struct data_area_4_vmstate *st = pvm_g.st;
	uintptr_t prev_end = pvm_g.base;
	for (unsigned i = 0; i < PVM_N_ARENAS; i++) {
		struct pvm_arena *a = &st->arena[i];
		if (a->start != prev_end || a->end < a->start || a->end > pvm_g.end)
			return -1;
		uint64_t used = 0;
		uintptr_t p = a->start;
		while (a->end - p >= PVM_MIN_BLOCK) {
			if (!block_ok(a, p))
				return -1;
			struct pvm_alloc_header *h = hdr_at(p);
			if (h->alloc_flags != PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE) {
				if (h->alloc_flags != PVM_OBJECT_AH_ALLOCATOR_FLAG_ALLOCATED)
					return -1;
				pvm_ref o = (pvm_ref)p;
				if ((uint64_t)o->_da_size + PVM_HDR_SIZE > h->exact_size)
					return -1;
				used += h->exact_size;
			}
			p += h->exact_size;
		}
		if (used != a->in_use)
			return -1;
		prev_end = a->end;
	}
	return 0;
}
