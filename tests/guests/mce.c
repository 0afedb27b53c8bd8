/* tests/guests/mce.c: machine checks from poisoned persistent memory
 * (#MC, vector 18; Intel SDM Vol. 3 ch. 15, 6.15).  Runs under phantom-sim
 * only, with persistent memory and pmem.poison set (tests/guests/run.sh):
 *
 *     phantom-sim boot mce.elf --set pmem.enabled=true ... \
 *         --set pmem.poison=LINE,PAGE --append "poison=LINE page=PAGE mode=M"
 *
 * LINE is a poisoned 64-byte line, PAGE the start of a poisoned page-
 * aligned line.  Modes:
 *   check     loads of the line raise #MC with bank 0 describing it; its
 *             neighbours, stores and a handled #MC leave the CPU running;
 *             a fetch from PAGE raises #MC as an instruction error;
 *   shutdown  CR4.MCE = 0: the load shuts the CPU down (a triple fault);
 *   nested    a second #MC while MCG_STATUS.MCIP is set: shutdown.
 * The last two must not reach "RESULT". */
#include "tests/guests/lib.h"

#define CR4_MCE (1ull << 6)
#define MSR_MCG_CAP 0x179
#define MSR_MCG_STATUS 0x17A
#define MSR_MC0_CTL 0x400
#define MSR_MC0_STATUS 0x401
#define MSR_MC0_ADDR 0x402
#define MSR_MC0_MISC 0x403

static volatile int mc_count;
static volatile uint64_t mc_rip, mc_mcg, mc_status, mc_addr, mc_misc, mc_err;
static volatile int mc_clear = 1;

static void mc_handler(struct tk_frame *f)
{
	mc_count++;
	mc_rip = f->rip;
	mc_err = f->error;
	mc_mcg = rdmsr(MSR_MCG_STATUS);
	mc_status = rdmsr(MSR_MC0_STATUS);
	mc_addr = rdmsr(MSR_MC0_ADDR);
	mc_misc = rdmsr(MSR_MC0_MISC);
	if (mc_clear) {
		wrmsr(MSR_MC0_STATUS, 0);
		wrmsr(MSR_MCG_STATUS, 0);       /* MCIP off: the next #MC is survivable */
	}
	f->rip = tk_resume;
}

static uint64_t arg(const char *cmdline, const char *key)
{
	for (const char *p = cmdline; *p; p++) {
		const char *k = key, *q = p;
		while (*k && *q == *k)
			k++, q++;
		if (*k || *q != '=' || (p != cmdline && p[-1] != ' '))
			continue;
		q++;
		uint64_t v = 0;
		if (q[0] == '0' && q[1] == 'x')
			q += 2;
		for (;; q++) {
			unsigned d = *q >= '0' && *q <= '9' ? (unsigned)(*q - '0')
				   : *q >= 'a' && *q <= 'f' ? (unsigned)(*q - 'a' + 10) : 16;
			if (d == 16)
				return v;
			v = v * 16 + d;
		}
	}
	return 0;
}

static bool has(const char *cmdline, const char *word)
{
	for (const char *p = cmdline; *p; p++) {
		const char *w = word, *q = p;
		while (*w && *q == *w)
			w++, q++;
		if (!*w && (*q == 0 || *q == ' '))
			return true;
	}
	return false;
}

/* The #MC status word for a software-recoverable load (or fetch) error:
 * VAL UC EN MISCV ADDRV S AR and the MCA error code. */
#define MCI_SRAR 0xBD80000000000000ull

