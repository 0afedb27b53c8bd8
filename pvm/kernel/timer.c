/* pvm/kernel/timer.c: the 8259A PIC pair and the 8254 PIT at 1 kHz.
 *
 * The PICs are remapped to vectors 32-47 with only IRQ0 (the PIT) unmasked;
 * drivers poll.  PIT channel 0 runs in mode 2 with divisor 1193, so one
 * tick is 1193 / 1193182 Hz = 0.99985 ms; the kernel counts a tick as one
 * millisecond of simulated time (snapshot_ms is in ticks).  Under
 * phantom-sim the PIT follows simulated time, so tick counts are
 * deterministic; under QEMU they follow the host clock.
 */
#include "pvm/kernel/kernel.h"

#define PIT_HZ          1193182u
#define PIT_DIVISOR     ((PIT_HZ + TIMER_HZ / 2) / TIMER_HZ)

static volatile uint64_t ticks;

static void tick(void)
{
	ticks++;
}

uint64_t timer_ms(void)
{
	return ticks;
}

static void pic_init(void)
{
	outb(0x20, 0x11);       /* ICW1: edge, cascade, ICW4 needed */
	outb(0xA0, 0x11);
	outb(0x21, 0x20);       /* ICW2: master at vector 32 */
	outb(0xA1, 0x28);       /* slave at 40 */
	outb(0x21, 0x04);       /* ICW3: slave on IRQ2 */
	outb(0xA1, 0x02);
	outb(0x21, 0x01);       /* ICW4: 8086 mode */
	outb(0xA1, 0x01);
	outb(0x21, 0xFE);       /* only IRQ0 */
	outb(0xA1, 0xFF);
}

void timer_init(void)
{
	pic_init();
	irq_register(0, tick);
	outb(0x43, 0x34);       /* channel 0, lobyte/hibyte, mode 2 */
	outb(0x40, PIT_DIVISOR & 0xFF);
	outb(0x40, PIT_DIVISOR >> 8);
}
