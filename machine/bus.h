/* machine/bus.h: the physical address space and the I/O port space.
 *
 * The bus maps physical ranges to RAM (host memory, committed lazily as the
 * guest touches it) or to MMIO handlers, and I/O ports to port handlers.
 * The CPU caches RAM translations in its own TLB; any change to the map
 * bumps bus->generation so those caches know to refill.
 *
 * Nothing the guest does through the bus may hurt the host: reads of
 * unmapped addresses or ports return all ones, writes are dropped, and each
 * such address is reported once on stderr and counted in the stats.
 *
 *     bus_init(&bus, &sim);
 *     bus_add_ram(&bus, "dram", 0, 256 << 20, BUS_RWX);
 *     bus_add_pio(&bus, 0x3f8, 8, uart_in, uart_out, uart);
 */
#ifndef MACHINE_BUS_H
#define MACHINE_BUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim;

/* Region flags. */
enum {
	BUS_R = 1, BUS_W = 2, BUS_X = 4,
	BUS_RWX = BUS_R | BUS_W | BUS_X,
	/* Every store to this RAM region must go through bus_write() (never a
	 * cached host pointer) so the store hook sees it: persistent memory
	 * uses this to track which lines are dirty. */
	BUS_STORE_HOOK = 8,
};

typedef uint64_t mmio_read_fn(void *ctx, uint64_t offset, unsigned size);
typedef void mmio_write_fn(void *ctx, uint64_t offset, unsigned size, uint64_t value);
typedef uint32_t pio_read_fn(void *ctx, uint16_t port, unsigned size);
typedef void pio_write_fn(void *ctx, uint16_t port, unsigned size, uint32_t value);
/* Called after a store of len bytes at physical address pa has landed. */
typedef void store_hook_fn(void *ctx, uint64_t pa, unsigned len);

struct bus_region {
	const char *name;
	uint64_t base, size;
	unsigned flags;
	uint8_t *host;                  /* RAM backing, or NULL for MMIO */
	bool owns_host;                 /* bus unmaps it on removal */
	mmio_read_fn *read;
	mmio_write_fn *write;
	store_hook_fn *store_hook;
	void *ctx;
	uint64_t offset;                /* added to MMIO offsets (kept across splits) */
};

struct pio_range {
	uint16_t first, count;
	pio_read_fn *read;
	pio_write_fn *write;
	void *ctx;
};

struct bus {
	struct sim *sim;
	struct bus_region *regions;     /* sorted by base, never overlapping */
	size_t nregions, capregions;
	struct pio_range *pio;
	size_t npio, cappio;
	uint64_t generation;            /* bumped on every map change */

	/* Unknown addresses already reported, so each is reported once. */
	uint64_t *reported;
	size_t nreported, capreported;
	uint64_t *unknown_mmio, *unknown_pio;   /* stats counters */

	/* Called after RAM bytes change through bus_write() or
	 * bus_dma_write(), so a CPU can drop instructions it decoded from
	 * them (self-modifying code, loaders, DMA).  Set by cpu_new(). */
	void (*code_write)(void *ctx, uint64_t pa, uint64_t len);
	void *code_write_ctx;
};

void bus_init(struct bus *b, struct sim *sim);
void bus_free(struct bus *b);

/* RAM backed by anonymous host memory reserved with MAP_NORESERVE, so host
 * memory grows with what the guest touches.  Returns 0 or -1 on overlap or
 * allocation failure. */
int bus_add_ram(struct bus *b, const char *name, uint64_t base, uint64_t size, unsigned flags);
/* RAM backed by caller-owned host memory (e.g. a mapped image file). */
int bus_add_host(struct bus *b, const char *name, uint64_t base, uint64_t size,
		 unsigned flags, uint8_t *host);
int bus_add_mmio(struct bus *b, const char *name, uint64_t base, uint64_t size,
		 mmio_read_fn *rd, mmio_write_fn *wr, void *ctx);
int bus_set_store_hook(struct bus *b, uint64_t base, store_hook_fn *fn, void *ctx);
/* Remove or re-protect [base, base+size), splitting regions as needed.
 * User-mode munmap/mprotect use these. */
int bus_remove(struct bus *b, uint64_t base, uint64_t size);
int bus_protect(struct bus *b, uint64_t base, uint64_t size, unsigned flags);

int bus_add_pio(struct bus *b, uint16_t first, uint16_t count,
		pio_read_fn *rd, pio_write_fn *wr, void *ctx);

/* The region holding pa, or NULL. */
struct bus_region *bus_find(struct bus *b, uint64_t pa);

/* Slow-path accesses of 1, 2, 4 or 8 bytes, which must not cross a region
 * boundary (callers split at page boundaries).  RAM, MMIO or unmapped. */
uint64_t bus_read(struct bus *b, uint64_t pa, unsigned size);
void bus_write(struct bus *b, uint64_t pa, unsigned size, uint64_t value);
uint32_t bus_pio_in(struct bus *b, uint16_t port, unsigned size);
void bus_pio_out(struct bus *b, uint16_t port, unsigned size, uint32_t value);

/* DMA: copy between host buffers and guest RAM.  Fails (-1) without
 * touching anything if any byte lies outside RAM, so a device can refuse a
 * wild request instead of faulting the host. */
int bus_dma_read(struct bus *b, uint64_t pa, void *dst, size_t len);
int bus_dma_write(struct bus *b, uint64_t pa, const void *src, size_t len);

#endif
