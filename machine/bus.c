/* machine/bus.c: the physical address space and the I/O port space.
 *
 * Regions live in one array sorted by base address, never overlapping, so
 * a lookup is a binary search.  RAM regions carry a host pointer the CPU
 * caches in its TLB; every change to the map (add, remove, protect, store
 * hook) bumps bus->generation so those cached pointers are refilled.
 *
 * Removing or re-protecting part of a region splits it: the pieces keep
 * pointing into the same host mapping (RAM) or keep the handler offsets
 * they had (MMIO, through bus_region.offset).  When RAM the bus allocated
 * is removed, the host pages wholly inside the removed range are unmapped;
 * a page shared with a surviving piece stays until bus_free().
 *
 *     bus_init(&bus, &sim);
 *     bus_add_ram(&bus, "dram", 0, 1 << 20, BUS_RWX);
 *     bus_write(&bus, 0x1000, 4, 0xdeadbeef);
 *     bus_remove(&bus, 0x1000, 0x1000);       // dram splits in two
 *     bus_read(&bus, 0x1000, 4);              // 0xffffffff, reported once
 */
#include "machine/bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sim/sim.h"

/* Each unknown address is reported once; after this many distinct
 * addresses reporting stops (the counters keep counting), so a guest
 * sweeping unmapped memory cannot grow host memory without bound. */
#define BUS_MAX_REPORTED 4096

#define PIO_KEY (1ull << 63)

void bus_init(struct bus *b, struct sim *sim)
{
	memset(b, 0, sizeof *b);
	b->sim = sim;
	if (sim) {
		b->unknown_mmio = stats_counter(&sim->stats, "bus.unknown_mmio");
		b->unknown_pio = stats_counter(&sim->stats, "bus.unknown_pio");
	} else {
		/* Unit tests may run a bus without a simulation. */
		b->unknown_mmio = calloc(2, sizeof(uint64_t));
		if (b->unknown_mmio)
			b->unknown_pio = b->unknown_mmio + 1;
	}
}

static void region_release(struct bus_region *r, uint64_t base, uint64_t size)
{
	/* Unmap only whole host pages inside [base, base+size) of r. */
	if (!r->owns_host || !r->host)
		return;
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint8_t *lo = r->host + (base - r->base);
	uint8_t *hi = lo + size;
	uintptr_t a = ((uintptr_t)lo + page - 1) & ~(uintptr_t)(page - 1);
	uintptr_t e = (uintptr_t)hi & ~(uintptr_t)(page - 1);
	if (e > a)
		munmap((void *)a, e - a);
}

void bus_free(struct bus *b)
{
	for (size_t i = 0; i < b->nregions; i++) {
		region_release(&b->regions[i], b->regions[i].base, b->regions[i].size);
		free((char *)b->regions[i].name);
	}
	free(b->regions);
	free(b->pio);
	free(b->reported);
	if (!b->sim)
		free(b->unknown_mmio);
	memset(b, 0, sizeof *b);
}

