/* devices/pic8259.c: the cascaded Intel 8259A pair.
 *
 * Sources: Intel 8259A datasheet (order 231468), the PIIX3/PIIX4 datasheets
 * for the ELCR registers and the PC wiring, OSDev "8259 PIC".
 *
 * Modelled: the ICW1-ICW4 initialization sequence, OCW1 (mask), OCW2 (the
 * non-specific, specific and rotating EOIs, set-priority, rotate in AEOI),
 * OCW3 (read IRR/ISR, poll, special mask mode), fully nested and special
 * fully nested mode, auto-EOI, edge and level inputs (ICW1.LTIM or the
 * per-line ELCR), and spurious IRQ7 / IRQ15 when a request disappears
 * before INTA.  The slave's INT pin is the master's IR2 level.
 *
 * Not modelled: MCS-80/85 mode (ICW4.uPM = 0 is treated as 8086 mode),
 * buffered mode (ICW4.BUF, M/S are stored nowhere: the wiring is fixed),
 * and the datasheet's requirement that an edge-triggered IR stay high until
 * INTA: an edge is latched in IRR until it is acknowledged, which is what
 * guests assume and what makes irq_pulse() meaningful.
 */
#include <string.h>

#include "devices/pic8259.h"
#include "machine/bus.h"
#include "sim/sim.h"

/* Rank of irq: 0 is the highest priority.  The IR after `lowest` is the
 * highest, as rotation leaves it. */
static unsigned rank(const struct pic_chip *c, int irq)
{
	return (unsigned)(irq - c->lowest - 1) & 7;
}

/* The highest-priority IR set in bits, or -1. */
static int highest(const struct pic_chip *c, uint8_t bits)
{
	for (int i = 0; i < 8; i++) {
		int irq = (c->lowest + 1 + i) & 7;
		if (bits & (1u << irq))
			return irq;
	}
	return -1;
}

static uint8_t level_mode(const struct pic_chip *c)
{
	return c->ltim ? 0xFF : c->elcr;
}

/* The IR this chip would present on INTA now, or -1 when INT is low. */
static int chip_request(const struct pic_chip *c)
{
	int irq = highest(c, c->irr & ~c->imr);
	if (irq < 0)
		return -1;
	uint8_t isr = c->isr;
	/* Special mask mode: a masked in-service level stops blocking the
	 * levels below it (datasheet, "Special Mask Mode"). */
	if (c->special_mask)
		isr &= ~c->imr;
	/* Special fully nested mode: the master lets a slave interrupt through
	 * while another from the same slave is in service; the slave's own
	 * ISR does the ranking inside the slave. */
	if (c->is_master && c->sfnm && !c->single)
		isr &= ~c->icw3;
	int cur = highest(c, isr);
	if (cur >= 0 && rank(c, irq) >= rank(c, cur))
		return -1;
	return irq;
}

static bool cascaded(const struct pic_chip *m, int irq)
{
	return !m->single && (m->icw3 & (1u << irq));
}

/* The slave's INT drives master IR2 as a level (PC wiring, not ELCR). */
static void update(struct pic8259 *p)
{
	struct pic_chip *m = &p->chip[0];
	bool slave_int = chip_request(&p->chip[1]) >= 0;
	if (slave_int) {
		m->level |= 1u << 2;
		m->irr |= 1u << 2;
	} else {
		m->level &= ~(1u << 2);
		m->irr &= ~(1u << 2);
	}
	if (p->changed)
		p->changed(p->changed_ctx);
}

static void chip_input(struct pic_chip *c, int irq, bool level)
{
	uint8_t bit = 1u << irq;
	bool was = c->level & bit;
	if (level)
		c->level |= bit;
	else
		c->level &= ~bit;
	if (level_mode(c) & bit) {
		if (level)
			c->irr |= bit;
		else
			c->irr &= ~bit;
	} else if (level && !was) {
		c->irr |= bit;  /* the edge-sense latch */
	}
}

