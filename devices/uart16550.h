/* devices/uart16550.h: a 16550A UART (COM1 at 0x3F8, IRQ4).
 *
 *     uart_init(&com1, sim, "com1", intc_isa_line(&intc, 4), stdout);
 *     uart_set_input_file(&com1, fopen("input.txt", "rb"), 0);
 *     uart_attach(&com1, bus, 0x3F8);
 *     ...
 *     uart_free(&com1);
 *
 * Determinism: input never comes from the host as it happens.  An input
 * file (stdin included) is read to its end when it is given, and its bytes
 * are put on the line one character time apart (at the baud rate and
 * framing the guest programmed), starting at the given simulated time, and
 * only while the guest asserts RTS (MCR bit 1) and its receive FIFO has
 * room: the host end honours RTS/CTS flow control, so no input byte is ever
 * overrun.  The same input therefore reaches the guest at the same
 * simulated times on every run.
 *
 * Output is instantaneous by default (THR empties at the write); with
 * uart_set_paced() each character occupies the line for one character
 * time, THRE/TEMT and the THR-empty interrupt follow suit, and the 16-byte
 * transmit FIFO fills up as on the hardware.
 */
#ifndef DEVICES_UART16550_H
#define DEVICES_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "devices/irq.h"
#include "sim/clock.h"
#include "sim/event.h"

struct sim;
struct bus;

#define UART_FIFO 16
#define UART_CLOCK_HZ 1843200   /* the PC's 1.8432 MHz crystal: 115200 * 16 */

struct uart16550 {
	struct sim *sim;
	struct irq_line irq;
	bool irq_level;
	FILE *out;

	uint8_t ier, lcr, mcr, scr, dll, dlm;
	uint8_t lsr_err;        /* OE | PE | FE | BI since the last LSR read */
	uint8_t msr_delta;      /* DCTS | DDSR | TERI | DDCD since the last MSR read */
	bool fifo_on;
	uint8_t rx_trigger;     /* 1, 4, 8 or 14 */

	uint8_t rx[UART_FIFO];
	unsigned rx_head, rx_count;
	uint8_t tx[UART_FIFO];
	unsigned tx_head, tx_count;
	bool tsr_busy;          /* paced: a character is on the line */
	uint8_t tsr;
	bool thri;              /* THR-empty interrupt latched */
	bool timeout;           /* character timeout interrupt */
	bool paced;

	uint8_t *in;            /* the whole input, owned */
	size_t in_len, in_pos;
	sim_time_t in_start;
	bool rx_waiting;        /* rx_ev not queued: flow control holds the line */

	struct event rx_ev, tx_ev, timeout_ev;
	uint64_t *st_tx, *st_rx, *st_overrun;
};

void uart_init(struct uart16550 *u, struct sim *sim, const char *name,
	       struct irq_line irq, FILE *out);
void uart_free(struct uart16550 *u);
int uart_attach(struct uart16550 *u, struct bus *bus, uint16_t base);
void uart_set_paced(struct uart16550 *u, bool paced);
/* Input bytes (copied) offered from simulated time start on. */
int uart_set_input(struct uart16550 *u, const void *data, size_t len, sim_time_t start);
/* Reads f to EOF now (f may be stdin); returns 0 or -1. */
int uart_set_input_file(struct uart16550 *u, FILE *f, sim_time_t start);
/* One character on the line with the current divisor and framing. */
sim_time_t uart_char_time(const struct uart16550 *u);

uint32_t uart_io_read(void *uart, uint16_t port, unsigned size);
void uart_io_write(void *uart, uint16_t port, unsigned size, uint32_t value);

#endif
