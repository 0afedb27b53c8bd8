/* pvm/vm/exec.c: the bytecode interpreter.
 *
 * pvm_exec_step() runs exactly one instruction of one thread.  It keeps no
 * "fast access" copies: the IP lives in the current call frame and is
 * written back only when the instruction completes, so between any two
 * steps the whole machine state is in the object space.
 *
 * An instruction that cannot get memory changes nothing and returns
 * PVM_STEP_NEED_GC: the scheduler collects and re-runs it.  Instructions
 * therefore allocate first and mutate after.  The same rule makes `sys`
 * restartable, as in Phantom: the IP stays on the 2-byte sys instruction
 * until the native completes, so a native that blocks (PVM_SYS_RETRY) or a
 * snapshot taken while it waits just runs it again.
 *
 * Stacks (object.h): every frame has its own fixed ostack (64 refs),
 * istack (64 int32 cells) and estack (16 catchers).  Arguments arrive as
 * ostack slots 0..n-1 with n pushed on the istack.  Two-operand integer
 * ops name their operands u (upper, the top) and l (lower, below it):
 * isubul = u - l, isublu = l - u; comparisons are l OP u; shifts shift
 * u by l (Phantom's order: push the count, then the value).
 */
#include "pvm/vm/vm.h"

enum {
#define PVM_OP(name, code, kind) OP_##name = code,
#include "pvm/vm/opcodes.def"
#undef PVM_OP
};

struct ctx {
	pvm_ref thread;
	struct data_area_4_thread *t;
	pvm_ref frame;
	struct data_area_4_call_frame *f;
	struct data_area_4_ostack *os;
	struct data_area_4_istack *is;
	struct data_area_4_estack *es;
	const unsigned char *code;
	uint32_t size;
	uint32_t ip;
};

/* The frame and its stacks are what the next instruction trusts; a
 * corrupt space must end in a panic, never in a wild access. */
static int frame_ok(pvm_ref frame)
{
	if (!frame || frame->_class != PVM_ROOT(PVM_ROOT_OBJECT_CALL_FRAME_CLASS))
		return 0;
	struct data_area_4_call_frame *f = PVM_DA(frame, data_area_4_call_frame);
	if (!f->istack || f->istack->_class != PVM_ROOT(PVM_ROOT_OBJECT_ISTACK_CLASS) ||
	    !f->ostack || f->ostack->_class != PVM_ROOT(PVM_ROOT_OBJECT_OSTACK_CLASS) ||
	    !f->estack || f->estack->_class != PVM_ROOT(PVM_ROOT_OBJECT_ESTACK_CLASS) ||
	    !f->code || f->code->_class != PVM_ROOT(PVM_ROOT_OBJECT_CODE_CLASS))
		return 0;
	if (PVM_DA(f->ostack, data_area_4_ostack)->sp > PVM_OSTACK_CELLS ||
	    PVM_DA(f->istack, data_area_4_istack)->sp > PVM_ISTACK_CELLS ||
	    PVM_DA(f->estack, data_area_4_estack)->sp > PVM_ESTACK_CELLS)
		return 0;
	uint32_t size = PVM_DA(f->code, data_area_4_code)->code_size;
	return (uint64_t)size + sizeof(struct data_area_4_code) <= f->code->_da_size;
}

static void load_ctx(struct ctx *c, pvm_ref frame)
{
	c->frame = frame;
	c->f = PVM_DA(frame, data_area_4_call_frame);
	c->os = PVM_DA(c->f->ostack, data_area_4_ostack);
	c->is = PVM_DA(c->f->istack, data_area_4_istack);
	c->es = PVM_DA(c->f->estack, data_area_4_estack);
	c->code = PVM_DA(c->f->code, data_area_4_code)->code;
	c->size = PVM_DA(c->f->code, data_area_4_code)->code_size;
	c->ip = c->f->IP;
}

void pvm_set_panic(int code, const char *msg)
{
	if (pvm_g.st && !pvm_g.st->panic)
		pvm_g.st->panic = (uint32_t)code;
	if (!pvm_g.panic_msg)
		pvm_g.panic_msg = msg;
}

/* --- frames ------------------------------------------------------------ */

static pvm_ref new_frame(void)
{
	pvm_ref is = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_ISTACK_CLASS), sizeof(struct data_area_4_istack));
	pvm_ref os = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_OSTACK_CLASS), sizeof(struct data_area_4_ostack));
	pvm_ref es = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_ESTACK_CLASS), sizeof(struct data_area_4_estack));
	pvm_ref f = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_CALL_FRAME_CLASS),
				   sizeof(struct data_area_4_call_frame));
	if (!is || !os || !es || !f)
		return 0;
	struct data_area_4_call_frame *d = PVM_DA(f, data_area_4_call_frame);
	d->istack = is;
	d->ostack = os;
	d->estack = es;
	return f;
}

static void frame_set_code(pvm_ref frame, pvm_ref code, pvm_ref this_obj, uint32_t ordinal)
{
	struct data_area_4_call_frame *d = PVM_DA(frame, data_area_4_call_frame);
	d->code = code;
	d->this_object = this_obj;
	d->IP = 0;
	d->IP_max = PVM_DA(code, data_area_4_code)->code_size;
	d->ordinal = ordinal;
}

static pvm_ref lookup_method(pvm_ref cls, uint32_t ordinal)
{
	if (!pvm_is_class(cls))
		return 0;
	pvm_ref iface = PVM_DA(cls, data_area_4_class)->object_default_interface;
	if (!iface || ordinal >= pvm_slot_count(iface))
		return 0;
	return pvm_slots(iface)[ordinal];
}

