/* pvm/vm/root.c: first boot, re-attach after restore, and the scheduler.
 *
 * The root object is the first block of the space (Phantom's
 * get_root_object_storage()), a slot array of PVM_ROOT_OBJECTS_COUNT
 * references; the allocator/VM bookkeeping object ("vmstate") is the
 * second.  First boot builds the zero state by hand, loads the class
 * images, instantiates the workload's main class and starts one thread on
 * its method 8 ("run") with the boot object as argument, like pvm_boot().
 *
 * pvm_run() is a round-robin scheduler over the persistent thread list:
 * each thread runs a slice of PVM_SLICE steps.  The collector runs between
 * instructions, when an allocation failed or spilled, or after
 * gc_budget bytes (1/8 of the space) were allocated since the last GC.
 */
#include "pvm/vm/vm.h"

#define PVM_SLICE 1000
#define PVM_MIN_SPACE (256u * 1024)

struct pvm_vm pvm_g;

static int space_args_ok(void *base, size_t size)
{
	return base && ((uintptr_t)base & 4095) == 0 && size >= PVM_MIN_SPACE &&
	       (uint64_t)size <= (1ull << 40) && (uintptr_t)base + size > (uintptr_t)base;
}

static void reset_globals(void *base, size_t size, const struct pvm_host *h)
{
	pvm_memset(&pvm_g, 0, sizeof pvm_g);
	pvm_g.base = (uintptr_t)base;
	pvm_g.end = (uintptr_t)base + (size & ~(size_t)(PVM_ALIGN - 1));
	if (h) {
		pvm_g.host.trace = h->trace;
		pvm_g.host.console = h->console;
		pvm_g.host.time_ns = h->time_ns;
	}
}

static int fail(const char *msg)
{
	pvm_g.panic_msg = msg;
	pvm_g.attached = 0;
	return -1;
}

int pvm_boot_images(void *base, size_t size, const struct pvm_image *imgs, unsigned n,
		    const char *main_class, const char *workload, uint64_t seed,
		    const struct pvm_host *h)
{
	if (!space_args_ok(base, size))
		return fail("boot: bad object space address or size");
	reset_globals(base, size, h);
	struct data_area_4_vmstate tmp;
	pvm_memset(&tmp, 0, sizeof tmp);
	tmp.magic = PVM_VMSTATE_MAGIC;
	tmp.version = PVM_VMSTATE_VERSION;
	tmp.space_base = pvm_g.base;
	tmp.space_size = size;
	tmp.gc_budget = size / 8;
	tmp.slice_left = PVM_SLICE;
	pvm_g.st = &tmp;
	pvm_arenas_layout(&tmp, pvm_g.base, size);

	pvm_ref root = pvm_alloc_object(0, PHANTOM_OBJECT_STORAGE_FLAG_IS_INTERNAL,
					PVM_ROOT_OBJECTS_COUNT * (uint32_t)sizeof(pvm_ref), 1);
	if ((uintptr_t)root != pvm_g.base)
		return fail("boot: root object not at the start of the space");
	pvm_g.root = root;
	pvm_ref vs = pvm_alloc_object(0, PHANTOM_OBJECT_STORAGE_FLAG_IS_INTERNAL | PHANTOM_OBJECT_STORAGE_FLAG_IS_CHILDFREE,
				      sizeof(struct data_area_4_vmstate), 1);
	if (!vs)
		return fail("boot: space too small");
	pvm_memcpy(vs->da, &tmp, sizeof tmp);
	pvm_g.st = PVM_DA(vs, data_area_4_vmstate);
	PVM_ROOT(PVM_ROOT_OBJECT_VMSTATE) = vs;

	if (pvm_create_root_objects() < 0)
		return fail("boot: space too small for the zero state");
	PVM_DA(PVM_ROOT(PVM_ROOT_OBJECT_BOOT), data_area_4_boot)->seed = seed;
	for (unsigned i = 0; i < n; i++)
		if (pvm_load_image(imgs[i].data, imgs[i].size) < 0)
			return fail("boot: bad class image");
	pvm_ref cls = pvm_find_class(main_class, (uint32_t)pvm_strlen(main_class));
	if (!cls || PVM_DA(cls, data_area_4_class)->sys_table_id != ~0u)
		return fail("boot: main class not found");
	pvm_ref obj = pvm_new_object(cls, PVM_DA(cls, data_area_4_class)->object_data_area_size);
	pvm_ref wname = pvm_new_string(workload, (uint32_t)pvm_strlen(workload));
	if (!obj || !wname)
		return fail("boot: space too small");
	PVM_ROOT(PVM_ROOT_OBJECT_WORKLOAD) = obj;
	PVM_ROOT(PVM_ROOT_OBJECT_WORKLOAD_NAME) = wname;
	pvm_ref th = pvm_thread_create(obj, 8, PVM_ROOT(PVM_ROOT_OBJECT_BOOT));
	if (!th)
		return fail("boot: main class has no method 8");
	PVM_DA(th, data_area_4_thread)->tid = 1;
	pvm_g.st->boots = 1;
	if (pvm_g.st->panic)
		return fail("boot: allocator panic");
	pvm_g.attached = 1;
	return 0;
}

