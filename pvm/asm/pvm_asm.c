/* pvm/asm/pvm_asm.c: pvm-asm, the PVM assembler (a host tool).
 *
 * Turns .pvs assembly into class images in the record format of
 * pvm/vm/loader.c.  Example:
 *
 *     const STEP 1
 *     class Counter
 *       field count
 *       method run 8 (boot)
 *         ivar n
 *       loop:
 *         load count
 *         o2i
 *         ipush STEP
 *         isum
 *         i2o
 *         store count
 *         jmp loop
 *       end
 *     end
 *
 *     pvm-asm -o counter.pvi counter.pvs
 *     pvm-asm --emit-c images.c [--symbol pvm_images] a.pvs b.pvs ...
 *     pvm-asm --disasm counter.pvi
 *
 * Every opcode mnemonic comes from pvm/vm/opcodes.def; docs/pvm.md lists
 * the pseudo-instructions (load/store/get/set/ipush/spush/call/sys/new X).
 * Errors are reported as FILE:LINE: error: MESSAGE, and the exit status is
 * 1 on any error (2 on bad usage or unreadable files).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum kind { NONE, U8, I8, I32, REL32, U8U8, U8I32, I32I32, STR, I64, CALLN, SWITCH };

struct opinfo {
	const char *name;
	int code;
	enum kind kind;
};

static const struct opinfo ops[] = {
#define PVM_OP(name, code, kind) { #name, code, kind },
#include "pvm/vm/opcodes.def"
#undef PVM_OP
};
#define N_OPS (sizeof ops / sizeof ops[0])

/* A one-shot tool: everything it allocates lives until exit, on purpose.
 * Tell LeakSanitizer (sanitizer builds) not to report that. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* --- diagnostics ----------------------------------------------------- */

static int n_errors;

static void error_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%d: error: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	n_errors++;
}

static void *xmalloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p) {
		fprintf(stderr, "pvm-asm: out of memory\n");
		exit(2);
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p) {
		fprintf(stderr, "pvm-asm: out of memory\n");
		exit(2);
	}
	return p;
}

static char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	return d;
}

#define PUSH(arr, n, cap, v) do { \
	if ((n) == (cap)) { (cap) = (cap) ? (cap) * 2 : 8; (arr) = xrealloc((arr), (cap) * sizeof *(arr)); } \
	(arr)[(n)++] = (v); } while (0)

/* --- tokens ------------------------------------------------------------ */

enum tkind { T_ID, T_NUM, T_STR, T_PUNCT };

struct tok {
	enum tkind k;
	char *s;		/* identifier, string bytes, or punctuation */
	size_t len;		/* string length */
	int64_t num;
};

struct line {
	const char *file;
	int no;
	struct tok *t;
	int n;
};

static int tokenize(const char *file, int no, const char *p, struct line *out)
{
	int cap = 0;
	out->file = file;
	out->no = no;
	out->t = NULL;
	out->n = 0;
	while (*p) {
		if (isspace((unsigned char)*p)) {
			p++;
			continue;
		}
		if (*p == ';' || *p == '#')
			break;
		struct tok t = { 0 };
		if (*p == '"') {
			char *buf = xmalloc(strlen(p) + 1);
			size_t n = 0;
			p++;
			while (*p && *p != '"') {
				char ch = *p++;
				if (ch == '\\') {
					ch = *p++;
					switch (ch) {
					case 'n': ch = '\n'; break;
					case 't': ch = '\t'; break;
					case '0': ch = 0; break;
					case '\\': case '"': break;
					case 'x': {
						char hex[3] = { 0 };
						if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1])) {
							error_at(file, no, "bad \\x escape in string");
							free(buf);
							return -1;
						}
						hex[0] = p[0];
						hex[1] = p[1];
						p += 2;
						ch = (char)strtol(hex, NULL, 16);
						break;
					}
					default:
						error_at(file, no, "unknown escape '\\%c' in string", ch ? ch : '0');
						free(buf);
						return -1;
					}
				}
				buf[n++] = ch;
			}
			if (*p != '"') {
				error_at(file, no, "unterminated string");
				free(buf);
				return -1;
			}
			p++;
			t.k = T_STR;
			t.s = buf;
			t.len = n;
		} else if (isdigit((unsigned char)*p) || (*p == '-' && isdigit((unsigned char)p[1]))) {
			char *end;
			errno = 0;
			long long v = strtoll(p, &end, 0);
			if (errno || (isalnum((unsigned char)*end) || *end == '_')) {
				/* allow full-range unsigned hex like 0xFFFFFFFFFFFFFFFF */
				errno = 0;
				unsigned long long uv = strtoull(p, &end, 0);
				if (errno || isalnum((unsigned char)*end) || *end == '_') {
					error_at(file, no, "bad number '%.*s'", (int)strcspn(p, " \t,()"), p);
					return -1;
				}
				v = (long long)uv;
			}
			t.k = T_NUM;
			t.num = v;
			t.s = xstrndup(p, (size_t)(end - p));
			p = end;
		} else if (isalpha((unsigned char)*p) || *p == '_' || *p == '.' || *p == '$') {
			const char *s = p;
			while (isalnum((unsigned char)*p) || *p == '_' || *p == '.' || *p == '$')
				p++;
			t.k = T_ID;
			t.s = xstrndup(s, (size_t)(p - s));
		} else if (strchr(":(),", *p)) {
			t.k = T_PUNCT;
			t.s = xstrndup(p, 1);
			p++;
		} else {
			error_at(file, no, "unexpected character '%c'", *p);
			return -1;
		}
		PUSH(out->t, out->n, cap, t);
	}
	return 0;
}

