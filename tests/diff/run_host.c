/* tests/diff/run_host.c: run test cases on the host CPU itself.
 *
 * The reference that cannot be wrong about x86 is an x86.  A batch of cases
 * runs in a forked child so nothing a sequence does can hurt the test
 * driver; the child maps the code and scratch pages at the fixed addresses
 * of difftest.h (MAP_FIXED_NOREPLACE, so it fails loudly rather than
 * clobbering something) and, for each case:
 *
 *   1. copies the code, appends an exit stub `jmp *[rip+0]; .quad exit`,
 *      and copies the scratch page;
 *   2. dt_host_enter (assembly below) saves the host's callee-saved
 *      registers, loads x87, MXCSR and XMM0-15 with one FXRSTOR64, then
 *      RFLAGS and all sixteen GPRs from dt_host_in, and jumps to the code;
 *   3. the exit stub lands in dt_host_exit, which stores every register
 *      into dt_host_out without touching guest memory (RSP is saved first,
 *      then the trampoline switches to a private stack for PUSHFQ), and
 *      returns into C as if dt_host_enter had returned;
 *   4. a fault instead raises SIGSEGV/SIGFPE/SIGILL/SIGBUS/SIGTRAP; the
 *      handler, on an alternate stack because RSP belongs to the guest,
 *      records the vector (the kernel passes the hardware trap number in
 *      REG_TRAPNO) and the registers at the faulting instruction, then
 *      siglongjmps back to the batch loop.  The kernel gives a handler a
 *      clean FPU state and DF=0, so C runs normally after the jump.
 *
 * The parent runs the other runners while the child works (dt_host_start /
 * dt_host_wait), which keeps both host cores busy.  An alarm kills a child
 * that hangs; the parent marks the case it was on as DT_VEC_HANG and
 * starts a fresh child on the rest of the batch.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include "tests/diff/difftest.h"

_Static_assert(offsetof(struct dt_regs, gpr) == DT_OFF_GPR, "gpr offset");
_Static_assert(offsetof(struct dt_regs, rip) == DT_OFF_RIP, "rip offset");
_Static_assert(offsetof(struct dt_regs, rflags) == DT_OFF_RFLAGS, "rflags offset");
_Static_assert(offsetof(struct dt_regs, fx) == DT_OFF_FX, "fx offset");
_Static_assert(sizeof(struct dt_fx) == 512, "fxsave image size");
_Static_assert(sizeof(struct dt_regs) == DT_REGS_SIZE, "regs size");

#if defined(__x86_64__) && defined(__linux__)

/* Shared with the assembly below, hence not static. */
__attribute__((visibility("hidden"), aligned(64))) struct dt_regs dt_host_in, dt_host_out;
__attribute__((visibility("hidden"))) uint64_t dt_host_saved_rsp;
__attribute__((visibility("hidden"), aligned(64))) uint8_t dt_host_exit_stack[512];
void dt_host_enter(void);
void dt_host_exit(void);

#define S_(x) #x
#define S(x) S_(x)
#define IN(off) "dt_host_in+" S(off) "(%rip)"
#define OUT(off) "dt_host_out+" S(off) "(%rip)"
#define GPR_SAVE(reg, n) "mov %" #reg ", dt_host_out+8*" #n "(%rip)\n\t"

