/* pvm/vm/vm.h: declarations shared by the VM's source files.
 *
 * The one piece of C state is `pvm_g`, a handful of transient pointers
 * into the object space (root, vmstate) plus the host ops.  pvm_attach()
 * and pvm_boot_fresh() recompute all of it; nothing in it survives or
 * needs to survive a snapshot.
 */
#ifndef PVM_VM_VM_H
#define PVM_VM_VM_H

#include "pvm/pvm.h"
#include "pvm/vm/object.h"
#include "pvm/vm/image.h"

struct pvm_vm {
	uintptr_t base, end;		/* the object space */
	pvm_ref root;
	struct data_area_4_vmstate *st;
	struct pvm_host host;		/* copy of the kernel's ops */
	const char *panic_msg;
	int attached;
};
extern struct pvm_vm pvm_g;

#define PVM_ROOT(i) (pvm_slots(pvm_g.root)[(i)])

/* alloc.c */
void pvm_arenas_layout(struct data_area_4_vmstate *st, uintptr_t base, size_t size);
pvm_ref pvm_alloc_object(pvm_ref cls, uint32_t flags, uint32_t da_size, int is_static);
int pvm_heap_check(void);
void pvm_sweep(uint32_t gen);

/* gc.c */
void pvm_gc_run(void);
int pvm_gc_validate(void);
int pvm_ref_ok(pvm_ref o);

/* classes.c */
#define PVM_SYS_OK	0	/* *ret holds the result (may be null) */
#define PVM_SYS_THROW	1	/* *ret holds the object to throw */
#define PVM_SYS_RETRY	2	/* blocked or out of memory: run the sys again later */
typedef int (*pvm_syscall_fn)(pvm_ref me, pvm_ref thread, pvm_ref *ret, int nargs, pvm_ref *args);

struct pvm_internal_class {
	const char *name;
	int root_index;
	uint32_t flags;
	uint32_t da_size;
	uint32_t ref_slots;
	const pvm_syscall_fn *sys;
	unsigned n_sys;
};
extern const struct pvm_internal_class pvm_internal_classes[];
extern const unsigned pvm_n_internal_classes;

#define PVM_N_SYS_METHODS 64

int pvm_create_root_objects(void);
pvm_ref pvm_root_class(int root_index);
pvm_ref pvm_new_object(pvm_ref cls, uint32_t da_size);	/* an instance of cls */
pvm_ref pvm_new_int(int32_t v);
pvm_ref pvm_new_long(int64_t v);
pvm_ref pvm_new_string(const void *bytes, uint32_t len);
pvm_ref pvm_new_array(uint32_t capacity);
int pvm_array_append(pvm_ref arr, pvm_ref v);	/* 0, -1 out of memory, -2 corrupt array */
uint32_t pvm_array_size(pvm_ref arr);
pvm_ref pvm_array_get(pvm_ref arr, uint32_t i);
pvm_ref pvm_new_code(const unsigned char *code, uint32_t size);
pvm_ref pvm_new_class(pvm_ref name, pvm_ref parent, uint32_t n_fields, uint32_t n_methods);
pvm_ref pvm_exception(enum pvm_exc e);
int pvm_is_class(pvm_ref o);
int pvm_is_int(pvm_ref o);
int pvm_is_string(pvm_ref o);
int pvm_is_array(pvm_ref o);
int pvm_instance_of(pvm_ref o, pvm_ref cls);	/* class or an ancestor */
int pvm_string_eq(pvm_ref s, const char *c);
pvm_ref pvm_find_class(const char *name, uint32_t len);
int pvm_field_index(pvm_ref cls, const char *name);	/* or -1 */
uint32_t pvm_instance_ref_slots(pvm_ref o);
void pvm_console(const char *s);

/* loader.c */
int pvm_load_image(const unsigned char *p, size_t n);

/* exec.c */
#define PVM_STEP_OK		0
#define PVM_STEP_YIELD		1	/* the thread blocked, ended, or gave up its slice */
#define PVM_STEP_NEED_GC	2	/* out of memory: nothing changed, retry after GC */
#define PVM_STEP_PANIC		3
int pvm_exec_step(pvm_ref thread);
pvm_ref pvm_thread_create(pvm_ref obj, uint32_t ordinal, pvm_ref arg);
void pvm_set_panic(int code, const char *msg);

/* root.c: boot from an explicit image table (the hosted tests use it) */
int pvm_boot_images(void *base, size_t size, const struct pvm_image *imgs, unsigned n,
		    const char *main_class, const char *workload, uint64_t seed,
		    const struct pvm_host *h);

/* invariant.c */
pvm_ref pvm_get_field(pvm_ref o, const char *name);

#endif