/* --- program structure -------------------------------------------------- */

struct var {
	char *name;
	char kind;		/* 'o' object stack, 'i' int stack */
	int slot;
};

struct method {
	char *name;
	int ordinal;
	const char *file;
	int line;
	int nargs, novars, nivars;
	struct var *vars;
	int nvars, capvars;
	struct line *body;
	int nbody, capbody;
};

struct class {
	char *name;
	char *parent_name;
	struct class *parent;
	const char *file;
	int file_index;
	int line;
	char **fields;		/* own fields */
	int nfields, capfields;
	struct method *methods;
	int nmethods, capmethods;
};

struct cnst {
	char *name;
	int64_t v;
};

static struct class *classes;
static int nclasses, capclasses;
static struct cnst *consts;
static int nconsts, capconsts;

static struct class *find_class(const char *name)
{
	for (int i = 0; i < nclasses; i++)
		if (!strcmp(classes[i].name, name))
			return &classes[i];
	return NULL;
}

static int total_fields(const struct class *c)
{
	int n = 0;
	for (int depth = 0; c && depth < 64; depth++, c = c->parent)
		n += c->nfields;
	return n;
}

/* Field index of name in c (inherited fields first), or -1. */
static int field_index(const struct class *c, const char *name)
{
	if (!c)
		return -1;
	int base = total_fields(c) - c->nfields;
	for (int i = 0; i < c->nfields; i++)
		if (!strcmp(c->fields[i], name))
			return base + i;
	return field_index(c->parent, name);
}

static const char *field_name_at(const struct class *c, int idx)
{
	int base = total_fields(c) - c->nfields;
	if (idx >= base)
		return c->fields[idx - base];
	return field_name_at(c->parent, idx);
}

static int method_ordinal(const struct class *c, const char *name)
{
	for (int depth = 0; c && depth < 64; depth++, c = c->parent)
		for (int i = 0; i < c->nmethods; i++)
			if (!strcmp(c->methods[i].name, name))
				return c->methods[i].ordinal;
	return -1;
}

static int vtable_size(const struct class *c)
{
	int n = 0;
	for (int depth = 0; c && depth < 64; depth++, c = c->parent)
		for (int i = 0; i < c->nmethods; i++)
			if (c->methods[i].ordinal + 1 > n)
				n = c->methods[i].ordinal + 1;
	return n;
}

static int find_const(const char *name, int64_t *v)
{
	for (int i = 0; i < nconsts; i++)
		if (!strcmp(consts[i].name, name)) {
			*v = consts[i].v;
			return 1;
		}
	return 0;
}

static int is_ident(const struct tok *t)
{
	return t->k == T_ID;
}

/* --- pass 1: structure ----------------------------------------------------- */

static int parse_number_or_const(const struct line *l, const struct tok *t, int64_t *v)
{
	if (t->k == T_NUM) {
		*v = t->num;
		return 0;
	}
	if (t->k == T_ID && find_const(t->s, v))
		return 0;
	error_at(l->file, l->no, "expected a number or constant, got '%s'", t->s);
	return -1;
}

static void parse_segment(const char *file, int no, char *src, struct class **clsp, struct method **mp);
static int cur_file_index;

static void parse_file(const char *file, int file_index, char *text)
{
	cur_file_index = file_index;
	struct class *cls = NULL;
	struct method *m = NULL;
	int no = 0;
	char *save = text;
	while (save && *save) {
		char *nl = strchr(save, '\n');
		if (nl)
			*nl = 0;
		char *src = save;
		save = nl ? nl + 1 : NULL;
		no++;
		/* cut the comment off and split at '|' (both outside strings) */
		int in_str = 0;
		for (char *q = src; *q; q++) {
			if (in_str) {
				if (*q == '\\' && q[1])
					q++;
				else if (*q == '"')
					in_str = 0;
			} else if (*q == '"') {
				in_str = 1;
			} else if (*q == ';' || *q == '#') {
				*q = 0;
				break;
			} else if (*q == '|') {
				*q = '\n';	/* segment mark */
			}
		}
		char *seg = src;
		while (seg) {
			char *bar = strchr(seg, '\n');
			if (bar)
				*bar = 0;
			parse_segment(file, no, seg, &cls, &m);
			seg = bar ? bar + 1 : NULL;
		}
	}
	if (m)
		error_at(file, no, "end of file inside method %s of line %d (missing 'end')", m->name, m->line);
	if (cls)
		error_at(file, no, "end of file inside class %s of line %d (missing 'end')", cls->name, cls->line);
}