__asm__(
	".text\n\t"
	".globl dt_host_enter\n\t"
	".hidden dt_host_enter\n\t"
	".type dt_host_enter, @function\n"
	"dt_host_enter:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"sub $8, %rsp\n\t"
	"stmxcsr (%rsp)\n\t"
	"fnstcw 4(%rsp)\n\t"
	"mov %rsp, dt_host_saved_rsp(%rip)\n\t"
	"lea dt_host_in(%rip), %rax\n\t"
	"fxrstor64 " S(DT_OFF_FX) "(%rax)\n\t"
	"pushq " S(DT_OFF_RFLAGS) "(%rax)\n\t"
	"popfq\n\t"
	/* From here on nothing may change the flags. */
	"mov 8*1(%rax), %rcx\n\t"
	"mov 8*2(%rax), %rdx\n\t"
	"mov 8*3(%rax), %rbx\n\t"
	"mov 8*5(%rax), %rbp\n\t"
	"mov 8*6(%rax), %rsi\n\t"
	"mov 8*7(%rax), %rdi\n\t"
	"mov 8*8(%rax), %r8\n\t"
	"mov 8*9(%rax), %r9\n\t"
	"mov 8*10(%rax), %r10\n\t"
	"mov 8*11(%rax), %r11\n\t"
	"mov 8*12(%rax), %r12\n\t"
	"mov 8*13(%rax), %r13\n\t"
	"mov 8*14(%rax), %r14\n\t"
	"mov 8*15(%rax), %r15\n\t"
	"mov 8*4(%rax), %rsp\n\t"
	"mov 8*0(%rax), %rax\n\t"
	"jmp *" IN(DT_OFF_RIP) "\n\t"
	".size dt_host_enter, .-dt_host_enter\n\t"

	".globl dt_host_exit\n\t"
	".hidden dt_host_exit\n\t"
	".type dt_host_exit, @function\n"
	"dt_host_exit:\n\t"
	"mov %rsp, " OUT(32) "\n\t"
	"lea dt_host_exit_stack+512(%rip), %rsp\n\t"
	"pushfq\n\t"
	"popq " OUT(DT_OFF_RFLAGS) "\n\t"
	GPR_SAVE(rax, 0) GPR_SAVE(rcx, 1) GPR_SAVE(rdx, 2) GPR_SAVE(rbx, 3)
	GPR_SAVE(rbp, 5) GPR_SAVE(rsi, 6) GPR_SAVE(rdi, 7)
	GPR_SAVE(r8, 8) GPR_SAVE(r9, 9) GPR_SAVE(r10, 10) GPR_SAVE(r11, 11)
	GPR_SAVE(r12, 12) GPR_SAVE(r13, 13) GPR_SAVE(r14, 14) GPR_SAVE(r15, 15)
	"fxsave64 " OUT(DT_OFF_FX) "\n\t"
	"cld\n\t"
	"mov dt_host_saved_rsp(%rip), %rsp\n\t"
	"ldmxcsr (%rsp)\n\t"
	"fninit\n\t"
	"fldcw 4(%rsp)\n\t"
	"add $8, %rsp\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n\t"
	".size dt_host_exit, .-dt_host_exit\n\t"
);

struct dt_host {
	pid_t child;
	const struct dt_case *cases;
	struct dt_result *res;
	size_t n;
	/* Shared page: index of the case the child is running. */
	volatile size_t *progress;
};

static sigjmp_buf fault_jb;
static volatile sig_atomic_t in_case;
static struct dt_result *cur_res;

static const int greg_of[16] = {
	REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI, REG_RDI,
	REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15,
};

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	if (!in_case) {
		/* A bug in the harness itself: die with the signal. */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	ucontext_t *uc = ucv;
	mcontext_t *m = &uc->uc_mcontext;
	struct dt_regs *r = &cur_res->regs;
	for (int i = 0; i < 16; i++)
		r->gpr[i] = (uint64_t)m->gregs[greg_of[i]];
	r->rip = (uint64_t)m->gregs[REG_RIP];
	r->rflags = (uint64_t)m->gregs[REG_EFL];
	/* The kernel's signal frame starts with the FXSAVE image. */
	if (m->fpregs)
		memcpy(&r->fx, m->fpregs, sizeof r->fx);
	cur_res->vector = (int)m->gregs[REG_TRAPNO];
	cur_res->fault_addr = (sig == SIGSEGV || sig == SIGBUS) ? (uint64_t)(uintptr_t)si->si_addr : 0;
	in_case = 0;
	siglongjmp(fault_jb, 1);
}

static void run_case(const struct dt_case *c, struct dt_result *res)
{
	uint8_t *code = (uint8_t *)(uintptr_t)DT_CODE;
	/* No bytes of an earlier case may survive in the code page. */
	memset(code, 0, DT_CODE_MAX + 16);
	memcpy(code, c->code, c->len);
	/* jmp qword [rip+0]; dq dt_host_exit */
	static const uint8_t stub[6] = { 0xff, 0x25, 0, 0, 0, 0 };
	memcpy(code + c->len, stub, sizeof stub);
	dt_put_le(code + c->len + 6, (uint64_t)(uintptr_t)dt_host_exit, 8);
	memcpy((void *)(uintptr_t)DT_SCRATCH, c->scratch, DT_PAGE);

	dt_host_in = c->init;
	dt_host_in.rip = DT_CODE;
	memset(res, 0, offsetof(struct dt_result, scratch));
	cur_res = res;
	if (sigsetjmp(fault_jb, 0) == 0) {
		in_case = 1;
		dt_host_enter();
		in_case = 0;
		res->regs = dt_host_out;
		res->regs.rip = DT_CODE + c->len;
		res->vector = DT_VEC_NONE;
	}
	memcpy(res->scratch, (void *)(uintptr_t)DT_SCRATCH, DT_PAGE);
}

