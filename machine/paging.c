/* machine/paging.c: the page-table walker (Intel SDM Vol. 3A, chapter 4).
 *
 * One walk reads up to four entries through the bus.  Permissions
 * accumulate as the SDM describes: a write is allowed only if every level
 * allows it, a user access only if every level has U/S=1, and an
 * instruction fetch is refused if any level has XD=1 (with EFER.NXE).
 *
 * Accessed bits are set in every entry used, and the dirty bit in the
 * final entry on a write, only once the whole translation has succeeded:
 * a faulting access leaves the tables untouched.  The SDM allows either
 * choice for faulting walks; this one keeps fault handlers' view simple.
 */
#include "machine/bus.h"
#include "machine/paging.h"

#define PTE_P    (1ull << 0)
#define PTE_RW   (1ull << 1)
#define PTE_US   (1ull << 2)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_XD   (1ull << 63)

/* A walk in progress: the entries used, for setting A/D at the end. */
struct walk {
	uint64_t entry_pa[4];
	uint64_t entry[4];
	int n;
	bool rw, us, xd;
};

static uint64_t mask_bits(unsigned hi, unsigned lo)        /* bits hi..lo */
{
	return ((hi >= 63) ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);
}

/* Bits 51..MAXPHYADDR must be zero in every 64-bit entry, and XD too when
 * NX is off. */
static uint64_t rsvd_high(const struct paging_regs *r)
{
	uint64_t m = r->maxphyaddr < 52 ? mask_bits(51, r->maxphyaddr) : 0;
	if (!(r->efer & EFER_NXE))
		m |= PTE_XD;
	return m;
}

static uint64_t read_entry(struct bus *bus, struct walk *w, uint64_t pa, unsigned size)
{
	uint64_t e = bus_read(bus, pa, size);
	w->entry_pa[w->n] = pa;
	w->entry[w->n] = e;
	w->n++;
	w->rw = w->rw && (e & PTE_RW);
	w->us = w->us && (e & PTE_US);
	w->xd = w->xd || (size == 8 && (e & PTE_XD));
	return e;
}

static int fault(uint32_t *err, unsigned access, bool present, bool rsvd, const struct paging_regs *r)
{
	uint32_t e = 0;
	if (present)
		e |= PF_P;
	if (access & PAGING_WRITE)
		e |= PF_W;
	if (access & PAGING_USER)
		e |= PF_U;
	if (rsvd)
		e |= PF_RSVD | PF_P;
	/* I/D is reported for fetches only when NX or SMEP could cause one. */
	if ((access & PAGING_EXEC) &&
	    (((r->efer & EFER_NXE) && (r->cr4 & CR4_PAE)) || (r->cr4 & CR4_SMEP)))
		e |= PF_I;
	*err = e;
	return -1;
}

/* Permission checks on the accumulated rights, then A/D write-back. */
static int finish(struct bus *bus, const struct paging_regs *r, struct walk *w,
		  unsigned access, struct paging_xlat *x, uint32_t *err, unsigned entry_size)
{
	bool user = access & PAGING_USER;
	bool write = access & PAGING_WRITE;
	bool exec = access & PAGING_EXEC;

	if (user && !w->us)
		return fault(err, access, true, false, r);
	bool writable = w->rw || (!user && !(r->cr0 & CR0_WP));
	if (user && !w->rw)
		writable = false;
	if (write && !writable)
		return fault(err, access, true, false, r);
	if (exec && w->xd && (r->efer & EFER_NXE))
		return fault(err, access, true, false, r);
	if (!user && w->us) {
		if (exec && (r->cr4 & CR4_SMEP))
			return fault(err, access, true, false, r);
		if (!exec && (r->cr4 & CR4_SMAP) && !r->smap_ac)
			return fault(err, access, true, false, r);
	}

	uint64_t last = w->entry[w->n - 1];
	x->writable = writable;
	x->user = w->us;
	x->global = (r->cr4 & CR4_PGE) && (last & PTE_G);
	x->dirty = (last & PTE_D) || write;
	if (access & PAGING_PROBE)
		return 0;
	for (int i = 0; i < w->n; i++) {
		uint64_t e = w->entry[i] | PTE_A;
		if (i == w->n - 1 && write)
			e |= PTE_D;
		if (e != w->entry[i])
			bus_write(bus, w->entry_pa[i], entry_size, e);
	}
	return 0;
}

