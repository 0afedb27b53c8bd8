/* pvm/vm/object.h: how objects look in the persistent object space.
 *
 * Every object is one block: a 16-byte allocation header, the 24-byte
 * object header (_class, _satellites, _flags, _da_size) and the data area.
 * References are raw pointers into the space; 0 is null.  The data area of
 * a user object is an array of references (slot n = field n).  Internal
 * classes overlay the C structs below on it, always with their reference
 * slots FIRST: the class records how many leading slots hold references
 * (class_da.ref_slots), which is all the GC needs to trace any object.
 *
 * Example: a boxed int 7 is 48 bytes: header (40) + { int32 value = 7 }
 * rounded up to 8.
 */
#ifndef PVM_VM_OBJECT_H
#define PVM_VM_OBJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVM_OBJECT_START_MARKER 0x7FAA7F55u

/* alloc_flags, as in Phantom include/vm/alloc.h */
#define PVM_OBJECT_AH_ALLOCATOR_FLAG_FREE	0x00
#define PVM_OBJECT_AH_ALLOCATOR_FLAG_ALLOCATED	0x01
#define PVM_OBJECT_AH_ALLOCATOR_FLAG_REFZERO	0x02
#define PVM_OBJECT_AH_ALLOCATOR_FLAG_WENT_DOWN	0x04
#define PVM_OBJECT_AH_ALLOCATOR_FLAG_IN_BUFFER	0x08

/* _flags, as in Phantom include/vm/object_flags.h */
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_CODE		0x01
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_INTERFACE	0x02
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_CLASS		0x04
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_DECOMPOSEABLE	0x08
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_INT		0x10
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_STRING		0x20
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_RESIZEABLE	0x40
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_INTERNAL		0x80
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_CALL_FRAME	0x100
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_STACK_FRAME	0x200
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_THREAD		0x400
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_CHILDFREE	0x800
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_FINALIZER	0x1000
#define PHANTOM_OBJECT_STORAGE_FLAG_IS_IMMUTABLE	0x2000
#define PHANTOM_OBJECT_STORAGE_FLAG_HAS_WEAKREF		0x100000

#define PVM_REFCOUNT_SATURATED	0x7FFFFFFF

struct pvm_alloc_header {
	uint32_t object_start_marker;
	int32_t refCount;	/* 1, or saturated for static objects; see docs/pvm.md (GC) */
	uint8_t alloc_flags;
	uint8_t gc_flags;	/* mark generation of the last GC that reached it */
	uint16_t _pad;
	uint32_t exact_size;	/* whole block, header included, multiple of 8 */
};

typedef struct pvm_object_storage *pvm_ref;

struct pvm_object_storage {
	struct pvm_alloc_header _ah;
	pvm_ref _class;
	pvm_ref _satellites;
	uint32_t _flags;
	uint32_t _da_size;
	unsigned char da[];
};

#define PVM_HDR_SIZE	((uint32_t)sizeof(struct pvm_object_storage))	/* 40 */
#define PVM_ALIGN	8u
#define PVM_MIN_BLOCK	(PVM_HDR_SIZE + 8u)

/* ref_slots value meaning "the whole data area is references". */
#define PVM_REFS_ALL	0xFFFFFFFFu

/* --- data areas of internal classes (references first) ------------- */

struct data_area_4_class {
	pvm_ref object_default_interface;
	pvm_ref class_name;		/* string */
	pvm_ref class_parent;		/* class or null */
	pvm_ref field_names;		/* array of strings or null */
	pvm_ref method_names;		/* array of strings or null */
	pvm_ref static_vars;		/* unused, null */
	uint32_t object_flags;		/* stamped on instances */
	uint32_t object_data_area_size;	/* for fixed-size instances */
	uint32_t sys_table_id;		/* index in the internal class table, or ~0 */
	uint32_t ref_slots;		/* leading reference slots of an instance */
};
#define PVM_CLASS_REF_SLOTS 6

struct data_area_4_int {
	int32_t value;
};

struct data_area_4_long {
	int64_t value;
};

