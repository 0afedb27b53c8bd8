/* tests/guests/pmpattern.c: store patterns to persistent memory, for the
 * crash-state checker (tests/cli/pm-patterns.sh, tests/guests/pmcheck.c).
 *
 * The kernel runs one fixed script of steps on the region named by the
 * command line ("pm=0x100000000"): cached stores, non-temporal stores
 * (movnti, movntdq), clwb, clflushopt, clflush, and the instructions that
 * order them (sfence, mfence, a locked instruction, xchg, cpuid, an OUT),
 * with lfence, which orders nothing, in between.  Each line of the region
 * is used by one case, so the checker can tell them apart.
 *
 * Before each step it reports the step's number through the trace port
 * (a workload_op event of kind PM_MARK_KIND).  The trace port is exempt
 * from the I/O ordering rule and is no persistence event, so the markers
 * change nothing the crash model sees, and a trace of the run tells which
 * persistence events each step caused.  After the script it prints what
 * it did on COM1, one "pm: step" line per step, which is the checker's
 * description.  Serial output is I/O, which orders stores: nothing is
 * printed while the script runs.
 */
#include "tests/guests/lib.h"
#include "machine/guest_abi.h"

#define PM_MARK_KIND    112     /* trace name "op112" */
#define LINE            64
#define MAX_STEPS       128

enum op {
	OP_ST, OP_NT, OP_NT16, OP_CLWB, OP_CLFLUSHOPT, OP_CLFLUSH,
	OP_SFENCE, OP_MFENCE, OP_LFENCE, OP_LOCKED, OP_XCHG, OP_CPUID, OP_IO,
};

static const char *const op_name[] = {
	"st", "nt", "nt16", "clwb", "clflushopt", "clflush",
	"sfence", "mfence", "lfence", "locked", "xchg", "cpuid", "io",
};

struct step {
	enum op op;
	unsigned line, word;    /* stores and flushes */
	uint64_t v0, v1;        /* stored values (v1: second word of nt16) */
};

static struct step steps[MAX_STEPS];
static unsigned nsteps;
static uint8_t *pm;
static volatile uint32_t dram_word;     /* target of the locked instructions */
static uint64_t nt16_buf[2] __attribute__((aligned(16)));

static uint64_t parse_hex(const char *s, const char *key)
{
	/* "key=0x..." anywhere in the command line; 0 when absent. */
	for (; *s; s++) {
		const char *k = key, *p = s;
		while (*k && *p == *k)
			k++, p++;
		if (*k)
			continue;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		uint64_t v = 0;
		for (;; p++) {
			unsigned d;
			if (*p >= '0' && *p <= '9')
				d = (unsigned)(*p - '0');
			else if (*p >= 'a' && *p <= 'f')
				d = (unsigned)(*p - 'a' + 10);
			else if (*p >= 'A' && *p <= 'F')
				d = (unsigned)(*p - 'A' + 10);
			else
				break;
			v = v << 4 | d;
		}
		return v;
	}
	return 0;
}

static void mark(unsigned n)
{
	outl(ABI_PORT_TRACE_ARG, PM_MARK_KIND);
	outl(ABI_PORT_TRACE_ARG, n);
	outl(ABI_PORT_TRACE_EMIT, ABI_EV_WORKLOAD_OP);
}

/* One step: the marker, then exactly one instruction of the kind. */
static void step(enum op op, unsigned line, unsigned word, uint64_t v0, uint64_t v1)
{
	if (nsteps == MAX_STEPS)
		return;
	steps[nsteps] = (struct step){op, line, word, v0, v1};
	mark(nsteps++);
	uint8_t *p = pm + (uint64_t)line * LINE + word * 8u;
	switch (op) {
	case OP_ST:
		__asm__ volatile("movq %1, (%0)" :: "r"(p), "r"(v0) : "memory");
		break;
	case OP_NT:
		__asm__ volatile("movnti %1, (%0)" :: "r"(p), "r"(v0) : "memory");
		break;
	case OP_NT16:
		nt16_buf[0] = v0;
		nt16_buf[1] = v1;
		/* No xmm clobber can be named under -mgeneral-regs-only, and
		 * none is needed: the compiler never uses xmm0 here. */
		__asm__ volatile("movdqa (%1), %%xmm0\n\tmovntdq %%xmm0, (%0)"
				 :: "r"(p), "r"(nt16_buf) : "memory");
		break;
	case OP_CLWB:
		__asm__ volatile("clwb (%0)" :: "r"(p) : "memory");
		break;
	case OP_CLFLUSHOPT:
		__asm__ volatile("clflushopt (%0)" :: "r"(p) : "memory");
		break;
	case OP_CLFLUSH:
		__asm__ volatile("clflush (%0)" :: "r"(p) : "memory");
		break;
	case OP_SFENCE:
		__asm__ volatile("sfence" ::: "memory");
		break;
	case OP_MFENCE:
		__asm__ volatile("mfence" ::: "memory");
		break;
	case OP_LFENCE:
		__asm__ volatile("lfence" ::: "memory");
		break;
	case OP_LOCKED:
		__asm__ volatile("lock addl $1, %0" : "+m"(dram_word) :: "memory");
		break;
	case OP_XCHG: {
		uint32_t v = 7;
		__asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(dram_word) :: "memory");
		break;
	}
	case OP_CPUID: {
		uint32_t r[4];
		cpuid(0, 0, r);
		break;
	}
	case OP_IO:
		/* POST code port: an ordinary OUT, which orders like a fence. */
		__asm__ volatile("outb %%al, $0x80" :: "a"(0) : "memory");
		break;
	}
}

