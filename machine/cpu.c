/* machine/cpu.c: the run loop, the software TLB, the decode cache, and
 * guest memory access.
 *
 * The hot loop (run_loop) looks up the decoded instruction for rip in a
 * hash table, calls its handler, and retires it:
 *
 *     i = dcache_lookup(c, c->rip);      // decodes only on a miss
 *     c->next_rip = c->rip + i->len;
 *     i->fn(c, i);                       // may longjmp on a fault
 *     c->rip = c->next_rip;
 *
 * Self-modifying code: every page holding decoded instructions is a "code
 * page".  The TLB never grants direct write access to a code page, so a
 * store to one takes the slow path through bus_write(), which reports it
 * back through bus->code_write; the page's instructions are then dropped
 * (moved to a dead list and freed between instructions, because the
 * instruction doing the store may be one of them).  DMA into a code page
 * reaches the same callback through bus_dma_write().
 *
 * Memory: user mode has paging off, so a linear address is a bus address.
 * The TLB maps a linear page to a host pointer when one bus RAM region
 * covers the whole page; everything else (MMIO, partial pages, page
 * crossings, store-hooked RAM, code pages) uses the slow path.  A map
 * change (bus->generation) flushes the TLB and the decode cache.
 */
#include <stdio.h>
#include <stdlib.h>

#include "machine/cpu_sys.h"
#include "machine/cpu_timing.h"
#include "machine/exec.h"
#include "sim/sim.h"

/* The decode cache is flushed wholesale past this many instructions, which
 * bounds host memory for guests that generate code endlessly. */
#define DCACHE_MAX_INSNS (1u << 22)

struct code_page {
	uint64_t page;
	struct code_page *next;
	struct insn *insns;             /* chained through page_next */
	bool spill;                     /* an insn of page spill_from runs into this one */
	uint64_t spill_from;            /* (page - 1 without paging) */
};

static void cpu_code_write(void *ctx, uint64_t pa, uint64_t len);

/* ---- hashing ---- */

static inline size_t hash64(uint64_t k, size_t nbuckets)
{
	return (size_t)((k * 0x9E3779B97F4A7C15ull) >> 20) & (nbuckets - 1);
}

/* ---- faults ---- */

_Noreturn void cpu_fault(struct cpu *c, unsigned vector, uint32_t error)
{
	c->exc_vector = (uint8_t)vector;
	c->exc_error = error;
	c->stack_acc = false;
	longjmp(c->fault, 1);
}

/* ---- TLB ---- */

static void tlb_flush(struct cpu *c)
{
	for (unsigned k = 0; k < CPU_TLB_SIZE; k++)
		c->tlb[k].page = ~0ull;
}

static struct code_page *cpage_find(const struct cpu *c, uint64_t page)
{
	for (struct code_page *p = c->cpages[hash64(page, c->cpage_buckets)]; p; p = p->next)
		if (p->page == page)
			return p;
	return NULL;
}

/* Does the physical page hold decoded instructions? (machine/cpu_sys.c) */
bool cpu_code_page(const struct cpu *c, uint64_t page)
{
	return cpage_find(c, page) != NULL;
}

static void tlb_fill(struct cpu *c, uint64_t la, const struct bus_region *r)
{
	uint64_t pg = la >> 12, start = pg << 12;
	if (!r->host || r->base > start || r->base + r->size - 1 < start + 4095)
		return;
	struct cpu_tlb_entry *e = &c->tlb[pg & (CPU_TLB_SIZE - 1)];
	e->page = pg;
	e->host = r->host + (start - r->base);
	e->ppage = pg;          /* no paging: linear == physical */
	e->pshift = 12;         /* as a Linux process would see it */
	e->perm = r->flags & BUS_RWX;
	if ((r->flags & BUS_STORE_HOOK) || cpage_find(c, pg))
		e->perm &= ~(unsigned)BUS_W;
}

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* The bus region for an access of kind acc (BUS_R/W/X) at la, or a fault. */
static struct bus_region *translate(struct cpu *c, uint64_t la, unsigned acc)
{
	if (c->bus->generation != c->bus_generation)
		cpu_flush_caches(c);
	if (!canonical(la))
		cpu_noncanonical(c, acc);
	struct bus_region *r = bus_find(c->bus, la);
	if (!r || !(r->flags & acc)) {
		c->cr2 = la;
		uint32_t err = (r ? CPU_PF_P : 0) | (acc == BUS_W ? CPU_PF_W : 0) |
			       (c->cpl == 3 ? CPU_PF_U : 0) | (acc == BUS_X ? CPU_PF_I : 0);
		cpu_fault(c, CPU_EXC_PF, err);
	}
	return r;
}

