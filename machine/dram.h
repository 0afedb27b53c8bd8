/* machine/dram.h: timing of a DDR4 channel with open-page banks.
 *
 * A 64-byte access to a bank whose row buffer holds the row costs tCL
 * plus the burst; a closed bank adds tRCD; another row open adds tRP too.
 * Rows stay open (open-page policy), so sequential access is mostly row
 * hits and random access mostly row conflicts: that is the gap between
 * the ~81 ns sequential and ~100 ns random idle latencies measured on the
 * reference platform (docs/timing.md).  The data bus of the channel is a
 * single server, which bounds bandwidth.
 */
#ifndef MACHINE_DRAM_H
#define MACHINE_DRAM_H

#include <stdint.h>
#include "sim/clock.h"

#define DRAM_MAX_BANKS 64

struct dram_params {
	sim_time_t tcl, trcd, trp;      /* DDR4-2666 CL19: ~14.25 ns each */
	sim_time_t burst;               /* 64 bytes on a 64-bit bus: 3 ns */
	unsigned banks;                 /* 16 per rank */
	uint64_t row_bytes;             /* 8 KiB */
};

struct dram_channel {
	struct dram_params p;
	uint64_t open_row[DRAM_MAX_BANKS];      /* row + 1, 0 = closed */
	sim_time_t bank_free[DRAM_MAX_BANKS];
	sim_time_t bus_free;
	uint64_t accesses, row_hits, row_misses, row_conflicts;
};

void dram_default_params(struct dram_params *p);
void dram_init(struct dram_channel *c, const struct dram_params *p);
/* A 64-byte access (read or write: DDR timing is symmetric here) arriving
 * at `now`; returns when its data transfer ends. */
sim_time_t dram_access(struct dram_channel *c, uint64_t addr, sim_time_t now);

#endif
