/* tests/user/progs/segv.c: a store through a null pointer.  Natively the
 * process dies of SIGSEGV; under phantom-sim it gets a #PF line and the
 * same status a shell shows for that death, 139. */
#include <stdio.h>

int main(int argc, char **argv)
{
	volatile int *p = (volatile int *)(argc > 5 ? (void *)argv : NULL);
	fputs("before\n", stdout);
	fflush(stdout);
	*p = 42;
	puts("after");
	return 0;
}
