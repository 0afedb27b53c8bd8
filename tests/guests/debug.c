/* tests/guests/debug.c: debug exceptions (#DB) at CPL 0: single-step
 * (TF, set and cleared by POPF and IRETQ, over INT n, after MOV SS),
 * INT1, instruction breakpoints and RF, data breakpoints, general detect,
 * DR4/DR5 (Intel SDM Vol. 3 ch. 17). */
#include "tests/guests/lib.h"

#define TF 0x100ull
#define RF 0x10000ull
#define DR6_FIXED 0xFFFF0FF0ull
#define DR6_BITS 0xE00Full             /* B0-B3 BD BS BT */

/* What the #DB handler saw, per trap. */
#define MAXT 16
static volatile int ntraps;
static volatile uint64_t trap_rip[MAXT], trap_dr6[MAXT], trap_flags[MAXT];
static volatile uint64_t counter, watched[2] __attribute__((aligned(16)));
static volatile int set_rf;             /* handler: resume past a breakpoint */
static volatile int clear_dr7;          /* handler: disarm all breakpoints */

static inline uint64_t get_dr6(void) { uint64_t v; __asm__ volatile("mov %%dr6, %0" : "=r"(v)); return v; }
static inline uint64_t get_dr7(void) { uint64_t v; __asm__ volatile("mov %%dr7, %0" : "=r"(v)); return v; }
static inline void set_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" :: "r"(v)); }
static inline void set_dr7(uint64_t v) { __asm__ volatile("mov %0, %%dr7" :: "r"(v)); }
static inline void set_dr0(uint64_t v) { __asm__ volatile("mov %0, %%dr0" :: "r"(v)); }
static inline void set_dr1(uint64_t v) { __asm__ volatile("mov %0, %%dr1" :: "r"(v)); }

static void db_handler(struct tk_frame *f)
{
	int k = ntraps;
	if (k < MAXT) {
		trap_rip[k] = f->rip;
		trap_dr6[k] = get_dr6();
		trap_flags[k] = f->rflags;
	}
	ntraps = k + 1;
	set_dr6(DR6_FIXED);
	if (set_rf)
		f->rflags |= RF;
	if (clear_dr7)
		set_dr7(0x400);
}

static void reset_traps(void)
{
	ntraps = 0;
	for (int k = 0; k < MAXT; k++)
		trap_rip[k] = trap_dr6[k] = trap_flags[k] = 0;
	set_dr6(DR6_FIXED);
}

/* Code with labels, so the traps' RIPs can be checked exactly. */
void step_popf(void), sp_a(void), sp_b(void), sp_c(void), sp_d(void), sp_e(void), sp_f(void);
void step_iret(void), si_x(void), si_y(void), si_z(void), si_w(void), si_v(void);
void step_int(void), sn_b(void), sn_c(void), sn_d(void), sn_e(void);
void step_ss(void), ss_d(void), ss_e(void), ss_f(void), ss_g(void);
void bp_code(void), bp_insn(void), bp_after(void);
void icebp_code(void), icebp_after(void);
__asm__(
	".text\n"
	/* TF set by popf traps after the next instruction; popf clearing
	 * TF still traps after itself. */
	".globl step_popf, sp_a, sp_b, sp_c, sp_d, sp_e, sp_f\n"
	"step_popf:\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"sp_a:	nop\n"
	"sp_b:	nop\n"
	"sp_c:	pushfq\n"
	"sp_d:	andq $~0x100, (%rsp)\n"
	"sp_e:	popfq\n"
	"sp_f:	nop\n"
	"	nop\n"
	"	ret\n"
	/* iretq loading TF: the trap comes after the instruction after it. */
	".globl step_iret, si_x, si_y, si_z, si_w, si_v\n"
	"step_iret:\n"
	"	movq %rsp, %rax\n"
	"	pushq $0x10\n"
	"	pushq %rax\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	pushq $0x08\n"
	"	leaq si_x(%rip), %rax\n"
	"	pushq %rax\n"
	"	iretq\n"
	"si_x:	nop\n"
	"si_y:	pushfq\n"
	"si_z:	andq $~0x100, (%rsp)\n"
	"si_w:	popfq\n"
	"si_v:	ret\n"
	/* int n with TF: no trap after it; the handler runs with TF = 0, its
	 * iretq restores TF, and the next trap follows the instruction after
	 * the int. */
	".globl step_int, sn_b, sn_c, sn_d, sn_e\n"
	"step_int:\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"	int $0x40\n"
	"	nop\n"
	"sn_b:	pushfq\n"
	"sn_c:	andq $~0x100, (%rsp)\n"
	"sn_d:	popfq\n"
	"sn_e:	ret\n"
	/* MOV SS holds the trap until after the next instruction. */
	".globl step_ss, ss_d, ss_e, ss_f, ss_g\n"
	"step_ss:\n"
	"	movw %ss, %ax\n"
	"	pushfq\n"
	"	orq $0x100, (%rsp)\n"
	"	popfq\n"
	"	movw %ax, %ss\n"
	"	nop\n"
	"ss_d:	pushfq\n"
	"ss_e:	andq $~0x100, (%rsp)\n"
	"ss_f:	popfq\n"
	"ss_g:	ret\n"
	".globl bp_code, bp_insn, bp_after\n"
	"bp_code:\n"
	"	nop\n"
	"bp_insn: incq counter(%rip)\n"
	"bp_after: nop\n"
	"	ret\n"
	".globl icebp_code, icebp_after\n"
	"icebp_code:\n"
	"	.byte 0xf1\n"
	"icebp_after: ret\n");

