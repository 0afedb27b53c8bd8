/* tests/unit/test_devices_uart.c: the 16550A through its ports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/unit/test_devices.h"
#include "devices/uart16550.h"

static struct sim sim;
static struct uart16550 u;
static struct irq_probe irq;
static char *outbuf;
static size_t outlen;
static FILE *out;

static void outb(unsigned reg, uint8_t v) { uart_io_write(&u, 0x3F8 + reg, 1, v); }
static uint8_t inb(unsigned reg) { return uart_io_read(&u, 0x3F8 + reg, 1); }

static void setup(void)
{
	sim_init(&sim, 1);
	irq = (struct irq_probe){ .sim = &sim };
	out = open_memstream(&outbuf, &outlen);
	uart_init(&u, &sim, "com1", probe_line(&irq), out);
}

static void teardown(void)
{
	uart_free(&u);
	fclose(out);
	free(outbuf);
	sim_free(&sim);
}

START_TEST(reset_state)
{
	ck_assert_uint_eq(inb(2), 0x01);         /* no interrupt, FIFOs off */
	ck_assert_uint_eq(inb(5), 0x60);         /* THRE | TEMT */
	ck_assert_uint_eq(inb(1), 0x00);
}
END_TEST

START_TEST(divisor_latch)
{
	outb(3, 0x80);
	outb(0, 0x01);
	outb(1, 0x00);
	ck_assert_uint_eq(inb(0), 0x01);
	ck_assert_uint_eq(inb(1), 0x00);
	outb(3, 0x03);
	ck_assert_uint_eq(inb(1), 0x00);         /* IER again, not DLM */
	outb(1, 0x0F);
	ck_assert_uint_eq(inb(1), 0x0F);
	outb(3, 0x80);
	ck_assert_uint_eq(inb(1), 0x00);         /* DLM untouched */
	outb(3, 0x03);
	/* 115200 8N1: 10 bits of 8.68 us */
	ck_assert_uint_eq(uart_char_time(&u), 86805555);
	outb(3, 0x0E);                           /* 7E2: 11 bits */
	ck_assert_uint_eq(uart_char_time(&u), 95486111);
	outb(3, 0x04);                           /* 5N1.5: 7.5 bits */
	ck_assert_uint_eq(uart_char_time(&u), 65104166);
	outb(3, 0x03);
	outb(7, 0x5A);
	ck_assert_uint_eq(inb(7), 0x5A);
}
END_TEST

START_TEST(loopback)
{
	outb(4, 0x10);
	outb(0, 'A');
	ck_assert_uint_eq(inb(5) & 1, 1);
	ck_assert_uint_eq(inb(0), 'A');
	ck_assert_uint_eq(inb(5) & 1, 0);
	ck_assert_uint_eq(outlen, 0);            /* nothing left the chip */
	fflush(out);
	ck_assert_uint_eq(outlen, 0);
	/* modem outputs looped to inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD */
	outb(4, 0x1F);
	ck_assert_uint_eq(inb(6) & 0xF0, 0xF0);
	outb(4, 0x12);
	ck_assert_uint_eq(inb(6), 0x10 | 0x08 | 0x04 | 0x02);   /* CTS; DDCD TERI DDSR */
	/* and interrupts stay off the pin in loopback */
	outb(1, 0x02);
	ck_assert_uint_eq(inb(2) & 0x0F, 0x02);
	ck_assert_int_eq(irq.rises, 0);
}
END_TEST

START_TEST(thre_interrupt)
{
	outb(4, 0x08);                           /* OUT2: IRQ pin enabled */
	ck_assert(!irq.level);
	outb(1, 0x02);                           /* ETBEI with THR empty */
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(2), 0x02);
	ck_assert(!irq.level);                   /* reading IIR acknowledged it */
	ck_assert_uint_eq(inb(2), 0x01);
	int rises = irq.rises;
	outb(0, 'x');
	ck_assert(irq.level);                    /* instant mode: empty again */
	ck_assert_int_eq(irq.rises, rises + 1);
	outb(0, 'y');                            /* line was already high */
	ck_assert(irq.level);
	ck_assert_int_eq(irq.rises, rises + 2);  /* a fresh edge for the PIC */
	fflush(out);
	ck_assert_uint_eq(outlen, 2);
	ck_assert_int_eq(memcmp(outbuf, "xy", 2), 0);
	outb(4, 0x00);                           /* OUT2 off: pin released */
	ck_assert(!irq.level);
}
END_TEST

