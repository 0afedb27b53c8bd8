/* tests/user/progs/abort.c: abort() raises SIGABRT at itself with
 * tgkill; the runner ends the guest as that death looks to a shell,
 * status 134, with one line on stderr. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	puts("aborting");
	fflush(stdout);
	abort();
}