/* The instruction executing at c->rip, for the fault path only: it is in
 * the decode cache, or on the dead list if a store of its own dropped it
 * (dead instructions are freed between instructions). */
static const struct insn *executing(const struct cpu *c)
{
	for (const struct insn *i = c->dcache[hash64(c->rip, c->dcache_buckets)]; i; i = i->next)
		if (i->rip == c->rip)
			return i;
	for (const struct insn *i = c->dead; i; i = i->next)
		if (i->rip == c->rip)
			return i;
	return NULL;
}

/* SDM Vol. 3 6.15 (interrupt 12): in 64-bit mode a non-canonical address
 * in a reference through SS raises #SS(0), any other #GP(0).  SS is the
 * segment of implicit stack accesses (c->stack_acc, set by the stack
 * helpers of exec.h and by event delivery) and of an explicit memory
 * operand whose base register is rsp or rbp (not r12/r13, not an index)
 * without an fs/gs override; cs/ds/es/ss overrides are ignored in 64-bit
 * mode, so ds: [rbp] stays SS and ss: [rbx] stays DS (checked on
 * hardware).  Costs nothing until an access faults: the instruction is
 * looked up here, not recorded on every execution. */
_Noreturn void cpu_noncanonical(struct cpu *c, unsigned acc)
{
	if (acc != BUS_X) {
		if (c->stack_acc)
			cpu_fault(c, CPU_EXC_SS, 0);
		const struct insn *i = executing(c);
		if (i && !i->mod3 && i->seg == SEG_NONE && (i->base == CPU_RSP || i->base == CPU_RBP))
			cpu_fault(c, CPU_EXC_SS, 0);
	}
	cpu_gp0(c);
}

uint64_t stack_read_slow(struct cpu *c, uint64_t la, unsigned size)
{
	c->stack_acc = true;
	uint64_t v = mem_read_slow(c, la, size);
	c->stack_acc = false;
	return v;
}

void stack_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	c->stack_acc = true;
	mem_write_slow(c, la, size, v);
	c->stack_acc = false;
}

void stack_check_write(struct cpu *c, uint64_t la, unsigned len)
{
	c->stack_acc = true;
	mem_check_write(c, la, len);
	c->stack_acc = false;
}

void mem_check(struct cpu *c, uint64_t la, unsigned acc)
{
	if (c->sys) {
		cpu_sys_check(c, la, 1, acc);
		return;
	}
	translate(c, la, acc);
}

uint64_t mem_phys(struct cpu *c, uint64_t la)
{
	if (c->sys)
		return cpu_sys_phys(c, la);
	return la;      /* no paging yet: linear == physical */
}

uint8_t mem_fetch_slow(struct cpu *c, uint64_t la)
{
	if (c->sys)
		return cpu_sys_fetch_slow(c, la);
	struct bus_region *r = translate(c, la, BUS_X);
	tlb_fill(c, la, r);
	return (uint8_t)bus_read(c->bus, la, 1);
}

/* ---- approximate timing ---- */

void mem_timing(struct cpu *c, const struct cpu_tlb_entry *e, uint64_t la, bool write)
{
	if (write && c->cur_nt)
		return;         /* charged by the non-temporal path (timing_ntstore) */
	uint64_t pa = (e->ppage << 12) | (la & 4095);
	c->sim->now = cpu_timing_data(c->timing, la, pa, e->pshift, write, c->sim->now);
}

/* After a slow-path access: RAM pages are in the TLB by now (the slow
 * path fills it even for store-hooked pages); MMIO is uncached and is
 * not charged here. */