START_TEST(paced_output)
{
	uart_set_paced(&u, true);
	outb(3, 0x80); outb(0, 1); outb(1, 0); outb(3, 0x03);
	outb(2, 0x01);                           /* FIFO on */
	sim_time_t ct = uart_char_time(&u);
	outb(0, 'a'); outb(0, 'b'); outb(0, 'c');
	ck_assert_uint_eq(inb(5) & 0x60, 0x00);  /* THR and shifter busy */
	run_to(&sim, 2 * ct);
	fflush(out);
	ck_assert_uint_eq(outlen, 2);
	ck_assert_uint_eq(inb(5) & 0x60, 0x20);  /* FIFO empty, last char on the line */
	run_to(&sim, 3 * ct);
	fflush(out);
	ck_assert_uint_eq(outlen, 3);
	ck_assert_uint_eq(inb(5) & 0x60, 0x60);
	ck_assert_int_eq(memcmp(outbuf, "abc", 3), 0);
}
END_TEST

START_TEST(input_at_simulated_times)
{
	uart_set_input(&u, "hi", 2, SIM_MS);
	outb(1, 0x01);                           /* ERBFI */
	run_to(&sim, 5 * SIM_MS);
	ck_assert_uint_eq(inb(5) & 1, 0);        /* RTS not asserted: held back */
	outb(4, 0x0B);                           /* DTR RTS OUT2 */
	sim_time_t ct = uart_char_time(&u);      /* 9600 8N1 */
	ck_assert_uint_eq(ct, 1041666666);
	run_to(&sim, 5 * SIM_MS + ct - 1);
	ck_assert(!irq.level);
	run_to(&sim, 5 * SIM_MS + ct);
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(2), 0x04);
	ck_assert_uint_eq(inb(0), 'h');
	ck_assert(!irq.level);
	/* 'i' waits for room: RBR was full until the read, then one char time */
	run_to(&sim, 5 * SIM_MS + 2 * ct);
	ck_assert_uint_eq(inb(0), 'i');
	ck_assert_uint_eq(stats_get(&sim.stats, "com1.rx_bytes"), 2);
}
END_TEST

START_TEST(fifo_trigger_and_timeout)
{
	uart_set_input(&u, "abc", 3, 0);
	outb(2, 0x87);                           /* FIFO on, clear, trigger 8 */
	ck_assert_uint_eq(inb(2), 0xC1);
	outb(1, 0x01);
	outb(4, 0x0B);
	sim_time_t ct = uart_char_time(&u);
	run_to(&sim, 4 * ct);
	ck_assert_uint_eq(inb(5) & 1, 1);
	ck_assert(!irq.level);                   /* 3 bytes < trigger 8 */
	run_to(&sim, 4 * ct + 4 * ct);
	ck_assert(irq.level);
	ck_assert_uint_eq(inb(2), 0xCC);         /* character timeout */
	ck_assert_uint_eq(inb(0), 'a');
	ck_assert_uint_eq(inb(0), 'b');
	ck_assert_uint_eq(inb(0), 'c');
	ck_assert(!irq.level);
	ck_assert_uint_eq(inb(5) & 1, 0);
}
END_TEST

START_TEST(fifo_overrun_in_loopback)
{
	outb(2, 0x01);
	outb(4, 0x10);
	for (int i = 0; i < 17; i++)
		outb(0, (uint8_t)i);
	ck_assert_uint_eq(inb(5) & 0x02, 0x02);  /* OE */
	ck_assert_uint_eq(inb(5) & 0x02, 0x00);  /* cleared by the read */
	for (int i = 0; i < 16; i++)
		ck_assert_uint_eq(inb(0), (unsigned)i);
}
END_TEST

Suite *uart_suite(void)
{
	Suite *s = suite_create("uart16550");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reset_state);
	tcase_add_test(tc, divisor_latch);
	tcase_add_test(tc, loopback);
	tcase_add_test(tc, thre_interrupt);
	tcase_add_test(tc, paced_output);
	tcase_add_test(tc, input_at_simulated_times);
	tcase_add_test(tc, fifo_trigger_and_timeout);
	tcase_add_test(tc, fifo_overrun_in_loopback);
	suite_add_tcase(s, tc);
	return s;
}
