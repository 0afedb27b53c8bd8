/* machine/paging.h: x86 page-table walks.
 *
 * The walker turns a linear address into a physical one the way the MMU
 * does: it reads the paging structures through the bus, checks every
 * permission the SDM lists (present, R/W with CR0.WP, U/S, NX with
 * EFER.NXE, reserved bits), sets accessed and dirty bits in memory, and on
 * failure produces the #PF error code.  It has no cache of its own: the
 * CPU's TLB caches what it returns, and flushes on CR3 writes, INVLPG and
 * (for global pages) CR4.PGE changes.
 *
 *     struct paging_regs r = {.cr0 = c->cr0, .cr3 = c->cr3, .cr4 = c->cr4, .efer = c->efer};
 *     struct paging_xlat x;
 *     uint32_t err;
 *     if (paging_walk(bus, &r, la, PAGING_WRITE | PAGING_USER, &x, &err))
 *         raise #PF with err, CR2 = la
 *
 * Modes: 32-bit (CR4.PAE=0, 4 KiB and, with CR4.PSE, 4 MiB pages), PAE
 * (3 levels), and 4-level IA-32e paging (EFER.LMA) with 4 KiB, 2 MiB and
 * 1 GiB pages.  Intel SDM Vol. 3A, chapter 4.
 */
#ifndef MACHINE_PAGING_H
#define MACHINE_PAGING_H

#include <stdbool.h>
#include <stdint.h>

struct bus;

/* Access kinds (combine one of READ/WRITE/EXEC with USER when CPL = 3). */
enum {
	PAGING_READ = 0,
	PAGING_WRITE = 1,
	PAGING_EXEC = 2,
	PAGING_USER = 4,
	/* Walk and report without setting A/D bits (debuggers, tracing). */
	PAGING_PROBE = 8,
};

/* #PF error code bits (SDM Vol. 3A §4.7). */
enum {
	PF_P = 1 << 0,          /* 0: not present; 1: protection violation */
	PF_W = 1 << 1,          /* the access was a write */
	PF_U = 1 << 2,          /* the access was a user-mode access */
	PF_RSVD = 1 << 3,       /* a reserved bit was set in a paging entry */
	PF_I = 1 << 4,          /* the access was an instruction fetch */
};

/* Control-register bits the walker reads. */
#define CR0_WP   (1ull << 16)
#define CR0_PG   (1ull << 31)
#define CR4_PSE  (1ull << 4)
#define CR4_PAE  (1ull << 5)
#define CR4_PGE  (1ull << 7)
#define CR4_SMEP (1ull << 20)
#define CR4_SMAP (1ull << 21)
#define EFER_NXE (1ull << 11)
#define EFER_LMA (1ull << 10)

struct paging_regs {
	uint64_t cr0, cr3, cr4, efer;
	unsigned maxphyaddr;    /* physical address width, e.g. 46 */
	bool gbpages;           /* CPUID advertises 1 GiB pages */
	bool smap_ac;           /* RFLAGS.AC, for SMAP */
};

struct paging_xlat {
	uint64_t pa;            /* physical address of the linear address */
	uint64_t page_size;     /* 4 KiB, 2 MiB, 4 MiB or 1 GiB */
	bool writable;          /* writes allowed for this access's privilege */
	bool user;              /* U/S=1 at every level */
	bool global;            /* G bit of the final entry, with CR4.PGE */
	bool dirty;             /* D bit already set (a write needs no walk) */
};

/* Returns 0 and fills *x, or -1 with the #PF error code in *err. */
int paging_walk(struct bus *bus, const struct paging_regs *r, uint64_t la,
		unsigned access, struct paging_xlat *x, uint32_t *err);

/* Is la canonical for 48-bit linear addresses? */
static inline bool paging_canonical(uint64_t la)
{
	return (uint64_t)((int64_t)(la << 16) >> 16) == la;
}

#endif
