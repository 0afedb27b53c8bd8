/* pvm/kernel/paging.c: the kernel's page tables.
 *
 * One address space, 4 levels, built on boot.S's tables:
 *
 *   0 - 2 GiB          identity, 2 MiB pages (kernel, page pool, low RAM)
 *   2 - 3 GiB          the object space window: OBJSPACE_BASE + 4 KiB pages
 *                      backed by DRAM pages, so the hardware keeps an
 *                      accessed and a dirty bit per page (persist/ uses D)
 *   3 - 4 GiB          identity, uncached: the MMIO hole (PCI BARs, APICs)
 *   above 4 GiB        identity, 2 MiB pages, mapped on demand
 *                      (persistent memory, 64-bit BARs)
 */
#include "pvm/kernel/kernel.h"

extern uint64_t boot_pml4[512], boot_pdpt[512], boot_pd[4 * 512];

void paging_init(void)
{
	/* The MMIO hole is uncached: device registers must not be cached. */
	for (int i = 3 * 512; i < 4 * 512; i++)
		boot_pd[i] |= PTE_PCD | PTE_PWT;
	write_cr3(read_cr3());
}

static uint64_t *table_at(uint64_t *entry)
{
	if (!(*entry & PTE_P))
		*entry = page_alloc() | PTE_P | PTE_RW;
	return (uint64_t *)(*entry & PTE_ADDR);
}

void map_identity(uint64_t base, uint64_t size, bool uncached)
{
	uint64_t end = ALIGN_UP(base + size, 1ull << 21);
	for (uint64_t pa = base & ~((1ull << 21) - 1); pa < end; pa += 1ull << 21) {
		if (pa < (4ull << 30)) {
			if (pa >= OBJSPACE_BASE && pa < ABI_MMIO_HOLE_BASE)
				panic("paging: 0x%lx lies under the object space window (2-3 GiB)", pa);
			continue;       /* boot.S mapped the first 4 GiB */
		}
		uint64_t *pdpt = table_at(&boot_pml4[(pa >> 39) & 511]);
		uint64_t *pd = table_at(&pdpt[(pa >> 30) & 511]);
		pd[(pa >> 21) & 511] = pa | PTE_P | PTE_RW | PTE_PS | (uncached ? PTE_PCD | PTE_PWT : 0);
		invlpg(pa);
	}
}

static uint64_t *objspace_pd_ptr;

uint64_t *objspace_pd(void)
{
	return objspace_pd_ptr;
}

void objspace_unmap(uint64_t *pte, uint64_t npages)
{
	uint64_t npt = (npages + 511) / 512;
	for (uint64_t i = 0; i < npages; i++)
		page_free(pte[i] & PTE_ADDR);
	for (uint64_t t = 0; t < npt; t++)
		page_free((uint64_t)pte + t * PAGE_SIZE);
	page_free((uint64_t)objspace_pd_ptr);
	boot_pdpt[OBJSPACE_BASE >> 30] = 0;
	objspace_pd_ptr = 0;
	write_cr3(read_cr3());
}

uint64_t *objspace_map(uint64_t npages)
{
	uint64_t npt = (npages + 511) / 512;
	uint64_t pd = page_alloc();
	uint64_t pts = page_alloc_contig(npt);
	uint64_t *pte = (uint64_t *)pts;
	for (uint64_t t = 0; t < npt; t++)
		((uint64_t *)pd)[t] = (pts + t * PAGE_SIZE) | PTE_P | PTE_RW;
	for (uint64_t i = 0; i < npages; i++)
		pte[i] = page_alloc() | PTE_P | PTE_RW;
	boot_pdpt[OBJSPACE_BASE >> 30] = pd | PTE_P | PTE_RW;
	objspace_pd_ptr = (uint64_t *)pd;
	write_cr3(read_cr3());
	return pte;
}