static void slow_timing(struct cpu *c, uint64_t la, bool write)
{
	const struct cpu_tlb_entry *e = &c->tlb[(la >> 12) & (CPU_TLB_SIZE - 1)];
	if (e->page == la >> 12)
		mem_timing(c, e, la, write);
}

void timing_fence(struct cpu *c, int kind)
{
	c->sim->now = cpu_timing_fence(c->timing, kind, c->sim->now);
}

void timing_flush(struct cpu *c, uint64_t pa, int kind)
{
	c->sim->now = cpu_timing_flush(c->timing, pa, kind, c->sim->now);
}

void timing_ntstore(struct cpu *c, uint64_t pa, unsigned len)
{
	c->sim->now = cpu_timing_ntstore(c->timing, pa, len, c->sim->now);
}

static uint64_t read_slow(struct cpu *c, uint64_t la, unsigned size);

uint64_t mem_read_slow(struct cpu *c, uint64_t la, unsigned size)
{
	uint64_t v = read_slow(c, la, size);
	if (c->timing)
		slow_timing(c, la, false);
	return v;
}

static void write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v);

void mem_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	write_slow(c, la, size, v);
	if (c->timing)
		slow_timing(c, la, true);
}

static uint64_t read_slow(struct cpu *c, uint64_t la, unsigned size)
{
	if (c->sys)
		return cpu_sys_read_slow(c, la, size);
	if ((la & 4095) + size <= 4096) {
		struct bus_region *r = translate(c, la, BUS_R);
		if (la + size - 1 <= r->base + r->size - 1) {
			tlb_fill(c, la, r);
			return bus_read(c->bus, la, size);
		}
	}
	/* Crosses a page or region boundary: byte by byte, in address order,
	 * so a fault reports the first inaccessible byte like hardware. */
	uint64_t v = 0;
	for (unsigned k = 0; k < size; k++)
		v |= read_slow(c, la + k, 1) << (8 * k);
	return v;
}

void mem_check_write(struct cpu *c, uint64_t la, unsigned len)
{
	if (c->sys) {
		cpu_sys_check(c, la, len, BUS_W);
		return;
	}
	/* One translation per region the range touches. */
	for (uint64_t a = la; a - la < len;) {
		struct bus_region *r = translate(c, a, BUS_W);
		uint64_t rend = r->base + r->size;
		if (rend == 0 || rend - la >= len || rend < a)
			break;
		a = rend;
	}
}

static void write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v)
{
	if (c->sys) {
		cpu_sys_write_slow(c, la, size, v);
		return;
	}
	if ((la & 4095) + size <= 4096) {
		struct bus_region *r = translate(c, la, BUS_W);
		if (la + size - 1 <= r->base + r->size - 1) {
			tlb_fill(c, la, r);
			bus_write(c->bus, la, size, v);
			return;
		}
	}
	/* Check every byte first: a faulting store must not land halfway. */
	mem_check_write(c, la, size);
	for (unsigned k = 0; k < size; k++)
		bus_write(c->bus, la + k, 1, v >> (8 * k));
}

void mem_read_buf(struct cpu *c, uint64_t la, void *dst, unsigned len)
{
	uint8_t *d = dst;
	while (len) {
		unsigned off = la & 4095, n = 4096 - off;
		if (n > len)
			n = len;
		const struct cpu_tlb_entry *e = &c->tlb[(la >> 12) & (CPU_TLB_SIZE - 1)];
		if (e->page == la >> 12 && (e->perm & BUS_R)) {
			if (c->timing)
				for (uint64_t a = la; a < la + n; a = (a | 63) + 1)
					mem_timing(c, e, a, false);
			memcpy(d, e->host + off, n);
		} else {
			for (unsigned k = 0; k < n; k++)
				d[k] = (uint8_t)mem_read_slow(c, la + k, 1);
		}
		d += n, la += n, len -= n;
	}
}

