/* devices/ioapic.h: the I/O APIC (82093AA-style, 24 pins).
 *
 *     ioapic_init(&io, sim, 1);            // I/O APIC ID 1
 *     io.deliver = intc_ioapic_deliver; io.deliver_ctx = &intc;
 *     ioapic_attach(&io, bus);             // MMIO at 0xFEC00000
 *     ioapic_set_irq(&io, pin, wire_level);
 *     ioapic_eoi(&io, vector);             // from the LAPIC's EOI broadcast
 */
#ifndef DEVICES_IOAPIC_H
#define DEVICES_IOAPIC_H

#include <stdbool.h>
#include <stdint.h>

struct sim;
struct bus;

#define IOAPIC_DEFAULT_BASE 0xFEC00000ULL
#define IOAPIC_PINS 24

/* Redirection entry bits. */
#define IOAPIC_RTE_POLARITY_LOW (1ULL << 13)
#define IOAPIC_RTE_REMOTE_IRR   (1ULL << 14)
#define IOAPIC_RTE_LEVEL        (1ULL << 15)
#define IOAPIC_RTE_MASKED       (1ULL << 16)

/* An interrupt message for the APIC bus. */
typedef void ioapic_deliver_fn(void *ctx, uint8_t dest, bool logical,
			       unsigned delivery_mode, uint8_t vector, bool level);

struct ioapic {
	struct sim *sim;
	uint8_t id;
	uint8_t regsel;
	uint64_t rte[IOAPIC_PINS];
	uint32_t wire;          /* the level on each input pin */
	ioapic_deliver_fn *deliver;
	void *deliver_ctx;
	uint64_t *st_delivered, *st_eoi;
};

void ioapic_init(struct ioapic *io, struct sim *sim, uint8_t id);
int ioapic_attach(struct ioapic *io, struct bus *bus, uint64_t base);
/* Pin input wire level (before the RTE's polarity).  Usable as an
 * irq_set_fn when every wire on it is active-high. */
void ioapic_set_irq(void *ioapic, int pin, bool level);
/* A LAPIC EOI for a level-triggered vector: clears remote IRR of the
 * entries with that vector and re-delivers a still-asserted one. */
void ioapic_eoi(void *ioapic, uint8_t vector);

uint64_t ioapic_mmio_read(void *ioapic, uint64_t offset, unsigned size);
void ioapic_mmio_write(void *ioapic, uint64_t offset, unsigned size, uint64_t value);

#endif
