/* devices/pit8254.c: the Intel 8254 interval timer.
 *
 * Sources: Intel 8254 datasheet (order 231164), OSDev "Programmable
 * Interval Timer", the PIIX4 datasheet for port 0x61 (NMI status and
 * control).
 *
 * Nothing counts per tick.  Each channel remembers when it started
 * counting, and every visible quantity (the counting element, OUT) is a
 * function of the simulated time since then.  Channel 0 keeps one event
 * queued at its next OUT transition, which is how IRQ0 edges happen.
 *
 * Modelled: modes 0-5 (6 and 7 alias 2 and 3), binary and BCD, lsb / msb /
 * lsb-then-msb access, the counter latch command, the read-back command
 * (count and status), the gate of channel 2 from port 0x61 bit 0 (and its
 * OUT on bit 5), a count written to a running mode 2/3 counter taking over
 * at the end of the current period, and the refresh toggle of port 0x61
 * bit 4 (every 18 PIT clocks, about 15 us, as channel 1 programmed by a
 * BIOS would make it).
 *
 * Approximations: a count is loaded into the counting element at the write
 * itself rather than on the next input clock, so times are exact to within
 * one 838 ns clock; mode 3 with an odd count takes the new count at the end
 * of the period, not of the half period; a count written to a running
 * mode 1/5 counter changes the current cycle.  Count 1 in modes 2/3 is
 * illegal per the datasheet; here OUT simply stops changing (mode 2) or
 * stays high (mode 3), so no event storm is possible.
 */
#include <string.h>

#include "devices/pit8254.h"
#include "machine/bus.h"
#include "sim/sim.h"

uint64_t pit_ticks(sim_time_t d)
{
	return (uint64_t)((unsigned __int128)d * PIT_HZ_NUM / (PIT_HZ_DEN * SIM_S));
}

sim_time_t pit_time(uint64_t ticks)
{
	unsigned __int128 num = (unsigned __int128)ticks * PIT_HZ_DEN * SIM_S;
	unsigned __int128 t = (num + PIT_HZ_NUM - 1) / PIT_HZ_NUM;
	return t > SIM_TIME_MAX ? SIM_TIME_MAX : (sim_time_t)t;
}

static unsigned mode_of(const struct pit_channel *c)
{
	return c->mode > 5 ? c->mode - 4 : c->mode;
}

/* Apply a count written to a running mode 2/3 counter once its period
 * ended. */
static void sync(struct pit_channel *c, sim_time_t now)
{
	if (c->has_pending && now >= c->pending_at) {
		c->count = c->pending;
		c->start = c->pending_at;
		c->frozen = 0;
		c->has_pending = false;
		c->null_count = false;
	}
}

static uint64_t elapsed(const struct pit_channel *c, sim_time_t now)
{
	if (!c->running || now < c->start)
		return c->frozen;
	return c->frozen + pit_ticks(now - c->start);
}

static bool counting(const struct pit_channel *c)
{
	unsigned m = mode_of(c);
	if (!c->armed)
		return false;
	if ((m == 1 || m == 5) && !c->triggered)
		return false;
	return true;
}

static bool out_at(const struct pit_channel *c, uint64_t e)
{
	uint64_t n = c->count;

	if (!counting(c))
		return c->out_initial;
	switch (mode_of(c)) {
	case 0: case 1:
		return e >= n;
	case 2:
		if (!c->gate)
			return true;
		return e % n != n - 1;
	case 3:
		if (!c->gate)
			return true;
		return e % n < (n + 1) / 2;
	default:        /* 4, 5: a one-clock low strobe at terminal count */
		return e != n;
	}
}

static uint32_t modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* The counting element, as a binary number. */
static uint32_t value_at(const struct pit_channel *c, uint64_t e)
{
	uint64_t n = c->count, m = modulus(c);

	if (!counting(c))
		return c->count % m;
	switch (mode_of(c)) {
	case 2:
		return (n - e % n) % m;
	case 3: {
		/* Decrements by two, reloading at each half period. */
		uint64_t hi = (n + 1) / 2, p = e % n;
		uint64_t q = p < hi ? p : p - hi;
		return ((n & ~1ULL) - 2 * q) % m;
	}
	default:        /* 0, 1, 4, 5 count down and wrap */
		return (n + m - e % m) % m;
	}
}

/* Ticks (from the start of counting) of the next OUT change after e, or
 * UINT64_MAX. */
static uint64_t next_change(const struct pit_channel *c, uint64_t e)
{
	uint64_t n = c->count, p;

	if (!counting(c) || !c->running)
		return UINT64_MAX;
	switch (mode_of(c)) {
	case 0: case 1:
		return e < n ? n : UINT64_MAX;
	case 2:
		if (n < 2)
			return UINT64_MAX;
		p = e % n;
		return p < n - 1 ? e + (n - 1 - p) : e + 1;
	case 3:
		if (n < 2)
			return UINT64_MAX;
		p = e % n;
		return p < (n + 1) / 2 ? e + ((n + 1) / 2 - p) : e + (n - p);
	default:
		return e < n ? n : e == n ? n + 1 : UINT64_MAX;
	}
}

