/* devices/uart16550.c: the National Semiconductor / TI 16550A UART.
 *
 * Sources: TI PC16550D datasheet (SNLS378), OSDev "Serial Ports".
 *
 * Registers (offset from the base; DLAB is LCR bit 7):
 *   0  RBR (read) / THR (write), or DLL when DLAB=1
 *   1  IER, or DLM when DLAB=1
 *   2  IIR (read) / FCR (write)
 *   3  LCR    4  MCR    5  LSR    6  MSR    7  SCR
 *
 * Modelled: the divisor latch, IER's four sources and IIR's priority order
 * (line status, received data at the FIFO trigger level, character
 * timeout after four character times, THR empty, modem status), the
 * 16-byte FIFOs and their trigger levels, FCR clears, LSR DR/OE/THRE/TEMT,
 * MSR with delta bits, loopback (MCR bit 4: THR feeds RBR, and DTR, RTS,
 * OUT1, OUT2 appear as DSR, CTS, RI, DCD), and the PC's wiring of the
 * interrupt pin through OUT2: IRQ4 is driven only with MCR.OUT2 set and
 * loopback off, since loopback forces the OUT2 pin inactive.
 *
 * Outside loopback the modem inputs read as a connected terminal: CTS,
 * DSR and DCD asserted, RI not.  Parity, framing and break errors never
 * happen (the host end sends clean characters), so PE/FE/BI and LSR bit 7
 * stay 0.  A divisor of 0 counts as 65536, the slowest rate.
 */
#include <stdlib.h>
#include <string.h>

#include "devices/uart16550.h"
#include "machine/bus.h"
#include "sim/sim.h"

enum {
	IER_RDA = 1, IER_THRE = 2, IER_RLS = 4, IER_MS = 8,
	LCR_DLAB = 0x80,
	MCR_DTR = 1, MCR_RTS = 2, MCR_OUT1 = 4, MCR_OUT2 = 8, MCR_LOOP = 16,
	LSR_DR = 1, LSR_OE = 2, LSR_THRE = 0x20, LSR_TEMT = 0x40,
};

sim_time_t uart_char_time(const struct uart16550 *u)
{
	unsigned div = (unsigned)u->dlm << 8 | u->dll;
	if (div == 0)
		div = 65536;
	/* Counted in half bits, for the 1.5 stop bits of 5-bit words:
	 * start + data + parity + stop. */
	unsigned data = 5 + (u->lcr & 3);
	unsigned half = 2 * (1 + data + !!(u->lcr & 8));
	half += !(u->lcr & 4) ? 2 : data == 5 ? 3 : 4;
	/* One bit lasts 16 * div clocks of the 1.8432 MHz crystal. */
	unsigned __int128 t = (unsigned __int128)half * div * 16 * SIM_S;
	return (sim_time_t)(t / (2ULL * UART_CLOCK_HZ));
}

static unsigned rx_capacity(const struct uart16550 *u)
{
	return u->fifo_on ? UART_FIFO : 1;
}

static unsigned tx_capacity(const struct uart16550 *u)
{
	return u->fifo_on ? UART_FIFO : 1;
}

static uint8_t iir(const struct uart16550 *u)
{
	uint8_t id;

	if ((u->ier & IER_RLS) && (u->lsr_err & 0x1E))
		id = 0x06;
	else if ((u->ier & IER_RDA) && u->rx_count >= (u->fifo_on ? u->rx_trigger : 1))
		id = 0x04;
	else if ((u->ier & IER_RDA) && u->timeout)
		id = 0x0C;
	else if ((u->ier & IER_THRE) && u->thri)
		id = 0x02;
	else if ((u->ier & IER_MS) && u->msr_delta)
		id = 0x00;
	else
		id = 0x01;
	return id | (u->fifo_on ? 0xC0 : 0);
}

static void update_irq(struct uart16550 *u)
{
	bool pin = (u->mcr & MCR_OUT2) && !(u->mcr & MCR_LOOP);
	bool level = pin && !(iir(u) & 1);
	if (level != u->irq_level) {
		u->irq_level = level;
		irq_set(&u->irq, level);
	}
}

static uint8_t modem_inputs(const struct uart16550 *u)
{
	if (!(u->mcr & MCR_LOOP))
		return 0xB0;    /* DCD, DSR, CTS */
	uint8_t m = u->mcr, v = 0;
	if (m & MCR_RTS) v |= 0x10;
	if (m & MCR_DTR) v |= 0x20;
	if (m & MCR_OUT1) v |= 0x40;
	if (m & MCR_OUT2) v |= 0x80;
	return v;
}

static bool line_open(const struct uart16550 *u)
{
	/* The host end sends while RTS is asserted; loopback disconnects the
	 * receiver from the line. */
	return (u->mcr & MCR_RTS) && !(u->mcr & MCR_LOOP);
}

