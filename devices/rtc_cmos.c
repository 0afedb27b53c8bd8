/* devices/rtc_cmos.c: the Motorola MC146818 RTC and the PC's CMOS RAM.
 *
 * Sources: Motorola MC146818A datasheet, Dallas DS12887 datasheet, the IBM
 * PC/AT Technical Reference for the CMOS layout, OSDev "CMOS" and "RTC".
 *
 * Registers 0x00-0x09 are the time, alarm and date (BCD or binary per
 * register B's DM bit, 12- or 24-hour per its 24/12 bit, PM in bit 7 of
 * the hour), 0x0A-0x0D are registers A-D, 0x32 is the century (IBM's
 * location, which ACPI's FADT also names), and the rest is NVRAM.  Port
 * 0x70 bit 7 masks NMI; the other seven bits pick the register.
 *
 * The clock runs at epoch + simulated time.  Setting register B's SET bit
 * (or stopping the divider in register A) freezes it; the guest's writes
 * then land in the registers, and clearing SET restarts the clock from
 * them one second later.  A write to a time register while the clock
 * runs takes effect at once and keeps the sub-second phase.
 *
 * UIP reads 1 during the 244 us before each update, the window the
 * datasheet guarantees is free of updates when UIP is 0; the update itself
 * is instantaneous at the second boundary.  Periodic (rate in register A),
 * alarm (with the 0xC0-0xFF don't-care codes) and update-ended interrupts
 * set PF / AF / UF in register C and raise IRQ8 when enabled; reading C
 * clears them and lowers the line.  The divider chain runs only with
 * DV = 010 (32.768 kHz); the first update after the divider leaves reset
 * comes half a second later.
 *
 * Not modelled: daylight saving (DSE is stored, never acted on), the
 * square-wave output, invalid (non-BCD) register values beyond clamping.
 */
#include <string.h>

#include "devices/rtc_cmos.h"
#include "machine/bus.h"
#include "sim/sim.h"

enum {
	REG_A_UIP = 0x80,
	REG_B_SET = 0x80, REG_B_PIE = 0x40, REG_B_AIE = 0x20, REG_B_UIE = 0x10,
	REG_B_DM = 0x04, REG_B_24H = 0x02,
	REG_C_IRQF = 0x80, REG_C_PF = 0x40, REG_C_AF = 0x20, REG_C_UF = 0x10,
	CENTURY = 0x32,
};

#define UIP_WINDOW (244 * SIM_US)

/* ---- Calendar: days since 1970-01-01 <-> proleptic Gregorian ---------- */