static void int40(struct tk_frame *f)
{
	(void)f;
	counter++;
}

static volatile int ud_seen;
static volatile uint64_t ud_flags;

static void ud_handler(struct tk_frame *f)
{
	ud_seen++;
	ud_flags = f->rflags;
	f->rip = tk_resume;
}

static void report(const char *what, int want, const uint64_t *rips)
{
	bool ok = ntraps == want;
	for (int k = 0; ok && k < want; k++)
		ok = trap_rip[k] == rips[k] && (trap_dr6[k] & DR6_BITS) == 0x4000;
	tk_printf("%s: %d traps%s\n", what, ntraps, ok ? "" : " FAIL");
	if (!ok) {
		for (int k = 0; k < ntraps && k < MAXT; k++)
			tk_printf("  rip %lx dr6 %lx\n", trap_rip[k], trap_dr6[k]);
		tk_failures++;
	}
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("debug: single-step, breakpoints, DR6/DR7\n");
	tk_set_handler(1, db_handler);
	tk_set_gate(0x40, 0xE, 0, 0);
	tk_set_handler(0x40, int40);

	tk_check("DR6 at reset", (get_dr6() & 0xFFFFFFFF) == DR6_FIXED);
	tk_check("DR7 at reset", get_dr7() == 0x400);

	/* Single-step through POPF. */
	reset_traps();
	step_popf();
	uint64_t popf_rips[] = { (uint64_t)sp_b, (uint64_t)sp_c, (uint64_t)sp_d, (uint64_t)sp_e,
				 (uint64_t)sp_f };
	report("single-step, TF set and cleared by popf", 5, popf_rips);
	tk_check("trap frame keeps TF, RF 0", (trap_flags[0] & (TF | RF)) == TF);
	tk_check("handler ran with TF clear", (read_rflags() & TF) == 0);

	reset_traps();
	step_iret();
	uint64_t iret_rips[] = { (uint64_t)si_y, (uint64_t)si_z, (uint64_t)si_w, (uint64_t)si_v };
	report("single-step, TF from iretq", 4, iret_rips);

	reset_traps();
	counter = 0;
	step_int();
	uint64_t int_rips[] = { (uint64_t)sn_b, (uint64_t)sn_c, (uint64_t)sn_d, (uint64_t)sn_e };
	report("single-step over int 0x40", 4, int_rips);
	tk_check("int 0x40 handler ran", counter == 1);

	reset_traps();
	step_ss();
	uint64_t ss_rips[] = { (uint64_t)ss_d, (uint64_t)ss_e, (uint64_t)ss_f, (uint64_t)ss_g };
	report("single-step, mov ss holds the trap", 4, ss_rips);

	/* INT1 (ICEBP): #DB after the instruction, DR6 untouched.  QEMU 7.2
	 * raises #UD for it. */
	if (tk_on_phantom()) {
		reset_traps();
		icebp_code();
		tk_sdm("int1: one #DB after it, DR6 untouched", ntraps == 1 &&
		       trap_rip[0] == (uint64_t)icebp_after && (trap_dr6[0] & DR6_BITS) == 0);
	} else {
		tk_printf("SDM int1: not run under QEMU\n");
	}

	/* Instruction breakpoint on DR0: a fault before the instruction;
	 * RF in the frame lets it run once. */
	reset_traps();
	counter = 0;
	set_dr0((uint64_t)bp_insn);
	set_dr7(0x400 | 1);                     /* L0, execute, 1 byte */
	set_rf = 1;
	bp_code();
	bp_code();
	set_rf = 0;
	tk_check("instruction breakpoint: a fault at the instruction, each time",
		 ntraps == 2 && trap_rip[0] == (uint64_t)bp_insn && trap_rip[1] == (uint64_t)bp_insn);
	tk_check("instruction breakpoint: DR6.B0", (trap_dr6[0] & DR6_BITS) == 1);
	tk_check("instruction breakpoint: frame RF 0", (trap_flags[0] & RF) == 0);
	tk_check("instruction ran once per call (RF)", counter == 2);
	reset_traps();
	clear_dr7 = 1;
	bp_code();
	clear_dr7 = 0;
	tk_check("handler disarms DR7: one fault", ntraps == 1 && counter == 3);
	set_dr7(0x400);

	/* Data breakpoints on DR1: a trap after the access. */
	reset_traps();
	uint64_t *w = (uint64_t *)&watched[0];
	set_dr1((uint64_t)w);
	set_dr7(0x400 | 4 | 1u << 20 | 3u << 22);      /* L1, write, 4 bytes */
	uint64_t v, after;
	__asm__ volatile("movq (%2), %0\n\t"
			 "movl $5, (%2)\n\t"
			 "1: leaq 1b(%%rip), %1" : "=&r"(v), "=r"(after) : "r"(w) : "memory");
	tk_check("write breakpoint: read ignored, write traps after the store",
		 ntraps == 1 && trap_rip[0] == after);
	tk_check("write breakpoint: DR6.B1", (trap_dr6[0] & DR6_BITS) == 2);
	reset_traps();
	__asm__ volatile("movl $6, 4(%0)" :: "r"(w) : "memory");
	tk_check("write beyond LEN: no trap", ntraps == 0);
	__asm__ volatile("movw $7, 3(%0)" :: "r"(w) : "memory");
	tk_check("misaligned write overlapping LEN: trap", ntraps == 1);
	reset_traps();
	set_dr7(0x400 | 4 | 3u << 20 | 2u << 22);      /* L1, read/write, 8 bytes */
	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(w) : "memory");
	tk_check("read/write breakpoint: read traps", ntraps == 1);
	set_dr7(0x400);
	reset_traps();
	__asm__ volatile("movq $8, (%0)" :: "r"(w) : "memory");
	tk_check("disarmed: no trap", ntraps == 0 && watched[0] == 8);

	/* General detect: mov DRn faults with BD and GD is cleared. */
	reset_traps();
	set_dr7(0x400 | 1u << 13);
	uint64_t d7;
	__asm__ volatile("1: mov %%dr7, %0\n\t"
			 "leaq 1b(%%rip), %1" : "=r"(d7), "=r"(after));
	set_dr7(0x400);                         /* QEMU 7.2 ignores GD */
	tk_sdm("general detect: one #DB at the mov, DR6.BD, GD cleared", ntraps == 1 &&
	       trap_rip[0] == after && (trap_dr6[0] & DR6_BITS) == 0x2000 && d7 == 0x400);
	tk_sdm("general detect: frame RF 1 (a fault)", ntraps == 1 && (trap_flags[0] & RF) != 0);

	/* DR4/DR5 alias DR6/DR7 unless CR4.DE. */
	uint64_t d4, d5;
	set_dr7(0x400 | 1u << 2);               /* L1 with DR1 at watched (no access below) */
	__asm__ volatile("mov %%dr4, %0; mov %%dr5, %1" : "=r"(d4), "=r"(d5));
	tk_check("dr4/dr5 alias dr6/dr7", (d4 & 0xFFFFFFFF) == DR6_FIXED && d5 == (0x400 | 1u << 2));
	set_dr7(0x400);
	write_cr4(read_cr4() | 8);
	tk_expect(6);
	TK_TRY("mov %%dr4, %%rax", :: "rax");
	tk_check_exc("#UD mov dr4 with CR4.DE", 6, 0);
	write_cr4(read_cr4() & ~8ull);

	/* A fault's frame holds RF = 1 (17.3.1.1). */
	tk_set_handler(6, ud_handler);
	TK_TRY("ud2");
	tk_set_handler(6, 0);
	tk_check("#UD delivered", ud_seen == 1);
	tk_sdm("#UD frame RF 1 (fault class)", (ud_flags & RF) != 0);
	return 0;
}
