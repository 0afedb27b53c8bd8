/* tests/guests/align.c: alignment checking (#AC, vector 17, error code
 * 0) at CPL 3 with CR0.AM = 1 and RFLAGS.AC = 1 (Intel SDM Vol. 3 6.15,
 * Table 6-7): misaligned word, doubleword and quadword loads and stores,
 * a misaligned push, AC turned on by POPF at CPL 3 (the fast path must
 * notice), and where no check applies: bytes, aligned data, AC = 0,
 * CR0.AM = 0, CPL 0.
 *
 * QEMU 7.2 (TCG) does not implement #AC: the lines that expect it start
 * "SDM " and are left out of the comparison (docs/machine.md). */
#include "tests/guests/lib.h"

#define AC 0x40000ull
#define CR0_AM (1ull << 18)

/* to_user(fn, rsp, rflags): run fn at CPL 3 until it returns; the
 * trampoline then calls the DPL 3 gate 0x7E, whose handler goes back. */
uint64_t tk_align_kern_rsp;
void to_user(void (*fn)(void), uint64_t rsp, uint64_t rflags);
void user_tramp(void), back_to_kernel(void);
__asm__(
	".text\n"
	".globl to_user, user_tramp, back_to_kernel\n"
	"to_user:\n"
	"	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
	"	movq %rsp, tk_align_kern_rsp(%rip)\n"
	"	pushq $0x23\n"
	"	pushq %rsi\n"
	"	pushq %rdx\n"
	"	pushq $0x2B\n"
	"	leaq user_tramp(%rip), %rax\n"
	"	pushq %rax\n"
	"	iretq\n"
	"user_tramp:\n"
	"	call *%rdi\n"
	"	int $0x7E\n"
	"back_to_kernel:\n"
	"	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
	"	ret\n");

static void back(struct tk_frame *f)
{
	f->rip = (uint64_t)back_to_kernel;
	f->cs = 0x08;
	f->ss = 0x10;
	f->rsp = tk_align_kern_rsp;
	f->rflags = 2;
}

/* Faults at CPL 3 resume after the TK_TRY block. */
static volatile int got_vec;
static volatile uint64_t got_err, got_rip;

static void user_fault(struct tk_frame *f)
{
	got_vec = (int)f->vector;
	got_err = f->error;
	got_rip = f->rip;
	f->rip = tk_resume;
}

/* Results of the CPL-3 code, by check. */
enum {
	R_WORD, R_DWORD, R_QWORD_ST, R_PUSH, R_PAGE_END, R_BYTE, R_ALIGNED, R_PF,
	R_AC0_READ, R_POPF_ON, R_N
};
static volatile int r_vec[R_N];
static volatile uint64_t r_err[R_N];
static volatile uint64_t r_val[R_N];
static uint8_t data[8192] __attribute__((aligned(4096)));
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));

#define U_TRY(k, insn, ...) do { \
	got_vec = -1; got_err = 0; \
	TK_TRY(insn, __VA_ARGS__); \
	r_vec[k] = got_vec; r_err[k] = got_err; \
} while (0)

static void user_checks(void)
{
	uint64_t v = 0;
	uint8_t *d = data;
	U_TRY(R_WORD, "movw 1(%1), %w0", "=r"(v) : "r"(d));
	uint64_t rip;
	U_TRY(R_DWORD, "leaq 3f(%%rip), %1\n3:\tmovl 2(%2), %k0", "=&r"(v), "=&r"(rip) : "r"(d));
	r_val[R_DWORD] = got_rip == rip;
	/* The store must not happen. */
	*(volatile uint64_t *)(d + 8) = 0;
	U_TRY(R_QWORD_ST, "movq %0, 12(%1)", : "r"(0x1122334455667788ull), "r"(d) : "memory");
	r_val[R_QWORD_ST] = *(volatile uint32_t *)(d + 12);
	/* A push to a stack 4 bytes off: rsp is put back either way. */
	got_vec = -1;
	__asm__ volatile("movq $2f, tk_resume(%%rip)\n\t"
			 "movq %%rsp, %%rbx\n\t"
			 "subq $4, %%rsp\n\t"
			 "pushq $1\n"
			 "2:\tmovq %%rbx, %%rsp" ::: "rbx", "memory");
	r_vec[R_PUSH] = got_vec;
	U_TRY(R_PAGE_END, "movl 4094(%1), %k0", "=r"(v) : "r"(d));
	U_TRY(R_BYTE, "movb 3(%1), %b0", "=q"(v) : "r"(d));
	U_TRY(R_ALIGNED, "movq 8(%1), %0; movl 4(%1), %k0; movw 2(%1), %w0", "=r"(v) : "r"(d));
	/* Not present and misaligned: #PF first. */
	U_TRY(R_PF, "movl (%1), %k0", "=r"(v) : "r"(0x7f0000000001ull));
	/* AC off: no checks; then POPF turns them on at CPL 3, after the
	 * page has been used with AC = 0. */
	__asm__ volatile("pushfq; andq $~0x40000, (%%rsp); popfq" ::: "memory", "cc");
	U_TRY(R_AC0_READ, "movl 2(%1), %k0", "=r"(v) : "r"(d));
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq" ::: "memory", "cc");
	U_TRY(R_POPF_ON, "movl 6(%1), %k0", "=r"(v) : "r"(d));
	(void)v;
}