void pic_set_irq(void *pic, int irq, bool level)
{
	struct pic8259 *p = pic;
	if (irq < 0 || irq > 15)
		return;
	/* IR2 of the master is the cascade input; ISA IRQ2 is wired to IRQ9
	 * on the AT bus, which the machine should use instead. */
	if (irq == 2)
		return;
	chip_input(&p->chip[irq >> 3], irq & 7, level);
	update(p);
}

bool pic_int_output(const struct pic8259 *p)
{
	return chip_request(&p->chip[0]) >= 0;
}

/* The chip-local part of an acknowledge: IRR to ISR, AEOI, rotation. */
static void chip_accept(struct pic_chip *c, int irq)
{
	uint8_t bit = 1u << irq;
	/* A level input's IRR follows the wire; only edges are consumed. */
	if (!(level_mode(c) & bit) && !(c->is_master && cascaded(c, irq)))
		c->irr &= ~bit;
	if (c->auto_eoi) {
		if (c->rotate_on_aeoi)
			c->lowest = irq;
	} else {
		c->isr |= bit;
	}
}

int pic_ack(struct pic8259 *p)
{
	struct pic_chip *m = &p->chip[0], *s = &p->chip[1];
	int irq = chip_request(m);
	int vector;

	++*p->st_acks;
	if (irq < 0) {
		++*p->st_spurious;
		return m->vector_base + 7;
	}
	chip_accept(m, irq);
	if (cascaded(m, irq)) {
		int sirq = chip_request(s);
		if (sirq < 0) {
			/* The master's ISR bit stays set: the handler of a
			 * spurious IRQ15 must EOI the master only. */
			++*p->st_spurious;
			vector = s->vector_base + 7;
		} else {
			chip_accept(s, sirq);
			vector = s->vector_base + sirq;
		}
	} else {
		vector = m->vector_base + irq;
	}
	update(p);
	return vector;
}

static void chip_eoi(struct pic8259 *p, struct pic_chip *c, uint8_t ocw2)
{
	int l = ocw2 & 7, irq;

	switch (ocw2 >> 5) {
	case 1:         /* non-specific EOI */
	case 5:         /* rotate on non-specific EOI */
		irq = highest(c, c->isr);
		if (irq < 0)
			return;
		c->isr &= ~(1u << irq);
		if (ocw2 >> 5 == 5)
			c->lowest = irq;
		++*p->st_eois;
		break;
	case 3:         /* specific EOI */
	case 7:         /* rotate on specific EOI */
		c->isr &= ~(1u << l);
		if (ocw2 >> 5 == 7)
			c->lowest = l;
		++*p->st_eois;
		break;
	case 4: c->rotate_on_aeoi = true; break;
	case 0: c->rotate_on_aeoi = false; break;
	case 6: c->lowest = l; break;   /* set priority */
	case 2: break;                  /* no operation */
	}
}

static void chip_write_even(struct pic8259 *p, struct pic_chip *c, uint8_t v)
{
	if (v & 0x10) {
		/* ICW1 starts initialization and resets what the datasheet
		 * lists: mask cleared, IR7 lowest, special mask mode off,
		 * status read set to IRR, edge-sense latches cleared. */
		c->icw4_needed = v & 1;
		c->single = v & 2;
		c->ltim = v & 8;
		c->imr = 0;
		c->isr = 0;
		c->irr = c->level & level_mode(c);
		c->lowest = 7;
		c->special_mask = false;
		c->read_isr = false;
		c->poll = false;
		c->auto_eoi = false;
		c->rotate_on_aeoi = false;
		c->sfnm = false;
		c->init_step = 2;
	} else if (v & 0x08) {
		/* OCW3 */
		if (v & 0x02)
			c->read_isr = v & 0x01;
		if (v & 0x40)
			c->special_mask = v & 0x20;
		c->poll = v & 0x04;
	} else {
		chip_eoi(p, c, v);
	}
}