struct data_area_4_string {
	int32_t length;
	unsigned char data[];
};

struct data_area_4_code {
	uint32_t code_size;
	unsigned char code[];
};

/* An array keeps its elements in a separate page (a plain slot array). */
struct data_area_4_array {
	pvm_ref page;
	uint32_t page_size;		/* slots in page */
	uint32_t used_slots;
};
#define PVM_ARRAY_REF_SLOTS 1

/* Stacks: one fixed page each (Phantom chains 64-cell pages; we use one). */
#define PVM_OSTACK_CELLS 64
#define PVM_ISTACK_CELLS 64
#define PVM_ESTACK_CELLS 16

struct data_area_4_ostack {
	pvm_ref cell[PVM_OSTACK_CELLS];
	uint32_t sp;			/* number of cells in use */
	uint32_t _pad;
};

struct data_area_4_istack {
	int32_t cell[PVM_ISTACK_CELLS];
	uint32_t sp;
	uint32_t _pad;
};

struct data_area_4_estack {
	pvm_ref catch_class[PVM_ESTACK_CELLS];	/* null catches everything */
	uint32_t handler[PVM_ESTACK_CELLS];	/* absolute IP */
	uint32_t sp;
	uint32_t _pad;
};

struct data_area_4_call_frame {
	pvm_ref istack;
	pvm_ref ostack;
	pvm_ref estack;
	pvm_ref code;
	pvm_ref this_object;
	pvm_ref prev;			/* caller's frame, null at the top */
	uint32_t IP;			/* offset of the next instruction */
	uint32_t IP_max;		/* code size */
	uint32_t ordinal;
	uint32_t _pad;
};
#define PVM_FRAME_REF_SLOTS 6

#define PVM_THREAD_RUNNING	1
#define PVM_THREAD_DONE		2

struct data_area_4_thread {
	pvm_ref call_frame;		/* current frame */
	pvm_ref owner;			/* the object whose method 8 started it */
	pvm_ref environment;		/* unused, null */
	uint32_t state;			/* PVM_THREAD_* */
	uint32_t stack_depth;
	uint32_t tid;			/* kernel-side id; re-set at attach */
	uint32_t sleep_flag;		/* set by a restartable sys that yielded */
};
#define PVM_THREAD_REF_SLOTS 3
#define PVM_MAX_CALL_DEPTH 200

/* The boot object (.internal.boot): the workload's door to the host. */
struct data_area_4_boot {
	uint64_t seed;
};

/* Allocator and VM bookkeeping; one childfree object right after the root. */
#define PVM_N_ARENAS 5
enum { PVM_ARENA_STATIC, PVM_ARENA_STACK, PVM_ARENA_INT, PVM_ARENA_SMALL, PVM_ARENA_LARGE };

struct pvm_arena {
	uint64_t start, end;		/* absolute addresses */
	uint64_t cursor;		/* rolling first-fit cursor */
	uint64_t in_use;
	uint64_t fail_size;		/* smallest request that failed since the last GC, 0 = none */
};

#define PVM_VMSTATE_MAGIC 0x50564D5354415445ull	/* "PVMSTATE" */
#define PVM_VMSTATE_VERSION 1

struct data_area_4_vmstate {
	uint64_t magic;
	uint32_t version;
	uint32_t panic;			/* enum pvm_panic, sticky */
	uint64_t space_base, space_size;
	struct pvm_arena arena[PVM_N_ARENAS];
	uint64_t steps;
	uint64_t gc_runs;
	uint64_t bytes_since_gc;
	uint64_t gc_budget;
	uint64_t bytes_live_after_gc;
	uint64_t objects_freed;
	uint64_t boots;
	uint32_t gc_gen;
	uint32_t gc_request;		/* an allocation spilled or failed */
	uint32_t cur_thread;		/* round-robin position */
	uint32_t slice_left;
	uint32_t failed_after_gc;	/* an instruction needed memory right after a GC */
	uint32_t _pad;
};

/* --- the root object: a slot array at the start of the space -------- */
#define PVM_ROOT_OBJECTS_COUNT 103