/* Queue the next input byte unless flow control holds it back. */
static void rx_kick(struct uart16550 *u, sim_time_t when)
{
	if (u->in_pos >= u->in_len || event_pending(&u->rx_ev))
		return;
	if (!line_open(u) || u->rx_count >= rx_capacity(u)) {
		u->rx_waiting = true;
		return;
	}
	u->rx_waiting = false;
	if (when < u->in_start)
		when = u->in_start;
	event_schedule(&u->sim->events, &u->rx_ev, when);
}

static void rx_push(struct uart16550 *u, uint8_t b)
{
	if (u->rx_count >= rx_capacity(u)) {
		u->lsr_err |= LSR_OE;
		++*u->st_overrun;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO] = b;
	u->rx_count++;
	++*u->st_rx;
	u->timeout = false;
	if (u->fifo_on)
		event_schedule(&u->sim->events, &u->timeout_ev, u->sim->now + 4 * uart_char_time(u));
}

static void rx_event(void *arg, sim_time_t now)
{
	struct uart16550 *u = arg;
	/* The line state may have changed since the byte was queued. */
	if (!line_open(u) || u->rx_count >= rx_capacity(u)) {
		u->rx_waiting = true;
		return;
	}
	rx_push(u, u->in[u->in_pos++]);
	update_irq(u);
	rx_kick(u, now + uart_char_time(u));
}

static void timeout_event(void *arg, sim_time_t now)
{
	struct uart16550 *u = arg;
	if (u->fifo_on && u->rx_count > 0) {
		u->timeout = true;
		update_irq(u);
	}
}

static void emit(struct uart16550 *u, uint8_t b)
{
	++*u->st_tx;
	if (u->mcr & MCR_LOOP)
		rx_push(u, b);
	else if (u->out)
		fputc(b, u->out);
}

static void tx_start(struct uart16550 *u)
{
	if (u->tsr_busy || u->tx_count == 0)
		return;
	u->tsr = u->tx[u->tx_head];
	u->tx_head = (u->tx_head + 1) % UART_FIFO;
	u->tx_count--;
	u->tsr_busy = true;
	if (u->tx_count == 0)
		u->thri = true;
	event_schedule(&u->sim->events, &u->tx_ev, u->sim->now + uart_char_time(u));
}

static void tx_event(void *arg, sim_time_t now)
{
	struct uart16550 *u = arg;
	u->tsr_busy = false;
	emit(u, u->tsr);
	tx_start(u);
	update_irq(u);
}

static void write_thr(struct uart16550 *u, uint8_t b)
{
	u->thri = false;
	if (!u->paced) {
		/* THR is busy for an instant: the pin drops and rises again,
		 * so an edge-triggered PIC or I/O APIC sees a new THRE
		 * interrupt, as after a real character time. */
		update_irq(u);
		emit(u, b);
		u->thri = true;
		return;
	}
	if (u->tx_count >= tx_capacity(u)) {
		++*u->st_overrun;       /* the datasheet leaves this undefined: drop */
		return;
	}
	u->tx[(u->tx_head + u->tx_count) % UART_FIFO] = b;
	u->tx_count++;
	tx_start(u);
}

static uint8_t read_rbr(struct uart16550 *u)
{
	if (u->rx_count == 0)
		return 0;
	uint8_t b = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_FIFO;
	u->rx_count--;
	u->timeout = false;
	if (u->fifo_on && u->rx_count > 0)
		event_schedule(&u->sim->events, &u->timeout_ev, u->sim->now + 4 * uart_char_time(u));
	else
		event_cancel(&u->sim->events, &u->timeout_ev);
	if (u->rx_waiting)
		rx_kick(u, u->sim->now + uart_char_time(u));
	return b;
}

static void write_fcr(struct uart16550 *u, uint8_t v)
{
	bool on = v & 1;
	static const uint8_t trig[4] = { 1, 4, 8, 14 };

	if (on != u->fifo_on) {
		/* Switching FIFO mode resets both FIFOs. */
		u->rx_count = u->tx_count = 0;
		u->fifo_on = on;
	}
	if (!on)
		return;         /* other bits only take with bit 0 set */
	if (v & 2) {
		u->rx_count = 0;
		u->timeout = false;
		event_cancel(&u->sim->events, &u->timeout_ev);
	}
	if (v & 4)
		u->tx_count = 0;
	u->rx_trigger = trig[v >> 6];
	if (u->tx_count == 0 && !u->thri && !u->tsr_busy)
		u->thri = true;
	if (u->rx_waiting)
		rx_kick(u, u->sim->now + uart_char_time(u));
}

static void write_mcr(struct uart16550 *u, uint8_t v)
{
	uint8_t before = modem_inputs(u);
	u->mcr = v & 0x1F;
	uint8_t after = modem_inputs(u), d = before ^ after;
	if (d & 0x10) u->msr_delta |= 1;                /* DCTS */
	if (d & 0x20) u->msr_delta |= 2;                /* DDSR */
	if ((before & 0x40) && !(after & 0x40)) u->msr_delta |= 4;   /* TERI */
	if (d & 0x80) u->msr_delta |= 8;                /* DDCD */
	if (u->rx_waiting)
		rx_kick(u, u->sim->now + uart_char_time(u));
}

