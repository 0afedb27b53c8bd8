/* tests/guests/timers.c: interrupts from the 8254 PIT through the 8259A,
 * from the local APIC timer, HLT waking on an interrupt, the STI shadow
 * and CR8 (TPR) masking. */
#include "tests/guests/lib.h"

#define LAPIC 0xFEE00000ull

static volatile uint64_t pit_ticks, apic_ticks;

static void pit_irq(struct tk_frame *f)
{
	(void)f;
	pit_ticks++;
	outb(0x20, 0x20);
}

static void apic_irq(struct tk_frame *f)
{
	(void)f;
	apic_ticks++;
	*(volatile uint32_t *)(LAPIC + 0xB0) = 0;
}

static void lapic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC + reg) = v;
}

static uint32_t lapic_read(unsigned reg)
{
	return *(volatile uint32_t *)(LAPIC + reg);
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("timers: PIT, PIC, LAPIC timer, hlt, TPR\n");
	/* PIC: vectors 0x20-0x2f, only IRQ0. */
	outb(0x20, 0x11); outb(0xA0, 0x11);
	outb(0x21, 0x20); outb(0xA1, 0x28);
	outb(0x21, 0x04); outb(0xA1, 0x02);
	outb(0x21, 0x01); outb(0xA1, 0x01);
	outb(0x21, 0xFE); outb(0xA1, 0xFF);
	tk_set_handler(0x20, pit_irq);
	outb(0x43, 0x34);
	outb(0x40, 1193 & 0xFF);
	outb(0x40, 1193 >> 8);
	/* sti; hlt: the shadow keeps the interrupt until hlt has started. */
	while (pit_ticks < 10)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	tk_check("pit: 10 ticks through the 8259A", pit_ticks >= 10);
	outb(0x21, 0xFF);

	/* IRR/ISR of the PIC: IRQ0 keeps arriving but is masked. */
	outb(0x20, 0x0B);
	tk_check("pic isr empty", inb(0x20) == 0);

	/* Local APIC timer, periodic, vector 0x40. */
	tk_check("lapic version", (lapic_read(0x30) & 0xFF) >= 0x10);
	lapic_write(0xF0, 0x1FF);
	tk_set_handler(0x40, apic_irq);
	lapic_write(0x3E0, 0x3);
	lapic_write(0x320, 0x20040);
	lapic_write(0x380, 20000);
	while (apic_ticks < 5)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	tk_check("lapic timer: 5 interrupts", apic_ticks >= 5);

	/* TPR 15 holds vector 0x40 back; TPR 0 lets it through. */
	__asm__ volatile("mov %0, %%cr8" :: "r"(15ull));
	uint64_t before = apic_ticks;
	sti();
	for (volatile int k = 0; k < 200000; k++)
		;
	cli();
	tk_check("cr8=15 masks the timer", apic_ticks == before);
	uint64_t cr8;
	__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
	tk_check("cr8 reads back", cr8 == 15 && (lapic_read(0x80) >> 4) == 15);
	__asm__ volatile("mov %0, %%cr8" :: "r"(0ull));
	while (apic_ticks == before)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	tk_check("cr8=0 delivers it", apic_ticks > before);
	lapic_write(0x380, 0);
	lapic_write(0x320, 0x10000);
	return 0;
}
