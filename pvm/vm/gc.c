/* pvm/vm/gc.c: the tracing garbage collector.
 *
 * Stop-the-world mark and sweep, as Phantom's run_gc: mark everything
 * reachable from the root object with a bumping generation number in
 * gc_flags, then sweep every arena linearly (alloc.c) freeing what the
 * mark missed.  It only ever runs at a bytecode boundary, between two
 * instructions of pvm_run(), when every live reference is in the object
 * space: the root, threads, frames and stacks are ordinary objects, so no
 * C variable can hold the only reference to anything.
 *
 * An object's references are _class, _satellites and the first
 * pvm_instance_ref_slots() slots of its data area (internal data areas put
 * references first; see object.h).
 *
 * The mark stack is a fixed C array (transient: a GC starts and finishes
 * inside one pvm_run call).  On overflow the mark continues by rescanning
 * the heap for marked objects with unmarked children, so marking never
 * needs more memory than that and always terminates.
 *
 * The same marker, in "validate" mode, checks every reference it meets;
 * pvm_attach uses it to refuse a corrupt space before running anything.
 */
#include "pvm/vm/vm.h"

#define MARK_STACK 4096

static pvm_ref mark_stack[MARK_STACK];
static unsigned msp;
static int overflow, validating, bad;
static uint8_t gen;

int pvm_ref_ok(pvm_ref o)
{
	uintptr_t p = (uintptr_t)o;
	if (p < pvm_g.base || p + PVM_HDR_SIZE > pvm_g.end || (p & (PVM_ALIGN - 1)))
		return 0;
	if (o->_ah.object_start_marker != PVM_OBJECT_START_MARKER ||
	    o->_ah.alloc_flags != PVM_OBJECT_AH_ALLOCATOR_FLAG_ALLOCATED)
		return 0;
	if (o->_ah.exact_size < PVM_MIN_BLOCK || o->_ah.exact_size > pvm_g.end - p ||
	    (uint64_t)o->_da_size + PVM_HDR_SIZE > o->_ah.exact_size)
		return 0;
	return 1;
}

static void mark(pvm_ref o)
{
	if (!o)
		return;
	if (validating && !pvm_ref_ok(o)) {
		bad = 1;
		return;
	}
	if (o->_ah.gc_flags == gen)
		return;
	o->_ah.gc_flags = gen;
	if (msp == MARK_STACK) {
		overflow = 1;	/* children found again by the rescan */
		return;
	}
	mark_stack[msp++] = o;
}

static void scan_children(pvm_ref o)
{
	mark(o->_class);
	mark(o->_satellites);
	if (validating) {
		/* the class must be a class before we trust its ref_slots */
		if (!o->_class || !pvm_ref_ok(o->_class) ||
		    !(o->_class->_flags & PHANTOM_OBJECT_STORAGE_FLAG_IS_CLASS) ||
		    o->_class->_da_size < sizeof(struct data_area_4_class)) {
			bad = 1;
			return;
		}
	}
	uint32_t n = pvm_instance_ref_slots(o);
	pvm_ref *s = pvm_slots(o);
	for (uint32_t i = 0; i < n && !bad; i++)
		mark(s[i]);
}

static void drain(void)
{
	while (msp && !bad)
		scan_children(mark_stack[--msp]);
}

/* After an overflow: find marked objects again and scan their children. */
static void rescan(void)
{
	struct data_area_4_vmstate *st = pvm_g.st;
	while (overflow && !bad) {
		overflow = 0;
		for (unsigned i = 0; i < PVM_N_ARENAS && !bad; i++) {
			uintptr_t p = st->arena[i].start;
			while (st->arena[i].end - p >= PVM_MIN_BLOCK && !bad) {
				pvm_ref o = (pvm_ref)p;
				if (o->_ah.exact_size < PVM_MIN_BLOCK) {
					bad = 1;
					break;
				}
				if (o->_ah.alloc_flags == PVM_OBJECT_AH_ALLOCATOR_FLAG_ALLOCATED &&
				    o->_ah.gc_flags == gen) {
					scan_children(o);
					drain();
				}
				p += o->_ah.exact_size;
			}
		}
	}
}

static int mark_all(int validate)
{
	struct data_area_4_vmstate *st = pvm_g.st;
	st->gc_gen = st->gc_gen % 255 + 1;	/* 1..255; 0 = never marked */
	gen = (uint8_t)st->gc_gen;
	msp = 0;
	overflow = 0;
	bad = 0;
	validating = validate;
	mark(pvm_g.root);
	drain();
	rescan();
	validating = 0;
	return bad ? -1 : 0;
}

void pvm_gc_run(void)
{
	struct data_area_4_vmstate *st = pvm_g.st;
	if (mark_all(0) < 0) {
		pvm_set_panic(PVM_PANIC_CORRUPT, "gc: bad object header");
		return;
	}
	pvm_sweep(gen);
	uint64_t live = 0;
	for (unsigned i = 0; i < PVM_N_ARENAS; i++)
		live += st->arena[i].in_use;
	st->gc_runs++;
	st->bytes_since_gc = 0;
	st->gc_request = 0;
	st->bytes_live_after_gc = live;
}

int pvm_gc_validate(void)
{
	return mark_all(1);
}
