/* tests/unit/test_devices.h: helpers shared by the device unit tests.
 *
 * Devices are driven through their port and MMIO handlers directly and
 * through the event queue of a real struct sim, so no bus is needed.
 */
#ifndef TESTS_UNIT_TEST_DEVICES_H
#define TESTS_UNIT_TEST_DEVICES_H

#include <check.h>
#include <stdbool.h>
#include "devices/irq.h"
#include "sim/sim.h"

Suite *pic_suite(void);
Suite *pit_suite(void);
Suite *apic_suite(void);
Suite *uart_suite(void);
Suite *rtc_suite(void);
Suite *pci_suite(void);
Suite *pc_suite(void);

/* An interrupt wire that records what it saw. */
struct irq_probe {
	struct sim *sim;        /* for first_rise; may be NULL */
	bool level;
	int rises, falls;
	sim_time_t first_rise;
};

static inline void probe_set(void *ctx, int line, bool level)
{
	struct irq_probe *p = ctx;
	(void)line;
	if (level && !p->level && p->rises++ == 0 && p->sim)
		p->first_rise = p->sim->now;
	if (!level && p->level)
		p->falls++;
	p->level = level;
}

static inline struct irq_line probe_line(struct irq_probe *p)
{
	return (struct irq_line){ .set = probe_set, .ctx = p, .line = 0 };
}

/* Run the event queue up to and including simulated time t. */
static inline void run_to(struct sim *s, sim_time_t t)
{
	sim_run_events(s, t);
}

#endif