static int64_t floordiv(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Eras of 400 years (146097 days) with years starting in March, so the
 * leap day is the last day of the year. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = floordiv(y, 400);
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = floordiv(z, 146097);
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* ---- Register encoding -------------------------------------------------- */

static uint8_t enc(const struct rtc_cmos *r, unsigned v)
{
	return r->reg_b & REG_B_DM ? v : (uint8_t)((v / 10) << 4 | v % 10);
}

static unsigned dec(const struct rtc_cmos *r, uint8_t v)
{
	return r->reg_b & REG_B_DM ? v : (v >> 4) * 10 + (v & 15);
}

static uint8_t enc_hour(const struct rtc_cmos *r, unsigned h)
{
	if (r->reg_b & REG_B_24H)
		return enc(r, h);
	unsigned h12 = h % 12 == 0 ? 12 : h % 12;
	return enc(r, h12) | (h >= 12 ? 0x80 : 0);
}

static unsigned dec_hour(const struct rtc_cmos *r, uint8_t v)
{
	if (r->reg_b & REG_B_24H)
		return dec(r, v);
	unsigned h = dec(r, v & 0x7F) % 12;
	return h + (v & 0x80 ? 12 : 0);
}

static void encode_time(struct rtc_cmos *r, int64_t t)
{
	int64_t days = floordiv(t, 86400), y;
	int64_t sod = t - days * 86400;
	unsigned m, d;

	civil_from_days(days, &y, &m, &d);
	r->ram[0] = enc(r, sod % 60);
	r->ram[2] = enc(r, sod / 60 % 60);
	r->ram[4] = enc_hour(r, (unsigned)(sod / 3600));
	r->ram[6] = enc(r, (unsigned)((days % 7 + 7 + 4) % 7) + 1);  /* 1970-01-01 was a Thursday; 1 = Sunday */
	r->ram[7] = enc(r, d);
	r->ram[8] = enc(r, m);
	r->ram[9] = enc(r, (unsigned)(((y % 100) + 100) % 100));
	r->ram[CENTURY] = enc(r, (unsigned)(floordiv(y, 100) % 100 + 100) % 100);
}

static unsigned clampu(unsigned v, unsigned lo, unsigned hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static int64_t decode_time(const struct rtc_cmos *r)
{
	unsigned sec = clampu(dec(r, r->ram[0]), 0, 59);
	unsigned min = clampu(dec(r, r->ram[2]), 0, 59);
	unsigned hour = clampu(dec_hour(r, r->ram[4]), 0, 23);
	unsigned day = clampu(dec(r, r->ram[7]), 1, 31);
	unsigned mon = clampu(dec(r, r->ram[8]), 1, 12);
	int64_t year = (int64_t)clampu(dec(r, r->ram[CENTURY]), 0, 99) * 100 +
		       clampu(dec(r, r->ram[9]), 0, 99);
	return days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
}

/* ---- The clock ---------------------------------------------------------- */

static bool divider_running(const struct rtc_cmos *r)
{
	return ((r->reg_a >> 4) & 7) == 2;
}

int64_t rtc_time(struct rtc_cmos *r)
{
	sim_time_t now = r->sim->now;
	if (r->frozen)
		return decode_time(r);
	if (now < r->ref)
		return r->base_secs - 1;
	return r->base_secs + (int64_t)((now - r->ref) / SIM_S);
}

static sim_time_t next_update(const struct rtc_cmos *r)
{
	sim_time_t now = r->sim->now;
	if (now < r->ref)
		return r->ref;
	return r->ref + ((now - r->ref) / SIM_S + 1) * SIM_S;
}

static void update_irq(struct rtc_cmos *r)
{
	uint8_t c = r->reg_c & (REG_C_PF | REG_C_AF | REG_C_UF);
	uint8_t en = r->reg_b & (REG_B_PIE | REG_B_AIE | REG_B_UIE);
	bool level = c & en;    /* the flag and enable bits line up */
	if (level)
		r->reg_c |= REG_C_IRQF;
	if (level != r->irq_level) {
		r->irq_level = level;
		if (level)
			++*r->st_irq;
		irq_set(&r->irq, level);
	}
}

static void schedule_update(struct rtc_cmos *r)
{
	if (r->frozen)
		event_cancel(&r->sim->events, &r->update_ev);
	else
		event_schedule(&r->sim->events, &r->update_ev, next_update(r));
}

static bool alarm_match(uint8_t alarm, uint8_t now)
{
	return (alarm & 0xC0) == 0xC0 || alarm == now;
}

static void update_event(void *arg, sim_time_t now)
{
	struct rtc_cmos *r = arg;
	encode_time(r, rtc_time(r));
	r->reg_c |= REG_C_UF;
	if (alarm_match(r->ram[1], r->ram[0]) && alarm_match(r->ram[3], r->ram[2]) &&
	    alarm_match(r->ram[5], r->ram[4]))
		r->reg_c |= REG_C_AF;
	update_irq(r);
	schedule_update(r);
}

/* Periodic interrupt: tick k falls at ref + k * period, period being
 * 2^(RS-1) / 32768 s (RS 1 and 2 behave as 8 and 9 with a 32 kHz
 * crystal).  Every period divides a second, so the ticks stay in phase
 * with the updates. */
static unsigned periodic_shift(const struct rtc_cmos *r)
{
	unsigned rs = r->reg_a & 15;
	if (rs == 0 || !divider_running(r))
		return 0;
	return rs < 3 ? rs + 7 : rs - 1;
}

static int64_t periodic_index(const struct rtc_cmos *r, sim_time_t t, unsigned shift)
{
	__int128 d = (__int128)t - (__int128)r->ref;
	__int128 num = d * 32768, den = (__int128)SIM_S << shift;
	__int128 q = num / den;
	if (num % den != 0 && num < 0)
		q--;
	return (int64_t)q;
}

static sim_time_t periodic_time(const struct rtc_cmos *r, int64_t k, unsigned shift)
{
	/* Rounded up so the index at this time is k. */
	__int128 num = (__int128)k * ((__int128)SIM_S << shift);
	__int128 q = num / 32768;
	if (num % 32768 != 0 && num > 0)
		q++;
	__int128 t = (__int128)r->ref + q;
	return t < 0 ? 0 : t > (__int128)SIM_TIME_MAX ? SIM_TIME_MAX : (sim_time_t)t;
}

static void schedule_periodic(struct rtc_cmos *r)
{
	unsigned shift = periodic_shift(r);
	if (!shift || !(r->reg_b & REG_B_PIE)) {
		event_cancel(&r->sim->events, &r->periodic_ev);
		return;
	}
	int64_t k = periodic_index(r, r->sim->now, shift) + 1;
	event_schedule(&r->sim->events, &r->periodic_ev, periodic_time(r, k, shift));
}

static void periodic_event(void *arg, sim_time_t now)
{
	struct rtc_cmos *r = arg;
	r->reg_c |= REG_C_PF;
	update_irq(r);
	schedule_periodic(r);
}

/* PF is set at every tick whether or not PIE is: without an event queued,
 * work out whether a tick passed since C was last read. */
static void sync_pf(struct rtc_cmos *r)
{
	unsigned shift = periodic_shift(r);
	if (shift && periodic_index(r, r->sim->now, shift) != r->pf_index)
		r->reg_c |= REG_C_PF;
}

static void freeze(struct rtc_cmos *r)
{
	if (r->frozen)
		return;
	encode_time(r, rtc_time(r));
	r->frozen = true;
	schedule_update(r);
}

static void thaw(struct rtc_cmos *r, sim_time_t first_update)
{
	r->base_secs = decode_time(r) + 1;
	r->ref = r->sim->now + first_update;
	r->frozen = false;
	schedule_update(r);
}

static bool is_time_reg(unsigned i)
{
	return i == 0 || i == 2 || i == 4 || (i >= 6 && i <= 9) || i == CENTURY;
}

static uint8_t read_reg(struct rtc_cmos *r, unsigned i)
{
	uint8_t v;

	if (is_time_reg(i) && !r->frozen)
		encode_time(r, rtc_time(r));
	switch (i) {
	case 0x0A:
		v = r->reg_a & 0x7F;
		if (!r->frozen && next_update(r) - r->sim->now <= UIP_WINDOW)
			v |= REG_A_UIP;
		return v;
	case 0x0B:
		return r->reg_b;
	case 0x0C:
		sync_pf(r);
		v = r->reg_c;
		r->reg_c = 0;
		if (periodic_shift(r))
			r->pf_index = periodic_index(r, r->sim->now, periodic_shift(r));
		update_irq(r);
		return v;
	case 0x0D:
		return 0x80;    /* VRT: the battery is fine */
	}
	return r->ram[i];
}

static void write_reg(struct rtc_cmos *r, unsigned i, uint8_t v)
{
	switch (i) {
	case 0x0A: {
		bool was = divider_running(r);
		r->reg_a = v & 0x7F;
		if (was && !divider_running(r))
			freeze(r);
		else if (!was && divider_running(r) && !(r->reg_b & REG_B_SET))
			thaw(r, SIM_S / 2);
		if (periodic_shift(r))
			r->pf_index = periodic_index(r, r->sim->now, periodic_shift(r));
		schedule_periodic(r);
		return;
	}
	case 0x0B:
		/* Setting SET also clears UIE (DS12887 register B). */
		if (v & REG_B_SET)
			v &= ~REG_B_UIE;
		if ((v & REG_B_SET) && !(r->reg_b & REG_B_SET))
			freeze(r);
		/* Format bits change what the frozen bytes mean only for the
		 * clock's future updates, as on the chip. */
		r->reg_b = v;
		if (!(v & REG_B_SET) && r->frozen && divider_running(r))
			thaw(r, SIM_S);
		schedule_periodic(r);
		update_irq(r);
		return;
	case 0x0C: case 0x0D:
		return;         /* read-only */
	}
	if (is_time_reg(i) && !r->frozen) {
		/* Keep the phase: the next update still comes at the same
		 * boundary, counting on from the written value. */
		sim_time_t nb = next_update(r);
		encode_time(r, rtc_time(r));
		r->ram[i] = v;
		r->base_secs = decode_time(r) + 1;
		r->ref = nb;
		schedule_update(r);
		return;
	}
	r->ram[i] = v;
}

uint32_t rtc_io_read(void *rtc, uint16_t port, unsigned size)
{
	struct rtc_cmos *r = rtc;
	++*r->st_access;
	if (port == 0x71)
		return read_reg(r, r->index);
	return 0xFF;    /* the index port is write-only */
}

void rtc_io_write(void *rtc, uint16_t port, unsigned size, uint32_t value)
{
	struct rtc_cmos *r = rtc;
	++*r->st_access;
	if (port == 0x70) {
		r->index = value & 0x7F;
		r->nmi_masked = value & 0x80;
	} else if (port == 0x71) {
		write_reg(r, r->index, value & 0xFF);
	}
}

bool rtc_nmi_masked(const struct rtc_cmos *r) { return r->nmi_masked; }

static void checksum(struct rtc_cmos *r)
{
	/* The AT BIOS checksum: the sum of bytes 0x10-0x2D, big-endian at
	 * 0x2E. */
	unsigned sum = 0;
	for (int i = 0x10; i <= 0x2D; i++)
		sum += r->ram[i];
	r->ram[0x2E] = sum >> 8;
	r->ram[0x2F] = sum & 0xFF;
}

void rtc_set_memory(struct rtc_cmos *r, uint64_t ram_bytes)
{
	uint64_t kb = ram_bytes >> 10;
	unsigned base = kb < 640 ? (unsigned)kb : 640;
	uint64_t ext = kb > 1024 ? kb - 1024 : 0;          /* KiB above 1 MiB */
	uint64_t high = ram_bytes > (16u << 20) ? (ram_bytes - (16u << 20)) >> 16 : 0;
	if (ext > 0xFFFF)
		ext = 0xFFFF;
	if (high > 0xFFFF)
		high = 0xFFFF;

	r->ram[0x15] = base & 0xFF;
	r->ram[0x16] = base >> 8;
	r->ram[0x17] = r->ram[0x30] = ext & 0xFF;
	r->ram[0x18] = r->ram[0x31] = ext >> 8;
	r->ram[0x34] = high & 0xFF;     /* 64 KiB units above 16 MiB */
	r->ram[0x35] = high >> 8;
	checksum(r);
}

void rtc_init(struct rtc_cmos *r, struct sim *sim, struct irq_line irq, int64_t epoch)
{
	memset(r, 0, sizeof *r);
	r->sim = sim;
	r->irq = irq;
	r->reg_a = 0x26;        /* 32.768 kHz, 1024 Hz periodic rate */
	r->reg_b = REG_B_24H;   /* BCD, 24-hour, as BIOSes leave it */
	r->base_secs = epoch - (int64_t)(sim->now / SIM_S);
	r->ref = 0;
	event_init(&r->update_ev, update_event, r);
	event_init(&r->periodic_ev, periodic_event, r);
	r->st_irq = stats_counter(&sim->stats, "rtc.irqs");
	r->st_access = stats_counter(&sim->stats, "rtc.accesses");
	checksum(r);
	schedule_update(r);
}

int rtc_attach(struct rtc_cmos *r, struct bus *bus)
{
	return bus_add_pio(bus, 0x70, 2, rtc_io_read, rtc_io_write, r);
}
