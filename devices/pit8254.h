/* devices/pit8254.h: the 8254 programmable interval timer and port 0x61.
 *
 * Channel 0 drives ISA IRQ0, channel 1 is the (unused) DRAM refresh
 * timer, channel 2 feeds the speaker and is gated and read back through
 * port 0x61, which firmware and kernels use to calibrate the TSC.
 *
 *     pit_init(&pit, sim, intc_isa_line(&intc, 0));
 *     pit_attach(&pit, bus);
 */
#ifndef DEVICES_PIT8254_H
#define DEVICES_PIT8254_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/irq.h"
#include "sim/clock.h"
#include "sim/event.h"

struct sim;
struct bus;

/* 14.31818 MHz / 12 = 3579545 / 3 Hz, about 1.1931817 MHz: the PC's OSC
 * divided as the original IBM PC did. */
#define PIT_HZ_NUM 3579545ULL
#define PIT_HZ_DEN 3ULL

struct pit_channel {
	uint8_t mode;           /* 0-5 (6, 7 alias 2, 3) */
	uint8_t rw;             /* 1 lsb, 2 msb, 3 lsb then msb */
	bool bcd;
	bool gate;
	bool armed;             /* a count has been loaded since the mode was set */
	bool triggered;         /* modes 1, 5: a gate edge started the count */
	bool null_count;        /* written count not yet loaded (status bit 6) */
	uint32_t count;         /* the loaded count: 1..65536 (0 means 65536) */
	uint32_t pending;       /* mode 2/3: count written while running */
	bool has_pending;
	sim_time_t pending_at;  /* when `pending` takes over */
	uint16_t cr;            /* count register being assembled */
	bool write_msb;         /* lsb/msb access: next write is the msb */
	bool read_msb;          /* next read returns the msb */
	bool latched;           /* counter latch command outstanding */
	uint16_t latch;
	bool latch_msb;         /* reading the latch's msb next */
	bool status_latched;
	uint8_t status;
	sim_time_t start;       /* when counting (with `count`) began */
	uint64_t frozen;        /* ticks counted before a gate-low pause */
	bool running;           /* false: paused by gate (modes 0, 4) */
	bool out_initial;       /* OUT before arming (low in mode 0) */
};

struct pit8254 {
	struct sim *sim;
	struct pit_channel ch[3];
	struct irq_line irq0;
	bool irq_level;
	struct event ev;        /* channel 0's next OUT transition */
	uint8_t port61;         /* bits 0-3 as written */
	uint64_t *st_irq0, *st_access;
};

void pit_init(struct pit8254 *p, struct sim *sim, struct irq_line irq0);
int pit_attach(struct pit8254 *p, struct bus *bus);

/* OUT of a channel at the current simulated time. */
bool pit_out(struct pit8254 *p, int ch);
/* The counting element of a channel now, as an unlatched read would see. */
uint16_t pit_count(struct pit8254 *p, int ch);

uint32_t pit_io_read(void *pit, uint16_t port, unsigned size);
void pit_io_write(void *pit, uint16_t port, unsigned size, uint32_t value);

/* PIT input clock ticks in d picoseconds, and the inverse (rounded up so
 * that pit_ticks(pit_time(n)) == n). */
uint64_t pit_ticks(sim_time_t d);
sim_time_t pit_time(uint64_t ticks);

#endif