/* One instruction or directive (a line, or a '|'-separated part of one). */
static void parse_segment(const char *file, int no, char *src, struct class **clsp, struct method **mp)
{
	struct class *cls = *clsp;
	struct method *m = *mp;
	{
		struct line l;
		if (tokenize(file, no, src, &l) < 0 || l.n == 0)
			return;
		struct tok *t = l.t;
		const char *kw = t[0].k == T_ID ? t[0].s : "";
		if (m) {
			if (!strcmp(kw, "end") && l.n == 1) {
				m = NULL;
				goto out;
			}
			if (!strcmp(kw, "ovar") || !strcmp(kw, "ivar")) {
				if (m->nbody) {
					error_at(file, no, "'%s' must come before the first instruction of method %s",
						 kw, m->name);
					goto out;
				}
				for (int i = 1; i < l.n; i++) {
					if (t[i].k == T_PUNCT && !strcmp(t[i].s, ","))
						continue;
					if (!is_ident(&t[i])) {
						error_at(file, no, "expected a variable name, got '%s'", t[i].s);
						break;
					}
					for (int j = 0; j < m->nvars; j++)
						if (!strcmp(m->vars[j].name, t[i].s))
							error_at(file, no, "variable '%s' declared twice", t[i].s);
					struct var v = { t[i].s, kw[0], 0 };
					v.slot = kw[0] == 'o' ? m->nargs + m->novars++ : m->nivars++;
					PUSH(m->vars, m->nvars, m->capvars, v);
				}
				goto out;
			}
			PUSH(m->body, m->nbody, m->capbody, l);
			goto out;
		}
		if (!strcmp(kw, "const")) {
			int64_t v;
			if (l.n != 3 || !is_ident(&t[1])) {
				error_at(file, no, "usage: const NAME VALUE");
				goto out;
			}
			if (parse_number_or_const(&l, &t[2], &v) < 0)
				goto out;
			int64_t old;
			if (find_const(t[1].s, &old)) {
				error_at(file, no, "constant '%s' defined twice", t[1].s);
				goto out;
			}
			struct cnst c = { t[1].s, v };
			PUSH(consts, nconsts, capconsts, c);
			goto out;
		}
		if (!strcmp(kw, "class")) {
			if (cls) {
				error_at(file, no, "class %s inside class %s (missing 'end'?)",
					 l.n > 1 ? t[1].s : "?", cls->name);
				goto out;
			}
			if (l.n < 2 || !is_ident(&t[1]) ||
			    !(l.n == 2 || (l.n == 4 && t[2].k != T_NUM && (!strcmp(t[2].s, ":") || !strcmp(t[2].s, "extends")) && is_ident(&t[3])))) {
				error_at(file, no, "usage: class NAME [: PARENT]");
				goto out;
			}
			if (find_class(t[1].s)) {
				error_at(file, no, "class '%s' defined twice", t[1].s);
				goto out;
			}
			struct class c = { 0 };
			c.name = t[1].s;
			c.parent_name = l.n == 4 ? t[3].s : NULL;
			c.file = file;
			c.file_index = cur_file_index;
			c.line = no;
			PUSH(classes, nclasses, capclasses, c);
			cls = &classes[nclasses - 1];
			goto out;
		}
		if (!cls) {
			error_at(file, no, "'%s' outside a class", t[0].s);
			goto out;
		}
		if (!strcmp(kw, "end") && l.n == 1) {
			cls = NULL;
			goto out;
		}
		if (!strcmp(kw, "field")) {
			if (l.n < 2)
				error_at(file, no, "usage: field NAME [NAME...]");
			for (int i = 1; i < l.n; i++) {
				if (t[i].k == T_PUNCT && !strcmp(t[i].s, ","))
					continue;
				if (!is_ident(&t[i])) {
					error_at(file, no, "expected a field name, got '%s'", t[i].s);
					break;
				}
				for (int j = 0; j < cls->nfields; j++)
					if (!strcmp(cls->fields[j], t[i].s))
						error_at(file, no, "field '%s' declared twice", t[i].s);
				PUSH(cls->fields, cls->nfields, cls->capfields, t[i].s);
			}
			goto out;
		}
		if (!strcmp(kw, "method")) {
			int64_t ord;
			if (l.n < 3 || !is_ident(&t[1])) {
				error_at(file, no, "usage: method NAME ORDINAL [(ARG, ...)]");
				goto out;
			}
			if (parse_number_or_const(&l, &t[2], &ord) < 0)
				goto out;
			if (ord < 0 || ord > 65535) {
				error_at(file, no, "method ordinal %lld out of range 0..65535", (long long)ord);
				goto out;
			}
			for (int j = 0; j < cls->nmethods; j++)
				if (cls->methods[j].ordinal == ord || !strcmp(cls->methods[j].name, t[1].s))
					error_at(file, no, "method '%s' (ordinal %lld) clashes with '%s' at line %d",
						 t[1].s, (long long)ord, cls->methods[j].name, cls->methods[j].line);
			struct method nm = { 0 };
			nm.name = t[1].s;
			nm.ordinal = (int)ord;
			nm.file = file;
			nm.line = no;
			if (l.n > 3) {
				if (t[3].k != T_PUNCT || strcmp(t[3].s, "(") || t[l.n - 1].k != T_PUNCT ||
				    strcmp(t[l.n - 1].s, ")")) {
					error_at(file, no, "method arguments must be written (a, b, ...)");
					goto out;
				}
				for (int i = 4; i < l.n - 1; i++) {
					if (t[i].k == T_PUNCT && !strcmp(t[i].s, ","))
						continue;
					if (!is_ident(&t[i])) {
						error_at(file, no, "expected an argument name, got '%s'", t[i].s);
						break;
					}
					struct var v = { t[i].s, 'o', nm.nargs++ };
					PUSH(nm.vars, nm.nvars, nm.capvars, v);
				}
			}
			PUSH(cls->methods, cls->nmethods, cls->capmethods, nm);
			m = &cls->methods[cls->nmethods - 1];
			goto out;
		}
		error_at(file, no, "unknown directive '%s' (expected field, method or end)", t[0].s);
	}
out:
	*clsp = cls;
	*mp = m;
}

static void link_classes(void)
{
	for (int i = 0; i < nclasses; i++) {
		struct class *c = &classes[i];
		if (!c->parent_name)
			continue;
		c->parent = find_class(c->parent_name);
		if (!c->parent) {
			if (c->parent_name[0] != '.')
				error_at(c->file, c->line, "unknown parent class '%s'", c->parent_name);
			continue;	/* internal classes: the loader resolves them */
		}
		if (c->parent >= c) {
			error_at(c->file, c->line, "parent class '%s' must be defined before '%s'",
				 c->parent_name, c->name);
			c->parent = NULL;
		}
	}
}

