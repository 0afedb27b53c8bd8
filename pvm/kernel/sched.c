/* pvm/kernel/sched.c: cooperative kernel threads.
 *
 * One CPU, no preemption: a thread runs until it calls sched_yield(),
 * which hands the CPU to the next thread of the ring in creation order.
 * Threads switch only where they choose to, i.e. at safe points: the VM
 * thread between bytecode quanta (never inside the interpreter), the
 * snapshot writer between batches.  So a snapshot's pause never finds the
 * VM halfway through an instruction, and no locks are needed.
 *
 * Each thread has its own stack (STACK_PAGES pages from the page pool);
 * the boot thread (kmain's stack) is the ring's first member and acts as
 * the idle thread.  A switch saves the callee-saved registers on the old
 * stack and its stack pointer in the thread, then pops the new thread's:
 * everything else is caller-saved across the call to sched_switch, so the
 * compiler has already spilled it.  Interrupts arrive on whatever stack
 * is current (same privilege level, no stack switch); the timer handler
 * only counts ticks.  The kernel's C code uses no SSE and the snapshot
 * copy loops never yield, so no FPU/SSE state is switched.
 */
#include "pvm/kernel/kernel.h"

#define MAX_THREADS     8
#define STACK_PAGES     16      /* 64 KiB: the interpreter and the page-fault path */

struct kthread {
	uint64_t rsp;           /* saved stack pointer while switched out */
	const char *name;
	void (*fn)(void *);
	void *arg;
};

static struct kthread threads[MAX_THREADS];
static unsigned nthreads = 1, current;  /* threads[0]: the boot thread */

/* void sched_switch(uint64_t *save_rsp, uint64_t new_rsp) */
__asm__(
	"	.text\n"
	"	.type sched_switch, @function\n"
	"sched_switch:\n"
	"	pushq %rbp\n	pushq %rbx\n	pushq %r12\n"
	"	pushq %r13\n	pushq %r14\n	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n	popq %r14\n	popq %r13\n"
	"	popq %r12\n	popq %rbx\n	popq %rbp\n"
	"	ret\n"
	"	.size sched_switch, . - sched_switch\n");
void sched_switch(uint64_t *save_rsp, uint64_t new_rsp);

/* Where a new thread's first switch returns to. */
static void __attribute__((noreturn, used)) thread_entry(void)
{
	struct kthread *t = &threads[current];
	t->fn(t->arg);
	panic("sched: thread '%s' returned", t->name);
}

void sched_init(void)
{
	threads[0] = (struct kthread){ .name = "idle" };
	nthreads = 1;
	current = 0;
}

void kthread_create(const char *name, void (*fn)(void *), void *arg)
{
	if (nthreads == MAX_THREADS)
		panic("sched: more than %d threads", MAX_THREADS);
	uint64_t top = page_alloc_contig(STACK_PAGES) + STACK_PAGES * PAGE_SIZE;
	uint64_t *sp = (uint64_t *)top;
	/* As if thread_entry had been called: its return address slot (0)
	 * leaves rsp = 8 mod 16 at entry, as the ABI expects; below it the
	 * address sched_switch's ret jumps to, then six zero registers. */
	*--sp = 0;
	*--sp = (uint64_t)thread_entry;
	for (int k = 0; k < 6; k++)
		*--sp = 0;
	threads[nthreads++] = (struct kthread){ .rsp = (uint64_t)sp, .name = name, .fn = fn, .arg = arg };
}

void sched_yield(void)
{
	unsigned prev = current;
	current = (current + 1) % nthreads;
	if (current != prev)
		sched_switch(&threads[prev].rsp, threads[current].rsp);
}

const char *sched_current(void)
{
	return threads[current].name;
}
