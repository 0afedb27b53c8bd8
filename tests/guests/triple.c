/* tests/guests/triple.c: a triple fault.  With an IDT limit of 0 every
 * exception is a #GP during delivery: int3 -> #GP -> #DF -> shutdown.
 * phantom-sim reports it (status 6 with cpu.triple_fault = halt); QEMU
 * with -no-reboot exits with status 0. */
#include "tests/guests/lib.h"

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("triple: int3 with an empty IDT\n");
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = { 0, 0 };
	__asm__ volatile("lidt %0; int3" :: "m"(idtr));
	tk_printf("FAIL: still running\n");
	return 1;
}
