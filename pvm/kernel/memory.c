/* pvm/kernel/memory.c: the memory map and the physical page allocator.
 *
 * The Multiboot memory map (info flag bit 6) lists RAM as type 1 and
 * persistent memory as type 7 (ABI_E820_PMEM).  The kernel uses the first
 * type-7 range as its PM region, unless the command line names one with
 * pmem=BASE,SIZE; under QEMU that is a stretch of RAM standing in for PM,
 * and it is taken out of the RAM the allocator hands out.
 *
 * The allocator is a bitmap over the identity-mapped physical range below
 * OBJSPACE_BASE (2 GiB), one bit per 4 KiB page, 1 = free.  It hands out
 * zeroed pages; RAM above 2 GiB is left unused (docs/guest.md).
 */
#include "pvm/kernel/kernel.h"

#define ALLOC_LIMIT     OBJSPACE_BASE
#define ALLOC_PAGES     (ALLOC_LIMIT / PAGE_SIZE)

struct memory_map memory_map;
static uint64_t free_bitmap[ALLOC_PAGES / 64];
static uint64_t nfree, hint;
extern char _kernel_start[], _kernel_end[];

static const char *type_name(uint32_t t)
{
	switch (t) {
	case 1: return "RAM";
	case 2: return "reserved";
	case 3: return "ACPI";
	case 4: return "NVS";
	case 5: return "bad";
	case ABI_E820_PMEM: return "persistent";
	default: return "other";
	}
}

static void mark(uint64_t base, uint64_t end, bool free)
{
	base = ALIGN_UP(base, PAGE_SIZE);
	end &= ~(PAGE_SIZE - 1);
	if (end > ALLOC_LIMIT)
		end = ALLOC_LIMIT;
	for (uint64_t pa = base; pa < end; pa += PAGE_SIZE) {
		uint64_t pn = pa / PAGE_SIZE, bit = 1ull << (pn % 64);
		bool was = free_bitmap[pn / 64] & bit;
		if (free && !was) {
			free_bitmap[pn / 64] |= bit;
			nfree++;
		} else if (!free && was) {
			free_bitmap[pn / 64] &= ~bit;
			nfree--;
		}
	}
}

void memory_init(const void *mbi_ptr)
{
	const uint8_t *mbi = mbi_ptr;
	uint32_t flags = *(const uint32_t *)mbi;
	if (!(flags & (1u << 6)))
		panic("memory: the boot loader gave no memory map (Multiboot flag 6)");
	uint32_t len = *(const uint32_t *)(mbi + 44);
	uint64_t addr = *(const uint32_t *)(mbi + 48);
	struct memory_map *m = &memory_map;
	for (uint64_t p = addr; p < addr + len && m->n < MAX_MEM_RANGES; ) {
		const uint8_t *e = (const uint8_t *)p;
		uint32_t size = *(const uint32_t *)e;
		struct mem_range r = {
			.base = *(const uint64_t *)(e + 4),
			.size = *(const uint64_t *)(e + 12),
			.type = *(const uint32_t *)(e + 20),
		};
		kprintf("mmap: %016lx-%016lx %s (%u)\n", r.base, r.base + r.size - 1,
			type_name(r.type), r.type);
		m->r[m->n++] = r;
		if (r.type == 1)
			m->ram_bytes += r.size;
		if (r.type == ABI_E820_PMEM && m->pmem_size == 0) {
			m->pmem_base = r.base;
			m->pmem_size = r.size;
		}
		p += size + 4;
	}
	if (cmdline.pmem_size) {
		m->pmem_base = cmdline.pmem_base;
		m->pmem_size = cmdline.pmem_size;
		kprintf("mmap: pmem= override: %016lx-%016lx stands in for persistent memory\n",
			m->pmem_base, m->pmem_base + m->pmem_size - 1);
	}
	kprintf("memory: %lu MiB RAM, persistent region %lu MiB at 0x%lx\n",
		m->ram_bytes >> 20, m->pmem_size >> 20, m->pmem_base);

	/* Free: RAM from 1 MiB, minus the kernel image and the PM region.
	 * The loader's structures (info, map, cmdline) have been copied by
	 * now, so their pages may be reused. */
	for (int i = 0; i < m->n; i++)
		if (m->r[i].type == 1)
			mark(m->r[i].base < 0x100000 ? 0x100000 : m->r[i].base, m->r[i].base + m->r[i].size, true);
	mark(0, 0x100000, false);
	mark((uint64_t)_kernel_start & ~(PAGE_SIZE - 1), ALIGN_UP((uint64_t)_kernel_end, PAGE_SIZE), false);
	if (m->pmem_size)
		mark(m->pmem_base & ~(PAGE_SIZE - 1), ALIGN_UP(m->pmem_base + m->pmem_size, PAGE_SIZE), false);
	hint = 0;
	kprintf("memory: %lu free pages (%lu MiB) for the kernel and the object space\n",
		nfree, nfree >> 8);
}

uint64_t pages_free(void)
{
	return nfree;
}

static bool is_free(uint64_t pn)
{
	return free_bitmap[pn / 64] & (1ull << (pn % 64));
}

uint64_t page_alloc_contig(uint64_t n)
{
	uint64_t run = 0;
	for (uint64_t i = 0; i < ALLOC_PAGES; i++) {
		uint64_t pn = (hint + i) % ALLOC_PAGES;
		if (pn == 0)
			run = 0;
		if (!(free_bitmap[pn / 64]) && pn % 64 == 0) {
			run = 0;        /* a full word of used pages ends any run */
			i += 63;
			continue;
		}
		run = is_free(pn) ? run + 1 : 0;
		if (run == n) {
			uint64_t first = pn + 1 - n;
			for (uint64_t k = first; k <= pn; k++) {
				free_bitmap[k / 64] &= ~(1ull << (k % 64));
				nfree--;
			}
			hint = pn + 1;
			memset((void *)(first * PAGE_SIZE), 0, n * PAGE_SIZE);
			return first * PAGE_SIZE;
		}
	}
	panic("memory: out of physical pages (wanted %lu contiguous, %lu free)", n, nfree);
}

uint64_t page_alloc(void)
{
	return page_alloc_contig(1);
}

void page_free(uint64_t pa)
{
	uint64_t pn = pa / PAGE_SIZE;
	if (pa % PAGE_SIZE || pa >= ALLOC_LIMIT || is_free(pn))
		panic("memory: bad page_free(0x%lx)", pa);
	free_bitmap[pn / 64] |= 1ull << (pn % 64);
	nfree++;
}
