/* devices/pc.c: builds the standard PC devices and wires their interrupt
 * lines; see devices/pc.h for the resulting machine. */
#include <errno.h>
#include <string.h>

#include "devices/pc.h"
#include "machine/guest_abi.h"
#include "sim/config.h"
#include "sim/sim.h"

struct pc_config pc_default_config(void)
{
	return (struct pc_config){
		.epoch = 0,
		.ram_bytes = 0,
		/* 100 MHz: the APIC timer rate of many Intel parts' bus
		 * clock, and a round number for tests (docs/devices.md). */
		.apic_bus_hz = 100000000,
		.com1_out = NULL,
		.com1_in = NULL,
		.com1_in_start = 0,
		.com1_paced = false,
		.virtual_wire = true,
	};
}

int pc_config_from(struct pc_config *pc, const struct config *cfg, char *err, size_t errlen)
{
	*pc = pc_default_config();
	pc->epoch = (int64_t)cfg->rtc.epoch;
	pc->ram_bytes = cfg->memory.dram_mb << 20;
	if (pc->ram_bytes > ABI_MMIO_HOLE_BASE)
		pc->ram_bytes = ABI_MMIO_HOLE_BASE;

	const char *o = cfg->serial.output ? cfg->serial.output : "stdio";
	if (strcmp(o, "stdio") == 0) {
		pc->com1_out = stdout;
	} else if (strcmp(o, "none") != 0) {
		pc->com1_out = fopen(o, "w");
		if (!pc->com1_out) {
			snprintf(err, errlen, "serial.output: %s: %s", o, strerror(errno));
			return -1;
		}
		pc->own_out = true;
	}
	const char *i = cfg->serial.input ? cfg->serial.input : "none";
	if (strcmp(i, "none") != 0) {
		pc->com1_in = fopen(i, "rb");
		if (!pc->com1_in) {
			snprintf(err, errlen, "serial.input: %s: %s", i, strerror(errno));
			if (pc->own_out)
				fclose(pc->com1_out);
			return -1;
		}
		pc->own_in = true;
	}
	return 0;
}

int pc_devices_init(struct pc_devices *pc, struct sim *sim, struct bus *bus,
		    const struct pc_config *cfg)
{
	pic_init(&pc->pic, sim);
	ioapic_init(&pc->ioapic, sim, 1);
	lapic_init(&pc->lapic, sim, 0, cfg->apic_bus_hz);
	intc_init(&pc->intc, &pc->pic, &pc->ioapic, &pc->lapic);
	for (int gsi = 16; gsi < INTC_GSI_COUNT; gsi++)
		intc_set_gsi_active_low(&pc->intc, gsi, true);
	if (cfg->virtual_wire)
		lapic_set_virtual_wire(&pc->lapic);

	pit_init(&pc->pit, sim, intc_isa_line(&pc->intc, 0));
	uart_init(&pc->com1, sim, "com1", intc_isa_line(&pc->intc, 4), cfg->com1_out);
	uart_set_paced(&pc->com1, cfg->com1_paced);
	rtc_init(&pc->rtc, sim, intc_isa_line(&pc->intc, 8), cfg->epoch);
	rtc_set_memory(&pc->rtc, cfg->ram_bytes);
	pci_init(&pc->pci, sim);
	debug_exit_init(&pc->dbg, sim);

	pc->owned_out = cfg->own_out ? cfg->com1_out : NULL;
	if (cfg->com1_in) {
		/* Read to EOF now: input never depends on when the host
		 * delivers it. */
		int rc = uart_set_input_file(&pc->com1, cfg->com1_in, cfg->com1_in_start);
		if (cfg->own_in)
			fclose(cfg->com1_in);
		if (rc < 0)
			return -1;
	}
	if (pic_attach(&pc->pic, bus) ||
	    ioapic_attach(&pc->ioapic, bus, IOAPIC_DEFAULT_BASE) ||
	    lapic_attach(&pc->lapic, bus) ||
	    pit_attach(&pc->pit, bus) ||
	    uart_attach(&pc->com1, bus, 0x3F8) ||
	    rtc_attach(&pc->rtc, bus) ||
	    pci_attach(&pc->pci, bus) ||
	    debug_exit_attach(&pc->dbg, bus))
		return -1;
	return 0;
}

void pc_devices_free(struct pc_devices *pc)
{
	/* Take every device event off the queue, so the queue never points
	 * into freed device memory. */
	struct event_queue *q = &pc->pit.sim->events;
	event_cancel(q, &pc->pit.ev);
	event_cancel(q, &pc->lapic.timer_ev);
	event_cancel(q, &pc->rtc.update_ev);
	event_cancel(q, &pc->rtc.periodic_ev);
	uart_free(&pc->com1);
	if (pc->owned_out)
		fclose(pc->owned_out);
	pc->owned_out = NULL;
}