static void user_quiet(void)
{
	uint64_t v = 0;
	U_TRY(R_WORD, "movw 1(%1), %w0", "=r"(v) : "r"(data));
	U_TRY(R_QWORD_ST, "movq %0, 12(%1)", : "r"(1ull), "r"(data) : "memory");
	(void)v;
}

static void clear(void)
{
	for (int k = 0; k < R_N; k++)
		r_vec[k] = -2, r_err[k] = 0, r_val[k] = 0;
}

static bool is_ac(int k)
{
	return r_vec[k] == 17 && r_err[k] == 0;
}

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("align: #AC at CPL 3 with CR0.AM and RFLAGS.AC\n");
	tk_tss_set_rsp0((uint64_t)(kernel_stack + sizeof kernel_stack));
	tk_set_gate(0x7E, 0xE, 3, 0);
	tk_set_handler(0x7E, back);
	tk_set_handler(13, user_fault);
	tk_set_handler(14, user_fault);
	tk_set_handler(17, user_fault);
	uint64_t top = (uint64_t)(user_stack + sizeof user_stack);

	write_cr0(read_cr0() | CR0_AM);
	clear();
	to_user(user_checks, top, 0x202 | AC);
	tk_sdm("misaligned word load: #AC(0)", is_ac(R_WORD));
	tk_sdm("misaligned dword load: #AC(0) at the load", is_ac(R_DWORD) && r_val[R_DWORD]);
	tk_sdm("misaligned qword store: #AC(0), nothing stored", is_ac(R_QWORD_ST) &&
	       r_val[R_QWORD_ST] == 0);
	tk_sdm("push to a misaligned stack: #AC(0)", is_ac(R_PUSH));
	tk_sdm("misaligned dword at a page end: #AC(0)", is_ac(R_PAGE_END));
	tk_check("byte load: no fault", r_vec[R_BYTE] == -1);
	tk_check("aligned loads: no fault", r_vec[R_ALIGNED] == -1);
	tk_printf("misaligned load from a non-present page: vector %d error %lx\n", r_vec[R_PF],
		  r_err[R_PF]);
	tk_check("AC = 0: no fault", r_vec[R_AC0_READ] == -1);
	tk_sdm("AC set by popf at CPL 3: #AC(0) at the load", is_ac(R_POPF_ON));

	/* No checks at CPL 0, even with AM and AC. */
	got_vec = -1;
	uint64_t v;
	__asm__ volatile("pushfq; orq $0x40000, (%%rsp); popfq\n\t"
			 "movl 2(%1), %k0\n\t"
			 "pushfq; andq $~0x40000, (%%rsp); popfq" : "=r"(v) : "r"(data) : "cc", "memory");
	tk_check("CPL 0 with AM and AC: no fault", got_vec == -1);

	/* CR0.AM = 0: no checks at CPL 3 either. */
	write_cr0(read_cr0() & ~CR0_AM);
	clear();
	to_user(user_quiet, top, 0x202 | AC);
	tk_check("CR0.AM = 0: no fault", r_vec[R_WORD] == -1 && r_vec[R_QWORD_ST] == -1);
	/* AM = 1 but the user runs with AC = 0. */
	write_cr0(read_cr0() | CR0_AM);
	clear();
	to_user(user_quiet, top, 0x202);
	tk_check("RFLAGS.AC = 0: no fault", r_vec[R_WORD] == -1 && r_vec[R_QWORD_ST] == -1);
	write_cr0(read_cr0() & ~CR0_AM);
	return 0;
}
