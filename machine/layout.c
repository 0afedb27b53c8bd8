/* machine/layout.c: the physical memory map of the PC machine.
 *
 * DRAM fills the space from 0 up to 3 GiB; what does not fit continues at
 * 4 GiB, leaving 3-4 GiB for MMIO (PCI BARs, the APICs), as PC firmware
 * does.  The area just under 1 MiB is reported reserved, as a BIOS would
 * (EBDA and ROM), though the bus backs it with RAM.
 */
#include "machine/guest_abi.h"
#include "machine/layout.h"
#include "sim/config.h"

static void add(struct layout *l, uint64_t base, uint64_t size, unsigned type)
{
	if (size && l->n < LAYOUT_MAX_RANGES)
		l->ranges[l->n++] = (struct mem_range){base, size, type};
}

void layout_from_config(struct layout *l, const struct config *cfg)
{
	*l = (struct layout){0};
	uint64_t dram = cfg->memory.dram_mb << 20;
	uint64_t hole = ABI_MMIO_HOLE_BASE;
	l->dram_low = dram < hole ? dram : hole;
	l->dram_high = dram - l->dram_low;

	add(l, 0, ABI_LOW_RAM_TOP, MEM_RAM);
	add(l, ABI_LOW_RAM_TOP, ABI_HIGH_RAM_BASE - ABI_LOW_RAM_TOP, MEM_RESERVED);
	if (l->dram_low > ABI_HIGH_RAM_BASE)
		add(l, ABI_HIGH_RAM_BASE, l->dram_low - ABI_HIGH_RAM_BASE, MEM_RAM);
	add(l, ABI_HIGH_DRAM_BASE, l->dram_high, MEM_RAM);
	if (cfg->pmem.enabled) {
		l->pmem_base = cfg->pmem.base;
		l->pmem_size = cfg->pmem.size_mb << 20;
		add(l, l->pmem_base, l->pmem_size, MEM_PMEM);
	}
	/* PM may sit below 4 GiB when DRAM is small: keep the list sorted. */
	for (int i = 1; i < l->n; i++)
		for (int j = i; j > 0 && l->ranges[j].base < l->ranges[j - 1].base; j--) {
			struct mem_range t = l->ranges[j];
			l->ranges[j] = l->ranges[j - 1];
			l->ranges[j - 1] = t;
		}
}