static int walk_32bit(struct bus *bus, const struct paging_regs *r, uint64_t la,
		      unsigned access, struct paging_xlat *x, uint32_t *err)
{
	struct walk w = {.rw = true, .us = true};
	uint32_t la32 = (uint32_t)la;
	uint64_t pde = read_entry(bus, &w, (r->cr3 & 0xFFFFF000u) + 4 * (la32 >> 22), 4);
	if (!(pde & PTE_P))
		return fault(err, access, false, false, r);
	if ((pde & PTE_PS) && (r->cr4 & CR4_PSE)) {
		/* PSE-36: bits 20:13 supply physical address bits 39:32. */
		if (pde & (1u << 21))
			return fault(err, access, true, true, r);
		uint64_t base = (pde & 0xFFC00000u) | ((pde >> 13) & 0xFFull) << 32;
		if (base >> r->maxphyaddr)
			return fault(err, access, true, true, r);
		x->pa = base | (la32 & 0x3FFFFF);
		x->page_size = 4u << 20;
		return finish(bus, r, &w, access, x, err, 4);
	}
	uint64_t pte = read_entry(bus, &w, (pde & 0xFFFFF000u) + 4 * ((la32 >> 12) & 0x3FF), 4);
	if (!(pte & PTE_P))
		return fault(err, access, false, false, r);
	x->pa = (pte & 0xFFFFF000u) | (la32 & 0xFFF);
	x->page_size = 4096;
	return finish(bus, r, &w, access, x, err, 4);
}

/* The levels below the top are the same in PAE and 4-level paging. */
static int walk_from_pd_level(struct bus *bus, const struct paging_regs *r, uint64_t la,
			      unsigned access, struct paging_xlat *x, uint32_t *err,
			      struct walk *w, uint64_t table, int level)
{
	uint64_t rsvd = rsvd_high(r);
	uint64_t addr = mask_bits(r->maxphyaddr - 1, 12);
	for (; level >= 1; level--) {
		/* level 3 = PDPT (1 GiB pages), 2 = PD (2 MiB), 1 = PT (4 KiB) */
		unsigned shift = 12 + 9 * (unsigned)(level - 1);
		uint64_t e = read_entry(bus, w, table + 8 * ((la >> shift) & 0x1FF), 8);
		if (!(e & PTE_P))
			return fault(err, access, false, false, r);
		if (e & rsvd)
			return fault(err, access, true, true, r);
		bool large = level > 1 && (e & PTE_PS);
		if (large) {
			if (level == 3 && !r->gbpages)
				return fault(err, access, true, true, r);
			/* Between the PAT bit (12) and the frame, bits must be zero. */
			if (e & mask_bits(shift - 1, 13))
				return fault(err, access, true, true, r);
			x->pa = (e & addr & ~((1ull << shift) - 1)) | (la & ((1ull << shift) - 1));
			x->page_size = 1ull << shift;
			return finish(bus, r, w, access, x, err, 8);
		}
		table = e & addr;
		if (level == 1) {
			x->pa = table | (la & 0xFFF);
			x->page_size = 4096;
			return finish(bus, r, w, access, x, err, 8);
		}
	}
	return -1;      /* not reached */
}

static int walk_pae(struct bus *bus, const struct paging_regs *r, uint64_t la,
		    unsigned access, struct paging_xlat *x, uint32_t *err)
{
	struct walk w = {.rw = true, .us = true};
	/* Real CPUs load the four PDPTEs when CR3 is written; reading them per
	 * walk differs only if the guest edits them without reloading CR3. */
	uint64_t pdpte = bus_read(bus, (r->cr3 & 0xFFFFFFE0u) + 8 * ((la >> 30) & 3), 8);
	if (!(pdpte & PTE_P))
		return fault(err, access, false, false, r);
	/* PAE PDPTEs have no R/W, U/S or XD; bits 2:1 and 8:5 are reserved. */
	uint64_t rsvd = 0x1E6ull | (r->maxphyaddr < 52 ? mask_bits(51, r->maxphyaddr) : 0) | PTE_XD;
	if (pdpte & rsvd)
		return fault(err, access, true, true, r);
	la &= 0xFFFFFFFFu;
	return walk_from_pd_level(bus, r, la, access, x, err, &w,
				  pdpte & mask_bits(r->maxphyaddr - 1, 12), 2);
}

static int walk_4level(struct bus *bus, const struct paging_regs *r, uint64_t la,
		       unsigned access, struct paging_xlat *x, uint32_t *err)
{
	struct walk w = {.rw = true, .us = true};
	uint64_t addr = mask_bits(r->maxphyaddr - 1, 12);
	uint64_t pml4e = read_entry(bus, &w, (r->cr3 & addr) + 8 * ((la >> 39) & 0x1FF), 8);
	if (!(pml4e & PTE_P))
		return fault(err, access, false, false, r);
	if (pml4e & (rsvd_high(r) | PTE_PS))
		return fault(err, access, true, true, r);
	return walk_from_pd_level(bus, r, la, access, x, err, &w, pml4e & addr, 3);
}

int paging_walk(struct bus *bus, const struct paging_regs *r, uint64_t la,
		unsigned access, struct paging_xlat *x, uint32_t *err)
{
	*x = (struct paging_xlat){0};
	if (!(r->cr0 & CR0_PG)) {
		x->pa = la;
		x->page_size = 4096;
		x->writable = x->user = x->dirty = true;
		return 0;
	}
	if (r->efer & EFER_LMA)
		return walk_4level(bus, r, la, access, x, err);
	if (r->cr4 & CR4_PAE)
		return walk_pae(bus, r, la, access, x, err);
	return walk_32bit(bus, r, la, access, x, err);
}
