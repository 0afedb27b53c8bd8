/* pvm/kernel/power.c: ending the run.
 *
 * The guest writes a code to the isa-debug-exit port (0xF4); QEMU and
 * phantom-sim exit with status (code << 1) | 1, so EXIT_CLEAN (0) gives 1,
 * EXIT_PANIC (1) gives 3 and EXIT_EXCEPTION (2) gives 5.  Without the
 * device the CPU halts with interrupts off, which ends a QEMU run under
 * -no-reboot only by timeout: tests always attach the device.
 */
#include "pvm/kernel/kernel.h"

void poweroff(uint32_t code)
{
	cli();
	kprintf("POWEROFF code=%u\n", code);
	outl(ABI_PORT_DEBUG_EXIT, code);
	for (;;)
		hlt();
}