void mem_write_buf(struct cpu *c, uint64_t la, const void *src, unsigned len)
{
	const uint8_t *s = src;
	uint64_t pg = la >> 12;
	const struct cpu_tlb_entry *e = &c->tlb[pg & (CPU_TLB_SIZE - 1)];
	if (e->page == pg && (e->perm & BUS_W) && (la & 4095) + len <= 4096) {
		if (c->timing)
			for (uint64_t a = la; a < la + len; a = (a | 63) + 1)
				mem_timing(c, e, a, true);
		memcpy(e->host + (la & 4095), s, len);
		return;
	}
	mem_check_write(c, la, len);
	for (unsigned k = 0; k < len; k++)
		mem_write(c, la + k, 1, s[k]);
}

/* ---- decode cache ---- */

static void dead_free(struct cpu *c)
{
	while (c->dead) {
		struct insn *i = c->dead;
		c->dead = i->next;
		free(i);
	}
}

static void cpage_remove(struct cpu *c, struct code_page *cp)
{
	struct code_page **pp = &c->cpages[hash64(cp->page, c->cpage_buckets)];
	while (*pp != cp)
		pp = &(*pp)->next;
	*pp = cp->next;
	c->cpage_count--;
	free(cp);
}

static void dcache_unlink(struct cpu *c, struct insn *i)
{
	struct insn **pp = &c->dcache[hash64(i->rip, c->dcache_buckets)];
	while (*pp && *pp != i)
		pp = &(*pp)->next;
	if (*pp)
		*pp = i->next;
	c->dcache_count--;
	i->next = c->dead;
	c->dead = i;
}

/* Drop the decoded instructions of one page (and of the page before it
 * when one of those runs into this page). */
static void invalidate_page(struct cpu *c, uint64_t page)
{
	struct code_page *cp = cpage_find(c, page);
	if (!cp)
		return;
	bool spill = cp->spill;
	uint64_t spill_from = cp->spill_from;
	for (struct insn *i = cp->insns, *n; i; i = n) {
		n = i->page_next;
		dcache_unlink(c, i);
	}
	cpage_remove(c, cp);
	if (c->stat_smc)
		++*c->stat_smc;
	if (spill && spill_from != page)
		invalidate_page(c, spill_from);
}

static void cpu_code_write(void *ctx, uint64_t pa, uint64_t len)
{
	struct cpu *c = ctx;
	if (c->cpage_count == 0 || len == 0)
		return;
	uint64_t first = pa >> 12, last = (pa + len - 1) >> 12;
	if (last < first)
		last = ~0ull >> 12;
	if (last - first < 4 * (uint64_t)c->cpage_count) {
		for (uint64_t p = first; ; p++) {
			invalidate_page(c, p);
			if (p == last)
				break;
		}
		return;
	}
	/* A big write: look at the code pages instead of every page. */
	for (size_t b = 0; b < c->cpage_buckets; b++) {
		struct code_page *cp = c->cpages[b];
		while (cp) {
			struct code_page *n = cp->next;
			if (cp->page >= first && cp->page <= last) {
				invalidate_page(c, cp->page);
				b = (size_t)-1;         /* chains changed: rescan */
				break;
			}
			cp = n;
		}
	}
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	if (!p) {
		fprintf(stderr, "phantom-sim: out of memory\n");
		abort();
	}
	return p;
}

static void dcache_grow(struct cpu *c)
{
	size_t nb = c->dcache_buckets * 2;
	struct insn **t = xcalloc(nb, sizeof *t);
	for (size_t b = 0; b < c->dcache_buckets; b++) {
		for (struct insn *i = c->dcache[b], *n; i; i = n) {
			n = i->next;
			size_t h = hash64(i->rip, nb);
			i->next = t[h];
			t[h] = i;
		}
	}
	free(c->dcache);
	c->dcache = t;
	c->dcache_buckets = nb;
}

static void cpage_grow(struct cpu *c)
{
	size_t nb = c->cpage_buckets * 2;
	struct code_page **t = xcalloc(nb, sizeof *t);
	for (size_t b = 0; b < c->cpage_buckets; b++) {
		for (struct code_page *p = c->cpages[b], *n; p; p = n) {
			n = p->next;
			size_t h = hash64(p->page, nb);
			p->next = t[h];
			t[h] = p;
		}
	}
	free(c->cpages);
	c->cpages = t;
	c->cpage_buckets = nb;
}

