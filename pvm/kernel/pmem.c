/* pvm/kernel/pmem.c: making stores to persistent memory durable.
 *
 * A store reaches the persistence domain once its cache line is written
 * back and a fence orders the write-back (Intel SDM Vol. 1 §11.4.6; the
 * ADR domain covers the memory controller's write-pending queue).  The
 * best write-back instruction the CPU advertises is used:
 *   clwb        (CPUID.7.0:EBX[24]) writes back and may keep the line;
 *   clflushopt  (CPUID.7.0:EBX[23]) writes back and evicts, weakly ordered;
 *   clflush     (CPUID.1:EDX[19])   writes back and evicts, ordered.
 * pmem_flush_range issues write-backs only; one pmem_fence (sfence)
 * afterwards orders all of them, so a snapshot pays for one fence per
 * batch, not one per line.
 */
#include "pvm/kernel/kernel.h"

#define LINE 64

enum flush_kind { FLUSH_CLWB, FLUSH_CLFLUSHOPT, FLUSH_CLFLUSH, FLUSH_NONE };
static enum flush_kind kind = FLUSH_NONE;

void pmem_init(void)
{
	if (cpu_features.clwb)
		kind = FLUSH_CLWB;
	else if (cpu_features.clflushopt)
		kind = FLUSH_CLFLUSHOPT;
	else if (cpu_features.clflush)
		kind = FLUSH_CLFLUSH;
	else
		kind = FLUSH_NONE;
}

const char *pmem_flush_name(void)
{
	static const char *const names[] = { "clwb", "clflushopt", "clflush", "none" };
	return names[kind];
}

void pmem_flush_range(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)(LINE - 1), end = (uintptr_t)p + n;
	switch (kind) {
	case FLUSH_CLWB:
		for (; a < end; a += LINE)
			__asm__ volatile("clwb (%0)" :: "r"(a) : "memory");
		break;
	case FLUSH_CLFLUSHOPT:
		for (; a < end; a += LINE)
			__asm__ volatile("clflushopt (%0)" :: "r"(a) : "memory");
		break;
	case FLUSH_CLFLUSH:
		for (; a < end; a += LINE)
			__asm__ volatile("clflush (%0)" :: "r"(a) : "memory");
		break;
	case FLUSH_NONE:
		break;
	}
}

void pmem_fence(void)
{
	sfence();
}
