/* pvm/vm/classes.c: the built-in (internal) classes and their natives.
 *
 * The table below plays the part of Phantom's pvm_internal_classes[]:
 * name, root slot, instance flags, data-area size, how many leading slots
 * of an instance hold references, and the syscall table.  All internal
 * classes share one interface, the "sys interface" of 64 generated code
 * objects `sys_8bit i; ret`, so calling method i on an internal object
 * runs native i of its class (Phantom's pvm_fill_syscall_interface).
 *
 * Natives return PVM_SYS_OK (result in *ret), PVM_SYS_THROW (*ret thrown)
 * or PVM_SYS_RETRY (nothing changed: blocked, or out of memory; the sys
 * instruction runs again later, see exec.c).
 */
#include "pvm/vm/vm.h"
#include "machine/guest_abi.h"

#define F(x) PHANTOM_OBJECT_STORAGE_FLAG_##x

/* --- helpers ---------------------------------------------------------- */

pvm_ref pvm_root_class(int root_index)
{
	return PVM_ROOT(root_index);
}

static struct data_area_4_class *cda(pvm_ref cls)
{
	return PVM_DA(cls, data_area_4_class);
}

int pvm_is_class(pvm_ref o)
{
	return o && (o->_flags & F(IS_CLASS));
}

int pvm_is_int(pvm_ref o)
{
	return o && o->_class == PVM_ROOT(PVM_ROOT_OBJECT_INT_CLASS);
}

int pvm_is_string(pvm_ref o)
{
	return o && o->_class == PVM_ROOT(PVM_ROOT_OBJECT_STRING_CLASS);
}

int pvm_is_array(pvm_ref o)
{
	return o && o->_class == PVM_ROOT(PVM_ROOT_OBJECT_ARRAY_CLASS);
}

uint32_t pvm_instance_ref_slots(pvm_ref o)
{
	if (o->_flags & F(IS_CHILDFREE))
		return 0;
	pvm_ref cls = o->_class;
	if (!cls)
		return 0;
	uint32_t n = pvm_slot_count(o);
	uint32_t rs = cda(cls)->ref_slots;
	return rs < n ? rs : n;
}

int pvm_instance_of(pvm_ref o, pvm_ref cls)
{
	if (!o)
		return 0;
	pvm_ref c = o->_class;
	for (int depth = 0; c && depth < 64; depth++) {
		if (c == cls)
			return 1;
		c = cda(c)->class_parent;
	}
	return 0;
}

int pvm_string_eq(pvm_ref s, const char *c)
{
	if (!pvm_is_string(s))
		return 0;
	struct data_area_4_string *d = PVM_DA(s, data_area_4_string);
	size_t n = pvm_strlen(c);
	if ((size_t)d->length != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (d->data[i] != (unsigned char)c[i])
			return 0;
	return 1;
}

static int string_eq_bytes(pvm_ref s, const char *c, uint32_t n)
{
	struct data_area_4_string *d = PVM_DA(s, data_area_4_string);
	if ((uint32_t)d->length != n)
		return 0;
	for (uint32_t i = 0; i < n; i++)
		if (d->data[i] != (unsigned char)c[i])
			return 0;
	return 1;
}

void pvm_console(const char *s)
{
	if (pvm_g.host.console)
		pvm_g.host.console(s);
}

/* --- object creation -------------------------------------------------- */

pvm_ref pvm_new_object(pvm_ref cls, uint32_t da_size)
{
	struct data_area_4_class *c = cda(cls);
	return pvm_alloc_object(cls, c->object_flags, da_size, 0);
}

pvm_ref pvm_new_int(int32_t v)
{
	pvm_ref o = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_INT_CLASS), sizeof(struct data_area_4_int));
	if (o)
		PVM_DA(o, data_area_4_int)->value = v;
	return o;
}

pvm_ref pvm_new_long(int64_t v)
{
	pvm_ref o = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_LONG_CLASS), sizeof(struct data_area_4_long));
	if (o)
		PVM_DA(o, data_area_4_long)->value = v;
	return o;
}