bool pit_out(struct pit8254 *p, int ch)
{
	struct pit_channel *c = &p->ch[ch];
	sync(c, p->sim->now);
	return out_at(c, elapsed(c, p->sim->now));
}

uint16_t pit_count(struct pit8254 *p, int ch)
{
	struct pit_channel *c = &p->ch[ch];
	sync(c, p->sim->now);
	return value_at(c, elapsed(c, p->sim->now));
}

/* Drive IRQ0 from channel 0's OUT and queue its next transition. */
static void ch0_update(struct pit8254 *p)
{
	struct pit_channel *c = &p->ch[0];
	sim_time_t now = p->sim->now;

	sync(c, now);
	uint64_t e = elapsed(c, now);
	bool out = out_at(c, e);
	if (out != p->irq_level) {
		p->irq_level = out;
		if (out)
			++*p->st_irq0;
		irq_set(&p->irq0, out);
	}
	uint64_t nx = next_change(c, e);
	sim_time_t when = SIM_TIME_MAX;
	if (nx != UINT64_MAX) {
		sim_time_t d = pit_time(nx - c->frozen);
		when = d > SIM_TIME_MAX - c->start ? SIM_TIME_MAX : c->start + d;
	}
	if (c->has_pending && c->pending_at < when)
		when = c->pending_at;
	if (when == SIM_TIME_MAX || when <= now)
		event_cancel(&p->sim->events, &p->ev);
	else
		event_schedule(&p->sim->events, &p->ev, when);
}

static void ch0_event(void *arg, sim_time_t now)
{
	ch0_update(arg);
}

static void set_gate(struct pit8254 *p, int ch, bool gate)
{
	struct pit_channel *c = &p->ch[ch];
	sim_time_t now = p->sim->now;

	sync(c, now);
	if (gate == c->gate)
		return;
	bool rising = gate && !c->gate;
	switch (mode_of(c)) {
	case 0: case 4:
		/* Gate low suspends counting; high resumes it. */
		if (!gate) {
			c->frozen = elapsed(c, now);
			c->running = false;
		} else {
			c->start = now;
			c->running = true;
		}
		break;
	case 2: case 3:
		/* Gate low stops counting with OUT high; the rising edge
		 * reloads the count. */
		c->running = gate;
		if (rising) {
			c->start = now;
			c->frozen = 0;
		}
		break;
	default:        /* 1, 5: the rising edge (re)triggers */
		if (rising && c->armed) {
			c->triggered = true;
			c->start = now;
			c->frozen = 0;
			c->running = true;
		}
		break;
	}
	c->gate = gate;
}

static uint32_t from_bcd(uint32_t v)
{
	return ((v >> 12) & 15) * 1000 + ((v >> 8) & 15) * 100 + ((v >> 4) & 15) * 10 + (v & 15);
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | (v % 10));
}

static void load(struct pit8254 *p, struct pit_channel *c, uint16_t raw)
{
	sim_time_t now = p->sim->now;
	uint32_t n = c->bcd ? from_bcd(raw) : raw;
	if (n == 0)
		n = modulus(c);         /* 0 is the largest count */
	unsigned m = mode_of(c);

	if ((m == 2 || m == 3) && c->armed && c->running) {
		/* Rate generator and square wave take a new count at the end
		 * of the current period. */
		uint64_t e = elapsed(c, now);
		uint64_t k = e / c->count + 1;
		c->pending = n;
		c->pending_at = c->start + pit_time(k * c->count - c->frozen);
		c->has_pending = true;
		return;
	}
	c->count = n;
	c->armed = true;
	c->null_count = false;
	if (m == 1 || m == 5)
		return;         /* waits for a gate edge */
	c->start = now;
	c->frozen = 0;
	c->running = c->gate;
}

static void write_counter(struct pit8254 *p, int ch, uint8_t v)
{
	struct pit_channel *c = &p->ch[ch];

	sync(c, p->sim->now);
	c->null_count = true;
	switch (c->rw) {
	case 1: load(p, c, v); break;
	case 2: load(p, c, (uint16_t)(v << 8)); break;
	case 3:
		if (!c->write_msb) {
			c->cr = v;
			c->write_msb = true;
			/* Mode 0: writing the first byte stops the count and
			 * drives OUT low until the count is complete. */
			if (mode_of(c) == 0) {
				c->armed = false;
				c->out_initial = false;
			}
		} else {
			c->cr |= (uint16_t)(v << 8);
			c->write_msb = false;
			load(p, c, c->cr);
		}
		break;
	}
}

static uint16_t visible(const struct pit_channel *c, uint32_t bin)
{
	return c->bcd ? to_bcd(bin) : (uint16_t)bin;
}

