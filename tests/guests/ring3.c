/* tests/guests/ring3.c: CPL 3 and back: iretq to ring 3, syscall/sysret
 * (STAR, LSTAR, FMASK), int n through DPL 3 and DPL 0 gates, the stack
 * switch through TSS.RSP0, and what CPL 3 may not do (#GP, #PF with U). */
#include "tests/guests/lib.h"

/* Filled by the syscall entry. */
volatile uint64_t sys_count, sys_nr, sys_r11, sys_kflags, sys_rcx;
volatile uint16_t sys_cs, sys_ss;
uint64_t tk_kern_rsp;

/* uint64_t enter_user(rip, rsp): run rip at CPL 3 until it makes system
 * call 0; returns that call's rdi. */
__asm__(
	".text\n"
	".globl enter_user\n"
	"enter_user:\n"
	"	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
	"	movq %rsp, tk_kern_rsp(%rip)\n"
	"	pushq $0x23\n"
	"	pushq %rsi\n"
	"	pushq $0x202\n"
	"	pushq $0x2B\n"
	"	pushq %rdi\n"
	"	iretq\n"
	".globl syscall_entry\n"
	"syscall_entry:\n"
	"	testq %rax, %rax\n"
	"	jz 2f\n"
	"	movq %rax, sys_nr(%rip)\n"
	"	movq %r11, sys_r11(%rip)\n"
	"	movq %rcx, sys_rcx(%rip)\n"
	"	movw %cs, sys_cs(%rip)\n"
	"	movw %ss, sys_ss(%rip)\n"
	"	pushfq\n"
	"	popq sys_kflags(%rip)\n"
	"	incq sys_count(%rip)\n"
	"	addq $1000, %rax\n"
	"	sysretq\n"
	"2:	movq tk_kern_rsp(%rip), %rsp\n"
	"	movq %rdi, %rax\n"
	"	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
	"	ret\n");

uint64_t enter_user(uint64_t rip, uint64_t rsp);
void syscall_entry(void);

/* What the CPL-3 code found, for the kernel to print. */
static volatile uint64_t u_ret, u_cs, u_ss, u_flags_after_popf;
static volatile int u_vec[8];
static volatile uint64_t u_err[8];
static volatile uint64_t *kernel_only;
static volatile uint64_t int80_cs, int80_ss, int80_frame;
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));

static inline uint64_t do_syscall(uint64_t nr, uint64_t arg)
{
	uint64_t r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(arg) : "rcx", "r11", "memory");
	return r;
}

#define U_TRY(k, insn, ...) do { \
	tk_got_vector = -1; tk_got_error = 0; \
	TK_TRY(insn, __VA_ARGS__); \
	u_vec[k] = tk_got_vector; u_err[k] = tk_got_error; \
} while (0)

/* Runs at CPL 3 (the kernel's pages are user pages in these tests). */
static void user_main(void)
{
	u_ret = do_syscall(7, 0);
	uint16_t cs, ss;
	__asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
	u_cs = cs;
	u_ss = ss;
	U_TRY(0, "hlt");
	U_TRY(1, "cli");
	U_TRY(2, "inb $0x80, %%al", :: "rax");
	U_TRY(3, "movq %%cr3, %%rax", :: "rax");
	U_TRY(4, "movq (%0), %%rax", : "r"(kernel_only) : "rax");
	U_TRY(5, "movq $1, (%0)", : "r"(kernel_only));
	U_TRY(6, "int $0x81");
	U_TRY(7, "rdmsr", : "c"(0x10) : "rax", "rdx");
	__asm__ volatile("int $0x80" ::: "memory");
	/* popf at CPL 3 with IOPL 0 leaves IF and IOPL alone. */
	uint64_t fl;
	__asm__ volatile("pushq $0x3002; popfq; pushfq; popq %0" : "=r"(fl) :: "memory", "cc");
	u_flags_after_popf = fl;
	do_syscall(0, 42);
}

static void int80(struct tk_frame *f)
{
	int80_cs = f->cs;
	int80_ss = f->ss;
	int80_frame = (uint64_t)f;
}

