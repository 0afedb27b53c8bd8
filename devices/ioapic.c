/* devices/ioapic.c: the I/O APIC.
 *
 * Sources: Intel 82093AA I/O APIC datasheet (order 290566), Intel SDM
 * vol. 3A 10.11 for the message format, OSDev "IOAPIC".
 *
 * Registers are reached indirectly: IOREGSEL at base+0x00 picks a register,
 * IOWIN at base+0x10 reads or writes it.  0x00 is the ID, 0x01 the version
 * (0x11, 24 entries), 0x02 the arbitration ID, and 0x10 + 2n / 0x11 + 2n
 * the low and high halves of redirection entry n.
 *
 * Modelled: 24 entries with vector, delivery mode, physical / logical
 * destination, polarity, edge / level trigger, mask and remote IRR.  An
 * edge is a transition of the pin to its active level while unmasked; a
 * level-triggered pin delivers while active, unmasked and with remote IRR
 * clear, and delivers again after the EOI if still active.  Messages go
 * out through `deliver` (to the LAPIC) at once, so delivery status is 0.
 *
 * Not modelled: the 0x20 version's directed-EOI register (this is a
 * version 0x11 part), arbitration, and edges arriving while masked, which
 * are lost as on the 82093AA.
 */
#include <string.h>

#include "devices/ioapic.h"
#include "machine/bus.h"
#include "sim/sim.h"

/* Writable bits of an entry: everything but delivery status (12) and
 * remote IRR (14); bits 17-55 are reserved. */
#define RTE_WMASK 0xFF0000000001AFFFULL

static bool active(const struct ioapic *io, int pin)
{
	bool wire = io->wire & (1u << pin);
	return wire != !!(io->rte[pin] & IOAPIC_RTE_POLARITY_LOW);
}

static void send(struct ioapic *io, int pin)
{
	uint64_t r = io->rte[pin];
	bool level = r & IOAPIC_RTE_LEVEL;

	if (level)
		io->rte[pin] |= IOAPIC_RTE_REMOTE_IRR;
	++*io->st_delivered;
	if (io->deliver)
		io->deliver(io->deliver_ctx, r >> 56, r & (1u << 11), (r >> 8) & 7, r & 0xFF, level);
}

/* Deliver a pending level-triggered interrupt. */
static void service_level(struct ioapic *io, int pin)
{
	uint64_t r = io->rte[pin];
	if ((r & IOAPIC_RTE_LEVEL) && !(r & IOAPIC_RTE_MASKED) &&
	    !(r & IOAPIC_RTE_REMOTE_IRR) && active(io, pin))
		send(io, pin);
}

void ioapic_set_irq(void *ioapic, int pin, bool level)
{
	struct ioapic *io = ioapic;
	if (pin < 0 || pin >= IOAPIC_PINS)
		return;
	bool was = active(io, pin);
	if (level)
		io->wire |= 1u << pin;
	else
		io->wire &= ~(1u << pin);
	uint64_t r = io->rte[pin];
	if (r & IOAPIC_RTE_LEVEL)
		service_level(io, pin);
	else if (!was && active(io, pin) && !(r & IOAPIC_RTE_MASKED))
		send(io, pin);
}

void ioapic_eoi(void *ioapic, uint8_t vector)
{
	struct ioapic *io = ioapic;
	for (int pin = 0; pin < IOAPIC_PINS; pin++) {
		if ((io->rte[pin] & 0xFF) != vector || !(io->rte[pin] & IOAPIC_RTE_REMOTE_IRR))
			continue;
		++*io->st_eoi;
		io->rte[pin] &= ~IOAPIC_RTE_REMOTE_IRR;
		service_level(io, pin);
	}
}

static uint32_t read_reg(struct ioapic *io, uint8_t reg)
{
	switch (reg) {
	case 0x00: return (uint32_t)(io->id & 0xF) << 24;
	case 0x01: return (uint32_t)(IOAPIC_PINS - 1) << 16 | 0x11;
	case 0x02: return (uint32_t)(io->id & 0xF) << 24;
	}
	if (reg >= 0x10 && reg < 0x10 + 2 * IOAPIC_PINS) {
		uint64_t r = io->rte[(reg - 0x10) >> 1];
		return reg & 1 ? (uint32_t)(r >> 32) : (uint32_t)r;
	}
	return 0;
}

static void write_reg(struct ioapic *io, uint8_t reg, uint32_t v)
{
	if (reg == 0x00) {
		io->id = (v >> 24) & 0xF;
		return;
	}
	if (reg < 0x10 || reg >= 0x10 + 2 * IOAPIC_PINS)
		return;         /* version, arbitration, reserved: read-only */
	int pin = (reg - 0x10) >> 1;
	uint64_t r = io->rte[pin];
	uint64_t nv = reg & 1 ? (r & 0xFFFFFFFFULL) | (uint64_t)v << 32
			      : (r & ~0xFFFFFFFFULL) | v;
	nv = (nv & RTE_WMASK) | (r & IOAPIC_RTE_REMOTE_IRR);
	/* Switching to edge trigger drops a stale remote IRR. */
	if (!(nv & IOAPIC_RTE_LEVEL))
		nv &= ~IOAPIC_RTE_REMOTE_IRR;
	io->rte[pin] = nv;
	/* Unmasking an active level-triggered pin delivers it now. */
	service_level(io, pin);
}

uint64_t ioapic_mmio_read(void *ioapic, uint64_t offset, unsigned size)
{
	struct ioapic *io = ioapic;
	switch (offset) {
	case 0x00: return io->regsel;
	case 0x10: return read_reg(io, io->regsel);
	}
	return 0;
}

void ioapic_mmio_write(void *ioapic, uint64_t offset, unsigned size, uint64_t value)
{
	struct ioapic *io = ioapic;
	switch (offset) {
	case 0x00: io->regsel = value & 0xFF; break;
	case 0x10: write_reg(io, io->regsel, (uint32_t)value); break;
	}
}

void ioapic_init(struct ioapic *io, struct sim *sim, uint8_t id)
{
	memset(io, 0, sizeof *io);
	io->sim = sim;
	io->id = id & 0xF;
	for (int i = 0; i < IOAPIC_PINS; i++)
		io->rte[i] = IOAPIC_RTE_MASKED;        /* reset state: all masked */
	io->st_delivered = stats_counter(&sim->stats, "ioapic.delivered");
	io->st_eoi = stats_counter(&sim->stats, "ioapic.eois");
}

int ioapic_attach(struct ioapic *io, struct bus *bus, uint64_t base)
{
	return bus_add_mmio(bus, "ioapic", base, 0x1000, ioapic_mmio_read, ioapic_mmio_write, io);
}