static uint8_t read_reg(struct uart16550 *u, unsigned reg)
{
	uint8_t v;

	switch (reg) {
	case 0:
		return u->lcr & LCR_DLAB ? u->dll : read_rbr(u);
	case 1:
		return u->lcr & LCR_DLAB ? u->dlm : u->ier;
	case 2:
		v = iir(u);
		/* Reading IIR acknowledges a THR-empty interrupt it reports. */
		if ((v & 0x0F) == 0x02)
			u->thri = false;
		return v;
	case 3: return u->lcr;
	case 4: return u->mcr;
	case 5:
		v = u->lsr_err;
		if (u->rx_count)
			v |= LSR_DR;
		if (u->tx_count == 0) {
			v |= LSR_THRE;
			if (!u->tsr_busy)
				v |= LSR_TEMT;
		}
		u->lsr_err = 0;
		return v;
	case 6:
		v = modem_inputs(u) | u->msr_delta;
		u->msr_delta = 0;
		return v;
	default:
		return u->scr;
	}
}

static void write_reg(struct uart16550 *u, unsigned reg, uint8_t v)
{
	switch (reg) {
	case 0:
		if (u->lcr & LCR_DLAB)
			u->dll = v;
		else
			write_thr(u, v);
		break;
	case 1:
		if (u->lcr & LCR_DLAB) {
			u->dlm = v;
			break;
		}
		/* Enabling the THRE interrupt with THR empty raises it at once
		 * (datasheet, IER bit 1). */
		if ((v & IER_THRE) && !(u->ier & IER_THRE) && u->tx_count == 0)
			u->thri = true;
		u->ier = v & 0x0F;
		break;
	case 2: write_fcr(u, v); break;
	case 3: u->lcr = v; break;
	case 4: write_mcr(u, v); break;
	case 5: case 6: break;          /* LSR, MSR: read-only (factory test) */
	default: u->scr = v; break;
	}
}

uint32_t uart_io_read(void *uart, uint16_t port, unsigned size)
{
	struct uart16550 *u = uart;
	uint8_t v = read_reg(u, port & 7);
	update_irq(u);
	return v;
}

void uart_io_write(void *uart, uint16_t port, unsigned size, uint32_t value)
{
	struct uart16550 *u = uart;
	write_reg(u, port & 7, value & 0xFF);
	update_irq(u);
}

void uart_set_paced(struct uart16550 *u, bool paced)
{
	u->paced = paced;
}

int uart_set_input(struct uart16550 *u, const void *data, size_t len, sim_time_t start)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		return -1;
	memcpy(copy, data, len);
	free(u->in);
	u->in = copy;
	u->in_len = len;
	u->in_pos = 0;
	u->in_start = start;
	event_cancel(&u->sim->events, &u->rx_ev);
	rx_kick(u, start > u->sim->now ? start : u->sim->now);
	return 0;
}

int uart_set_input_file(struct uart16550 *u, FILE *f, sim_time_t start)
{
	size_t len = 0, cap = 4096;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int err = ferror(f) ? -1 : uart_set_input(u, buf, len, start);
	free(buf);
	return err;
}

void uart_init(struct uart16550 *u, struct sim *sim, const char *name,
	       struct irq_line irq, FILE *out)
{
	char key[64];

	memset(u, 0, sizeof *u);
	u->sim = sim;
	u->irq = irq;
	u->out = out;
	u->dll = 12;            /* 9600 baud until the guest says otherwise */
	u->lcr = 0x03;          /* 8N1 */
	u->rx_trigger = 1;
	u->thri = false;        /* reset: IIR reads 0x01 */
	event_init(&u->rx_ev, rx_event, u);
	event_init(&u->tx_ev, tx_event, u);
	event_init(&u->timeout_ev, timeout_event, u);
	snprintf(key, sizeof key, "%s.tx_bytes", name);
	u->st_tx = stats_counter(&sim->stats, key);
	snprintf(key, sizeof key, "%s.rx_bytes", name);
	u->st_rx = stats_counter(&sim->stats, key);
	snprintf(key, sizeof key, "%s.overruns", name);
	u->st_overrun = stats_counter(&sim->stats, key);
}

void uart_free(struct uart16550 *u)
{
	event_cancel(&u->sim->events, &u->rx_ev);
	event_cancel(&u->sim->events, &u->tx_ev);
	event_cancel(&u->sim->events, &u->timeout_ev);
	free(u->in);
	u->in = NULL;
}

int uart_attach(struct uart16550 *u, struct bus *bus, uint16_t base)
{
	return bus_add_pio(bus, base, 8, uart_io_read, uart_io_write, u);
}
