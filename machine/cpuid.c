/* machine/cpuid.c: what the simulated CPU says about itself.
 *
 * The answer is fixed (no host CPUID leaks in) and advertises only what the
 * interpreter implements.  Feature bits set:
 *
 *   leaf      reg  bit  feature       implemented by
 *   --------  ---  ---  ------------  -----------------------------------
 *   1         edx   0   FPU           x87.c (all of it but fbld/fbstp)
 *   1         edx   4   TSC           rdtsc from simulated time
 *   1         edx   8   CX8           cmpxchg8b
 *   1         edx  15   CMOV          cmovcc (fcmovcc too)
 *   1         edx  19   CLFSH         clflush (line size 64, ebx[15:8]=8)
 *   1         edx  24   FXSR          fxsave/fxrstor
 *   1         edx  25   SSE           sse.c
 *   1         edx  26   SSE2          sse.c
 *   1         ecx  13   CX16          cmpxchg16b
 *   1         ecx  22   MOVBE         movbe
 *   1         ecx  23   POPCNT        popcnt
 *   7.0       ebx   9   ERMS          rep movsb/stosb (a performance hint)
 *   7.0       ebx  23   CLFLUSHOPT    clflushopt
 *   7.0       ebx  24   CLWB          clwb
 *   80000001  ecx   0   LAHF-SAHF     lahf/sahf in 64-bit mode
 *   80000001  ecx   5   ABM/LZCNT     lzcnt
 *   80000001  ecx   8   PREFETCHW     prefetchw (a nop)
 *   80000001  edx  11   SYSCALL       syscall
 *   80000001  edx  20   NX            (no paging yet; kept for long mode)
 *   80000001  edx  27   RDTSCP        rdtscp (TSC_AUX = c->tsc_aux)
 *   80000001  edx  29   LM            64-bit mode
 *   80000007  edx   8   invariant TSC the TSC follows simulated time
 *
 * Deliberately NOT advertised: MMX (the mm register forms are not
 * implemented), SSE3, SSSE3, SSE4.1, SSE4.2, AVX and later, XSAVE/OSXSAVE
 * (so software never needs xgetbv), BMI1/BMI2 (although f3 0f bc executes
 * with tzcnt semantics, as on every CPU with BMI1: andn/bextr/blsi are
 * missing, so BMI1 stays clear), RDRAND, FSGSBASE, APIC, MSR.
 *
 * In system mode (c->sys, machine/cpu_sys.c) also:
 *
 *   1         edx   2   DE            CR4.DE (DR4/DR5 #UD)
 *   1         edx   3   PSE           4 MiB pages (machine/paging.c)
 *   1         edx   5   MSR           rdmsr/wrmsr
 *   1         edx   6   PAE           PAE and 4-level paging
 *   1         edx   7   MCE           #MC from poisoned memory (machine/mce.c)
 *   1         edx   9   APIC          devices/lapic.c at 0xFEE00000
 *   1         edx  13   PGE           CR4.PGE (global pages)
 *   1         edx  14   MCA           MCG_CAP, one bank (machine/mce.c)
 *   1         edx  16   PAT           IA32_PAT (stored; memory types not modelled)
 *   80000001  edx  26   Page1GB       1 GiB pages
 *   80000008  eax       46-bit physical addresses (CPU_SYS_PHYS_BITS), as Xeon Scalable
 *
 * Vendor "GenuineIntel" with family 6 so that libc cache-size code takes
 * its well-trodden path through leaves 2 and 4, which describe a plain
 * hierarchy: L1d 32 KiB 8-way, L1i 32 KiB 8-way, L2 1 MiB 16-way,
 * L3 8 MiB 16-way, 64-byte lines, one core, one thread.  The brand string
 * says what it really is.
 */
#include "machine/cpu_sys.h"
#include "machine/exec.h"

#define MAX_BASIC 7u
#define MAX_EXT 0x80000008u

static const char brand[48] = "phantom-sim virtual x86-64 CPU";

