/* machine/dram.c: DDR4 bank and bus timing (see dram.h).
 *
 * Address mapping: consecutive rows of a bank are row_bytes apart after
 * interleaving across banks, i.e. bank = (addr / row_bytes) % banks, so a
 * sequential stream walks one row at a time through every bank.
 */
#include "machine/dram.h"

void dram_default_params(struct dram_params *p)
{
	/* DDR4-2666 CL19-19-19: 19 cycles of 0.75 ns. */
	*p = (struct dram_params){
		.tcl = 14250, .trcd = 14250, .trp = 14250,
		.burst = 3 * SIM_NS,
		.banks = 16,
		.row_bytes = 8192,
	};
}

void dram_init(struct dram_channel *c, const struct dram_params *p)
{
	*c = (struct dram_channel){.p = *p};
	if (c->p.banks < 1)
		c->p.banks = 1;
	if (c->p.banks > DRAM_MAX_BANKS)
		c->p.banks = DRAM_MAX_BANKS;
	if (c->p.row_bytes < 64)
		c->p.row_bytes = 64;
}

sim_time_t dram_access(struct dram_channel *c, uint64_t addr, sim_time_t now)
{
	uint64_t unit = addr / c->p.row_bytes;
	unsigned bank = (unsigned)(unit % c->p.banks);
	uint64_t row = unit / c->p.banks + 1;
	sim_time_t t = now > c->bank_free[bank] ? now : c->bank_free[bank];

	c->accesses++;
	if (c->open_row[bank] == row) {
		c->row_hits++;
	} else if (c->open_row[bank] == 0) {
		c->row_misses++;
		t += c->p.trcd;
	} else {
		c->row_conflicts++;
		t += c->p.trp + c->p.trcd;
	}
	c->open_row[bank] = row;
	t += c->p.tcl;
	c->bank_free[bank] = t;
	sim_time_t start = t > c->bus_free ? t : c->bus_free;
	c->bus_free = start + c->p.burst;
	return c->bus_free;
}