static struct code_page *cpage_get(struct cpu *c, uint64_t page)
{
	struct code_page *cp = cpage_find(c, page);
	if (cp)
		return cp;
	if (c->cpage_count >= 2 * c->cpage_buckets)
		cpage_grow(c);
	cp = xcalloc(1, sizeof *cp);
	cp->page = page;
	size_t h = hash64(page, c->cpage_buckets);
	cp->next = c->cpages[h];
	c->cpages[h] = cp;
	c->cpage_count++;
	/* From now on stores to the page must take the slow path.  With
	 * paging, any linear alias of the page may be cached writable. */
	if (c->sys)
		tlb_flush(c);
	struct cpu_tlb_entry *e = &c->tlb[page & (CPU_TLB_SIZE - 1)];
	if (e->page == page)
		e->perm &= ~(unsigned)BUS_W;
	return cp;
}

/* The form's class, refined by what decoding found (lock, operand size,
 * rep, a memory operand for xchg). */
static uint8_t timing_class(const struct cpu *c, const struct insn *i)
{
	enum tclass k = c->form_class[i->form->id];
	if (i->lock || (k == TC_LOCKED && !i->mod3 && i->form->modrm != MR_NONE))
		return TC_LOCKED;
	if (k == TC_LOCKED)
		return TC_ALU;          /* xchg between registers */
	if (k == TC_DIV32 && i->osz == 8)
		return TC_DIV64;
	if (k == TC_STRING && i->rep && (i->form->mnemonic[0] == 'm' || i->form->mnemonic[0] == 's') &&
	    strncmp(i->form->mnemonic, "sca", 3) != 0)
		return TC_REP_MOVE;
	return (uint8_t)k;
}

static struct insn *dcache_fill(struct cpu *c, uint64_t rip)
{
	struct insn d;
	decode_insn(c, rip, &d);        /* faults (#UD, #PF, #GP) longjmp out */
	if (c->sys)
		cpu_sys_decoded(c, &d);         /* CR0.TS/EM, CR4.OSFXSR */
	if (c->dcache_count >= DCACHE_MAX_INSNS)
		cpu_flush_caches(c);
	if (c->dcache_count >= 2 * c->dcache_buckets)
		dcache_grow(c);
	struct insn *i = malloc(sizeof *i);
	if (!i) {
		fprintf(stderr, "phantom-sim: out of memory\n");
		abort();
	}
	*i = d;
	size_t h = hash64(rip, c->dcache_buckets);
	i->next = c->dcache[h];
	c->dcache[h] = i;
	c->dcache_count++;
	/* Code pages are physical pages (system mode: after translation). */
	uint64_t first = c->sys ? cpu_sys_code_page(c, rip) : rip >> 12;
	i->fetch_pa = (first << 12) | (rip & 4095);
	i->tclass = timing_class(c, i);
	struct code_page *cp = cpage_get(c, first);
	i->page_next = cp->insns;
	cp->insns = i;
	if (((rip + i->len - 1) >> 12) != (rip >> 12)) {
		struct code_page *q = cpage_get(c, c->sys ? cpu_sys_code_page(c, rip + i->len - 1)
							 : (rip >> 12) + 1);
		q->spill = true;
		q->spill_from = first;
	}
	if (c->stat_decoded)
		++*c->stat_decoded;
	return i;
}

static inline struct insn *dcache_lookup(struct cpu *c, uint64_t rip)
{
	for (struct insn *i = c->dcache[hash64(rip, c->dcache_buckets)]; i; i = i->next)
		if (i->rip == rip)
			return i;
	return dcache_fill(c, rip);
}

void cpu_flush_caches(struct cpu *c)
{
	tlb_flush(c);
	for (size_t b = 0; b < c->dcache_buckets; b++) {
		for (struct insn *i = c->dcache[b], *n; i; i = n) {
			n = i->next;
			i->next = c->dead;
			c->dead = i;
		}
		c->dcache[b] = NULL;
	}
	c->dcache_count = 0;
	for (size_t b = 0; b < c->cpage_buckets; b++) {
		for (struct code_page *p = c->cpages[b], *n; p; p = n) {
			n = p->next;
			free(p);
		}
		c->cpages[b] = NULL;
	}
	c->cpage_count = 0;
	c->bus_generation = c->bus->generation;
}