/* A new thread that will run obj.method(ordinal) with one argument. */
pvm_ref pvm_thread_create(pvm_ref obj, uint32_t ordinal, pvm_ref arg)
{
	pvm_ref code = lookup_method(obj->_class, ordinal);
	if (!code)
		return 0;
	pvm_ref f = new_frame();
	pvm_ref th = pvm_new_object(PVM_ROOT(PVM_ROOT_OBJECT_THREAD_CLASS), sizeof(struct data_area_4_thread));
	if (!f || !th)
		return 0;
	frame_set_code(f, code, obj, ordinal);
	struct data_area_4_call_frame *d = PVM_DA(f, data_area_4_call_frame);
	struct data_area_4_ostack *os = PVM_DA(d->ostack, data_area_4_ostack);
	struct data_area_4_istack *is = PVM_DA(d->istack, data_area_4_istack);
	os->cell[os->sp++] = arg;
	is->cell[is->sp++] = 1;
	struct data_area_4_thread *t = PVM_DA(th, data_area_4_thread);
	t->call_frame = f;
	t->owner = obj;
	t->state = PVM_THREAD_RUNNING;
	t->stack_depth = 1;
	if (pvm_array_append(PVM_ROOT(PVM_ROOT_OBJECT_THREAD_LIST), th) < 0)
		return 0;
	return th;
}

/* --- exceptions ---------------------------------------------------------- */

/* Unwind to the nearest catcher of obj's class (or an ancestor; a null
 * catcher class catches everything), popping frames like ret. */
static int do_throw(struct ctx *c, pvm_ref obj)
{
	pvm_ref frame = c->frame;
	for (unsigned depth = 0; depth <= PVM_MAX_CALL_DEPTH + 1; depth++) {
		if (!frame_ok(frame))
			break;
		struct data_area_4_call_frame *f = PVM_DA(frame, data_area_4_call_frame);
		struct data_area_4_estack *es = PVM_DA(f->estack, data_area_4_estack);
		while (es->sp > 0 && es->sp <= PVM_ESTACK_CELLS) {
			uint32_t i = --es->sp;
			pvm_ref cls = es->catch_class[i];
			uint32_t handler = es->handler[i];
			es->catch_class[i] = 0;
			if (cls && !pvm_instance_of(obj, cls))
				continue;
			struct data_area_4_ostack *os = PVM_DA(f->ostack, data_area_4_ostack);
			if (os->sp >= PVM_OSTACK_CELLS)
				os->sp = PVM_OSTACK_CELLS - 1;
			os->cell[os->sp++] = obj;
			f->IP = handler;
			c->t->call_frame = frame;
			return PVM_STEP_OK;
		}
		pvm_ref prev = f->prev;
		if (!prev) {
			static char msg[80];
			const char *pre = "uncaught exception: ";
			uint32_t k = 0;
			while (pre[k]) {
				msg[k] = pre[k];
				k++;
			}
			if (pvm_is_string(obj)) {
				struct data_area_4_string *s = PVM_DA(obj, data_area_4_string);
				for (int32_t j = 0; j < s->length && k < sizeof msg - 1; j++)
					msg[k++] = (char)s->data[j];
			}
			msg[k] = 0;
			pvm_set_panic(PVM_PANIC_UNCAUGHT, msg);
			return PVM_STEP_PANIC;
		}
		c->t->call_frame = prev;
		if (c->t->stack_depth)
			c->t->stack_depth--;
		frame = prev;
	}
	pvm_set_panic(PVM_PANIC_CORRUPT, "unwind: bad or endless frame chain");
	return PVM_STEP_PANIC;
}

/* --- calls --------------------------------------------------------------- */

/* Enter code on this_obj.  The arguments are the caller's ostack cells
 * [first, first + nargs); the caller's ostack is then cut back to new_sp
 * (dropping this, the arguments and whatever else the call consumed). */
static int enter(struct ctx *c, pvm_ref code, pvm_ref this_obj, uint32_t ordinal,
		 uint32_t first, uint32_t nargs, uint32_t new_sp, pvm_ref *exc)
{
	if (!code) {
		*exc = pvm_exception(PVM_EXC_NO_METHOD);
		return PVM_STEP_OK;
	}
	if (c->t->stack_depth >= PVM_MAX_CALL_DEPTH) {
		*exc = pvm_exception(PVM_EXC_STACK_OVERFLOW);
		return PVM_STEP_OK;
	}
	pvm_ref nf = new_frame();
	if (!nf)
		return PVM_STEP_NEED_GC;
	frame_set_code(nf, code, this_obj, ordinal);
	struct data_area_4_call_frame *d = PVM_DA(nf, data_area_4_call_frame);
	struct data_area_4_ostack *nos = PVM_DA(d->ostack, data_area_4_ostack);
	struct data_area_4_istack *nis = PVM_DA(d->istack, data_area_4_istack);
	for (uint32_t i = 0; i < nargs; i++)
		nos->cell[i] = c->os->cell[first + i];
	nos->sp = nargs;
	nis->cell[0] = (int32_t)nargs;
	nis->sp = 1;
	for (uint32_t i = new_sp; i < c->os->sp; i++)
		c->os->cell[i] = 0;
	c->os->sp = new_sp;
	d->prev = c->frame;
	c->f->IP = c->ip;	/* return address */
	c->t->call_frame = nf;
	c->t->stack_depth++;
	return PVM_STEP_OK;
}

/* Stack: ... this a0..a(n-1) [cls if with_class].  cls, when given,
 * supplies the vtable (static_invoke); otherwise this's class does. */
static int do_call(struct ctx *c, uint32_t ordinal, uint32_t nargs, int with_class, pvm_ref *exc)
{
	uint32_t extra = with_class ? 1 : 0;
	if (nargs > PVM_OSTACK_CELLS || c->os->sp < nargs + 1 + extra) {
		*exc = pvm_exception(PVM_EXC_STACK_UNDERFLOW);
		return PVM_STEP_OK;
	}
	uint32_t first = c->os->sp - extra - nargs;
	pvm_ref this_obj = c->os->cell[first - 1];
	if (!this_obj) {
		*exc = pvm_exception(PVM_EXC_NULL_POINTER);
		return PVM_STEP_OK;
	}
	pvm_ref cls = this_obj->_class;
	if (with_class) {
		cls = c->os->cell[c->os->sp - 1];
		if (!pvm_is_class(cls) || !pvm_instance_of(this_obj, cls)) {
			*exc = pvm_exception(PVM_EXC_BAD_TYPE);
			return PVM_STEP_OK;
		}
	}
	return enter(c, lookup_method(cls, ordinal), this_obj, ordinal, first, nargs, first - 1, exc);
}