/* #GP and #PF at CPL 3 resume after the U_TRY block. */
static void user_fault(struct tk_frame *f)
{
	tk_got_vector = (int)f->vector;
	tk_got_error = f->error;
	f->rip = tk_resume;
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("ring3: CPL 3, syscall/sysret, iretq, int n\n");
	/* A page only CPL 0 may touch: a 4 KiB mapping in PML4[2]. */
	uint64_t *pdpt = tk_page_alloc(), *pd = tk_page_alloc(), *pt = tk_page_alloc();
	uint64_t *frame = tk_page_alloc();
	tk_pml4[2] = (uint64_t)pdpt | 7;
	pdpt[0] = (uint64_t)pd | 7;
	pd[0] = (uint64_t)pt | 7;
	pt[0] = (uint64_t)frame | 3;            /* P RW, supervisor */
	kernel_only = (volatile uint64_t *)0x10000000000ull;
	write_cr3(read_cr3());

	wrmsr(0xC0000080, rdmsr(0xC0000080) | 1);                       /* SCE */
	wrmsr(0xC0000081, (0x18ull << 48) | (0x08ull << 32));           /* STAR */
	wrmsr(0xC0000082, (uint64_t)syscall_entry);                     /* LSTAR */
	wrmsr(0xC0000084, 0x200 | 0x100 | 0x400);                       /* FMASK: IF TF DF */
	tk_tss_set_rsp0((uint64_t)(kernel_stack + sizeof kernel_stack));
	tk_set_gate(0x80, 0xE, 3, 0);
	tk_set_gate(0x81, 0xE, 0, 0);
	tk_set_handler(0x80, int80);
	tk_set_handler(13, user_fault);
	tk_set_handler(14, user_fault);

	uint64_t r = enter_user((uint64_t)user_main, (uint64_t)(user_stack + sizeof user_stack - 8));
	tk_set_handler(13, 0);
	tk_set_handler(14, 0);

	tk_check("back in ring 0 with exit code 42", r == 42);
	tk_check("syscall return value", u_ret == 1007);
	tk_check("syscall: cs 0x08 ss 0x10", sys_cs == 0x08 && sys_ss == 0x10);
	tk_check("syscall: r11 = user rflags (IF=1)", (sys_r11 & 0x200) != 0);
	tk_check("syscall: FMASK cleared IF", (sys_kflags & 0x200) == 0);
	tk_check("syscall: rcx = return address", sys_rcx > (uint64_t)user_main &&
		 sys_rcx < (uint64_t)user_main + 64);
	tk_check("sysret: cs 0x2b ss 0x23", u_cs == 0x2B && u_ss == 0x23);
	tk_printf("hlt at cpl3: vector %d error %lx\n", u_vec[0], u_err[0]);
	tk_printf("cli at cpl3: vector %d error %lx\n", u_vec[1], u_err[1]);
	tk_printf("in at cpl3: vector %d error %lx\n", u_vec[2], u_err[2]);
	tk_printf("mov from cr3 at cpl3: vector %d error %lx\n", u_vec[3], u_err[3]);
	tk_printf("read supervisor page: vector %d error %lx\n", u_vec[4], u_err[4]);
	tk_printf("write supervisor page: vector %d error %lx\n", u_vec[5], u_err[5]);
	tk_sdm("int 0x81 through a DPL 0 gate: #GP(0x40a)", u_vec[6] == 13 && u_err[6] == 0x40A);
	tk_printf("rdmsr at cpl3: vector %d error %lx\n", u_vec[7], u_err[7]);
	tk_check("int 0x80 from cpl 3: frame cs 0x2b ss 0x23", int80_cs == 0x2B && int80_ss == 0x23);
	tk_check("int 0x80 ran on the TSS.RSP0 stack",
		 int80_frame > (uint64_t)kernel_stack && int80_frame < (uint64_t)kernel_stack + sizeof kernel_stack);
	tk_check("popf at cpl 3 keeps IOPL 0, IF 1", (u_flags_after_popf & 0x3200) == 0x200);
	tk_check("syscalls made", sys_count == 1);
	return 0;
}