int tk_main(const char *cmdline)
{
	uint64_t line = arg(cmdline, "poison"), page = arg(cmdline, "page");
	tk_printf("mce: #MC from poisoned persistent memory\n");
	if (!tk_on_phantom() || !line) {
		tk_printf("needs phantom-sim with pmem.poison and poison=ADDR on the command line\n");
		return 1;
	}
	tk_set_handler(18, mc_handler);
	volatile uint64_t *p = (volatile uint64_t *)line;

	if (has(cmdline, "mode=shutdown")) {
		write_cr4(read_cr4() & ~CR4_MCE);
		tk_printf("load with CR4.MCE = 0\n");
		(void)*p;
		tk_printf("FAIL: no shutdown\n");
		return 1;
	}
	write_cr4(read_cr4() | CR4_MCE);
	if (has(cmdline, "mode=nested")) {
		mc_clear = 0;
		TK_TRY("movq (%0), %%rax", : "r"(p) : "rax");
		tk_printf("first #MC: %d, MCIP left set\n", mc_count);
		TK_TRY("movq (%0), %%rax", : "r"(p) : "rax");
		tk_printf("FAIL: no shutdown\n");
		return 1;
	}

	uint32_t r[4];
	cpuid(1, 0, r);
	tk_check("cpuid MCE and MCA", (r[3] & (1u << 7 | 1u << 14)) == (1u << 7 | 1u << 14));
	tk_check("MCG_CAP: one bank", (rdmsr(MSR_MCG_CAP) & 0xFF) == 1);
	wrmsr(MSR_MC0_CTL, ~0ull);
	tk_check("MC0_CTL stored", rdmsr(MSR_MC0_CTL) == ~0ull);
	tk_check("MC0_STATUS empty", rdmsr(MSR_MC0_STATUS) == 0);

	/* Neighbours and stores are fine. */
	uint64_t v = p[-1] + p[8];
	p[0] = 42;
	tk_check("neighbouring lines load, a store to the line is taken", mc_count == 0);

	/* A load from the line: #MC at the load. */
	uint64_t at;
	TK_TRY("leaq 3f(%%rip), %0\n3:\tmovq 8(%1), %%rax", "=&r"(at) : "r"(p) : "rax");
	tk_check("load: one #MC", mc_count == 1);
	tk_check("load: saved RIP is the load", mc_rip == at);
	tk_check("load: MCG_STATUS EIPV|MCIP", mc_mcg == 6);
	tk_check("load: MC0_STATUS valid, uncorrected, SRAR data load",
		 mc_status == (MCI_SRAR | 0x134));
	tk_check("load: MC0_ADDR is the line", mc_addr == line);
	tk_check("load: MC0_MISC physical address, 64-byte granule", mc_misc == 0x86);
	tk_check("load: MCIP cleared by the handler", rdmsr(MSR_MCG_STATUS) == 0);

	/* A load that only ends in the line. */
	TK_TRY("movq -4(%0), %%rax", : "r"(p) : "rax");
	tk_check("load crossing into the line: #MC", mc_count == 2 && mc_addr == line);

	/* A fetch from a poisoned line: an instruction fetch error. */
	if (page) {
		*(volatile uint8_t *)page = 0xC3;       /* ret */
		__asm__ volatile("movq $1f, tk_resume(%%rip)\n\t"
				 "movq %%rsp, %%rbx\n\t"
				 "call *%0\n"
				 "1:\tmovq %%rbx, %%rsp" :: "r"(page) : "rbx", "memory");
		tk_check("fetch: #MC at the fetched address", mc_count == 3 && mc_rip == page);
		tk_check("fetch: MC0_STATUS SRAR instruction fetch", mc_status == (MCI_SRAR | 0x150));
	}

	/* The bank is cleared only with zeros. */
	tk_expect(13);
	TK_TRY("wrmsr", : "c"(MSR_MC0_STATUS), "a"(1), "d"(0));
	tk_check_exc("wrmsr MC0_STATUS nonzero: #GP", 13, 0);
	tk_expect(13);
	TK_TRY("wrmsr", : "c"(MSR_MCG_CAP), "a"(0), "d"(0));
	tk_check_exc("wrmsr MCG_CAP: #GP", 13, 0);
	(void)v;
	return 0;
}
