/* pvm/kernel/uart.c: the console, a 16550A on COM1 (0x3F8), polled.
 *
 * 115200 baud 8N1, FIFOs on.  Output waits for THR empty (LSR bit 5) for a
 * bounded number of polls, so a missing UART can slow the kernel but
 * never hang it.  "\n" goes out as "\r\n".
 */
#include "pvm/kernel/kernel.h"

#define COM1    ABI_PORT_COM1
#define THR     0       /* transmit holding register (DLAB=0) */
#define DLL     0       /* divisor latch low (DLAB=1) */
#define IER     1
#define DLM     1
#define FCR     2
#define LCR     3
#define MCR     4
#define LSR     5
#define LSR_THRE 0x20

void uart_init(void)
{
	outb(COM1 + IER, 0x00);         /* no interrupts: the console polls */
	outb(COM1 + LCR, 0x80);         /* DLAB */
	outb(COM1 + DLL, 1);            /* 115200 = 1.8432 MHz / 16 / 1 */
	outb(COM1 + DLM, 0);
	outb(COM1 + LCR, 0x03);         /* 8N1 */
	outb(COM1 + FCR, 0x07);         /* enable and clear FIFOs */
	outb(COM1 + MCR, 0x03);         /* DTR, RTS */
}

static void put_raw(char c)
{
	for (int i = 0; i < 100000; i++)
		if (inb(COM1 + LSR) & LSR_THRE)
			break;
	outb(COM1 + THR, (uint8_t)c);
}

void uart_putc(char c)
{
	if (c == '\n')
		put_raw('\r');
	put_raw(c);
}