/* ---- lifecycle ---- */

struct cpu *cpu_new(struct sim *sim, struct bus *bus)
{
	struct cpu *c = xcalloc(1, sizeof *c);
	c->sim = sim;
	c->bus = bus;
	c->dcache_buckets = 4096;
	c->dcache = xcalloc(c->dcache_buckets, sizeof *c->dcache);
	c->cpage_buckets = 256;
	c->cpages = xcalloc(c->cpage_buckets, sizeof *c->cpages);
	decode_init(c);
	if (!c->form_order) {
		cpu_free(c);
		return NULL;
	}
	size_t nforms;
	const struct insn_form *forms = insn_forms(&nforms);
	c->form_class = xcalloc(nforms, 1);
	for (size_t k = 0; k < nforms; k++)
		c->form_class[k] = (uint8_t)cpu_timing_classify(&forms[k], 4, false);
	c->deadline = UINT64_MAX;
	tlb_flush(c);
	c->bus_generation = bus->generation;
	bus->code_write = cpu_code_write;
	bus->code_write_ctx = c;
	/* 2 GHz, one instruction per cycle: 500 ps, an exact integer. */
	c->tsc_hz = 2000000000ull;
	c->ps_per_insn = 500;
	c->rflags = 2;
	c->x87.cw = 0x37F;
	c->x87.tag_empty = 0xFF;
	c->mxcsr = 0x1F80;
	if (sim) {
		c->stat_decoded = stats_counter(&sim->stats, "cpu.decoded");
		c->stat_smc = stats_counter(&sim->stats, "cpu.smc_invalidations");
		c->stat_exc = stats_counter(&sim->stats, "cpu.exceptions");
	}
	return c;
}

void cpu_free(struct cpu *c)
{
	if (!c)
		return;
	if (c->bus && c->bus->code_write_ctx == c) {
		c->bus->code_write = NULL;
		c->bus->code_write_ctx = NULL;
	}
	if (c->dcache && c->cpages)
		cpu_flush_caches(c);
	cpu_sys_free(c);
	dead_free(c);
	free(c->dcache);
	free(c->cpages);
	free(c->form_order);
	free(c->form_class);
	free(c);
}

void cpu_set_mode_user64(struct cpu *c)
{
	c->cpl = 3;
	c->cr0 = 0x33;                  /* PE MP ET NE: protected, FPU native errors */
	c->cr4 = 0x600;                 /* OSFXSR OSXMMEXCPT: SSE enabled */
	c->efer = 0xD01;                /* SCE LME LMA NXE */
	c->rflags = 0x202;
	c->x87.cw = 0x37F;
	c->x87.sw = 0;
	c->x87.top = 0;
	c->x87.tag_empty = 0xFF;
	c->x87.fop = c->x87.fcs = c->x87.fds = 0;
	c->x87.fip = c->x87.fdp = 0;
	c->mxcsr = 0x1F80;
}

void cpu_request_exit(struct cpu *c)
{
	c->exit_request = true;
}

uint64_t cpu_get_rflags(const struct cpu *c)
{
	return c->rflags;
}

void cpu_set_rflags(struct cpu *c, uint64_t v)
{
	/* Reserved bits: 1 is always set, 3, 5, 15 and 22-63 always clear. */
	c->rflags = (v & 0x3F7FD5ull) | 2;
}

const char *cpu_exit_name(enum cpu_exit why)
{
	switch (why) {
	case CPU_EXIT_BUDGET: return "budget";
	case CPU_EXIT_SYSCALL: return "syscall";
	case CPU_EXIT_EXCEPTION: return "exception";
	case CPU_EXIT_HALT: return "halt";
	case CPU_EXIT_STOP: return "stop";
	case CPU_EXIT_TRIPLE_FAULT: return "triple-fault";
	}
	return "?";
}

/* ---- the loop ---- */

