/* pvm/kernel/workload.h: what the kernel runs in the object space.
 *
 * A workload keeps all its state inside the object space, so a snapshot
 * of the space is a snapshot of the workload.  The kernel calls boot() on
 * a fresh (zeroed) space, attach() after the space was restored from a
 * snapshot, and run() repeatedly; run() returns at a safe point (for the
 * PVM, a bytecode boundary), which is where snapshots pause it.
 *
 * Workloads: the PVM ones (counter, bank, kv, list; pvm/pvm.h) when the
 * VM is linked in, and two kernel self-tests written in C that need no VM:
 *   ccounter  a counter plus per-page hit counts; invariant: they sum up
 *   cbank     transfers between accounts, one per page, driven by a
 *             persistent PRNG; invariant: the total balance is constant
 */
#ifndef PVM_KERNEL_WORKLOAD_H
#define PVM_KERNEL_WORKLOAD_H

#include "pvm/kernel/kernel.h"

struct workload {
	const char *name;
	int (*boot)(void *base, uint64_t size, uint64_t seed);  /* 0 = ok */
	int (*attach)(void *base, uint64_t size);               /* 0 = ok */
	long (*run)(uint64_t budget);   /* steps done (0: nothing left), <0 = error */
	int (*check)(void);             /* invariant: 0 = holds */
};

/* The workload called name, or NULL.  "" picks the default: the PVM's
 * "bank" when the VM is linked in, else "cbank". */
const struct workload *workload_find(const char *name);

#endif