pvm_ref pvm_new_string(const void *bytes, uint32_t len)
{
	if (len > 0x7FFF0000u)
		return 0;
	pvm_ref o = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_STRING_CLASS),
				   (uint32_t)sizeof(struct data_area_4_string) + len);
	if (o) {
		PVM_DA(o, data_area_4_string)->length = (int32_t)len;
		pvm_memcpy(PVM_DA(o, data_area_4_string)->data, bytes, len);
	}
	return o;
}

static pvm_ref new_page(uint32_t slots)
{
	return pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_PAGE_CLASS), slots * (uint32_t)sizeof(pvm_ref));
}

pvm_ref pvm_new_array(uint32_t capacity)
{
	if (capacity < 4)
		capacity = 4;
	pvm_ref page = new_page(capacity);
	if (!page)
		return 0;
	pvm_ref a = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_ARRAY_CLASS), sizeof(struct data_area_4_array));
	if (!a)
		return 0;	/* the page is garbage now; the GC takes it */
	struct data_area_4_array *d = PVM_DA(a, data_area_4_array);
	d->page = page;
	d->page_size = capacity;
	d->used_slots = 0;
	return a;
}

uint32_t pvm_array_size(pvm_ref arr)
{
	return PVM_DA(arr, data_area_4_array)->used_slots;
}

pvm_ref pvm_array_get(pvm_ref arr, uint32_t i)
{
	struct data_area_4_array *d = PVM_DA(arr, data_area_4_array);
	if (i >= d->used_slots || !d->page || i >= pvm_slot_count(d->page))
		return 0;
	return pvm_slots(d->page)[i];
}

/* Allocation first, mutation after: a failed append changes nothing. */
int pvm_array_append(pvm_ref arr, pvm_ref v)
{
	struct data_area_4_array *d = PVM_DA(arr, data_area_4_array);
	if (!d->page || d->page_size > pvm_slot_count(d->page) || d->used_slots > d->page_size)
		return -2;	/* corrupt */
	if (d->used_slots >= d->page_size) {
		uint32_t cap = d->page_size * 2;
		if (cap < 4)
			cap = 4;
		if (cap > (1u << 24))
			return -1;
		pvm_ref np = new_page(cap);
		if (!np)
			return -1;
		d = PVM_DA(arr, data_area_4_array);
		for (uint32_t i = 0; i < d->used_slots; i++)
			pvm_slots(np)[i] = pvm_slots(d->page)[i];
		d->page = np;
		d->page_size = cap;
	}
	pvm_slots(d->page)[d->used_slots++] = v;
	return 0;
}

pvm_ref pvm_new_code(const unsigned char *code, uint32_t size)
{
	pvm_ref o = pvm_alloc_object(PVM_ROOT(PVM_ROOT_OBJECT_CODE_CLASS),
				     cda(PVM_ROOT(PVM_ROOT_OBJECT_CODE_CLASS))->object_flags,
				     (uint32_t)sizeof(struct data_area_4_code) + size, 1);
	if (o) {
		PVM_DA(o, data_area_4_code)->code_size = size;
		pvm_memcpy(PVM_DA(o, data_area_4_code)->code, code, size);
	}
	return o;
}

static pvm_ref new_interface(uint32_t n)
{
	pvm_ref ic = PVM_ROOT(PVM_ROOT_OBJECT_INTERFACE_CLASS);
	return pvm_alloc_object(ic, cda(ic)->object_flags, n * (uint32_t)sizeof(pvm_ref), 1);
}