/* Leaf 4: deterministic cache parameters.  type 1 data, 2 code, 3 unified. */
static void cache_leaf(uint32_t sub, uint32_t out[4])
{
	static const struct { unsigned type, level, ways, kib; } caches[] = {
		{ 1, 1, 8, 32 }, { 2, 1, 8, 32 }, { 3, 2, 16, 1024 }, { 3, 3, 16, 8192 },
	};
	if (sub >= sizeof caches / sizeof caches[0])
		return;                 /* type 0: no more caches */
	unsigned sets = caches[sub].kib * 1024 / (caches[sub].ways * 64);
	out[0] = caches[sub].type | caches[sub].level << 5 | 1u << 8;
	out[1] = (caches[sub].ways - 1) << 22 | 0u << 12 | (64 - 1);
	out[2] = sets - 1;
	out[3] = 0;
}

void cpu_cpuid(const struct cpu *c, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
	(void)c;
	out[0] = out[1] = out[2] = out[3] = 0;
	/* Out-of-range leaves answer like the highest basic leaf (SDM CPUID). */
	if ((leaf > MAX_BASIC && leaf < 0x80000000u) || leaf > MAX_EXT) {
		leaf = MAX_BASIC;
		sub = 0;
	}
	switch (leaf) {
	case 0:
		out[0] = MAX_BASIC;
		memcpy(&out[1], "Genu", 4);
		memcpy(&out[3], "ineI", 4);
		memcpy(&out[2], "ntel", 4);
		break;
	case 1:
		out[0] = 0x000206A7;    /* family 6, model 0x2A, stepping 7 */
		out[1] = 8u << 8 | 1u << 16;    /* clflush 8*8 bytes, 1 logical CPU, APIC id 0 */
		out[2] = 1u << 13 | 1u << 22 | 1u << 23;
		out[3] = 1u << 0 | 1u << 4 | 1u << 8 | 1u << 15 | 1u << 19 |
			 1u << 24 | 1u << 25 | 1u << 26;
		if (c && c->sys)
			out[3] |= 1u << 2 | 1u << 3 | 1u << 5 | 1u << 6 | 1u << 7 | 1u << 9 |
				  1u << 13 | 1u << 14 | 1u << 16;
		break;
	case 2:
		out[0] = 0x0000FF01;    /* one round; descriptor FF: use leaf 4 */
		break;
	case 4:
		cache_leaf(sub, out);
		break;
	case 7:
		if (sub == 0)
			out[1] = 1u << 9 | 1u << 23 | 1u << 24;
		break;
	case 0x80000000u:
		out[0] = MAX_EXT;
		break;
	case 0x80000001u:
		out[2] = 1u << 0 | 1u << 5 | 1u << 8;
		out[3] = 1u << 11 | 1u << 20 | 1u << 27 | 1u << 29;
		if (c && c->sys)
			out[3] |= 1u << 26;
		break;
	case 0x80000002u: case 0x80000003u: case 0x80000004u:
		memcpy(out, brand + 16 * (leaf - 0x80000002u), 16);
		break;
	case 0x80000006u:
		out[2] = 1024u << 16 | 8u << 12 | 64;   /* L2: 1 MiB, 16-way, 64 B */
		break;
	case 0x80000007u:
		out[3] = 1u << 8;       /* invariant TSC */
		break;
	case 0x80000008u:
		out[0] = 48u << 8 | 48u;        /* 48-bit linear and physical */
		if (c && c->sys)
			out[0] = 48u << 8 | CPU_SYS_PHYS_BITS;
		break;
	default:
		break;
	}
}

void op_cpuid(struct cpu *c, const struct insn *i)
{
	uint32_t r[4];
	cpu_cpuid(c, (uint32_t)c->gpr[CPU_RAX], (uint32_t)c->gpr[CPU_RCX], r);
	c->gpr[CPU_RAX] = r[0];
	c->gpr[CPU_RBX] = r[1];
	c->gpr[CPU_RCX] = r[2];
	c->gpr[CPU_RDX] = r[3];
	hook_fence(c, CPU_FENCE_SERIALIZE);     /* cpuid is serializing */
}
