/* tests/pvm/harness.c: the object space at its fixed address, on the host.
 *
 * Object references are raw pointers, so the space must sit at
 * PVM_OBJSPACE_BASE exactly as in the guest; MAP_FIXED_NOREPLACE makes
 * the test fail loudly rather than clobber a mapping already there.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "tests/pvm/harness.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

/* Under AddressSanitizer 0x80000000 lies in the shadow memory, so the
 * harness falls back to a second fixed address (the VM does not care
 * where the space is, only that it never moves). */
#define FALLBACK_BASE 0x7E0000000000UL

static void *map_at(uintptr_t at, size_t size)
{
	void *want = (void *)at;
	void *p = mmap(want, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != MAP_FAILED && p != want) {
		munmap(p, size);	/* old kernel: the flag was only a hint */
		p = MAP_FAILED;
	}
	return p == MAP_FAILED ? NULL : p;
}

void *harness_space(size_t size)
{
	void *p = map_at(PVM_OBJSPACE_BASE, size);
	if (!p)
		p = map_at(FALLBACK_BASE, size);
	if (!p) {
		fprintf(stderr, "harness: cannot map the object space at %#lx or %#lx\n",
			PVM_OBJSPACE_BASE, FALLBACK_BASE);
		abort();
	}
	return p;
}

void harness_unmap(void *base, size_t size)
{
	munmap(base, size);
}

struct trace_ev *harness_trace;
size_t harness_ntrace;
static size_t cap;

static void trace(unsigned code, const uint32_t *args, unsigned nargs)
{
	if (harness_ntrace == cap) {
		cap = cap ? cap * 2 : 1024;
		harness_trace = realloc(harness_trace, cap * sizeof *harness_trace);
		if (!harness_trace)
			abort();
	}
	struct trace_ev e = { code, nargs > 0 ? args[0] : 0, nargs > 1 ? args[1] : 0, nargs };
	harness_trace[harness_ntrace++] = e;
}

static void console(const char *s)
{
	(void)s;
}

const struct pvm_host harness_host = { trace, console, NULL };

void harness_trace_reset(void)
{
	harness_ntrace = 0;
}
