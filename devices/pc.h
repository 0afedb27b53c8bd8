/* devices/pc.h: the standard PC devices, built and wired in one call.
 *
 *     struct pc_devices pc;
 *     struct pc_config cfg = pc_default_config();
 *     cfg.epoch = 1700000000; cfg.ram_bytes = 256 << 20;
 *     if (pc_devices_init(&pc, &sim, &bus, &cfg) < 0) ...;
 *     cpu->intc = &pc.intc;            // intc_pending / intc_ack, see irq.h
 *     cpu->lapic = &pc.lapic;          // APIC_BASE MSR and CR8, see lapic.h
 *     ...
 *     pc_devices_free(&pc);
 *
 * The wiring is a PIIX/440FX-like PC: 8259A pair, 8254 on IRQ0 (I/O APIC
 * pin 2), COM1 on IRQ4, RTC on IRQ8, I/O APIC at 0xFEC00000 (ID 1), the
 * LAPIC of CPU 0 at 0xFEE00000, PCI mechanism #1 with a 440FX host bridge,
 * isa-debug-exit at 0xF4 and the POST port 0x80.  PCI INTx lines are
 * I/O APIC pins 16-23, active-low, as the machine's ACPI/MP tables must
 * say.
 */
#ifndef DEVICES_PC_H
#define DEVICES_PC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "devices/debug_exit.h"
#include "devices/ioapic.h"
#include "devices/irq.h"
#include "devices/lapic.h"
#include "devices/pci.h"
#include "devices/pic8259.h"
#include "devices/pit8254.h"
#include "devices/rtc_cmos.h"
#include "devices/uart16550.h"

struct pc_config {
	int64_t epoch;          /* RTC time at simulated time 0, s since 1970 */
	uint64_t ram_bytes;     /* RAM below 4 GiB, for the CMOS size bytes */
	uint64_t apic_bus_hz;   /* LAPIC timer input clock */
	FILE *com1_out;         /* NULL: output dropped */
	FILE *com1_in;          /* NULL: no input; read to EOF at init */
	sim_time_t com1_in_start;
	bool com1_paced;        /* pace output at the programmed baud rate */
	/* Leave the LAPIC as an MP BIOS would (software-enabled, LINT0
	 * ExtINT, LINT1 NMI), for guests that boot without firmware. */
	bool virtual_wire;
	/* Set by pc_config_from(): com1_in is closed by pc_devices_init()
	 * once read, com1_out by pc_devices_free(). */
	bool own_out, own_in;
};

struct pc_devices {
	struct intc intc;
	struct pic8259 pic;
	struct ioapic ioapic;
	struct lapic lapic;
	struct pit8254 pit;
	struct uart16550 com1;
	struct rtc_cmos rtc;
	struct pci_host pci;
	struct debug_exit dbg;
	FILE *owned_out;        /* closed by pc_devices_free() */
};

struct config;

struct pc_config pc_default_config(void);
/* The defaults, then the run config's rtc.epoch, memory.dram_mb (the part
 * below the 3 GiB MMIO hole), serial.output ("stdio", "none" or a file,
 * truncated) and serial.input ("none" or a file).  Returns 0, or -1 with
 * a one-line message in err. */
int pc_config_from(struct pc_config *pc, const struct config *cfg, char *err, size_t errlen);
/* Returns 0, or -1 when the input could not be read or a device could not
 * be placed on the bus; call pc_devices_free() either way.  pc must not
 * move afterwards: the devices point at each other through it. */
int pc_devices_init(struct pc_devices *pc, struct sim *sim, struct bus *bus,
		    const struct pc_config *cfg);
void pc_devices_free(struct pc_devices *pc);

#endif
