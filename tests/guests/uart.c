/* tests/guests/uart.c: the 16550A registers: scratch, LCR, divisor
 * latch, IER, IIR with FIFOs, LSR, loopback through MCR and MSR.  While
 * DLAB or loopback is on, the console cannot print: results are printed
 * afterwards. */
#include "tests/guests/lib.h"

#define COM1 0x3F8

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("uart: 16550A registers\n");
	outb(COM1 + 7, 0x5A);
	tk_check("scratch", inb(COM1 + 7) == 0x5A);
	tk_check("lcr 8n1", inb(COM1 + 3) == 0x03);
	while (!(inb(COM1 + 5) & 0x40))
		;
	outb(COM1 + 3, 0x83);
	bool div1 = inb(COM1) == 1 && inb(COM1 + 1) == 0;
	outb(COM1, 12);
	bool div12 = inb(COM1) == 12;
	outb(COM1, 1);
	outb(COM1 + 3, 0x03);
	tk_check("divisor 1", div1);
	tk_check("divisor 12", div12);
	outb(COM1 + 1, 0x05);
	tk_check("ier", inb(COM1 + 1) == 0x05);
	outb(COM1 + 1, 0x00);
	tk_check("iir: fifos on, nothing pending", inb(COM1 + 2) == 0xC1);
	while (!(inb(COM1 + 5) & 0x40))
		;
	tk_check("lsr idle", (inb(COM1 + 5) & 0x61) == 0x60);
	/* Loopback: THR feeds RBR; MCR's outputs show in MSR. */
	outb(COM1 + 4, 0x1F);
	bool msr = (inb(COM1 + 6) & 0xF0) == 0xF0;
	outb(COM1, 'x');
	for (int k = 0; k < 1000 && !(inb(COM1 + 5) & 1); k++)
		;
	bool ready = (inb(COM1 + 5) & 1) != 0;
	bool byte = inb(COM1) == 'x';
	bool drained = (inb(COM1 + 5) & 1) == 0;
	outb(COM1 + 4, 0x03);
	tk_check("msr in loopback", msr);
	tk_check("loopback data ready", ready);
	tk_check("loopback byte", byte);
	tk_check("rbr drained", drained);
	return 0;
}
