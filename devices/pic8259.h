/* devices/pic8259.h: the cascaded 8259A pair of the PC/AT.
 *
 * Master at ports 0x20/0x21, slave at 0xA0/0xA1 wired to master IR2, and
 * the PIIX edge/level control registers (ELCR) at 0x4D0/0x4D1.
 *
 *     pic_init(&pic, sim);
 *     pic_attach(&pic, bus);
 *     pic.changed = intc_changed; pic.changed_ctx = &intc;
 *     pic_set_irq(&pic, 4, true);          // ISA IRQ4 rises
 *     if (pic_int_output(&pic)) vector = pic_ack(&pic);
 */
#ifndef DEVICES_PIC8259_H
#define DEVICES_PIC8259_H

#include <stdbool.h>
#include <stdint.h>

struct sim;
struct bus;

struct pic_chip {
	uint8_t irr;            /* interrupt request register */
	uint8_t isr;            /* in-service register */
	uint8_t imr;            /* interrupt mask register (OCW1) */
	uint8_t level;          /* current level of each IR input wire */
	uint8_t elcr;           /* 1 = level-triggered input (PIIX ELCR) */
	uint8_t elcr_mask;      /* which ELCR bits exist */
	uint8_t vector_base;    /* ICW2 & 0xF8 */
	uint8_t icw3;           /* master: slave bitmap; slave: its ID */
	uint8_t lowest;         /* IR with lowest priority (rotation) */
	uint8_t init_step;      /* 0 = ready, 2..4 = expecting ICWn */
	bool icw4_needed, single, ltim;
	bool auto_eoi, rotate_on_aeoi, sfnm;
	bool read_isr;          /* OCW3 RIS: even-port reads return ISR */
	bool special_mask;      /* OCW3 SMM */
	bool poll;              /* OCW3 P: the next even-port read polls */
	bool is_master;
};

struct pic8259 {
	struct pic_chip chip[2];        /* [0] master, [1] slave */
	void (*changed)(void *ctx);     /* INT output may have changed */
	void *changed_ctx;
	uint64_t *st_acks, *st_spurious, *st_eois;
};

void pic_init(struct pic8259 *p, struct sim *sim);
int pic_attach(struct pic8259 *p, struct bus *bus);

/* ISA IRQ 0..15 input wire level.  Usable as an irq_set_fn. */
void pic_set_irq(void *pic, int irq, bool level);
/* The master's INT pin: some unmasked request outranks what is in service. */
bool pic_int_output(const struct pic8259 *p);
/* The two INTA cycles: returns the vector, base+7 of the chip that had no
 * valid request when it was asked (spurious IRQ7 / IRQ15). */
int pic_ack(struct pic8259 *p);

/* The port handlers, for tests and for machines that route I/O themselves. */
uint32_t pic_io_read(void *pic, uint16_t port, unsigned size);
void pic_io_write(void *pic, uint16_t port, unsigned size, uint32_t value);

#endif
