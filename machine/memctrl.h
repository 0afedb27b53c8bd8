/* machine/memctrl.h: the integrated memory controller (iMC).
 *
 * It routes each 64-byte request by physical address: DRAM ranges to DDR4
 * channels, the persistent-memory range to Optane DIMMs interleaved with a
 * fixed stride (4 KiB on the reference platform).  Writes enter a
 * write-pending queue (WPQ) per DIMM or channel and drain in order,
 * pipelined one burst apart (a full queue means the device is refusing
 * writes, not that the channel is slow); under
 * ADR the WPQ is the persistence point, so the time a write is accepted
 * into it is the time a flush-and-fence can complete.  Reads of a line
 * still in a WPQ are forwarded from it.
 */
#ifndef MACHINE_MEMCTRL_H
#define MACHINE_MEMCTRL_H

#include <stdbool.h>
#include <stdint.h>
#include "machine/dram.h"
#include "machine/optane.h"
#include "sim/clock.h"

#define WPQ_MAX 64

struct memctrl_params {
	sim_time_t uncore;              /* LLC miss to iMC and back, total */
	sim_time_t imc;                 /* iMC scheduling, per request */
	sim_time_t write_ack;           /* WPQ insertion and its acknowledgement */
	sim_time_t write_issue;         /* WPQ to device: one write per this interval */
	unsigned wpq_entries;           /* per DIMM or channel */
	unsigned dram_channels;
	unsigned pm_dimms;
	uint64_t pm_interleave;         /* bytes, power of two */
	uint64_t dram_interleave;       /* bytes, power of two */
	struct dram_params dram;
	struct optane_params optane;
};

struct wpq {
	uint64_t addr[WPQ_MAX];
	sim_time_t drained[WPQ_MAX];    /* when the device accepted each entry */
	sim_time_t issue_free;          /* when the next entry can be sent */
	unsigned head, n;
};

struct memctrl {
	struct memctrl_params p;
	uint64_t pm_base, pm_size;      /* pm_size 0: no PM */
	struct dram_channel *dram;
	struct optane_dimm *pm;
	struct wpq *dram_wpq, *pm_wpq;
	uint64_t reads, writes, wpq_forwards, wpq_full_stalls;
	sim_time_t wpq_stall_time;
};

void memctrl_default_params(struct memctrl_params *p);
void memctrl_init(struct memctrl *m, const struct memctrl_params *p,
		  uint64_t pm_base, uint64_t pm_size);
void memctrl_free(struct memctrl *m);

/* A 64-byte read leaving the LLC at `now`: returns when the data is back
 * at the LLC. */
sim_time_t memctrl_read(struct memctrl *m, uint64_t pa, sim_time_t now);
/* A 64-byte write-back leaving the LLC at `now`: returns when the WPQ has
 * accepted it and the acknowledgement is back (what a fence waits for). */
sim_time_t memctrl_write(struct memctrl *m, uint64_t pa, sim_time_t now);
/* Entries not yet drained at `now`, over all queues of PM (pm = true) or
 * DRAM. */
unsigned memctrl_wpq_occupancy(const struct memctrl *m, bool pm, sim_time_t now);

#endif
