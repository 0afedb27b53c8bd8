/* machine/layout.h: where DRAM and persistent memory sit in the physical
 * address space, derived from the config.
 *
 * The bus mapping (machine assembly) and the firmware tables the guest
 * reads (the Multiboot memory map) both come from this one description,
 * so they cannot disagree.  docs/machine.md shows the map.
 */
#ifndef MACHINE_LAYOUT_H
#define MACHINE_LAYOUT_H

#include <stdint.h>

struct config;

/* E820/Multiboot memory types. */
enum { MEM_RAM = 1, MEM_RESERVED = 2, MEM_PMEM = 7 };

struct mem_range {
	uint64_t base, size;
	unsigned type;
};

#define LAYOUT_MAX_RANGES 8

struct layout {
	struct mem_range ranges[LAYOUT_MAX_RANGES];     /* sorted by base */
	int n;
	uint64_t dram_low;      /* DRAM bytes mapped from 0 (at most 3 GiB) */
	uint64_t dram_high;     /* DRAM bytes mapped from 4 GiB */
	uint64_t pmem_base, pmem_size;  /* size 0: no persistent memory */
};

/* The config has been checked (config_check), so ranges cannot overlap. */
void layout_from_config(struct layout *l, const struct config *cfg);

#endif
