/* machine/optane.h: timing of one Intel Optane DC PMM (first generation)
 * as seen from the memory controller.
 *
 * The DIMM's controller is modelled after the structure measured by Yang
 * et al. (FAST 2020) and parameterised as in VANS (Wang et al., MICRO
 * 2020); docs/timing.md cites every number:
 *
 *   - media accesses are 256-byte XPLines: read 75 ns, write 225 ns;
 *   - a write-combining XPBuffer of 64 XPLines (16 KiB) absorbs writes and
 *     serves recent reads; a partial XPLine leaving it costs a
 *     read-modify-write;
 *   - an address-indirection table (AIT) maps 4 KiB blocks; its on-DIMM
 *     cache holds 4096 entries, and a miss costs a lookup in the DIMM's
 *     DRAM;
 *   - the media serves media_units operations at once; requests queue
 *     behind each other, which is where the per-DIMM bandwidth limits
 *     come from (2 units give 6.8 GB/s of reads and 2.3 GB/s of writes
 *     per DIMM, the figures Izraelevitz et al. measured).
 *
 * All times are simulated picoseconds.  The model is deterministic: its
 * only state is the buffers' contents and the time the media is busy until.
 */
#ifndef MACHINE_OPTANE_H
#define MACHINE_OPTANE_H

#include <stdbool.h>
#include <stdint.h>
#include "sim/clock.h"

#define XPLINE 256u
#define AIT_BLOCK 4096u

struct optane_params {
	sim_time_t media_read;          /* one XPLine from media */
	sim_time_t media_write;         /* one XPLine to media */
	sim_time_t buffer_hit;          /* read served from the XPBuffer */
	sim_time_t buffer_write;        /* write merged into the XPBuffer */
	sim_time_t ait_miss;            /* AIT entry fetched from on-DIMM DRAM */
	sim_time_t ddrt;                /* DDR-T protocol and transfer, each way */
	unsigned xpbuffer_lines;        /* 64 */
	unsigned ait_entries;           /* 4096 */
	unsigned media_units;           /* media operations in parallel */
	unsigned write_backlog;         /* write-backs queued before writes stall */
};

#define OPTANE_MAX_UNITS 8

/* One way of a small fully associative LRU buffer. */
struct optane_slot {
	uint64_t tag;
	uint64_t stamp;
	uint8_t written;        /* XPBuffer: bitmap of 64-byte chunks written */
	bool valid;
};

struct optane_dimm {
	struct optane_params p;
	struct optane_slot *xpb, *ait;
	uint64_t clock;
	sim_time_t media_free[OPTANE_MAX_UNITS];        /* each unit busy until */
	uint64_t reads, writes, media_reads, media_writes, rmw, ait_misses, xpb_hits;
};

void optane_default_params(struct optane_params *p);
void optane_init(struct optane_dimm *d, const struct optane_params *p);
void optane_free(struct optane_dimm *d);

/* A 64-byte read arriving at the DIMM at `now`: returns when its data
 * leaves the DIMM. */
sim_time_t optane_read(struct optane_dimm *d, uint64_t addr, sim_time_t now);
/* A 64-byte write arriving at `now`: returns when the DIMM has accepted it
 * (the memory controller's write-pending-queue slot is then free). */
sim_time_t optane_write(struct optane_dimm *d, uint64_t addr, sim_time_t now);

#endif
