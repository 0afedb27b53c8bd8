/* machine/cpu.h: the amd64 CPU as the rest of the simulator sees it.
 *
 * CONTRACT SKETCH (written before the implementation; the CPU's author may
 * extend it, but the names below are what other components use):
 *
 *   struct cpu *c = cpu_new(&sim, &bus);
 *   c->gpr[CPU_RSP] = ...; c->rip = entry; c->fs_base = ...;
 *   cpu_set_mode_user64(c);              // flat 64-bit user mode, no paging
 *   for (;;) {
 *       enum cpu_exit why = cpu_run(c, budget);
 *       if (why == CPU_EXIT_SYSCALL) { handle c->gpr[CPU_RAX]...; continue; }
 *       ...
 *   }
 *
 * In user mode linear addresses are bus addresses (no paging): the Linux
 * user-mode runner maps the program's memory as bus RAM regions with
 * BUS_R/W/X permissions, and an access the permissions forbid is a #PF
 * (CPU_EXIT_EXCEPTION with c->exc_vector = 14 and c->cr2 set).
 */
#ifndef MACHINE_CPU_H
#define MACHINE_CPU_H

#include <stdbool.h>
#include <stdint.h>

struct sim;
struct bus;

enum cpu_reg {
	CPU_RAX, CPU_RCX, CPU_RDX, CPU_RBX, CPU_RSP, CPU_RBP, CPU_RSI, CPU_RDI,
	CPU_R8, CPU_R9, CPU_R10, CPU_R11, CPU_R12, CPU_R13, CPU_R14, CPU_R15,
};

/* Why cpu_run() returned to its caller. */
enum cpu_exit {
	CPU_EXIT_BUDGET,        /* executed the requested number of instructions */
	CPU_EXIT_SYSCALL,       /* user mode: `syscall` executed, rip is past it */
	CPU_EXIT_EXCEPTION,     /* user mode: an exception the guest cannot take */
	CPU_EXIT_HALT,          /* hlt */
	CPU_EXIT_STOP,          /* sim_request_stop() or cpu_request_exit() */
};

#endif
