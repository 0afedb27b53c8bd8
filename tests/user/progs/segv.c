/* tests/user/progs/segv.c: a store through a null pointer.  Natively the
 * process dies of SIGSEGV; under phantom-sim it gets a #PF line and the
 * same status a shell shows for that death, 139.
 *
 * With an argument it faults on a non-canonical address instead (x86-64
 * only): "gp" through rax, #GP and SIGSEGV (139); "ss" through rbp, which
 * addresses the stack segment, #SS and SIGBUS (135), as Linux sends for
 * #SS (arch/x86/kernel/traps.c, exc_stack_segment). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	volatile int *p = (volatile int *)(argc > 5 ? (void *)argv : NULL);
	fputs("before\n", stdout);
	fflush(stdout);
#if defined(__x86_64__)
	if (argc > 1) {
		unsigned long nc = 0x8000000000000000ul;
		if (!strcmp(argv[1], "ss"))
			__asm__ volatile("pushq %%rbp; movq %0, %%rbp; movl (%%rbp), %%eax; popq %%rbp"
					 :: "r"(nc) : "rax", "memory");
		else
			__asm__ volatile("movl (%0), %%eax" :: "r"(nc) : "rax", "memory");
	}
#endif
	*p = 42;
	puts("after");
	return 0;
}