/* The ordinal of a method by name: the class's method-name table, then
 * its ancestors' (Phantom's pvm_get_method_ordinal).  -1 if none. */
static int32_t method_by_name(pvm_ref cls, pvm_ref name)
{
	struct data_area_4_string *n = PVM_DA(name, data_area_4_string);
	for (int depth = 0; pvm_is_class(cls) && depth < 64; depth++) {
		pvm_ref names = PVM_DA(cls, data_area_4_class)->method_names;
		uint32_t cnt = pvm_is_array(names) ? pvm_array_size(names) : 0;
		for (uint32_t i = 0; i < cnt; i++) {
			pvm_ref s = pvm_array_get(names, i);
			if (!pvm_is_string(s))
				continue;
			struct data_area_4_string *m = PVM_DA(s, data_area_4_string);
			if (m->length != n->length)
				continue;
			int32_t k = 0;
			while (k < m->length && m->data[k] == n->data[k])
				k++;
			if (k == m->length)
				return (int32_t)i;
		}
		cls = PVM_DA(cls, data_area_4_class)->class_parent;
	}
	return -1;
}

/* dynamic_invoke, as Phantom: ostack ... a0..a(n-1) this name, n on the
 * istack; the method is found by name. */
static int do_dynamic_call(struct ctx *c, pvm_ref *exc)
{
	if (c->os->sp < 2 || c->is->sp < 1) {
		*exc = pvm_exception(PVM_EXC_STACK_UNDERFLOW);
		return PVM_STEP_OK;
	}
	int32_t n = c->is->cell[c->is->sp - 1];
	if (n < 0 || (uint32_t)n > c->os->sp - 2) {
		*exc = pvm_exception(PVM_EXC_ARG_COUNT);
		return PVM_STEP_OK;
	}
	pvm_ref name = c->os->cell[c->os->sp - 1];
	pvm_ref this_obj = c->os->cell[c->os->sp - 2];
	if (!this_obj || !name) {
		*exc = pvm_exception(PVM_EXC_NULL_POINTER);
		return PVM_STEP_OK;
	}
	if (!pvm_is_string(name)) {
		*exc = pvm_exception(PVM_EXC_BAD_TYPE);
		return PVM_STEP_OK;
	}
	int32_t ord = method_by_name(this_obj->_class, name);
	pvm_ref code = ord < 0 ? 0 : lookup_method(this_obj->_class, (uint32_t)ord);
	uint32_t first = c->os->sp - 2 - (uint32_t)n;
	int r = enter(c, code, this_obj, (uint32_t)ord, first, (uint32_t)n, first, exc);
	if (r == PVM_STEP_OK && !*exc)
		c->is->sp--;	/* the caller's istack: the count is consumed */
	return r;
}

/* copy: a shallow copy of a plain object or an immutable value. */
static pvm_ref copy_object(pvm_ref o, int *bad)
{
	pvm_ref cls = o->_class;
	struct data_area_4_class *cd = PVM_DA(cls, data_area_4_class);
	int plain = cd->sys_table_id == ~0u;
	if (!plain && !pvm_is_int(o) && !pvm_is_string(o) && cls != PVM_ROOT(PVM_ROOT_OBJECT_LONG_CLASS)) {
		*bad = 1;
		return 0;
	}
	pvm_ref n = pvm_new_object(cls, o->_da_size);
	if (n)
		pvm_memcpy(n->da, o->da, o->_da_size);
	return n;
}

static int do_sys(struct ctx *c, uint32_t n, pvm_ref *exc)
{
	pvm_ref me = c->f->this_object;
	if (!me) {
		*exc = pvm_exception(PVM_EXC_NULL_POINTER);
		return PVM_STEP_OK;
	}
	uint32_t id = PVM_DA(me->_class, data_area_4_class)->sys_table_id;
	if (id >= pvm_n_internal_classes || n >= pvm_internal_classes[id].n_sys ||
	    !pvm_internal_classes[id].sys[n]) {
		*exc = pvm_exception(PVM_EXC_BAD_SYSCALL);
		return PVM_STEP_OK;
	}
	if (c->is->sp < 1) {
		*exc = pvm_exception(PVM_EXC_STACK_UNDERFLOW);
		return PVM_STEP_OK;
	}
	int32_t nargs = c->is->cell[c->is->sp - 1];
	if (nargs < 0 || (uint32_t)nargs > c->os->sp) {
		*exc = pvm_exception(PVM_EXC_ARG_COUNT);
		return PVM_STEP_OK;
	}
	if (nargs == 0 && c->os->sp >= PVM_OSTACK_CELLS) {
		*exc = pvm_exception(PVM_EXC_STACK_OVERFLOW);
		return PVM_STEP_OK;
	}
	pvm_ref ret = 0;
	int r = pvm_internal_classes[id].sys[n](me, c->thread, &ret, nargs,
						 &c->os->cell[c->os->sp - (uint32_t)nargs]);
	if (r == PVM_SYS_RETRY) {
		if (pvm_g.st->gc_request)
			return PVM_STEP_NEED_GC;
		return PVM_STEP_YIELD;	/* IP stays on the sys: it runs again */
	}
	if (r == PVM_SYS_THROW) {
		*exc = ret ? ret : pvm_exception(PVM_EXC_NULL_POINTER);
		return PVM_STEP_OK;
	}
	for (int32_t i = 0; i < nargs; i++)
		c->os->cell[--c->os->sp] = 0;
	c->is->sp--;
	c->os->cell[c->os->sp++] = ret;	/* room: checked above, or args freed it */
	c->f->IP = c->ip;
	return PVM_STEP_OK;
}