static const struct {
	const char *workload, *cls;
} workloads[] = {
	{ "counter", "Counter" },
	{ "bank", "Bank" },
	{ "kv", "Kv" },
	{ "list", "List" },
};

int pvm_boot_fresh(void *base, size_t size, const char *workload, uint64_t seed, const struct pvm_host *h)
{
	if (!workload)
		return fail("boot: no workload");
	for (unsigned i = 0; i < sizeof workloads / sizeof workloads[0]; i++)
		if (pvm_streq(workload, workloads[i].workload))
			return pvm_boot_images(base, size, pvm_images, pvm_images_count, workloads[i].cls,
					       workload, seed, h);
	return fail("boot: unknown workload");
}

int pvm_attach(void *base, size_t size, const struct pvm_host *h)
{
	if (!space_args_ok(base, size))
		return fail("attach: bad object space address or size");
	reset_globals(base, size, h);
	pvm_ref root = (pvm_ref)base;
	if (!pvm_ref_ok(root) || root->_da_size != PVM_ROOT_OBJECTS_COUNT * sizeof(pvm_ref))
		return fail("attach: no root object at the start of the space");
	pvm_g.root = root;
	pvm_ref vs = PVM_ROOT(PVM_ROOT_OBJECT_VMSTATE);
	if (!pvm_ref_ok(vs) || vs->_da_size != sizeof(struct data_area_4_vmstate))
		return fail("attach: no VM state object");
	struct data_area_4_vmstate *st = PVM_DA(vs, data_area_4_vmstate);
	if (st->magic != PVM_VMSTATE_MAGIC || st->version != PVM_VMSTATE_VERSION)
		return fail("attach: bad VM state magic or version");
	if (st->space_base != pvm_g.base || st->space_size != size)
		return fail("attach: space was formatted at another address or size");
	pvm_g.st = st;
	if (pvm_heap_check() < 0)
		return fail("attach: heap walk found a bad block");
	for (unsigned i = 0; i < pvm_n_internal_classes; i++) {
		pvm_ref c = PVM_ROOT(pvm_internal_classes[i].root_index);
		if (!pvm_ref_ok(c) || !(c->_flags & PHANTOM_OBJECT_STORAGE_FLAG_IS_CLASS) ||
		    c->_da_size != sizeof(struct data_area_4_class) ||
		    PVM_DA(c, data_area_4_class)->sys_table_id != i)
			return fail("attach: bad internal class object");
	}
	if (pvm_gc_validate() < 0)
		return fail("attach: a reference points outside any object");
	static const int arrays[] = { PVM_ROOT_OBJECT_THREAD_LIST, PVM_ROOT_OBJECT_RESTART_LIST,
				      PVM_ROOT_OBJECT_CLASS_DIR };
	for (unsigned i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
		if (!pvm_is_array(PVM_ROOT(arrays[i])))
			return fail("attach: bad root list");
	/* Restart processing.  No internal class here owns kernel-side state,
	 * so the restart list stays empty; what is transient is the kernel
	 * thread id, re-set on every restart as in Phantom. */
	pvm_ref tl = PVM_ROOT(PVM_ROOT_OBJECT_THREAD_LIST);
	for (uint32_t i = 0; i < pvm_array_size(tl); i++) {
		pvm_ref th = pvm_array_get(tl, i);
		if (!th || th->_class != PVM_ROOT(PVM_ROOT_OBJECT_THREAD_CLASS))
			return fail("attach: bad thread object");
		PVM_DA(th, data_area_4_thread)->tid = i + 1;
	}
	st->boots++;
	pvm_g.attached = 1;
	return 0;
}

long pvm_run(uint64_t max_steps)
{
	if (!pvm_g.attached)
		return -PVM_PANIC_NOT_ATTACHED;
	struct data_area_4_vmstate *st = pvm_g.st;
	if (st->panic)
		return -(long)st->panic;
	pvm_ref tl = PVM_ROOT(PVM_ROOT_OBJECT_THREAD_LIST);
	uint64_t steps = 0;
	while (steps < max_steps) {
		if (st->gc_request || st->bytes_since_gc >= st->gc_budget) {
			pvm_gc_run();
			if (st->panic)
				return -(long)st->panic;
		}
		uint32_t n = pvm_array_size(tl);
		pvm_ref th = 0;
		for (uint32_t k = 0; k < n; k++) {
			if (st->cur_thread >= n)
				st->cur_thread = 0;
			pvm_ref t = pvm_array_get(tl, st->cur_thread);
			if (t && PVM_DA(t, data_area_4_thread)->state == PVM_THREAD_RUNNING) {
				th = t;
				break;
			}
			st->cur_thread++;
			st->slice_left = PVM_SLICE;
		}
		if (!th)
			break;	/* every thread has ended */
		int r = pvm_exec_step(th);
		switch (r) {
		case PVM_STEP_OK:
		case PVM_STEP_YIELD:
			steps++;
			st->steps++;
			st->failed_after_gc = 0;
			if (r == PVM_STEP_YIELD || --st->slice_left == 0) {
				st->cur_thread++;
				st->slice_left = PVM_SLICE;
			}
			break;
		case PVM_STEP_NEED_GC:
			if (st->failed_after_gc) {
				pvm_set_panic(PVM_PANIC_OUT_OF_MEMORY, "out of memory (after GC)");
				return -(long)st->panic;
			}
			st->failed_after_gc = 1;
			st->gc_request = 1;
			break;
		default:
			if (!st->panic)
				pvm_set_panic(PVM_PANIC_CORRUPT, "interpreter panic");
			return -(long)st->panic;
		}
		if (st->panic)
			return -(long)st->panic;
	}
	return (long)steps;
}

const char *pvm_panic_message(void)
{
	return pvm_g.panic_msg ? pvm_g.panic_msg : "";
}

void pvm_get_stats(struct pvm_stats *out)
{
	pvm_memset(out, 0, sizeof *out);
	if (!pvm_g.attached)
		return;
	struct data_area_4_vmstate *st = pvm_g.st;
	out->steps = st->steps;
	out->gc_runs = st->gc_runs;
	for (unsigned i = 0; i < PVM_N_ARENAS; i++)
		out->bytes_in_use += st->arena[i].in_use;
	out->bytes_live_after_gc = st->bytes_live_after_gc;
	out->objects_freed = st->objects_freed;
	out->boots = st->boots;
	pvm_ref tl = PVM_ROOT(PVM_ROOT_OBJECT_THREAD_LIST);
	for (uint32_t i = 0; i < pvm_array_size(tl); i++) {
		pvm_ref th = pvm_array_get(tl, i);
		if (th && PVM_DA(th, data_area_4_thread)->state == PVM_THREAD_RUNNING)
			out->threads_alive++;
	}
}
