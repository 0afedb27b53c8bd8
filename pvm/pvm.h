/* pvm/pvm.h: the interface between the Phantom VM and the guest kernel.
 *
 * The VM keeps every piece of state that matters (threads, call frames,
 * stacks, allocator metadata, the workload's PRNG) inside the object
 * space [base, base+size), which the kernel snapshots byte for byte.
 * Outside it the VM holds only transient pointers (the host ops, cached
 * pointers into the space), all re-derived by pvm_attach().
 *
 * Typical kernel use:
 *
 *     if (store_is_empty) pvm_boot_fresh(space, size, "bank", seed, &ops);
 *     else if (pvm_attach(space, size, &ops) < 0) panic();
 *     for (;;) { if (pvm_run(10000) < 0) panic(); maybe_snapshot(); }
 *
 * Freestanding: only <stdint.h> and <stddef.h>.  docs/pvm.md has the details.
 */
#ifndef PVM_PVM_H
#define PVM_PVM_H

#include <stddef.h>
#include <stdint.h>

/* Fixed virtual address of the object space, as in Phantom: objects refer
 * to each other by raw pointers, so the space must always sit here. */
#define PVM_OBJSPACE_BASE 0x80000000UL

/* Services the kernel provides.  Any of them may be NULL. */
struct pvm_host {
	void (*trace)(unsigned code, const uint32_t *args, unsigned nargs);	/* trace port */
	void (*console)(const char *s);
	uint64_t (*time_ns)(void);	/* simulated time */
};

/* First boot: format the object space [base, base+size): root object,
 * arenas, built-in classes, load the class images, create the workload
 * thread.  workload: "counter" | "bank" | "kv" | "list"; seed feeds the
 * workload's own PRNG, whose state lives in the object space so it resumes
 * after recovery.  Returns 0, or <0 (bad arguments, space too small,
 * unknown workload). */
int pvm_boot_fresh(void *base, size_t size, const char *workload, uint64_t seed,
		   const struct pvm_host *h);

/* After the kernel restored the object space from a snapshot: re-attach
 * (no re-init), re-run restart hooks, threads continue where they stood.
 * Returns 0, or <0 if the root or the heap is invalid (nothing is run). */
int pvm_attach(void *base, size_t size, const struct pvm_host *h);

/* Run VM threads for at most max_steps bytecodes and return at a safe
 * point (a bytecode boundary, all VM state in the object space).  Returns
 * the steps executed (0 when no thread is left), <0 on VM panic.  After a
 * panic every further call returns the same negative code. */
long pvm_run(uint64_t max_steps);

/* Workload invariant over the object space: 0 = holds.  bank: total
 * balance constant; kv: structure consistent and matching its own op
 * counters; list: list well formed; counter: the counter is an int.
 * Callable right after pvm_attach. */
int pvm_check_invariant(void);

/* --- extras (diagnostics; the kernel may ignore them) ---------------- */

/* VM panic codes (pvm_run returns the negated value). */
enum pvm_panic {
	PVM_PANIC_NONE = 0,
	PVM_PANIC_NOT_ATTACHED = 1,
	PVM_PANIC_BAD_OPCODE = 2,
	PVM_PANIC_UNCAUGHT = 3,		/* exception unwound past the top frame */
	PVM_PANIC_OUT_OF_MEMORY = 4,
	PVM_PANIC_CORRUPT = 5,		/* bad reference or header found */
	PVM_PANIC_BAD_IP = 6,		/* IP ran off the end of the code */
};

/* Human-readable reason of the last panic (or attach failure). */
const char *pvm_panic_message(void);

struct pvm_stats {
	uint64_t steps;			/* bytecodes executed over the space's life */
	uint64_t gc_runs;
	uint64_t bytes_in_use;		/* allocated bytes, headers included */
	uint64_t bytes_live_after_gc;	/* in use right after the last GC */
	uint64_t objects_freed;
	uint64_t boots;			/* pvm_attach calls since format */
	uint32_t threads_alive;
};
void pvm_get_stats(struct pvm_stats *out);

#endif