/* --- pass 2: encoding --------------------------------------------------------- */

struct buf {
	unsigned char *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *src, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->n, src, n);
	b->n += n;
}

static void put8(struct buf *b, unsigned v)
{
	unsigned char c = (unsigned char)v;
	put(b, &c, 1);
}

static void put32(struct buf *b, uint32_t v)
{
	unsigned char c[4] = { v >> 24, v >> 16, v >> 8, v };
	put(b, c, 4);
}

static void put64(struct buf *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b, (uint32_t)v);
}

static void putstr(struct buf *b, const char *s, size_t n)
{
	put32(b, (uint32_t)n);
	put(b, s, n);
}

static void patch32(struct buf *b, size_t at, uint32_t v)
{
	b->p[at] = v >> 24;
	b->p[at + 1] = v >> 16;
	b->p[at + 2] = v >> 8;
	b->p[at + 3] = v;
}

struct label {
	char *name;
	size_t at;
	int line;
};

struct fixup {
	char *name;
	size_t at;
	const struct line *l;
};

struct enc {
	const struct class *cls;
	const struct method *m;
	struct buf code;
	struct label *labels;
	int nlabels, caplabels;
	struct fixup *fix;
	int nfix, capfix;
	uint32_t *lines;	/* (ip, line) pairs */
	int nlines, caplines;
};

static const struct opinfo *find_op(const char *name)
{
	for (size_t i = 0; i < N_OPS; i++)
		if (!strcmp(ops[i].name, name))
			return &ops[i];
	return NULL;
}

static const struct var *find_var(const struct method *m, const char *name)
{
	for (int i = 0; i < m->nvars; i++)
		if (!strcmp(m->vars[i].name, name))
			return &m->vars[i];
	return NULL;
}

/* What names an integer operand may use, beyond numbers and constants. */
enum ns { NS_PLAIN, NS_FIELD, NS_OVAR, NS_IVAR, NS_METHOD };

static int value(struct enc *e, const struct line *l, const struct tok *t, enum ns ns, int64_t *v)
{
	if (t->k == T_NUM) {
		*v = t->num;
		return 0;
	}
	if (t->k != T_ID) {
		error_at(l->file, l->no, "expected a value, got '%s'", t->s);
		return -1;
	}
	if (find_const(t->s, v))
		return 0;
	if (ns == NS_FIELD) {
		int i = field_index(e->cls, t->s);
		if (i >= 0) {
			*v = i;
			return 0;
		}
		error_at(l->file, l->no, "class %s has no field '%s'", e->cls->name, t->s);
		return -1;
	}
	if (ns == NS_OVAR || ns == NS_IVAR) {
		const struct var *var = find_var(e->m, t->s);
		if (var && var->kind == (ns == NS_OVAR ? 'o' : 'i')) {
			*v = var->slot;
			return 0;
		}
		error_at(l->file, l->no, var ? "'%s' is not an %s variable" : "unknown variable '%s'%s",
			 t->s, var ? (ns == NS_OVAR ? "object" : "int") : "");
		return -1;
	}
	if (ns == NS_METHOD) {
		const char *dot = strrchr(t->s, '.');
		if (dot && dot != t->s) {
			char *cname = xstrndup(t->s, (size_t)(dot - t->s));
			const struct class *c = find_class(cname);
			free(cname);
			if (!c) {
				error_at(l->file, l->no, "unknown class in '%s'", t->s);
				return -1;
			}
			int o = method_ordinal(c, dot + 1);
			if (o < 0) {
				error_at(l->file, l->no, "class %s has no method '%s'", c->name, dot + 1);
				return -1;
			}
			*v = o;
			return 0;
		}
		int o = method_ordinal(e->cls, t->s);
		if (o >= 0) {
			*v = o;
			return 0;
		}
	}
	error_at(l->file, l->no, "unknown name '%s'", t->s);
	return -1;
}

static int range(const struct line *l, int64_t v, int64_t lo, int64_t hi, const char *what)
{
	if (v < lo || v > hi) {
		error_at(l->file, l->no, "%s %lld out of range %lld..%lld", what, (long long)v,
			 (long long)lo, (long long)hi);
		return -1;
	}
	return 0;
}

static void emit_call(struct enc *e, const struct line *l, int64_t ord, int64_t nargs)
{
	if (range(l, ord, 0, INT32_MAX, "method ordinal") < 0 || range(l, nargs, 0, 255, "argument count") < 0)
		return;
	if (nargs == 0 && ord <= 3) {
		put8(&e->code, 0x09 + (unsigned)ord);
	} else if (ord <= 0x1F) {
		put8(&e->code, 0xA0 + (unsigned)ord);
		put8(&e->code, (unsigned)nargs);
	} else if (ord <= 255) {
		put8(&e->code, 0x0D);
		put8(&e->code, (unsigned)ord);
		put32(&e->code, (uint32_t)nargs);
	} else {
		put8(&e->code, 0x0E);
		put32(&e->code, (uint32_t)ord);
		put32(&e->code, (uint32_t)nargs);
	}
}

static void emit_ipush(struct enc *e, int64_t v)
{
	if (v == 0 || v == 1) {
		put8(&e->code, 0x20 + (unsigned)v);
	} else if (v >= -128 && v <= 127) {
		put8(&e->code, 0x22);
		put8(&e->code, (unsigned)(v & 0xFF));
	} else {
		put8(&e->code, 0x23);
		put32(&e->code, (uint32_t)v);
	}
}

static int want_args(const struct line *l, int n)
{
	if (l->n - 1 != n) {
		error_at(l->file, l->no, "'%s' takes %d operand%s, got %d", l->t[0].s, n, n == 1 ? "" : "s",
			 l->n - 1);
		return -1;
	}
	return 0;
}