/* A user class: plain-slot instances, vtable copied from the parent. */
pvm_ref pvm_new_class(pvm_ref name, pvm_ref parent, uint32_t n_fields, uint32_t n_methods)
{
	pvm_ref cc = PVM_ROOT(PVM_ROOT_OBJECT_CLASS_CLASS);
	uint32_t pn = 0;
	pvm_ref piface = 0;
	if (parent && cda(parent)->sys_table_id != ~0u)
		parent = 0;	/* as Phantom: user classes cannot extend internal ones; void it is */
	if (parent) {
		piface = cda(parent)->object_default_interface;
		pn = piface ? pvm_slot_count(piface) : 0;
	}
	if (n_methods < pn)
		n_methods = pn;
	pvm_ref iface = new_interface(n_methods);
	if (!iface)
		return 0;
	for (uint32_t i = 0; i < pn; i++)
		pvm_slots(iface)[i] = pvm_slots(piface)[i];
	pvm_ref c = pvm_alloc_object(cc, cda(cc)->object_flags, sizeof(struct data_area_4_class), 1);
	if (!c)
		return 0;
	struct data_area_4_class *d = cda(c);
	d->object_default_interface = iface;
	d->class_name = name;
	d->class_parent = parent ? parent : PVM_ROOT(PVM_ROOT_OBJECT_NULL_CLASS);
	d->object_flags = 0;
	d->object_data_area_size = n_fields * (uint32_t)sizeof(pvm_ref);
	d->sys_table_id = ~0u;
	d->ref_slots = PVM_REFS_ALL;
	return c;
}

pvm_ref pvm_exception(enum pvm_exc e)
{
	return PVM_ROOT(PVM_ROOT_OBJECT_EXC_FIRST + e);
}

pvm_ref pvm_find_class(const char *name, uint32_t len)
{
	for (unsigned i = 0; i < pvm_n_internal_classes; i++) {
		pvm_ref c = PVM_ROOT(pvm_internal_classes[i].root_index);
		if (c && string_eq_bytes(cda(c)->class_name, name, len))
			return c;
	}
	pvm_ref dir = PVM_ROOT(PVM_ROOT_OBJECT_CLASS_DIR);
	uint32_t n = dir ? pvm_array_size(dir) : 0;
	for (uint32_t i = 0; i < n; i++) {
		pvm_ref c = pvm_array_get(dir, i);
		if (c && pvm_is_string(cda(c)->class_name) && string_eq_bytes(cda(c)->class_name, name, len))
			return c;
	}
	return 0;
}

int pvm_field_index(pvm_ref cls, const char *name)
{
	pvm_ref names = cda(cls)->field_names;
	if (!pvm_is_array(names))
		return -1;
	uint32_t n = pvm_array_size(names);
	for (uint32_t i = 0; i < n; i++)
		if (pvm_string_eq(pvm_array_get(names, i), name))
			return (int)i;
	return -1;
}

/* --- natives ------------------------------------------------------------ */

static int arg_int(pvm_ref a, int32_t *v)
{
	if (!pvm_is_int(a))
		return 0;
	*v = PVM_DA(a, data_area_4_int)->value;
	return 1;
}

static int throw_exc(pvm_ref *ret, enum pvm_exc e)
{
	*ret = pvm_exception(e);
	return PVM_SYS_THROW;
}

/* Allocation result of a native: OK, or RETRY (out of memory). */
static int result(pvm_ref *ret, pvm_ref o)
{
	*ret = o;
	return o ? PVM_SYS_OK : PVM_SYS_RETRY;
}