/* --- the interpreter loop body -------------------------------------------- */

static inline pvm_ref opop(struct data_area_4_ostack *os)
{
	pvm_ref r = os->cell[--os->sp];
	os->cell[os->sp] = 0;	/* a popped cell must not keep garbage alive */
	return r;
}

static inline int32_t get_i32(const unsigned char *p)
{
	return (int32_t)((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]);
}

int pvm_exec_step(pvm_ref thread)
{
	struct ctx c;
	c.thread = thread;
	c.t = PVM_DA(thread, data_area_4_thread);
	if (c.t->state != PVM_THREAD_RUNNING || !c.t->call_frame)
		return PVM_STEP_YIELD;
	if (!frame_ok(c.t->call_frame)) {
		pvm_set_panic(PVM_PANIC_CORRUPT, "bad call frame");
		return PVM_STEP_PANIC;
	}
	load_ctx(&c, c.t->call_frame);

	pvm_ref exc = 0;
	int is_long = 0;
	struct data_area_4_ostack *os = c.os;
	struct data_area_4_istack *is = c.is;

#define NEED(n) do { if (c.size - c.ip < (uint32_t)(n)) goto bad_ip; } while (0)
#define THROW(e) do { exc = pvm_exception(e); goto throw_it; } while (0)
#define OS_NEED(n) do { if (os->sp < (uint32_t)(n)) THROW(PVM_EXC_STACK_UNDERFLOW); } while (0)
#define OS_ROOM(n) do { if (PVM_OSTACK_CELLS - os->sp < (uint32_t)(n)) THROW(PVM_EXC_STACK_OVERFLOW); } while (0)
#define IS_NEED(n) do { if (is->sp < (uint32_t)(n)) THROW(PVM_EXC_STACK_UNDERFLOW); } while (0)
#define IS_ROOM(n) do { if (PVM_ISTACK_CELLS - is->sp < (uint32_t)(n)) THROW(PVM_EXC_STACK_OVERFLOW); } while (0)
#define OPOP() opop(os)
#define OPUSH(v) do { pvm_ref _v = (v); os->cell[os->sp++] = _v; } while (0)
#define IPOP() (is->cell[--is->sp])
#define IPUSH(v) do { int32_t _v = (int32_t)(v); is->cell[is->sp++] = _v; } while (0)
#define U32(x) ((uint32_t)(x))

	if (c.ip >= c.size)
		goto bad_ip;
	unsigned op = c.code[c.ip++];
	if (op == OP_prefix_long) {
		if (c.ip >= c.size)
			goto bad_ip;
		is_long = 1;
		op = c.code[c.ip++];
	}

	if (is_long) {
		int64_t u, l;
		switch (op) {
		case OP_isum: case OP_imul: case OP_isubul: case OP_isublu: case OP_idivul:
		case OP_idivlu: case OP_iremul: case OP_iremlu: case OP_ior: case OP_iand:
		case OP_ixor:
		case OP_ige: case OP_ile: case OP_igt: case OP_ilt: {
			IS_NEED(4);
			u = (int64_t)((uint64_t)U32(is->cell[is->sp - 1]) << 32 | U32(is->cell[is->sp - 2]));
			l = (int64_t)((uint64_t)U32(is->cell[is->sp - 3]) << 32 | U32(is->cell[is->sp - 4]));
			uint64_t uu = (uint64_t)u, ul = (uint64_t)l, r = 0;
			int cmp = -1;
			switch (op) {
			case OP_isum: r = ul + uu; break;
			case OP_imul: r = ul * uu; break;
			case OP_isubul: r = uu - ul; break;
			case OP_isublu: r = ul - uu; break;
			case OP_idivul: case OP_iremul:
				if (!l) THROW(PVM_EXC_DIVIDE_BY_ZERO);
				if (l == -1) r = op == OP_idivul ? 0 - uu : 0;
				else r = (uint64_t)(op == OP_idivul ? u / l : u % l);
				break;
			case OP_idivlu: case OP_iremlu:
				if (!u) THROW(PVM_EXC_DIVIDE_BY_ZERO);
				if (u == -1) r = op == OP_idivlu ? 0 - ul : 0;
				else r = (uint64_t)(op == OP_idivlu ? l / u : l % u);
				break;
			case OP_ior: r = ul | uu; break;
			case OP_iand: r = ul & uu; break;
			case OP_ixor: r = ul ^ uu; break;
			case OP_ige: cmp = l >= u; break;
			case OP_ile: cmp = l <= u; break;
			case OP_igt: cmp = l > u; break;
			case OP_ilt: cmp = l < u; break;
			}
			is->sp -= 4;
			if (cmp >= 0) {
				IPUSH(cmp);
			} else {
				IPUSH((uint32_t)r);
				IPUSH((uint32_t)(r >> 32));
			}
			break;
		}
		case OP_ishl: case OP_ishr: case OP_ushr: {
			/* as Phantom: the long value on top, the int count below it */
			IS_NEED(3);
			uint64_t v = (uint64_t)U32(is->cell[is->sp - 1]) << 32 | U32(is->cell[is->sp - 2]);
			uint32_t n = U32(is->cell[is->sp - 3]) & 63;
			uint64_t r = op == OP_ishl ? v << n
				     : op == OP_ushr ? v >> n : (uint64_t)((int64_t)v >> n);
			is->sp -= 3;
			IPUSH((uint32_t)r);
			IPUSH((uint32_t)(r >> 32));
			break;
		}
		case OP_iconst_0: case OP_iconst_1: case OP_iconst_8bit: case OP_iconst_32bit: {
			int32_t v = op == OP_iconst_1;
			if (op == OP_iconst_8bit) {
				NEED(1);
				v = (int8_t)c.code[c.ip++];
			} else if (op == OP_iconst_32bit) {
				NEED(4);
				v = get_i32(c.code + c.ip);
				c.ip += 4;
			}
			IS_ROOM(2);
			IPUSH((uint32_t)v);
			IPUSH(v < 0 ? 0xFFFFFFFFu : 0);
			break;
		}
		case OP_inot:
			IS_NEED(2);
			is->cell[is->sp - 1] = ~is->cell[is->sp - 1];
			is->cell[is->sp - 2] = ~is->cell[is->sp - 2];
			break;
		case OP_is_dup:
			IS_NEED(2);
			IS_ROOM(2);
			IPUSH(is->cell[is->sp - 2]);
			IPUSH(is->cell[is->sp - 2]);
			break;
		case OP_is_drop:
			IS_NEED(2);
			is->sp -= 2;
			break;
		case OP_fromi: {
			IS_NEED(1);
			IS_ROOM(1);
			int32_t v = IPOP();
			IPUSH((uint32_t)v);
			IPUSH(v < 0 ? 0xFFFFFFFFu : 0);
			break;
		}
		case OP_i2o: {
			IS_NEED(2);
			OS_ROOM(1);
			int64_t v = (int64_t)((uint64_t)U32(is->cell[is->sp - 1]) << 32 | U32(is->cell[is->sp - 2]));
			pvm_ref o = pvm_new_long(v);
			if (!o)
				return PVM_STEP_NEED_GC;
			is->sp -= 2;
			OPUSH(o);
			break;
		}
		case OP_o2i: {
			OS_NEED(1);
			IS_ROOM(2);
			pvm_ref o = os->cell[os->sp - 1];
			int64_t v;
			if (!o)
				THROW(PVM_EXC_NULL_POINTER);
			if (o->_class == PVM_ROOT(PVM_ROOT_OBJECT_LONG_CLASS))
				v = PVM_DA(o, data_area_4_long)->value;
			else if (pvm_is_int(o))
				v = PVM_DA(o, data_area_4_int)->value;
			else
				THROW(PVM_EXC_BAD_TYPE);
			(void)OPOP();
			IPUSH((uint32_t)v);
			IPUSH((uint32_t)((uint64_t)v >> 32));
			break;
		}
		case OP_iconst_64bit:
			goto plain;	/* the prefix is redundant here */
		case OP_is_get32: case OP_is_set32: {
			NEED(4);
			int32_t n = get_i32(c.code + c.ip);
			c.ip += 4;
			if (op == OP_is_get32) {
				if (n < 0 || U32(n) + 1 >= is->sp)
					THROW(PVM_EXC_BAD_INDEX);
				IS_ROOM(2);
				IPUSH(is->cell[n]);
				IPUSH(is->cell[n + 1]);
			} else {
				IS_NEED(2);
				if (n < 0 || U32(n) + 1 >= is->sp - 2)
					THROW(PVM_EXC_BAD_INDEX);
				is->cell[n + 1] = IPOP();
				is->cell[n] = IPOP();
			}
			break;
		}
		default:
			goto bad_op;
		}
		c.f->IP = c.ip;
		return PVM_STEP_OK;
	}

plain:
	switch (op) {
	case OP_nop:
		break;
	case OP_debug: {
		/* u8 flags; with bit 7 an inline string follows (a message) */
		NEED(1);
		unsigned flags = c.code[c.ip++];
		if (flags & 0x80) {
			NEED(4);
			int32_t len = get_i32(c.code + c.ip);
			if (len < 0)
				goto bad_ip;
			NEED(4 + (uint32_t)len);
			c.ip += 4 + (uint32_t)len;
		}
		break;
	}

	/* control flow: rel32 targets are relative to the operand's address */
	case OP_djnz: case OP_jz: case OP_jmp: {
		NEED(4);
		uint32_t target = c.ip + (uint32_t)get_i32(c.code + c.ip);
		c.ip += 4;
		int jump = 1;
		if (op == OP_djnz) {
			IS_NEED(1);
			jump = --is->cell[is->sp - 1] != 0;
		} else if (op == OP_jz) {
			IS_NEED(1);
			jump = IPOP() == 0;
		}
		if (jump) {
			if (target > c.size)
				goto bad_ip;
			c.ip = target;
		}
		break;
	}
	case OP_switch: {
		/* pop v; d = (v + shift) / divisor; jump through table entry d,
		 * or past the table when d is out of it (Phantom's switch) */
		NEED(12);
		uint32_t tabsize = U32(get_i32(c.code + c.ip));
		int32_t shift = get_i32(c.code + c.ip + 4);
		int32_t divisor = get_i32(c.code + c.ip + 8);
		c.ip += 12;
		if (tabsize > (c.size - c.ip) / 4)
			goto bad_ip;
		IS_NEED(1);
		if (divisor == 0)
			THROW(PVM_EXC_DIVIDE_BY_ZERO);
		int64_t d = ((int64_t)is->cell[is->sp - 1] + shift) / divisor;
		is->sp--;
		uint32_t table = c.ip;
		c.ip = table + tabsize * 4;
		if (d >= 0 && d < (int64_t)tabsize) {
			uint32_t at = table + (uint32_t)d * 4;
			uint32_t target = at + (uint32_t)get_i32(c.code + at);
			if (target > c.size)
				goto bad_ip;
			c.ip = target;
		}
		break;
	}
	case OP_ret: {
		pvm_ref v = os->sp ? OPOP() : 0;
		pvm_ref prev = c.f->prev;
		if (c.t->stack_depth)
			c.t->stack_depth--;
		if (!prev) {
			c.t->call_frame = 0;
			c.t->state = PVM_THREAD_DONE;
			return PVM_STEP_YIELD;
		}
		struct data_area_4_ostack *pos =
			PVM_DA(PVM_DA(prev, data_area_4_call_frame)->ostack, data_area_4_ostack);
		if (!frame_ok(prev)) {
			pvm_set_panic(PVM_PANIC_CORRUPT, "bad caller frame");
			return PVM_STEP_PANIC;
		}
		c.t->call_frame = prev;
		if (pos->sp >= PVM_OSTACK_CELLS) {
			load_ctx(&c, prev);
			THROW(PVM_EXC_STACK_OVERFLOW);
		}
		pos->cell[pos->sp++] = v;
		return PVM_STEP_OK;
	}

	/* calls */
	case OP_short_call_0: case OP_short_call_1: case OP_short_call_2: case OP_short_call_3: {
		int r = do_call(&c, op - OP_short_call_0, 0, 0, &exc);
		if (exc)
			goto throw_it;
		return r;
	}
	case OP_call_8bit: {
		NEED(5);
		uint32_t ord = c.code[c.ip];
		int32_t n = get_i32(c.code + c.ip + 1);
		c.ip += 5;
		if (n < 0)
			THROW(PVM_EXC_ARG_COUNT);
		int r = do_call(&c, ord, (uint32_t)n, 0, &exc);
		if (exc)
			goto throw_it;
		return r;
	}
	case OP_call_32bit: case OP_static_invoke: {
		NEED(8);
		int32_t ord = get_i32(c.code + c.ip);
		int32_t n = get_i32(c.code + c.ip + 4);
		c.ip += 8;
		if (n < 0 || ord < 0)
			THROW(n < 0 ? PVM_EXC_ARG_COUNT : PVM_EXC_NO_METHOD);
		int r = do_call(&c, (uint32_t)ord, (uint32_t)n, op == OP_static_invoke, &exc);
		if (exc)
			goto throw_it;
		return r;
	}
	case OP_sys_8bit: {
		NEED(1);
		uint32_t n = c.code[c.ip++];
		int r = do_sys(&c, n, &exc);
		if (exc)
			goto throw_it;
		return r;
	}

	/* stack ops */
	case OP_is_dup:
		IS_NEED(1);
		IS_ROOM(1);
		IPUSH(is->cell[is->sp - 1]);
		break;
	case OP_is_drop:
		IS_NEED(1);
		is->sp--;
		break;
	case OP_os_dup:
		OS_NEED(1);
		OS_ROOM(1);
		OPUSH(os->cell[os->sp - 1]);
		break;
	case OP_os_drop:
		OS_NEED(1);
		(void)OPOP();
		break;
	case OP_os_pull32: {
		NEED(4);
		int32_t n = get_i32(c.code + c.ip);
		c.ip += 4;
		if (n < 0 || U32(n) >= os->sp)
			THROW(PVM_EXC_BAD_INDEX);
		OS_ROOM(1);
		OPUSH(os->cell[os->sp - 1 - U32(n)]);
		break;
	}

	/* fields of this */
	case OP_os_load8: case OP_os_save8: case OP_os_load32: case OP_os_save32:
	case OP_is_load8: case OP_is_save8: {
		uint32_t n;
		if (op == OP_os_load32 || op == OP_os_save32) {
			NEED(4);
			n = U32(get_i32(c.code + c.ip));
			c.ip += 4;
		} else {
			NEED(1);
			n = c.code[c.ip++];
		}
		pvm_ref me = c.f->this_object;
		if (!me)
			THROW(PVM_EXC_NULL_POINTER);
		if (n >= pvm_slot_count(me) || pvm_instance_ref_slots(me) != pvm_slot_count(me))
			THROW(PVM_EXC_BAD_INDEX);
		pvm_ref *slot = &pvm_slots(me)[n];
		switch (op) {
		case OP_os_load8: case OP_os_load32:
			OS_ROOM(1);
			OPUSH(*slot);
			break;
		case OP_os_save8: case OP_os_save32:
			OS_NEED(1);
			*slot = OPOP();
			break;
		case OP_is_load8:
			IS_ROOM(1);
			if (*slot && !pvm_is_int(*slot))
				THROW(PVM_EXC_BAD_TYPE);
			IPUSH(*slot ? PVM_DA(*slot, data_area_4_int)->value : 0);
			break;
		case OP_is_save8: {
			IS_NEED(1);
			pvm_ref o = pvm_new_int(is->cell[is->sp - 1]);
			if (!o)
				return PVM_STEP_NEED_GC;
			is->sp--;
			*slot = o;
			break;
		}
		}
		break;
	}

	/* locals: absolute slots of this frame's stacks */
	case OP_os_get32: case OP_os_set32: case OP_is_get32: case OP_is_set32: {
		NEED(4);
		int32_t n = get_i32(c.code + c.ip);
		c.ip += 4;
		if (n < 0)
			THROW(PVM_EXC_BAD_INDEX);
		if (op == OP_os_get32) {
			if (U32(n) >= os->sp)
				THROW(PVM_EXC_BAD_INDEX);
			OS_ROOM(1);
			OPUSH(os->cell[n]);
		} else if (op == OP_os_set32) {
			OS_NEED(1);
			if (U32(n) >= os->sp - 1)
				THROW(PVM_EXC_BAD_INDEX);
			pvm_ref v = OPOP();
			os->cell[n] = v;
		} else if (op == OP_is_get32) {
			if (U32(n) >= is->sp)
				THROW(PVM_EXC_BAD_INDEX);
			IS_ROOM(1);
			IPUSH(is->cell[n]);
		} else {
			IS_NEED(1);
			if (U32(n) >= is->sp - 1)
				THROW(PVM_EXC_BAD_INDEX);
			int32_t v = IPOP();
			is->cell[n] = v;
		}
		break;
	}
	case OP_stack_reserve: {
		NEED(2);
		uint32_t no = c.code[c.ip], ni = c.code[c.ip + 1];
		c.ip += 2;
		OS_ROOM(no);
		IS_ROOM(ni);
		for (uint32_t i = 0; i < no; i++)
			OPUSH((pvm_ref)0);
		for (uint32_t i = 0; i < ni; i++)
			IPUSH(0);
		break;
	}
	case OP_arg_count: {
		NEED(1);
		uint32_t want = c.code[c.ip++];
		IS_NEED(1);
		if (U32(IPOP()) != want)
			THROW(PVM_EXC_ARG_COUNT);
		break;
	}

	/* objects */
	case OP_new: {
		OS_NEED(1);
		pvm_ref cls = os->cell[os->sp - 1];
		if (!pvm_is_class(cls))
			THROW(cls ? PVM_EXC_BAD_TYPE : PVM_EXC_NULL_POINTER);
		struct data_area_4_class *cd = PVM_DA(cls, data_area_4_class);
		pvm_ref o;
		if (cd->sys_table_id == ~0u)
			o = pvm_new_object(cls, cd->object_data_area_size);
		else if (cls == PVM_ROOT(PVM_ROOT_OBJECT_ARRAY_CLASS))
			o = pvm_new_array(0);
		else if (cls == PVM_ROOT(PVM_ROOT_OBJECT_STRING_CLASS))
			o = pvm_new_string("", 0);
		else if (cls == PVM_ROOT(PVM_ROOT_OBJECT_INT_CLASS))
			o = pvm_new_int(0);
		else if (cls == PVM_ROOT(PVM_ROOT_OBJECT_NULL_CLASS))
			o = pvm_new_object(cls, 0);
		else
			THROW(PVM_EXC_BAD_TYPE);
		if (!o)
			return PVM_STEP_NEED_GC;
		os->cell[os->sp - 1] = o;
		break;
	}

	case OP_copy: {
		OS_NEED(1);
		pvm_ref o = os->cell[os->sp - 1];
		if (!o)
			THROW(PVM_EXC_NULL_POINTER);
		int bad = 0;
		pvm_ref n = copy_object(o, &bad);
		if (bad)
			THROW(PVM_EXC_BAD_TYPE);
		if (!n)
			return PVM_STEP_NEED_GC;
		os->cell[os->sp - 1] = n;
		break;
	}
	case OP_cast: {
		/* pop class; the object below stays if it is an instance (or null) */
		OS_NEED(2);
		pvm_ref cls = os->cell[os->sp - 1], o = os->cell[os->sp - 2];
		if (!pvm_is_class(cls) || (o && !pvm_instance_of(o, cls)))
			THROW(PVM_EXC_BAD_TYPE);
		(void)OPOP();
		break;
	}
	case OP_general_lock: case OP_general_unlock:
		/* as Phantom (where they are TODO): pop the monitor object.
		 * Threads switch only between instructions, round-robin. */
		OS_NEED(1);
		(void)OPOP();
		break;
	case OP_dynamic_invoke: {
		int r = do_dynamic_call(&c, &exc);
		if (exc)
			goto throw_it;
		return r;
	}

	/* constants */
	case OP_iconst_0:
	case OP_iconst_1:
		IS_ROOM(1);
		IPUSH(op - OP_iconst_0);
		break;
	case OP_iconst_8bit:
		NEED(1);
		IS_ROOM(1);
		IPUSH((int8_t)c.code[c.ip]);
		c.ip++;
		break;
	case OP_iconst_32bit:
		NEED(4);
		IS_ROOM(1);
		IPUSH(get_i32(c.code + c.ip));
		c.ip += 4;
		break;
	case OP_iconst_64bit:
		NEED(8);
		IS_ROOM(2);
		IPUSH(get_i32(c.code + c.ip + 4));	/* low word first, high word on top */
		IPUSH(get_i32(c.code + c.ip));
		c.ip += 8;
		break;
	case OP_sconst_bin: case OP_summon_by_name: {
		NEED(4);
		int32_t len = get_i32(c.code + c.ip);
		if (len < 0)
			goto bad_ip;
		NEED(4 + (uint32_t)len);
		OS_ROOM(1);
		const unsigned char *s = c.code + c.ip + 4;
		pvm_ref o;
		if (op == OP_sconst_bin) {
			o = pvm_new_string(s, (uint32_t)len);
			if (!o)
				return PVM_STEP_NEED_GC;
		} else {
			o = pvm_find_class((const char *)s, (uint32_t)len);
			if (!o)
				THROW(PVM_EXC_NO_METHOD);
		}
		c.ip += 4 + (uint32_t)len;
		OPUSH(o);
		break;
	}

	/* exceptions */
	case OP_push_catcher: {
		NEED(4);
		uint32_t target = c.ip + (uint32_t)get_i32(c.code + c.ip);
		c.ip += 4;
		OS_NEED(1);
		pvm_ref cls = os->cell[os->sp - 1];
		if (cls && !pvm_is_class(cls))
			THROW(PVM_EXC_BAD_TYPE);
		if (c.es->sp >= PVM_ESTACK_CELLS)
			THROW(PVM_EXC_STACK_OVERFLOW);
		if (target > c.size)
			goto bad_ip;
		(void)OPOP();
		c.es->catch_class[c.es->sp] = cls;
		c.es->handler[c.es->sp] = target;
		c.es->sp++;
		break;
	}
	case OP_pop_catcher:
		if (!c.es->sp)
			THROW(PVM_EXC_STACK_UNDERFLOW);
		c.es->sp--;
		c.es->catch_class[c.es->sp] = 0;
		break;
	case OP_throw: {
		OS_NEED(1);
		pvm_ref o = OPOP();
		exc = o ? o : pvm_exception(PVM_EXC_NULL_POINTER);
		goto throw_it;
	}

	/* summon */
	case OP_summon_thread: case OP_summon_this: case OP_summon_null:
	case OP_summon_class_class: case OP_summon_int_class: case OP_summon_string_class:
	case OP_summon_interface_class: case OP_summon_code_class: case OP_summon_array_class: {
		OS_ROOM(1);
		pvm_ref o = 0;
		switch (op) {
		case OP_summon_thread: o = thread; break;
		case OP_summon_this: o = c.f->this_object; break;
		case OP_summon_null: o = 0; break;
		case OP_summon_class_class: o = PVM_ROOT(PVM_ROOT_OBJECT_CLASS_CLASS); break;
		case OP_summon_int_class: o = PVM_ROOT(PVM_ROOT_OBJECT_INT_CLASS); break;
		case OP_summon_string_class: o = PVM_ROOT(PVM_ROOT_OBJECT_STRING_CLASS); break;
		case OP_summon_interface_class: o = PVM_ROOT(PVM_ROOT_OBJECT_INTERFACE_CLASS); break;
		case OP_summon_code_class: o = PVM_ROOT(PVM_ROOT_OBJECT_CODE_CLASS); break;
		case OP_summon_array_class: o = PVM_ROOT(PVM_ROOT_OBJECT_ARRAY_CLASS); break;
		}
		OPUSH(o);
		break;
	}

	/* box/unbox */
	case OP_i2o: {
		IS_NEED(1);
		OS_ROOM(1);
		pvm_ref o = pvm_new_int(is->cell[is->sp - 1]);
		if (!o)
			return PVM_STEP_NEED_GC;
		is->sp--;
		OPUSH(o);
		break;
	}
	case OP_o2i: {
		OS_NEED(1);
		IS_ROOM(1);
		pvm_ref o = os->cell[os->sp - 1];
		if (!o)
			THROW(PVM_EXC_NULL_POINTER);
		if (!pvm_is_int(o))
			THROW(PVM_EXC_BAD_TYPE);
		(void)OPOP();
		IPUSH(PVM_DA(o, data_area_4_int)->value);
		break;
	}
	case OP_froml: {
		IS_NEED(2);
		is->sp--;	/* drop the high word */
		break;
	}
	case OP_fromi:
		break;	/* int to int */

	/* integer arithmetic, two operands: u = top, l = below */
	case OP_isum: case OP_imul: case OP_isubul: case OP_isublu: case OP_idivul: case OP_idivlu:
	case OP_ior: case OP_iand: case OP_ixor: case OP_log_or: case OP_log_and: case OP_log_xor:
	case OP_ige: case OP_ile: case OP_igt: case OP_ilt: case OP_iremul: case OP_iremlu:
	case OP_ishl: case OP_ishr: case OP_ushr: {
		IS_NEED(2);
		int32_t u = is->cell[is->sp - 1], l = is->cell[is->sp - 2];
		uint32_t r = 0;
		switch (op) {
		case OP_isum: r = U32(l) + U32(u); break;
		case OP_imul: r = U32(l) * U32(u); break;
		case OP_isubul: r = U32(u) - U32(l); break;
		case OP_isublu: r = U32(l) - U32(u); break;
		case OP_idivul: case OP_iremul:
			if (!l) THROW(PVM_EXC_DIVIDE_BY_ZERO);
			if (l == -1) r = op == OP_idivul ? 0u - U32(u) : 0;
			else r = U32(op == OP_idivul ? u / l : u % l);
			break;
		case OP_idivlu: case OP_iremlu:
			if (!u) THROW(PVM_EXC_DIVIDE_BY_ZERO);
			if (u == -1) r = op == OP_idivlu ? 0u - U32(l) : 0;
			else r = U32(op == OP_idivlu ? l / u : l % u);
			break;
		case OP_ior: r = U32(l) | U32(u); break;
		case OP_iand: r = U32(l) & U32(u); break;
		case OP_ixor: r = U32(l) ^ U32(u); break;
		case OP_log_or: r = (l != 0) || (u != 0); break;
		case OP_log_and: r = (l != 0) && (u != 0); break;
		case OP_log_xor: r = (l != 0) != (u != 0); break;
		case OP_ige: r = l >= u; break;
		case OP_ile: r = l <= u; break;
		case OP_igt: r = l > u; break;
		case OP_ilt: r = l < u; break;
		/* as Phantom: the value on top, the shift count below it */
		case OP_ishl: r = U32(u) << (U32(l) & 31); break;
		case OP_ishr: r = U32(u >> (U32(l) & 31)); break;
		case OP_ushr: r = U32(u) >> (U32(l) & 31); break;
		}
		is->sp -= 2;
		IPUSH(r);
		break;
	}
	case OP_inot:
		IS_NEED(1);
		is->cell[is->sp - 1] = ~is->cell[is->sp - 1];
		break;
	case OP_log_not:
		IS_NEED(1);
		is->cell[is->sp - 1] = is->cell[is->sp - 1] == 0;
		break;

	/* object comparison */
	case OP_os_eq: case OP_os_neq: {
		OS_NEED(2);
		IS_ROOM(1);
		pvm_ref u = OPOP(), l = OPOP();
		IPUSH(op == OP_os_eq ? u == l : u != l);
		break;
	}
	case OP_os_isnull: {
		OS_NEED(1);
		IS_ROOM(1);
		pvm_ref o = OPOP();
		IPUSH(o == 0);
		break;
	}

	default:
		if (op >= 0xA0 && op <= 0xBF) {	/* call_00..call_1F */
			NEED(1);
			uint32_t n = c.code[c.ip++];
			int r = do_call(&c, op & 0x1F, n, 0, &exc);
			if (exc)
				goto throw_it;
			return r;
		}
		goto bad_op;
	}
	c.f->IP = c.ip;
	return PVM_STEP_OK;

throw_it:
	return do_throw(&c, exc);
bad_ip:
	pvm_set_panic(PVM_PANIC_BAD_IP, "IP outside the code object");
	return PVM_STEP_PANIC;
bad_op:
	pvm_set_panic(PVM_PANIC_BAD_OPCODE, "bad opcode");
	return PVM_STEP_PANIC;
}