static void chip_write_odd(struct pic_chip *c, uint8_t v)
{
	switch (c->init_step) {
	case 2:
		/* In 8086 mode T2-T0 come from the IR number, so the low three
		 * bits of ICW2 are ignored. */
		c->vector_base = v & 0xF8;
		c->init_step = !c->single ? 3 : c->icw4_needed ? 4 : 0;
		break;
	case 3:
		c->icw3 = v;
		c->init_step = c->icw4_needed ? 4 : 0;
		break;
	case 4:
		c->auto_eoi = v & 0x02;
		c->sfnm = v & 0x10;
		c->init_step = 0;
		break;
	default:
		c->imr = v;     /* OCW1 */
		break;
	}
}

static uint8_t chip_poll(struct pic8259 *p, struct pic_chip *c)
{
	/* A poll read is an acknowledge without INTA: it sets ISR and
	 * returns 0x80 | level when a request was pending. */
	c->poll = false;
	int irq = chip_request(c);
	if (irq < 0)
		return 0;
	chip_accept(c, irq);
	++*p->st_acks;
	return 0x80 | irq;
}

static uint8_t read_byte(struct pic8259 *p, uint16_t port)
{
	struct pic_chip *c;
	uint8_t v;

	switch (port) {
	case 0x20: case 0xA0:
		c = &p->chip[port == 0xA0];
		if (c->poll) {
			v = chip_poll(p, c);
			update(p);
			return v;
		}
		return c->read_isr ? c->isr : c->irr;
	case 0x21: case 0xA1:
		return p->chip[port == 0xA1].imr;
	case 0x4D0: case 0x4D1:
		return p->chip[port == 0x4D1].elcr;
	}
	return 0xFF;
}

static void write_byte(struct pic8259 *p, uint16_t port, uint8_t v)
{
	struct pic_chip *c;

	switch (port) {
	case 0x20: case 0xA0:
		chip_write_even(p, &p->chip[port == 0xA0], v);
		break;
	case 0x21: case 0xA1:
		chip_write_odd(&p->chip[port == 0xA1], v);
		break;
	case 0x4D0: case 0x4D1:
		c = &p->chip[port == 0x4D1];
		c->elcr = v & c->elcr_mask;
		/* Re-derive level-mode IRR bits from the wires. */
		c->irr = (c->irr & ~c->elcr) | (c->level & level_mode(c));
		break;
	default:
		return;
	}
	update(p);
}

/* Wider accesses are split into byte accesses to consecutive ports, as the
 * ISA bus does. */
uint32_t pic_io_read(void *pic, uint16_t port, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size && i < 4; i++)
		v |= (uint32_t)read_byte(pic, port + i) << (8 * i);
	return v;
}

void pic_io_write(void *pic, uint16_t port, unsigned size, uint32_t value)
{
	for (unsigned i = 0; i < size && i < 4; i++)
		write_byte(pic, port + i, value >> (8 * i));
}

void pic_init(struct pic8259 *p, struct sim *sim)
{
	memset(p, 0, sizeof *p);
	for (int i = 0; i < 2; i++) {
		struct pic_chip *c = &p->chip[i];
		c->is_master = i == 0;
		c->lowest = 7;
		/* Until the guest initializes the chips, every input is masked,
		 * as BIOSes leave them and so nothing fires on a random vector. */
		c->imr = 0xFF;
		c->vector_base = i ? 0x70 : 0x08;     /* the BIOS defaults */
	}
	p->chip[0].icw3 = 1u << 2;
	p->chip[1].icw3 = 2;
	/* PIIX: IRQ0, 1, 2, 8 and 13 are edge-only, their ELCR bits are 0. */
	p->chip[0].elcr_mask = 0xF8;
	p->chip[1].elcr_mask = 0xDE;
	p->st_acks = stats_counter(&sim->stats, "pic.acks");
	p->st_spurious = stats_counter(&sim->stats, "pic.spurious");
	p->st_eois = stats_counter(&sim->stats, "pic.eois");
}

int pic_attach(struct pic8259 *p, struct bus *bus)
{
	if (bus_add_pio(bus, 0x20, 2, pic_io_read, pic_io_write, p) ||
	    bus_add_pio(bus, 0xA0, 2, pic_io_read, pic_io_write, p) ||
	    bus_add_pio(bus, 0x4D0, 2, pic_io_read, pic_io_write, p))
		return -1;
	return 0;
}