static void latch_count(struct pit8254 *p, int ch)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->latched)
		return;         /* a second latch is ignored until read */
	c->latch = visible(c, pit_count(p, ch));
	c->latched = true;
	c->latch_msb = false;
}

static void latch_status(struct pit8254 *p, int ch)
{
	struct pit_channel *c = &p->ch[ch];
	if (c->status_latched)
		return;
	c->status = (uint8_t)(pit_out(p, ch) << 7 | c->null_count << 6 |
			      c->rw << 4 | c->mode << 1 | c->bcd);
	c->status_latched = true;
}

static void write_control(struct pit8254 *p, uint8_t v)
{
	int sc = v >> 6;

	if (sc == 3) {
		/* Read-back: bits 3..1 select channels 0..2; count and status
		 * are latched when their bits (5, 4) are zero. */
		for (int ch = 0; ch < 3; ch++) {
			if (!(v & (2u << ch)))
				continue;
			if (!(v & 0x20))
				latch_count(p, ch);
			if (!(v & 0x10))
				latch_status(p, ch);
		}
		return;
	}
	struct pit_channel *c = &p->ch[sc];
	sync(c, p->sim->now);
	if (((v >> 4) & 3) == 0) {
		latch_count(p, sc);
		return;
	}
	c->rw = (v >> 4) & 3;
	c->mode = (v >> 1) & 7;
	c->bcd = v & 1;
	c->armed = false;
	c->triggered = false;
	c->has_pending = false;
	c->null_count = true;
	c->write_msb = false;
	c->read_msb = false;
	c->latched = false;
	c->status_latched = false;
	c->frozen = 0;
	c->running = false;
	/* After a control word OUT is low in mode 0, high in the others. */
	c->out_initial = mode_of(c) != 0;
}

static uint8_t read_counter(struct pit8254 *p, int ch)
{
	struct pit_channel *c = &p->ch[ch];
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		v = c->latch;
		if (c->rw == 3 && !c->latch_msb) {
			c->latch_msb = true;
			return v & 0xFF;
		}
		c->latched = false;
		return c->rw == 2 || c->rw == 3 ? v >> 8 : v & 0xFF;
	}
	v = visible(c, pit_count(p, ch));
	switch (c->rw) {
	case 1: return v & 0xFF;
	case 2: return v >> 8;
	default:
		c->read_msb = !c->read_msb;
		return c->read_msb ? v & 0xFF : v >> 8;
	}
}

static uint8_t read_port61(struct pit8254 *p)
{
	uint8_t v = p->port61 & 0x0F;
	if ((pit_ticks(p->sim->now) / 18) & 1)
		v |= 0x10;
	if (pit_out(p, 2))
		v |= 0x20;
	return v;
}

uint32_t pit_io_read(void *pit, uint16_t port, unsigned size)
{
	struct pit8254 *p = pit;
	uint32_t v;

	++*p->st_access;
	switch (port) {
	case 0x40: case 0x41: case 0x42:
		v = read_counter(p, port - 0x40);
		break;
	case 0x61:
		v = read_port61(p);
		break;
	default:
		return 0xFFFFFFFF;      /* the control word is write-only */
	}
	/* A wider read sees the byte in every lane, close enough for a port
	 * no guest reads with more than inb. */
	return v;
}

void pit_io_write(void *pit, uint16_t port, unsigned size, uint32_t value)
{
	struct pit8254 *p = pit;
	uint8_t v = value & 0xFF;

	++*p->st_access;
	switch (port) {
	case 0x40: case 0x41: case 0x42:
		write_counter(p, port - 0x40, v);
		break;
	case 0x43:
		write_control(p, v);
		break;
	case 0x61:
		p->port61 = v & 0x0F;
		set_gate(p, 2, v & 1);
		break;
	default:
		return;
	}
	ch0_update(p);
}

void pit_init(struct pit8254 *p, struct sim *sim, struct irq_line irq0)
{
	memset(p, 0, sizeof *p);
	p->sim = sim;
	p->irq0 = irq0;
	for (int i = 0; i < 3; i++) {
		struct pit_channel *c = &p->ch[i];
		c->rw = 3;
		c->count = 65536;
		c->gate = i != 2;       /* channels 0 and 1 are gated high */
		/* The datasheet leaves OUT undefined at power-up.  High is
		 * what a BIOS-programmed PIT shows most of the time, and it
		 * means the guest's first mode 2/3 control word makes no
		 * IRQ0 edge. */
		c->out_initial = true;
	}
	event_init(&p->ev, ch0_event, p);
	p->st_irq0 = stats_counter(&sim->stats, "pit.irq0_edges");
	p->st_access = stats_counter(&sim->stats, "pit.accesses");
	p->irq_level = true;
	irq_set(&p->irq0, true);
}

int pit_attach(struct pit8254 *p, struct bus *bus)
{
	if (bus_add_pio(bus, 0x40, 4, pit_io_read, pit_io_write, p) ||
	    bus_add_pio(bus, 0x61, 1, pit_io_read, pit_io_write, p))
		return -1;
	return 0;
}
