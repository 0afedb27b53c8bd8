/* tests/user/progs/seeded.c: the guest-visible values that come from the
 * run seed (AT_RANDOM, getrandom, /dev/urandom), the clock, the identity
 * and the CPU count.  Same seed: same output; another seed: another output. */
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
	unsigned char g[16], u[16];
	FILE *f = fopen("/dev/urandom", "rb");
	struct timespec ts;
	if (!r || getrandom(g, sizeof g, 0) != (ssize_t)sizeof g || !f || fread(u, 1, sizeof u, f) != sizeof u)
		return 1;
	fclose(f);
	for (int i = 0; i < 16; i++)
		printf("%02x", r[i]);
	printf(" ");
	for (int i = 0; i < 16; i++)
		printf("%02x", g[i]);
	printf(" ");
	for (int i = 0; i < 16; i++)
		printf("%02x", u[i]);
	clock_gettime(CLOCK_REALTIME, &ts);
	printf(" %lld.%09ld pid %d uid %d cpus %ld/%ld\n", (long long)ts.tv_sec, ts.tv_nsec, (int)getpid(),
	       (int)getuid(), sysconf(_SC_NPROCESSORS_ONLN), sysconf(_SC_NPROCESSORS_CONF));
	return 0;
}