/* A distinct value per line and version: easy to read in a dump. */
#define V(line, k) (0x5000000000000000ull | (uint64_t)(line) << 16 | (k))

static void st(unsigned l, unsigned w, unsigned k) { step(OP_ST, l, w, V(l, k), 0); }
static void nt(unsigned l, unsigned w, unsigned k) { step(OP_NT, l, w, V(l, k), 0); }
static void op(enum op o) { step(o, 0, 0, 0, 0); }
static void fl(enum op o, unsigned l) { step(o, l, 0, 0, 0); }

static void script(void)
{
	st(0, 0, 1);                            /* never flushed */
	st(1, 0, 1); fl(OP_CLWB, 1); op(OP_SFENCE);
	st(2, 0, 1); fl(OP_CLFLUSHOPT, 2); op(OP_SFENCE);
	st(3, 0, 1); fl(OP_CLFLUSH, 3);         /* ordered on its own */
	st(4, 0, 1); fl(OP_CLWB, 4);            /* flushed, not yet fenced ... */
	st(5, 0, 1); fl(OP_CLFLUSHOPT, 5); op(OP_LFENCE);  /* lfence orders nothing */
	op(OP_MFENCE);                          /* ... until here */
	nt(6, 0, 1); op(OP_SFENCE);             /* movnti + sfence */
	step(OP_NT16, 7, 0, V(7, 1), V(7, 2)); op(OP_SFENCE);   /* movntdq + sfence */
	nt(8, 0, 1);                            /* movnti, fenced much later */
	for (unsigned w = 0; w < 8; w++)        /* eight versions of one line */
		st(9, w, w + 1);
	st(10, 0, 1); fl(OP_CLWB, 10); st(10, 0, 2); op(OP_SFENCE);  /* 1 kept, 2 not */
	st(11, 0, 1); st(11, 0, 2); st(11, 0, 3); fl(OP_CLFLUSHOPT, 11);
	st(11, 1, 4); op(OP_LOCKED);            /* word 0 = 3 kept, word 1 not */
	st(12, 0, 1); fl(OP_CLFLUSHOPT, 12); op(OP_XCHG);
	st(13, 0, 1); fl(OP_CLWB, 13); op(OP_CPUID);
	st(14, 0, 1); fl(OP_CLWB, 14); op(OP_IO);
	st(15, 0, 1); fl(OP_CLFLUSH, 15); st(15, 1, 2);         /* 1 kept, 2 not */
	nt(16, 0, 1); nt(16, 1, 2); op(OP_MFENCE);
	nt(17, 0, 1); st(17, 1, 2);             /* a cached store after an NT one */
	st(18, 0, 1); st(18, 1, 2); fl(OP_CLWB, 18);    /* pending at the end */
	nt(19, 3, 1);                           /* unfenced at the end */
	mark(nsteps);                           /* the end of the last step */
}

int tk_main(const char *cmdline)
{
	uint64_t base = parse_hex(cmdline, "pm=");
	if (!base || base % (1ull << 30) || base >= (512ull << 30)) {
		tk_printf("pmpattern: expected pm=BASE (a multiple of 1 GiB below 512 GiB) "
			  "on the command line, got '%s'\n", cmdline);
		return 1;
	}
	/* Map 1 GiB of the region at its own address (a 1 GiB page, P|RW|PS):
	 * boot.S maps only the first 4 GiB. */
	tk_pdpt[base >> 30] = base | 0x83;
	write_cr3(read_cr3());
	/* movntdq needs SSE: CR4.OSFXSR and OSXMMEXCPT, CR0.EM clear. */
	write_cr4(read_cr4() | 0x600);
	write_cr0((read_cr0() & ~4ull) | 2);
	pm = (uint8_t *)base;

	script();

	tk_printf("pm: base 0x%lx steps %u mark %u\n", base, nsteps, PM_MARK_KIND);
	for (unsigned i = 0; i < nsteps; i++) {
		const struct step *s = &steps[i];
		tk_printf("pm: step %u %s %u %u 0x%lx 0x%lx\n", i, op_name[s->op], s->line, s->word,
			  s->v0, s->v1);
	}
	return 0;
}