static inline void retire(struct cpu *c)
{
	c->budget--;
	c->cycles++;
	if (c->sim) {
		c->sim->now += c->ps_per_insn;
		c->sim->insns++;
	}
}

void cpu_retire_trap(struct cpu *c)
{
	/* int3 / int n complete before they are reported (traps). */
	c->rip = c->next_rip;
	if (c->timing && c->sim) {
		c->budget--;
		c->cycles++;
		c->sim->insns++;
		c->sim->now += c->timing->cost[TC_SYSCALL];
		return;
	}
	retire(c);
}

static void run_loop(struct cpu *c)
{
	struct sim *s = c->sim;
	while (c->budget) {
		if (c->exit_request || (s && s->stop != SIM_STOP_NONE)) {
			c->exit_request = false;
			c->exit = CPU_EXIT_STOP;
			return;
		}
		if (c->bus->generation != c->bus_generation)
			cpu_flush_caches(c);
		const struct insn *i = dcache_lookup(c, c->rip);
		if (c->insn_hook)
			c->insn_hook(c->insn_hook_ctx, c, c->rip, i->len);
		c->next_rip = c->rip + i->len;
		i->fn(c, i);
		c->rip = c->next_rip;
		retire(c);
		if (c->debug)
			cpu_debug_after(c);     /* #DB traps, RF (machine/debug.c) */
		if (c->dead)
			dead_free(c);   /* i may be among them: not used again */
		if (c->exit != CPU_EXIT_BUDGET)
			return;
	}
}

/* The same loop in approximate mode: each instruction is fetched through
 * the L1I, charged its class's cost and whatever its memory accesses
 * stalled, and a slice also ends at the deadline (the next event). */
static void run_loop_timed(struct cpu *c)
{
	struct sim *s = c->sim;
	struct cpu_timing *t = c->timing;
	while (c->budget) {
		if (c->exit_request || s->stop != SIM_STOP_NONE) {
			c->exit_request = false;
			c->exit = CPU_EXIT_STOP;
			return;
		}
		if (c->bus->generation != c->bus_generation)
			cpu_flush_caches(c);
		struct insn *i = dcache_lookup(c, c->rip);
		if (c->insn_hook)
			c->insn_hook(c->insn_hook_ctx, c, c->rip, i->len);
		s->now = cpu_timing_fetch(t, i->rip, i->fetch_pa, s->now);
		c->next_rip = c->rip + i->len;
		c->cur_nt = i->tclass == TC_NTSTORE;
		uint64_t rcx = c->gpr[CPU_RCX];
		i->fn(c, i);
		c->rip = c->next_rip;
		uint64_t elements = 1;
		if (i->rep && (i->tclass == TC_STRING || i->tclass == TC_REP_MOVE)) {
			elements = rcx - c->gpr[CPU_RCX];
			if (i->asz == 4)
				elements &= 0xFFFFFFFFu;
		}
		s->now = cpu_timing_retire(t, c, i, elements, s->now);
		c->budget--;
		c->cycles++;
		s->insns++;
		if (c->debug)
			cpu_debug_after(c);     /* #DB traps, RF (machine/debug.c) */
		if (c->dead)
			dead_free(c);
		if (c->exit != CPU_EXIT_BUDGET || s->now >= c->deadline)
			return;         /* at least one instruction per slice */
	}
}

enum cpu_exit cpu_run(struct cpu *c, uint64_t budget)
{
	c->budget = budget;
	c->exit = CPU_EXIT_BUDGET;
	if (setjmp(c->fault)) {
		/* A fault: rip still points at the instruction (int3 and int n
		 * moved it past themselves before raising). */
		if (c->stat_exc)
			++*c->stat_exc;
		dead_free(c);
		if (!c->sys)
			return CPU_EXIT_EXCEPTION;
		/* System mode: deliver through the IDT and go on (a fault
		 * during delivery longjmps back here). */
		cpu_sys_exception(c);
		if (c->exit != CPU_EXIT_BUDGET)
			return c->exit;
	}
	if (c->timing && c->sim)
		run_loop_timed(c);
	else
		run_loop(c);
	dead_free(c);
	return c->exit;
}