static int child_setup(void)
{
	void *code = mmap((void *)(uintptr_t)DT_CODE, DT_PAGE, PROT_READ | PROT_WRITE | PROT_EXEC,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	void *data = mmap((void *)(uintptr_t)DT_SCRATCH, DT_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (code != (void *)(uintptr_t)DT_CODE || data != (void *)(uintptr_t)DT_SCRATCH) {
		fprintf(stderr, "difftest: host runner cannot map the fixed pages: %s\n", strerror(errno));
		return -1;
	}
	static uint8_t altstack[64 * 1024] __attribute__((aligned(64)));
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack };
	if (sigaltstack(&ss, NULL))
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	/* SA_NODEFER: we leave the handler by siglongjmp without restoring a
	 * mask, so the signal must not stay blocked. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

static void child_main(struct dt_host *h, size_t first)
{
	if (child_setup())
		_exit(3);
	/* Generous: a case is a handful of instructions. */
	alarm(5 + (unsigned)(h->n / 20000));
	for (size_t i = first; i < h->n; i++) {
		*h->progress = i;
		run_case(&h->cases[i], &h->res[i]);
	}
	*h->progress = h->n;
	_exit(0);
}

void *dt_host_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void dt_host_free(void *p, size_t bytes)
{
	if (p)
		munmap(p, bytes);
}

/* Whether a child can set itself up at all (the fixed addresses free,
 * MAP_FIXED_NOREPLACE known to the kernel). */
static bool probe_child(void)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return false;
	if (pid == 0)
		_exit(child_setup() ? 3 : 0);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

struct dt_host *dt_host_open(void)
{
	if (!probe_child()) {
		fprintf(stderr, "difftest: the host runner cannot run here; skipping it\n");
		return NULL;
	}
	struct dt_host *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->progress = dt_host_alloc(DT_PAGE);
	if (!h->progress) {
		free(h);
		return NULL;
	}
	h->child = -1;
	return h;
}

static int spawn(struct dt_host *h, size_t first)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		child_main(h, first);
	h->child = pid;
	return 0;
}

int dt_host_start(struct dt_host *h, const struct dt_case *cases, struct dt_result *res, size_t n)
{
	h->cases = cases;
	h->res = res;
	h->n = n;
	*h->progress = 0;
	return spawn(h, 0);
}

int dt_host_wait(struct dt_host *h)
{
	for (;;) {
		int status;
		if (h->child < 0)
			return -1;
		while (waitpid(h->child, &status, 0) < 0)
			if (errno != EINTR)
				return -1;
		h->child = -1;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			return 0;
		if (WIFEXITED(status)) {
			fprintf(stderr, "difftest: host runner child exited with %d\n", WEXITSTATUS(status));
			return -1;
		}
		/* Killed (watchdog or a signal we do not catch) on case
		 * *progress: record that and carry on after it. */
		size_t bad = *h->progress;
		if (bad >= h->n)
			return 0;
		memset(&h->res[bad], 0, sizeof h->res[bad]);
		h->res[bad].vector = WTERMSIG(status) == SIGALRM ? DT_VEC_HANG : DT_VEC_ERROR;
		if (bad + 1 >= h->n)
			return 0;
		if (spawn(h, bad + 1))
			return -1;
	}
}

int dt_host_run(struct dt_host *h, const struct dt_case *cases, struct dt_result *res, size_t n)
{
	if (dt_host_start(h, cases, res, n))
		return -1;
	return dt_host_wait(h);
}

void dt_host_close(struct dt_host *h)
{
	if (!h)
		return;
	if (h->child > 0) {
		kill(h->child, SIGKILL);
		waitpid(h->child, NULL, 0);
	}
	dt_host_free((void *)h->progress, DT_PAGE);
	free(h);
}

#else /* not an x86-64 Linux host */

struct dt_host *dt_host_open(void)
{
	fprintf(stderr, "difftest: the host runner needs an x86-64 Linux host; skipping it\n");
	return NULL;
}
int dt_host_start(struct dt_host *h, const struct dt_case *c, struct dt_result *r, size_t n) { return -1; }
int dt_host_wait(struct dt_host *h) { return -1; }
int dt_host_run(struct dt_host *h, const struct dt_case *c, struct dt_result *r, size_t n) { return -1; }
void *dt_host_alloc(size_t bytes) { return calloc(1, bytes); }
void dt_host_free(void *p, size_t bytes) { free(p); }
void dt_host_close(struct dt_host *h) { }

#endif