static uint32_t fnv1a(const unsigned char *p, uint32_t n)
{
	uint32_t h = 2166136261u;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t fmt_int(char *buf, int64_t v)
{
	char tmp[24];
	uint32_t n = 0, k = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[k++] = '-';
	while (n)
		buf[k++] = tmp[--n];
	return k;
}

#define NATIVE(fn) static int fn(pvm_ref me, pvm_ref thread, pvm_ref *ret, int nargs, pvm_ref *args)
#define NEED_ARGS(n) do { if (nargs != (n)) return throw_exc(ret, PVM_EXC_ARG_COUNT); } while (0)

NATIVE(sys_equals_identity)
{
	NEED_ARGS(1);
	return result(ret, pvm_new_int(me == args[0]));
}

NATIVE(int_equals)
{
	NEED_ARGS(1);
	int32_t a = PVM_DA(me, data_area_4_int)->value, b;
	return result(ret, pvm_new_int(arg_int(args[0], &b) && a == b));
}

NATIVE(int_to_string)
{
	char buf[24];
	NEED_ARGS(0);
	uint32_t n = fmt_int(buf, PVM_DA(me, data_area_4_int)->value);
	return result(ret, pvm_new_string(buf, n));
}

NATIVE(int_hash)
{
	NEED_ARGS(0);
	*ret = me;	/* immutable: the int is its own hash */
	return PVM_SYS_OK;
}

NATIVE(long_to_string)
{
	char buf[24];
	NEED_ARGS(0);
	uint32_t n = fmt_int(buf, PVM_DA(me, data_area_4_long)->value);
	return result(ret, pvm_new_string(buf, n));
}

static struct data_area_4_string *sda(pvm_ref s)
{
	return PVM_DA(s, data_area_4_string);
}

NATIVE(string_equals)
{
	NEED_ARGS(1);
	int eq = 0;
	if (pvm_is_string(args[0]) && sda(args[0])->length == sda(me)->length) {
		eq = 1;
		for (int32_t i = 0; i < sda(me)->length; i++)
			if (sda(me)->data[i] != sda(args[0])->data[i])
				eq = 0;
	}
	return result(ret, pvm_new_int(eq));
}

NATIVE(self)
{
	*ret = me;
	return PVM_SYS_OK;
}

NATIVE(string_hash)
{
	NEED_ARGS(0);
	return result(ret, pvm_new_int((int32_t)fnv1a(sda(me)->data, (uint32_t)sda(me)->length)));
}

NATIVE(string_substring)
{
	int32_t from, len;
	NEED_ARGS(2);
	if (!arg_int(args[0], &from) || !arg_int(args[1], &len))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	if (from < 0 || len < 0 || from > sda(me)->length || len > sda(me)->length - from)
		return throw_exc(ret, PVM_EXC_BAD_INDEX);
	return result(ret, pvm_new_string(sda(me)->data + from, (uint32_t)len));
}

NATIVE(string_char_at)
{
	int32_t i;
	NEED_ARGS(1);
	if (!arg_int(args[0], &i))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	if (i < 0 || i >= sda(me)->length)
		return throw_exc(ret, PVM_EXC_BAD_INDEX);
	return result(ret, pvm_new_int(sda(me)->data[i]));
}

NATIVE(string_concat)
{
	NEED_ARGS(1);
	if (!pvm_is_string(args[0]))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	uint32_t a = (uint32_t)sda(me)->length, b = (uint32_t)sda(args[0])->length;
	pvm_ref s = pvm_new_string(sda(me)->data, a + b);
	if (!s)
		return PVM_SYS_RETRY;
	pvm_memcpy(sda(s)->data + a, sda(args[0])->data, b);
	*ret = s;
	return PVM_SYS_OK;
}

NATIVE(string_length)
{
	NEED_ARGS(0);
	return result(ret, pvm_new_int(sda(me)->length));
}

NATIVE(array_get)
{
	int32_t i;
	NEED_ARGS(1);
	if (!arg_int(args[0], &i))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	if (i < 0 || (uint32_t)i >= pvm_array_size(me))
		return throw_exc(ret, PVM_EXC_BAD_INDEX);
	*ret = pvm_array_get(me, (uint32_t)i);
	return PVM_SYS_OK;
}

NATIVE(array_set)
{
	int32_t i;
	NEED_ARGS(2);
	if (!arg_int(args[0], &i))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	if (i < 0 || (uint32_t)i >= pvm_array_size(me))
		return throw_exc(ret, PVM_EXC_BAD_INDEX);
	struct data_area_4_array *d = PVM_DA(me, data_area_4_array);
	if (!d->page || (uint32_t)i >= pvm_slot_count(d->page))
		return throw_exc(ret, PVM_EXC_BAD_INDEX);
	pvm_slots(d->page)[i] = args[1];
	*ret = 0;
	return PVM_SYS_OK;
}

NATIVE(array_size)
{
	NEED_ARGS(0);
	return result(ret, pvm_new_int((int32_t)pvm_array_size(me)));
}

NATIVE(array_append)
{
	NEED_ARGS(1);
	int r = pvm_array_append(me, args[0]);
	if (r == -2)
		return throw_exc(ret, PVM_EXC_BAD_INDEX);
	if (r < 0)
		return PVM_SYS_RETRY;
	*ret = 0;
	return PVM_SYS_OK;
}

NATIVE(class_to_string)
{
	*ret = cda(me)->class_name;
	return PVM_SYS_OK;
}

NATIVE(boot_print)
{
	char buf[256];
	NEED_ARGS(1);
	if (!pvm_is_string(args[0]))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	uint32_t n = (uint32_t)sda(args[0])->length;
	if (n > sizeof buf - 1)
		n = sizeof buf - 1;
	pvm_memcpy(buf, sda(args[0])->data, n);
	buf[n] = 0;
	pvm_console(buf);
	*ret = 0;
	return PVM_SYS_OK;
}

NATIVE(boot_seed_lo)
{
	return result(ret, pvm_new_int((int32_t)(uint32_t)PVM_DA(me, data_area_4_boot)->seed));
}

NATIVE(boot_seed_hi)
{
	return result(ret, pvm_new_int((int32_t)(uint32_t)(PVM_DA(me, data_area_4_boot)->seed >> 32)));
}

/* op(kind, count): one ABI_EV_WORKLOAD_OP trace event. */
NATIVE(boot_op)
{
	int32_t kind, count;
	NEED_ARGS(2);
	if (!arg_int(args[0], &kind) || !arg_int(args[1], &count))
		return throw_exc(ret, PVM_EXC_BAD_TYPE);
	uint32_t a[2] = { (uint32_t)kind, (uint32_t)count };
	if (pvm_g.host.trace)
		pvm_g.host.trace(ABI_EV_WORKLOAD_OP, a, 2);
	*ret = 0;
	return PVM_SYS_OK;
}

NATIVE(boot_mem_kib)
{
	uint64_t u = 0;
	for (unsigned i = 0; i < PVM_N_ARENAS; i++)
		u += pvm_g.st->arena[i].in_use;
	return result(ret, pvm_new_int((int32_t)(u >> 10)));
}

NATIVE(boot_gc_runs)
{
	return result(ret, pvm_new_int((int32_t)pvm_g.st->gc_runs));
}

/* yield(): the model of a blocking native.  The first execution marks the
 * thread asleep and returns RETRY (IP stays on the sys instruction); the
 * re-execution finds the mark, clears it and completes.  A snapshot taken
 * in between records the thread at the sys, which restarts cleanly. */
NATIVE(boot_yield)
{
	struct data_area_4_thread *t = PVM_DA(thread, data_area_4_thread);
	if (!t->sleep_flag) {
		t->sleep_flag = 1;
		return PVM_SYS_RETRY;
	}
	t->sleep_flag = 0;
	*ret = 0;
	return PVM_SYS_OK;
}

/* Ordinals follow Phantom's conventions: 4 equals, 5 toString, 15 hashCode,
 * 16+ class-specific. */
static const pvm_syscall_fn sys_void[16] = { [4] = sys_equals_identity };
static const pvm_syscall_fn sys_class[17] = { [4] = sys_equals_identity, [5] = class_to_string,
					       [16] = class_to_string };
static const pvm_syscall_fn sys_int[16] = { [4] = int_equals, [5] = int_to_string, [15] = int_hash };
static const pvm_syscall_fn sys_long[6] = { [4] = sys_equals_identity, [5] = long_to_string };
static const pvm_syscall_fn sys_string[20] = {
	[4] = string_equals, [5] = self, [15] = string_hash,
	[16] = string_substring, [17] = string_char_at, [18] = string_concat, [19] = string_length,
};
static const pvm_syscall_fn sys_array[20] = {
	[4] = sys_equals_identity,
	[16] = array_get, [17] = array_set, [18] = array_size, [19] = array_append,
};
static const pvm_syscall_fn sys_boot[23] = {
	[16] = boot_print, [17] = boot_seed_lo, [18] = boot_seed_hi, [19] = boot_op,
	[20] = boot_mem_kib, [21] = boot_gc_runs, [22] = boot_yield,
};

#define N(t) t, (unsigned)(sizeof t / sizeof t[0])
#define NONE 0, 0

const struct pvm_internal_class pvm_internal_classes[] = {
	{ ".internal.void", PVM_ROOT_OBJECT_NULL_CLASS, 0, 0, PVM_REFS_ALL, N(sys_void) },
	{ ".internal.class", PVM_ROOT_OBJECT_CLASS_CLASS, F(IS_INTERNAL) | F(IS_CLASS),
	  sizeof(struct data_area_4_class), PVM_CLASS_REF_SLOTS, N(sys_class) },
	{ ".internal.interface", PVM_ROOT_OBJECT_INTERFACE_CLASS, F(IS_INTERNAL) | F(IS_INTERFACE),
	  0, PVM_REFS_ALL, NONE },
	{ ".internal.code", PVM_ROOT_OBJECT_CODE_CLASS,
	  F(IS_INTERNAL) | F(IS_CODE) | F(IS_CHILDFREE) | F(IS_IMMUTABLE), 0, 0, NONE },
	{ ".internal.int", PVM_ROOT_OBJECT_INT_CLASS,
	  F(IS_INTERNAL) | F(IS_INT) | F(IS_CHILDFREE) | F(IS_IMMUTABLE),
	  sizeof(struct data_area_4_int), 0, N(sys_int) },
	{ ".internal.string", PVM_ROOT_OBJECT_STRING_CLASS,
	  F(IS_INTERNAL) | F(IS_STRING) | F(IS_CHILDFREE) | F(IS_IMMUTABLE), 0, 0, N(sys_string) },
	{ ".internal.container.array", PVM_ROOT_OBJECT_ARRAY_CLASS, F(IS_INTERNAL) | F(IS_RESIZEABLE),
	  sizeof(struct data_area_4_array), PVM_ARRAY_REF_SLOTS, N(sys_array) },
	{ ".internal.container.page", PVM_ROOT_OBJECT_PAGE_CLASS, F(IS_INTERNAL), 0, PVM_REFS_ALL, NONE },
	{ ".internal.thread", PVM_ROOT_OBJECT_THREAD_CLASS, F(IS_INTERNAL) | F(IS_THREAD),
	  sizeof(struct data_area_4_thread), PVM_THREAD_REF_SLOTS, NONE },
	{ ".internal.call_frame", PVM_ROOT_OBJECT_CALL_FRAME_CLASS, F(IS_INTERNAL) | F(IS_CALL_FRAME),
	  sizeof(struct data_area_4_call_frame), PVM_FRAME_REF_SLOTS, NONE },
	{ ".internal.istack", PVM_ROOT_OBJECT_ISTACK_CLASS,
	  F(IS_INTERNAL) | F(IS_STACK_FRAME) | F(IS_CHILDFREE), sizeof(struct data_area_4_istack), 0, NONE },
	{ ".internal.ostack", PVM_ROOT_OBJECT_OSTACK_CLASS, F(IS_INTERNAL) | F(IS_STACK_FRAME),
	  sizeof(struct data_area_4_ostack), PVM_OSTACK_CELLS, NONE },
	{ ".internal.estack", PVM_ROOT_OBJECT_ESTACK_CLASS, F(IS_INTERNAL) | F(IS_STACK_FRAME),
	  sizeof(struct data_area_4_estack), PVM_ESTACK_CELLS, NONE },
	{ ".internal.long", PVM_ROOT_OBJECT_LONG_CLASS,
	  F(IS_INTERNAL) | F(IS_CHILDFREE) | F(IS_IMMUTABLE), sizeof(struct data_area_4_long), 0, N(sys_long) },
	{ ".internal.boot", PVM_ROOT_OBJECT_BOOT_CLASS, F(IS_INTERNAL) | F(IS_CHILDFREE),
	  sizeof(struct data_area_4_boot), 0, N(sys_boot) },
	{ ".internal.vmstate", PVM_ROOT_OBJECT_VMSTATE_CLASS, F(IS_INTERNAL) | F(IS_CHILDFREE),
	  sizeof(struct data_area_4_vmstate), 0, NONE },
};
const unsigned pvm_n_internal_classes = sizeof pvm_internal_classes / sizeof pvm_internal_classes[0];

static const char *const exc_names[PVM_EXC_COUNT] = {
	"NullPointer", "DivideByZero", "BadIndex", "BadType", "NoMethod",
	"StackOverflow", "StackUnderflow", "ArgCount", "BadSyscall", "OutOfMemory",
};

/* --- the zero state -------------------------------------------------- */

/* Called by pvm_boot_images once the root and vmstate objects exist (with
 * no class yet).  Builds class_class by hand (it is its own class), every
 * internal class, the sys interface, and the root's lists.  Returns 0 or
 * -1 when the space is too small. */
int pvm_create_root_objects(void)
{
	const uint32_t cflags = F(IS_INTERNAL) | F(IS_CLASS);
	pvm_ref cc = pvm_alloc_object(0, cflags, sizeof(struct data_area_4_class), 1);
	if (!cc)
		return -1;
	cc->_class = cc;
	PVM_ROOT(PVM_ROOT_OBJECT_CLASS_CLASS) = cc;
	/* the other class objects first, so later objects get real classes */
	for (unsigned i = 0; i < pvm_n_internal_classes; i++) {
		const struct pvm_internal_class *ic = &pvm_internal_classes[i];
		pvm_ref c = ic->root_index == PVM_ROOT_OBJECT_CLASS_CLASS ? cc
			    : pvm_alloc_object(cc, cflags, sizeof(struct data_area_4_class), 1);
		if (!c)
			return -1;
		struct data_area_4_class *d = cda(c);
		d->object_flags = ic->flags;
		d->object_data_area_size = ic->da_size;
		d->sys_table_id = i;
		d->ref_slots = ic->ref_slots;
		PVM_ROOT(ic->root_index) = c;
	}
	/* the sys interface: slot i runs `sys_8bit i; ret` */
	pvm_ref iface = new_interface(PVM_N_SYS_METHODS);
	if (!iface)
		return -1;
	PVM_ROOT(PVM_ROOT_OBJECT_SYSINTERFACE) = iface;
	for (unsigned i = 0; i < PVM_N_SYS_METHODS; i++) {
		unsigned char code[3] = { 0x0F, (unsigned char)i, 0x08 };
		pvm_ref c = pvm_new_code(code, 3);
		if (!c)
			return -1;
		pvm_slots(iface)[i] = c;
	}
	for (unsigned i = 0; i < pvm_n_internal_classes; i++) {
		const struct pvm_internal_class *ic = &pvm_internal_classes[i];
		pvm_ref c = PVM_ROOT(ic->root_index);
		pvm_ref name = pvm_new_string(ic->name, (uint32_t)pvm_strlen(ic->name));
		if (!name)
			return -1;
		cda(c)->class_name = name;
		cda(c)->object_default_interface = iface;
		if (ic->root_index != PVM_ROOT_OBJECT_NULL_CLASS)
			cda(c)->class_parent = PVM_ROOT(PVM_ROOT_OBJECT_NULL_CLASS);
	}
	pvm_g.root->_class = PVM_ROOT(PVM_ROOT_OBJECT_PAGE_CLASS);
	pvm_g.root->_flags = cda(pvm_g.root->_class)->object_flags;
	pvm_ref vs = PVM_ROOT(PVM_ROOT_OBJECT_VMSTATE);
	vs->_class = PVM_ROOT(PVM_ROOT_OBJECT_VMSTATE_CLASS);
	vs->_flags = cda(vs->_class)->object_flags;

	static const int lists[] = { PVM_ROOT_OBJECT_THREAD_LIST, PVM_ROOT_OBJECT_RESTART_LIST,
				     PVM_ROOT_OBJECT_CLASS_DIR };
	for (unsigned i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		pvm_ref a = pvm_new_array(8);
		if (!a)
			return -1;
		PVM_ROOT(lists[i]) = a;
	}
	for (unsigned e = 0; e < PVM_EXC_COUNT; e++) {
		pvm_ref s = pvm_new_string(exc_names[e], (uint32_t)pvm_strlen(exc_names[e]));
		if (!s)
			return -1;
		PVM_ROOT(PVM_ROOT_OBJECT_EXC_FIRST + e) = s;
	}
	pvm_ref boot = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_BOOT_CLASS), sizeof(struct data_area_4_boot));
	if (!boot)
		return -1;
	PVM_ROOT(PVM_ROOT_OBJECT_BOOT) = boot;
	return 0;
}
