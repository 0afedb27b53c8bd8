/* tests/guests/rtc.c: the MC146818 CMOS clock: status registers, a valid
 * BCD date, and periodic interrupts through the slave 8259A (IRQ8). */
#include "tests/guests/lib.h"

static volatile int rtc_irqs;

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(0x70, reg);
	outb(0x71, v);
}

static bool bcd(uint8_t v, unsigned max)
{
	return (v & 0xF) <= 9 && (v >> 4) <= 9 && (unsigned)((v >> 4) * 10 + (v & 0xF)) <= max;
}

static void rtc_irq(struct tk_frame *f)
{
	(void)f;
	rtc_irqs++;
	(void)cmos(0x0C);
	outb(0xA0, 0x20);
	outb(0x20, 0x20);
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("rtc: CMOS clock\n");
	tk_check("register a 0x26", (cmos(0x0A) & 0x7F) == 0x26);
	tk_check("register b 24h bcd", cmos(0x0B) == 0x02);
	tk_check("register d valid", cmos(0x0D) == 0x80);
	while (cmos(0x0A) & 0x80)
		;
	uint8_t s = cmos(0), m = cmos(2), h = cmos(4), d = cmos(7), mo = cmos(8), y = cmos(9);
	tk_check("bcd time", bcd(s, 59) && bcd(m, 59) && bcd(h, 23));
	tk_check("bcd date", bcd(d, 31) && d && bcd(mo, 12) && mo && bcd(y, 99));
	tk_check("century 20", cmos(0x32) == 0x20);

	/* Periodic interrupt at 1024 Hz on IRQ8. */
	outb(0x20, 0x11); outb(0xA0, 0x11);
	outb(0x21, 0x20); outb(0xA1, 0x28);
	outb(0x21, 0x04); outb(0xA1, 0x02);
	outb(0x21, 0x01); outb(0xA1, 0x01);
	outb(0x21, 0xFB); outb(0xA1, 0xFE);
	tk_set_handler(0x28, rtc_irq);
	(void)cmos(0x0C);
	cmos_write(0x0B, 0x42);
	while (rtc_irqs < 3)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	tk_check("periodic interrupts", rtc_irqs >= 3);
	cmos_write(0x0B, 0x02);
	(void)cmos(0x0C);
	outb(0x21, 0xFF); outb(0xA1, 0xFF);
	return 0;
}