/* Internal class slots 0..41 (Phantom root.h numbering where known). */
#define PVM_ROOT_OBJECT_NULL_CLASS	0	/* .internal.void */
#define PVM_ROOT_OBJECT_CLASS_CLASS	1
#define PVM_ROOT_OBJECT_INTERFACE_CLASS	2
#define PVM_ROOT_OBJECT_CODE_CLASS	3
#define PVM_ROOT_OBJECT_INT_CLASS	4
#define PVM_ROOT_OBJECT_STRING_CLASS	5
#define PVM_ROOT_OBJECT_ARRAY_CLASS	6
#define PVM_ROOT_OBJECT_PAGE_CLASS	7
#define PVM_ROOT_OBJECT_THREAD_CLASS	8
#define PVM_ROOT_OBJECT_CALL_FRAME_CLASS 9
#define PVM_ROOT_OBJECT_ISTACK_CLASS	10
#define PVM_ROOT_OBJECT_OSTACK_CLASS	11
#define PVM_ROOT_OBJECT_ESTACK_CLASS	12
#define PVM_ROOT_OBJECT_LONG_CLASS	13
#define PVM_ROOT_OBJECT_BOOT_CLASS	16
#define PVM_ROOT_OBJECT_VMSTATE_CLASS	40	/* ours */

#define PVM_ROOT_OBJECT_NULL		64	/* unused: null is the pointer 0 */
#define PVM_ROOT_OBJECT_SYSINTERFACE	65
#define PVM_ROOT_OBJECT_THREAD_LIST	66
#define PVM_ROOT_OBJECT_RESTART_LIST	68
#define PVM_ROOT_OBJECT_CLASS_DIR	73	/* array of loaded user classes */
/* ours, 80.. */
#define PVM_ROOT_OBJECT_VMSTATE		80
#define PVM_ROOT_OBJECT_BOOT		81	/* the .internal.boot instance */
#define PVM_ROOT_OBJECT_WORKLOAD	82	/* the workload's main object */
#define PVM_ROOT_OBJECT_WORKLOAD_NAME	83	/* string */
#define PVM_ROOT_OBJECT_EXC_FIRST	84	/* preallocated exception strings */

enum pvm_exc {
	PVM_EXC_NULL_POINTER,
	PVM_EXC_DIVIDE_BY_ZERO,
	PVM_EXC_BAD_INDEX,
	PVM_EXC_BAD_TYPE,
	PVM_EXC_NO_METHOD,
	PVM_EXC_STACK_OVERFLOW,
	PVM_EXC_STACK_UNDERFLOW,
	PVM_EXC_ARG_COUNT,
	PVM_EXC_BAD_SYSCALL,
	PVM_EXC_OUT_OF_MEMORY,
	PVM_EXC_COUNT
};

/* --- tiny freestanding helpers -------------------------------------- */

/* The empty asm keeps GCC from turning these loops back into calls to
 * memset/memcpy, which a freestanding kernel need not provide. */
static inline void pvm_memset(void *d, int c, size_t n)
{
	unsigned char *p = d;
	if (c == 0 && ((uintptr_t)p & 7) == 0) {
		uint64_t *w = (uint64_t *)(void *)p;
		for (; n >= 8; n -= 8) {
			*w++ = 0;
			__asm__ volatile("" : : "r"(w) : "memory");
		}
		p = (unsigned char *)w;
	}
	while (n--) {
		*p++ = (unsigned char)c;
		__asm__ volatile("" : : "r"(p) : "memory");
	}
}

static inline void pvm_memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;
	while (n--) {
		*p++ = *q++;
		__asm__ volatile("" : : "r"(p) : "memory");
	}
}

static inline size_t pvm_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static inline int pvm_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

#define PVM_DA(o, type) ((struct type *)(void *)(o)->da)

static inline pvm_ref *pvm_slots(pvm_ref o)
{
	return (pvm_ref *)(void *)o->da;
}

static inline uint32_t pvm_slot_count(pvm_ref o)
{
	return o->_da_size / (uint32_t)sizeof(pvm_ref);
}

#endif
