/* devices/rtc_cmos.h: the MC146818 real-time clock and CMOS RAM at
 * ports 0x70/0x71, interrupting on ISA IRQ8.
 *
 *     rtc_init(&rtc, sim, intc_isa_line(&intc, 8), 1700000000);  // epoch
 *     rtc_set_memory(&rtc, ram_below_4g_bytes);
 *     rtc_attach(&rtc, bus);
 *
 * The clock reads epoch + simulated time, never the host clock.
 */
#ifndef DEVICES_RTC_CMOS_H
#define DEVICES_RTC_CMOS_H

#include <stdbool.h>
#include <stdint.h>
#include "devices/irq.h"
#include "sim/clock.h"
#include "sim/event.h"

struct sim;
struct bus;

struct rtc_cmos {
	struct sim *sim;
	struct irq_line irq;
	bool irq_level;
	uint8_t index;
	bool nmi_masked;        /* port 0x70 bit 7 */
	uint8_t ram[128];       /* time bytes while frozen, alarm, NVRAM */
	uint8_t reg_a, reg_b, reg_c;

	/* While running, the time is base_secs - 1 before `ref` and
	 * base_secs + whole seconds since `ref` after it; `ref` is a second
	 * boundary of the divider chain. */
	int64_t base_secs;
	sim_time_t ref;
	bool frozen;            /* SET, or the divider stopped */

	int64_t pf_index;       /* periodic tick index at the last reg C read */
	struct event update_ev, periodic_ev;
	uint64_t *st_irq, *st_access;
};

void rtc_init(struct rtc_cmos *r, struct sim *sim, struct irq_line irq, int64_t epoch);
int rtc_attach(struct rtc_cmos *r, struct bus *bus);
/* Fill the BIOS memory-size bytes for ram_bytes of RAM below 4 GiB. */
void rtc_set_memory(struct rtc_cmos *r, uint64_t ram_bytes);
/* The clock's time now, seconds since 1970. */
int64_t rtc_time(struct rtc_cmos *r);
bool rtc_nmi_masked(const struct rtc_cmos *r);

uint32_t rtc_io_read(void *rtc, uint16_t port, unsigned size);
void rtc_io_write(void *rtc, uint16_t port, unsigned size, uint32_t value);

#endif