static enum ns ns_for(const char *op)
{
	if (!strcmp(op, "os_load8") || !strcmp(op, "os_save8") || !strcmp(op, "os_load32") ||
	    !strcmp(op, "os_save32") || !strcmp(op, "is_load8") || !strcmp(op, "is_save8"))
		return NS_FIELD;
	if (!strcmp(op, "os_get32") || !strcmp(op, "os_set32"))
		return NS_OVAR;
	if (!strcmp(op, "is_get32") || !strcmp(op, "is_set32"))
		return NS_IVAR;
	return NS_PLAIN;
}

static void add_fixup(struct enc *e, const struct line *l, const struct tok *t)
{
	if (t->k != T_ID) {
		error_at(l->file, l->no, "expected a label, got '%s'", t->s);
		put32(&e->code, 0);
		return;
	}
	struct fixup f = { t->s, e->code.n, l };
	PUSH(e->fix, e->nfix, e->capfix, f);
	put32(&e->code, 0);
}

static void encode_line(struct enc *e, const struct line *l)
{
	const struct tok *t = l->t;
	int64_t a, b;
	/* label: */
	if (l->n >= 2 && t[0].k == T_ID && t[1].k == T_PUNCT && !strcmp(t[1].s, ":")) {
		for (int i = 0; i < e->nlabels; i++)
			if (!strcmp(e->labels[i].name, t[0].s)) {
				error_at(l->file, l->no, "label '%s' defined twice (first at line %d)", t[0].s,
					 e->labels[i].line);
				return;
			}
		struct label lb = { t[0].s, e->code.n, l->no };
		PUSH(e->labels, e->nlabels, e->caplabels, lb);
		if (l->n > 2) {
			struct line rest = *l;
			rest.t += 2;
			rest.n -= 2;
			encode_line(e, &rest);
		}
		return;
	}
	if (t[0].k != T_ID) {
		error_at(l->file, l->no, "expected an instruction, got '%s'", t[0].s);
		return;
	}
	const char *mn = t[0].s;
	PUSH(e->lines, e->nlines, e->caplines, (uint32_t)e->code.n);
	PUSH(e->lines, e->nlines, e->caplines, (uint32_t)l->no);

	/* pseudo-instructions */
	if (!strcmp(mn, "load") || !strcmp(mn, "store")) {
		if (want_args(l, 1) < 0 || value(e, l, &t[1], NS_FIELD, &a) < 0)
			return;
		int st = mn[0] == 's';
		if (a < 256) {
			put8(&e->code, st ? 0x15 : 0x14);
			put8(&e->code, (unsigned)a);
		} else {
			put8(&e->code, st ? 0x17 : 0x16);
			put32(&e->code, (uint32_t)a);
		}
		return;
	}
	if (!strcmp(mn, "get") || !strcmp(mn, "set")) {
		if (want_args(l, 1) < 0)
			return;
		const struct var *v = t[1].k == T_ID ? find_var(e->m, t[1].s) : NULL;
		if (!v) {
			error_at(l->file, l->no, "unknown variable '%s' in method %s", t[1].s, e->m->name);
			return;
		}
		int st = mn[0] == 's';
		put8(&e->code, v->kind == 'o' ? (st ? 0x1F : 0x1E) : (st ? 0x27 : 0x26));
		put32(&e->code, (uint32_t)v->slot);
		return;
	}
	if (!strcmp(mn, "ipush")) {
		if (want_args(l, 1) < 0 || value(e, l, &t[1], NS_PLAIN, &a) < 0 ||
		    range(l, a, INT32_MIN, UINT32_MAX, "int constant") < 0)
			return;
		emit_ipush(e, (int32_t)(uint32_t)a);
		return;
	}
	if (!strcmp(mn, "spush")) {
		if (want_args(l, 1) < 0)
			return;
		if (t[1].k != T_STR) {
			error_at(l->file, l->no, "spush needs a string literal");
			return;
		}
		put8(&e->code, 0x24);
		putstr(&e->code, t[1].s, t[1].len);
		return;
	}
	if (!strcmp(mn, "call")) {
		if (want_args(l, 2) < 0 || value(e, l, &t[1], NS_METHOD, &a) < 0 ||
		    value(e, l, &t[2], NS_PLAIN, &b) < 0)
			return;
		emit_call(e, l, a, b);
		return;
	}
	if (!strcmp(mn, "sys")) {
		if (want_args(l, 1) < 0 || value(e, l, &t[1], NS_PLAIN, &a) < 0 || range(l, a, 0, 255, "syscall") < 0)
			return;
		put8(&e->code, 0x0F);
		put8(&e->code, (unsigned)a);
		return;
	}
	if (!strcmp(mn, "debug") && l->n == 3) {	/* debug FLAGS "message": sets bit 7 */
		if (value(e, l, &t[1], NS_PLAIN, &a) < 0 || range(l, a, 0, 255, "debug flags") < 0)
			return;
		if (t[2].k != T_STR) {
			error_at(l->file, l->no, "debug's second operand must be a string");
			return;
		}
		put8(&e->code, 0x01);
		put8(&e->code, (unsigned)a | 0x80);
		putstr(&e->code, t[2].s, t[2].len);
		return;
	}
	if (!strcmp(mn, "byte")) {	/* raw byte, for tests of the interpreter's checks */
		if (want_args(l, 1) < 0 || value(e, l, &t[1], NS_PLAIN, &a) < 0 || range(l, a, 0, 255, "byte") < 0)
			return;
		put8(&e->code, (unsigned)a);
		return;
	}
	if (!strcmp(mn, "new") && l->n == 2) {
		if (t[1].k != T_ID) {
			error_at(l->file, l->no, "new needs a class name");
			return;
		}
		if (t[1].s[0] != '.' && !find_class(t[1].s)) {
			error_at(l->file, l->no, "unknown class '%s'", t[1].s);
			return;
		}
		put8(&e->code, 0x3F);
		putstr(&e->code, t[1].s, strlen(t[1].s));
		put8(&e->code, 0x18);
		return;
	}

	/* call_00..call_1F */
	if (!strncmp(mn, "call_", 5) && strlen(mn) == 7 && isxdigit((unsigned char)mn[5]) &&
	    isxdigit((unsigned char)mn[6])) {
		unsigned ord = (unsigned)strtoul(mn + 5, NULL, 16);
		if (ord > 0x1F) {
			error_at(l->file, l->no, "unknown instruction '%s'", mn);
			return;
		}
		if (want_args(l, 1) < 0 || value(e, l, &t[1], NS_PLAIN, &a) < 0 ||
		    range(l, a, 0, 255, "argument count") < 0)
			return;
		put8(&e->code, 0xA0 + ord);
		put8(&e->code, (unsigned)a);
		return;
	}
	const struct opinfo *op = find_op(mn);
	if (!op) {
		error_at(l->file, l->no, "unknown instruction '%s'", mn);
		return;
	}
	enum ns ns = ns_for(mn);
	switch (op->kind) {
	case NONE:
		if (want_args(l, 0) < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		break;
	case U8: case I8:
		if (want_args(l, 1) < 0 || value(e, l, &t[1], ns, &a) < 0 ||
		    range(l, a, op->kind == U8 ? 0 : -128, op->kind == U8 ? 255 : 127, "operand") < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		put8(&e->code, (unsigned)(a & 0xFF));
		break;
	case I32:
		if (want_args(l, 1) < 0 || value(e, l, &t[1], ns, &a) < 0 ||
		    range(l, a, INT32_MIN, UINT32_MAX, "operand") < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		put32(&e->code, (uint32_t)a);
		break;
	case I64:
		if (want_args(l, 1) < 0 || value(e, l, &t[1], ns, &a) < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		put64(&e->code, (uint64_t)a);
		break;
	case REL32:
		if (want_args(l, 1) < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		add_fixup(e, l, &t[1]);
		break;
	case U8U8:
		if (want_args(l, 2) < 0 || value(e, l, &t[1], ns, &a) < 0 || value(e, l, &t[2], ns, &b) < 0 ||
		    range(l, a, 0, 255, "operand") < 0 || range(l, b, 0, 255, "operand") < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		put8(&e->code, (unsigned)a);
		put8(&e->code, (unsigned)b);
		break;
	case U8I32: case I32I32:
		if (want_args(l, 2) < 0 || value(e, l, &t[1], NS_METHOD, &a) < 0 ||
		    value(e, l, &t[2], NS_PLAIN, &b) < 0)
			return;
		if (range(l, a, 0, op->kind == U8I32 ? 255 : INT32_MAX, "method ordinal") < 0 ||
		    range(l, b, 0, INT32_MAX, "argument count") < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		if (op->kind == U8I32)
			put8(&e->code, (unsigned)a);
		else
			put32(&e->code, (uint32_t)a);
		put32(&e->code, (uint32_t)b);
		break;
	case STR:
		if (want_args(l, 1) < 0)
			return;
		if (t[1].k != T_STR && !(t[1].k == T_ID && !strcmp(mn, "summon_by_name"))) {
			error_at(l->file, l->no, "'%s' needs a string literal", mn);
			return;
		}
		put8(&e->code, (unsigned)op->code);
		putstr(&e->code, t[1].s, t[1].k == T_STR ? t[1].len : strlen(t[1].s));
		break;
	case SWITCH:	/* switch SHIFT DIVISOR LABEL... */
		if (l->n < 3) {
			error_at(l->file, l->no, "usage: switch SHIFT DIVISOR LABEL...");
			return;
		}
		if (value(e, l, &t[1], NS_PLAIN, &a) < 0 || value(e, l, &t[2], NS_PLAIN, &b) < 0 ||
		    range(l, a, INT32_MIN, INT32_MAX, "switch shift") < 0 ||
		    range(l, b, 1, INT32_MAX, "switch divisor") < 0)
			return;
		put8(&e->code, (unsigned)op->code);
		put32(&e->code, (uint32_t)(l->n - 3));
		put32(&e->code, (uint32_t)a);
		put32(&e->code, (uint32_t)b);
		for (int i = 3; i < l->n; i++)
			add_fixup(e, l, &t[i]);
		break;
	case CALLN:
		error_at(l->file, l->no, "unknown instruction '%s'", mn);	/* not reached */
		break;
	}
}

static void record(struct buf *out, char type, const struct buf *payload)
{
	put(out, "phfr:", 5);
	put8(out, (unsigned char)type);
	put32(out, (uint32_t)(payload->n + 10));
	put(out, payload->p, payload->n);
}

static void encode_method(struct buf *out, const struct class *c, const struct method *m)
{
	struct enc e = { 0 };
	e.cls = c;
	e.m = m;
	/* prologue: check the argument count, reserve the variables */
	put8(&e.code, 0x73);
	put8(&e.code, (unsigned)m->nargs);
	if (m->novars > 255 || m->nivars > 255)
		error_at(m->file, m->line, "too many variables in method %s", m->name);
	if (m->novars || m->nivars) {
		put8(&e.code, 0x29);
		put8(&e.code, (unsigned)m->novars);
		put8(&e.code, (unsigned)m->nivars);
	}
	for (int i = 0; i < m->nbody; i++)
		encode_line(&e, &m->body[i]);
	for (int i = 0; i < e.nfix; i++) {
		int found = 0;
		for (int j = 0; j < e.nlabels; j++)
			if (!strcmp(e.labels[j].name, e.fix[i].name)) {
				patch32(&e.code, e.fix[i].at, (uint32_t)(e.labels[j].at - e.fix[i].at));
				found = 1;
			}
		if (!found)
			error_at(e.fix[i].l->file, e.fix[i].l->no, "undefined label '%s' in method %s",
				 e.fix[i].name, m->name);
	}
	struct buf p = { 0 };
	putstr(&p, m->name, strlen(m->name));
	put32(&p, (uint32_t)m->ordinal);
	put(&p, e.code.p, e.code.n);
	record(out, 'M', &p);
	p.n = 0;
	put32(&p, (uint32_t)m->ordinal);
	put32(&p, (uint32_t)e.nlines / 2);
	for (int i = 0; i < e.nlines; i++)
		put32(&p, e.lines[i]);
	record(out, 'l', &p);
	free(p.p);
	free(e.code.p);
	free(e.labels);
	free(e.fix);
	free(e.lines);
}

static void encode_class(struct buf *out, const struct class *c)
{
	struct buf p = { 0 };
	int nf = total_fields(c);
	putstr(&p, c->name, strlen(c->name));
	put32(&p, (uint32_t)nf);
	put32(&p, (uint32_t)vtable_size(c));
	const char *pn = c->parent_name ? c->parent_name : "";
	putstr(&p, pn, strlen(pn));
	record(out, 'C', &p);
	p.n = 0;
	for (int i = 0; i < nf; i++) {
		const char *fn = field_name_at(c, i);
		putstr(&p, fn, strlen(fn));
		put32(&p, (uint32_t)i);
	}
	if (nf)
		record(out, 'f', &p);
	free(p.p);
	for (int i = 0; i < c->nmethods; i++)
		encode_method(out, c, &c->methods[i]);
}

/* --- disassembler (reads an image back; cross-checks the opcode table) --- */

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void disasm_code(FILE *f, const unsigned char *c, size_t n)
{
	size_t ip = 0;
	while (ip < n) {
		unsigned op = c[ip];
		const struct opinfo *oi = NULL;
		for (size_t i = 0; i < N_OPS; i++)
			if (ops[i].code == (int)op || (ops[i].kind == CALLN && op >= 0xA0 && op <= 0xBF))
				oi = &ops[i];
		fprintf(f, "    %5zu: ", ip);
		if (!oi) {
			fprintf(f, ".byte 0x%02X\n", op);
			ip++;
			continue;
		}
		size_t need[] = { [NONE] = 0, [U8] = 1, [I8] = 1, [I32] = 4, [REL32] = 4, [U8U8] = 2,
				  [U8I32] = 5, [I32I32] = 8, [STR] = 4, [I64] = 8, [CALLN] = 1, [SWITCH] = 12 };
		if (ip + 1 + need[oi->kind] > n) {
			fprintf(f, ".byte 0x%02X  ; truncated\n", op);
			break;
		}
		const unsigned char *a = c + ip + 1;
		switch (oi->kind) {
		case NONE: fprintf(f, "%s\n", oi->name); break;
		case U8:
			if (op == 0x01 && (a[0] & 0x80) && ip + 6 <= n && ip + 6 + be32(a + 1) <= n) {
				uint32_t len = be32(a + 1);
				fprintf(f, "%s %u \"%.*s\"\n", oi->name, a[0], (int)len, (const char *)a + 5);
				ip += 4 + len;
				break;
			}
			fprintf(f, "%s %u\n", oi->name, a[0]);
			break;
		case I8: fprintf(f, "%s %d\n", oi->name, (int8_t)a[0]); break;
		case I32: fprintf(f, "%s %d\n", oi->name, (int32_t)be32(a)); break;
		case REL32: fprintf(f, "%s -> %zu\n", oi->name, ip + 1 + (size_t)(int32_t)be32(a)); break;
		case U8U8: fprintf(f, "%s %u %u\n", oi->name, a[0], a[1]); break;
		case U8I32: fprintf(f, "%s %u %d\n", oi->name, a[0], (int32_t)be32(a + 1)); break;
		case I32I32: fprintf(f, "%s %d %d\n", oi->name, (int32_t)be32(a), (int32_t)be32(a + 4)); break;
		case I64: fprintf(f, "%s %lld\n", oi->name, (long long)((uint64_t)be32(a) << 32 | be32(a + 4))); break;
		case CALLN: fprintf(f, "call_%02X %u\n", op & 0x1F, a[0]); break;
		case SWITCH: {
			uint32_t tab = be32(a);
			if (tab > (n - ip - 13) / 4) {
				fprintf(f, "%s <truncated>\n", oi->name);
				return;
			}
			fprintf(f, "%s %d %d", oi->name, (int32_t)be32(a + 4), (int32_t)be32(a + 8));
			for (uint32_t k = 0; k < tab; k++) {
				size_t at = ip + 13 + k * 4;
				fprintf(f, " -> %zu", at + (size_t)(int32_t)be32(c + at));
			}
			fputc('\n', f);
			ip += 4 * tab;
			break;
		}
		case STR: {
			uint32_t len = be32(a);
			if (ip + 5 + len > n) {
				fprintf(f, "%s <truncated>\n", oi->name);
				return;
			}
			fprintf(f, "%s \"%.*s\"\n", oi->name, (int)len, (const char *)a + 4);
			ip += len;
			break;
		}
		}
		ip += 1 + need[oi->kind];
	}
}

static int disasm(const char *path, const unsigned char *p, size_t n)
{
	size_t at = 0;
	while (at < n) {
		if (n - at < 10 || memcmp(p + at, "phfr:", 5)) {
			fprintf(stderr, "%s: offset %zu: not a record\n", path, at);
			return 1;
		}
		char type = (char)p[at + 5];
		uint32_t size = be32(p + at + 6);
		if (size < 10 || size > n - at) {
			fprintf(stderr, "%s: offset %zu: bad record size %u\n", path, at, size);
			return 1;
		}
		const unsigned char *r = p + at + 10, *end = p + at + size;
		if (type == 'C' && end - r >= 4) {
			uint32_t l = be32(r);
			printf("class %.*s\n", (int)(l <= (size_t)(end - r - 4) ? l : 0), (const char *)r + 4);
		} else if (type == 'M' && end - r >= 4) {
			uint32_t l = be32(r);
			if (l + 8 <= (size_t)(end - r)) {
				printf("  method %.*s %u\n", (int)l, (const char *)r + 4, be32(r + 4 + l));
				disasm_code(stdout, r + 8 + l, (size_t)(end - r) - 8 - l);
			}
		}
		at += size;
	}
	return 0;
}

/* --- driver ---------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "pvm-asm: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	struct buf b = { 0 };
	char tmp[65536];
	size_t n;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		put(&b, tmp, n);
	int err = ferror(f);
	fclose(f);
	if (err) {
		fprintf(stderr, "pvm-asm: %s: read error\n", path);
		free(b.p);
		return NULL;
	}
	put8(&b, 0);
	*len = b.n - 1;
	return (char *)b.p;
}

static const char *base_name(const char *path, char *out, size_t cap)
{
	const char *s = strrchr(path, '/');
	s = s ? s + 1 : path;
	size_t n = strcspn(s, ".");
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = isalnum((unsigned char)s[i]) ? s[i] : '_';
	out[n] = 0;
	return out;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pvm-asm -o IMAGE FILE.pvs...\n"
		   "       pvm-asm --emit-c OUT.c [--symbol NAME] FILE.pvs...\n"
		   "       pvm-asm --disasm IMAGE\n");
}

int main(int argc, char **argv)
{
	const char *out = NULL, *cout = NULL, *symbol = "pvm_images", *dis = NULL;
	const char **files = xmalloc(sizeof(char *) * (size_t)argc);
	int nfiles = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-o") && i + 1 < argc)
			out = argv[++i];
		else if (!strcmp(argv[i], "--emit-c") && i + 1 < argc)
			cout = argv[++i];
		else if (!strcmp(argv[i], "--symbol") && i + 1 < argc)
			symbol = argv[++i];
		else if (!strcmp(argv[i], "--disasm") && i + 1 < argc)
			dis = argv[++i];
		else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "pvm-asm: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		} else
			files[nfiles++] = argv[i];
	}
	if (dis) {
		size_t n;
		char *p = read_file(dis, &n);
		return p ? disasm(dis, (unsigned char *)p, n) : 2;
	}
	if ((!out && !cout) || nfiles == 0) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < nfiles; i++) {
		size_t n;
		char *text = read_file(files[i], &n);
		if (!text)
			return 2;
		if (memchr(text, 0, n)) {
			fprintf(stderr, "%s: binary file (NUL byte)\n", files[i]);
			return 1;
		}
		parse_file(files[i], i, text);
	}
	link_classes();
	if (n_errors)
		return 1;
	struct buf *img = xmalloc(sizeof(struct buf) * (size_t)nfiles);
	for (int i = 0; i < nclasses; i++)
		encode_class(&img[classes[i].file_index], &classes[i]);
	if (n_errors)
		return 1;
	if (out) {
		FILE *f = fopen(out, "wb");
		if (!f) {
			fprintf(stderr, "pvm-asm: %s: %s\n", out, strerror(errno));
			return 2;
		}
		for (int i = 0; i < nfiles; i++)
			fwrite(img[i].p, 1, img[i].n, f);
		if (fclose(f) != 0) {
			fprintf(stderr, "pvm-asm: %s: write error\n", out);
			return 2;
		}
	}
	if (cout) {
		FILE *f = fopen(cout, "w");
		if (!f) {
			fprintf(stderr, "pvm-asm: %s: %s\n", cout, strerror(errno));
			return 2;
		}
		fprintf(f, "/* Generated by pvm-asm from");
		for (int i = 0; i < nfiles; i++)
			fprintf(f, " %s", files[i]);
		fprintf(f, ". Do not edit. */\n#include \"pvm/vm/image.h\"\n\n");
		char name[64];
		for (int i = 0; i < nfiles; i++) {
			fprintf(f, "static const unsigned char %s_%s[%zu] = {", symbol,
				base_name(files[i], name, sizeof name), img[i].n ? img[i].n : 1);
			for (size_t k = 0; k < img[i].n; k++)
				fprintf(f, "%s0x%02x,", k % 12 ? " " : "\n\t", img[i].p[k]);
			fprintf(f, "%s};\n", img[i].n ? "\n" : "0");
		}
		fprintf(f, "\nconst struct pvm_image %s[] = {\n", symbol);
		for (int i = 0; i < nfiles; i++) {
			base_name(files[i], name, sizeof name);
			fprintf(f, "\t{ \"%s\", %s_%s, %zu },\n", name, symbol, name, img[i].n);
		}
		fprintf(f, "};\nconst unsigned %s_count = %d;\n", symbol, nfiles);
		if (fclose(f) != 0) {
			fprintf(stderr, "pvm-asm: %s: write error\n", cout);
			return 2;
		}
	}
	return 0;
}