/* Index of the first region with base + size > pa. */
static size_t region_lower_bound(const struct bus *b, uint64_t pa)
{
	size_t lo = 0, hi = b->nregions;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct bus_region *r = &b->regions[mid];
		if (r->base + r->size <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct bus_region *bus_find(struct bus *b, uint64_t pa)
{
	size_t i = region_lower_bound(b, pa);
	if (i < b->nregions && b->regions[i].base <= pa)
		return &b->regions[i];
	return NULL;
}

static int region_insert(struct bus *b, const struct bus_region *nr)
{
	if (nr->size == 0 || nr->base + nr->size < nr->base)
		return -1;
	size_t i = region_lower_bound(b, nr->base);
	if (i < b->nregions && b->regions[i].base < nr->base + nr->size)
		return -1;      /* overlap */
	if (b->nregions == b->capregions) {
		size_t cap = b->capregions ? 2 * b->capregions : 16;
		struct bus_region *n = realloc(b->regions, cap * sizeof *n);
		if (!n)
			return -1;
		b->regions = n;
		b->capregions = cap;
	}
	memmove(&b->regions[i + 1], &b->regions[i],
		(b->nregions - i) * sizeof *b->regions);
	b->regions[i] = *nr;
	b->nregions++;
	b->generation++;
	return 0;
}

static int add_region(struct bus *b, const char *name, uint64_t base, uint64_t size,
		      unsigned flags, uint8_t *host, bool owns)
{
	struct bus_region r = {
		.name = strdup(name ? name : "?"),
		.base = base, .size = size, .flags = flags,
		.host = host, .owns_host = owns,
	};
	if (!r.name || region_insert(b, &r) < 0) {
		free((char *)r.name);
		return -1;
	}
	return 0;
}

int bus_add_ram(struct bus *b, const char *name, uint64_t base, uint64_t size, unsigned flags)
{
	if (size == 0 || base + size < base)
		return -1;
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	if (add_region(b, name, base, size, flags, p, true) < 0) {
		munmap(p, size);
		return -1;
	}
	return 0;
}

int bus_add_host(struct bus *b, const char *name, uint64_t base, uint64_t size,
		 unsigned flags, uint8_t *host)
{
	if (!host)
		return -1;
	return add_region(b, name, base, size, flags, host, false);
}

int bus_add_mmio(struct bus *b, const char *name, uint64_t base, uint64_t size,
		 mmio_read_fn *rd, mmio_write_fn *wr, void *ctx)
{
	struct bus_region r = {
		.name = strdup(name ? name : "?"),
		.base = base, .size = size, .flags = BUS_R | BUS_W,
		.read = rd, .write = wr, .ctx = ctx,
	};
	if (!r.name || region_insert(b, &r) < 0) {
		free((char *)r.name);
		return -1;
	}
	return 0;
}

int bus_set_store_hook(struct bus *b, uint64_t base, store_hook_fn *fn, void *ctx)
{
	struct bus_region *r = bus_find(b, base);
	if (!r || !r->host)
		return -1;
	r->store_hook = fn;
	r->ctx = ctx;
	if (fn)
		r->flags |= BUS_STORE_HOOK;
	else
		r->flags &= ~(unsigned)BUS_STORE_HOOK;
	b->generation++;
	return 0;
}

/* Split the region holding pa so that a region starts exactly at pa. */
static int split_at(struct bus *b, uint64_t pa)
{
	struct bus_region *r = bus_find(b, pa);
	if (!r || r->base == pa)
		return 0;
	struct bus_region right = *r;
	uint64_t cut = pa - r->base;
	right.base = pa;
	right.size = r->size - cut;
	right.name = strdup(r->name);
	if (!right.name)
		return -1;
	if (right.host)
		right.host += cut;
	else
		right.offset += cut;
	r->size = cut;
	if (region_insert(b, &right) < 0) {
		r = bus_find(b, pa - 1);
		r->size += right.size;
		free((char *)right.name);
		return -1;
	}
	return 0;
}

int bus_remove(struct bus *b, uint64_t base, uint64_t size)
{
	if (size == 0 || base + size < base)
		return -1;
	if (split_at(b, base) < 0 || split_at(b, base + size) < 0)
		return -1;
	size_t i = region_lower_bound(b, base);
	size_t j = i;
	while (j < b->nregions && b->regions[j].base < base + size) {
		struct bus_region *r = &b->regions[j];
		region_release(r, r->base, r->size);
		free((char *)r->name);
		j++;
	}
	memmove(&b->regions[i], &b->regions[j], (b->nregions - j) * sizeof *b->regions);
	b->nregions -= j - i;
	b->generation++;
	return 0;
}

int bus_protect(struct bus *b, uint64_t base, uint64_t size, unsigned flags)
{
	if (size == 0 || base + size < base)
		return -1;
	/* The whole range must be mapped, or nothing changes. */
	for (uint64_t pa = base; pa < base + size;) {
		struct bus_region *r = bus_find(b, pa);
		if (!r)
			return -1;
		pa = r->base + r->size;
		if (pa == 0)
			break;
	}
	if (split_at(b, base) < 0 || split_at(b, base + size) < 0)
		return -1;
	for (size_t i = region_lower_bound(b, base);
	     i < b->nregions && b->regions[i].base < base + size; i++) {
		struct bus_region *r = &b->regions[i];
		r->flags = (r->flags & BUS_STORE_HOOK) | (flags & BUS_RWX);
	}
	b->generation++;
	return 0;
}

int bus_add_pio(struct bus *b, uint16_t first, uint16_t count,
		pio_read_fn *rd, pio_write_fn *wr, void *ctx)
{
	if (count == 0 || (uint32_t)first + count > 0x10000)
		return -1;
	for (size_t i = 0; i < b->npio; i++) {
		const struct pio_range *p = &b->pio[i];
		if (first < p->first + p->count && p->first < first + count)
			return -1;
	}
	if (b->npio == b->cappio) {
		size_t cap = b->cappio ? 2 * b->cappio : 16;
		struct pio_range *n = realloc(b->pio, cap * sizeof *n);
		if (!n)
			return -1;
		b->pio = n;
		b->cappio = cap;
	}
	b->pio[b->npio++] = (struct pio_range){ first, count, rd, wr, ctx };
	return 0;
}

/* Report an unknown address once; returns true the first time. */
static bool report_once(struct bus *b, uint64_t key)
{
	size_t lo = 0, hi = b->nreported;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->reported[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < b->nreported && b->reported[lo] == key)
		return false;
	if (b->nreported >= BUS_MAX_REPORTED)
		return false;
	if (b->nreported == b->capreported) {
		size_t cap = b->capreported ? 2 * b->capreported : 64;
		uint64_t *n = realloc(b->reported, cap * sizeof *n);
		if (!n)
			return false;
		b->reported = n;
		b->capreported = cap;
	}
	memmove(&b->reported[lo + 1], &b->reported[lo],
		(b->nreported - lo) * sizeof *b->reported);
	b->reported[lo] = key;
	b->nreported++;
	return true;
}

static void unknown_mmio(struct bus *b, uint64_t pa, const char *what)
{
	if (b->unknown_mmio)
		++*b->unknown_mmio;
	if (report_once(b, pa & ~PIO_KEY))
		fprintf(stderr, "bus: %s of unmapped address 0x%llx\n", what,
			(unsigned long long)pa);
}

static uint64_t ones(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

uint64_t bus_read(struct bus *b, uint64_t pa, unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return 0;
	struct bus_region *r = bus_find(b, pa);
	if (!r) {
		unknown_mmio(b, pa, "read");
		return ones(size);
	}
	if (pa + size - 1 > r->base + r->size - 1) {
		/* Crosses the region's end: assemble from bytes. */
		uint64_t v = 0;
		for (unsigned k = 0; k < size; k++)
			v |= bus_read(b, pa + k, 1) << (8 * k);
		return v;
	}
	if (r->host) {
		uint64_t v = 0;
		memcpy(&v, r->host + (pa - r->base), size);     /* little endian host */
		return v;
	}
	if (!r->read)
		return ones(size);
	return r->read(r->ctx, pa - r->base + r->offset, size) & ones(size);
}

void bus_write(struct bus *b, uint64_t pa, unsigned size, uint64_t value)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return;
	struct bus_region *r = bus_find(b, pa);
	if (!r) {
		unknown_mmio(b, pa, "write");
		return;
	}
	if (pa + size - 1 > r->base + r->size - 1) {
		for (unsigned k = 0; k < size; k++)
			bus_write(b, pa + k, 1, value >> (8 * k));
		return;
	}
	if (r->host) {
		memcpy(r->host + (pa - r->base), &value, size);
		if (r->store_hook)
			r->store_hook(r->ctx, pa, size);
		if (b->code_write)
			b->code_write(b->code_write_ctx, pa, size);
		return;
	}
	if (r->write)
		r->write(r->ctx, pa - r->base + r->offset, size, value & ones(size));
}

static struct pio_range *pio_find(struct bus *b, uint16_t port)
{
	for (size_t i = 0; i < b->npio; i++) {
		struct pio_range *p = &b->pio[i];
		if (port >= p->first && port - p->first < p->count)
			return p;
	}
	return NULL;
}

static void unknown_pio(struct bus *b, uint16_t port, const char *what)
{
	if (b->unknown_pio)
		++*b->unknown_pio;
	if (report_once(b, PIO_KEY | port))
		fprintf(stderr, "bus: %s of unknown I/O port 0x%x\n", what, port);
}

uint32_t bus_pio_in(struct bus *b, uint16_t port, unsigned size)
{
	if (size != 1 && size != 2 && size != 4)
		return 0;
	struct pio_range *p = pio_find(b, port);
	if (!p || !p->read) {
		if (!p)
			unknown_pio(b, port, "in");
		return (uint32_t)ones(size);
	}
	return p->read(p->ctx, port, size) & (uint32_t)ones(size);
}

void bus_pio_out(struct bus *b, uint16_t port, unsigned size, uint32_t value)
{
	if (size != 1 && size != 2 && size != 4)
		return;
	struct pio_range *p = pio_find(b, port);
	if (!p) {
		unknown_pio(b, port, "out");
		return;
	}
	if (p->write)
		p->write(p->ctx, port, size, value & (uint32_t)ones(size));
}

/* Whether every byte of [pa, pa+len) is RAM. */
static bool dma_ok(struct bus *b, uint64_t pa, size_t len)
{
	if (len == 0)
		return true;
	if (pa + len - 1 < pa)
		return false;
	uint64_t end = pa + len;        /* may wrap to 0 at the very top */
	while (pa != end) {
		struct bus_region *r = bus_find(b, pa);
		if (!r || !r->host)
			return false;
		uint64_t rend = r->base + r->size;
		if (rend == 0 || (end != 0 && rend >= end) || rend < pa)
			return true;
		pa = rend;
	}
	return true;
}

int bus_dma_read(struct bus *b, uint64_t pa, void *dst, size_t len)
{
	if (!dma_ok(b, pa, len))
		return -1;
	uint8_t *d = dst;
	while (len) {
		struct bus_region *r = bus_find(b, pa);
		uint64_t n = r->base + r->size - pa;
		if (n == 0 || n > len)
			n = len;
		memcpy(d, r->host + (pa - r->base), n);
		d += n, pa += n, len -= n;
	}
	return 0;
}

int bus_dma_write(struct bus *b, uint64_t pa, const void *src, size_t len)
{
	if (!dma_ok(b, pa, len))
		return -1;
	const uint8_t *s = src;
	while (len) {
		struct bus_region *r = bus_find(b, pa);
		uint64_t n = r->base + r->size - pa;
		if (n == 0 || n > len)
			n = len;
		memcpy(r->host + (pa - r->base), s, n);
		if (r->store_hook)
			r->store_hook(r->ctx, pa, (unsigned)(n > 0xffffffffu ? 0xffffffffu : n));
		if (b->code_write)
			b->code_write(b->code_write_ctx, pa, n);
		s += n, pa += n, len -= n;
	}
	return 0;
}
