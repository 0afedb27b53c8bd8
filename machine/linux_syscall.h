/* machine/linux_syscall.h: the Linux x86-64 system call layer of user mode.
 *
 * When the CPU stops at `syscall` (CPU_EXIT_SYSCALL), the runner calls
 * linux_syscall(): it reads the number from rax and the arguments from
 * rdi, rsi, rdx, r10, r8, r9, serves the call against the process state
 * in struct linux_proc, and leaves the result (or -errno) in rax.  When
 * the guest exits, or dies of a signal it sent itself, p->exited is set
 * and p->exit_status holds what a shell would see.
 */
#ifndef MACHINE_LINUX_SYSCALL_H
#define MACHINE_LINUX_SYSCALL_H

#include "machine/linux_user.h"

void linux_syscall(struct linux_proc *p);

/* The resource limits a fresh process has (linux_proc_init uses it). */
void linux_rlimit_defaults(struct linux_proc *p);

#endif
