/* machine/linux_user.h: a Linux process for the user-mode runner.
 *
 * `phantom-sim user PROG ARGS...` runs a static x86-64 Linux executable on
 * the simulated CPU without a kernel: the CPU runs in flat 64-bit user mode
 * (linear address = bus address), the program's memory is bus RAM regions
 * with the page permissions Linux would give, and every `syscall` returns
 * to the runner, which serves it here (machine/linux_syscall.c).
 *
 *     struct linux_proc p;
 *     linux_proc_init(&p, &sim, &bus, cpu);
 *     if (linux_proc_load(&p, &img, argc, argv, environ, err, sizeof err))
 *             ...;                            // one-line message, exit 2
 *     while (!p.exited)
 *             if (cpu_run(cpu, budget) == CPU_EXIT_SYSCALL)
 *                     linux_syscall(&p);
 *
 * The address space (x86-64, 47-bit user half, no randomisation):
 *
 *     0x7ffffffff000  stack top; 8 MiB of stack below it
 *     0x7ffff7fff000  top of the mmap area, allocated top-down
 *     ...             mmap area grows down, brk grows up
 *     brk_start       page after the highest loaded segment
 *     0x400000        typical ET_EXEC load address; ET_DYN (static PIE)
 *                     is placed at 0x555555554000, as Linux does without ASLR
 *
 * Nothing here depends on host addresses, the host clock or host
 * randomness: the same program, arguments, environment, files and seed
 * give the same guest-visible state.
 */
#ifndef MACHINE_LINUX_USER_H
#define MACHINE_LINUX_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "sim/rng.h"

struct sim;
struct bus;
struct cpu;
struct elf_image;

#define LINUX_PAGE              4096ULL
#define LINUX_STACK_TOP         0x7ffffffff000ULL
#define LINUX_STACK_SIZE        (8ULL << 20)    /* RLIMIT_STACK default */
#define LINUX_MMAP_TOP          0x7ffff7fff000ULL
#define LINUX_MMAP_FLOOR        0x10000ULL      /* vm.mmap_min_addr */
#define LINUX_DYN_BASE          0x555555554000ULL
#define LINUX_BRK_MAX           (2ULL << 30)    /* heap reservation */
#define LINUX_MAX_FDS           1024            /* RLIMIT_NOFILE soft limit */
#define LINUX_NSIG              64

/* Fixed identities: the guest never sees the host's. */
#define LINUX_PID               1000
#define LINUX_PPID              999
#define LINUX_UID               1000
#define LINUX_GID               1000

enum linux_fd_kind {
	LINUX_FD_FREE = 0,
	LINUX_FD_HOST,          /* passes through to a host descriptor */
	LINUX_FD_RANDOM,        /* /dev/urandom, /dev/random: the seeded stream */
	LINUX_FD_TEXT,          /* a fixed text the runner answers (/sys files) */
};

struct linux_fd {
	enum linux_fd_kind kind;
	int host;               /* LINUX_FD_HOST: the host descriptor */
	bool cloexec;
	bool regular;           /* a regular file: reads may be completed */
	const char *text;       /* LINUX_FD_TEXT: contents (static storage) */
	uint64_t pos;           /* LINUX_FD_TEXT: file position */
};

struct linux_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct linux_proc {
	struct sim *sim;
	struct bus *bus;
	struct cpu *cpu;
	FILE *log;                      /* warnings and --strace (stderr) */
	bool strace;

	char *exe;                      /* absolute path: /proc/self/exe */
	uint64_t load_bias;
	uint64_t entry;

	/* brk: [brk_start, brk) is mapped, backed by brk_host. */
	uint64_t brk_start, brk;
	uint8_t *brk_host;              /* LINUX_BRK_MAX bytes reserved */

	struct linux_fd fds[LINUX_MAX_FDS];
	struct linux_sigaction sigactions[LINUX_NSIG + 1];
	uint64_t sigmask;
	uint64_t altstack[3];           /* ss_sp, ss_flags, ss_size */
	uint64_t clear_child_tid;
	uint64_t rtc_epoch;             /* seconds; CLOCK_REALTIME at sim time 0 */
	struct rng rng_getrandom;
	uint64_t rlimits[16][2];        /* RLIMIT_*: soft, hard */
	char comm[16];                  /* PR_SET_NAME */

	bool exited;
	int exit_status;                /* shell view: 0..255, 128+sig */

	uint64_t warned[8];             /* unknown syscalls already reported */
	uint64_t *syscalls;             /* stats: user.syscalls */
	uint64_t *unknown_syscalls;     /* stats: user.unknown_syscalls */
};

void linux_proc_init(struct linux_proc *p, struct sim *sim, struct bus *bus, struct cpu *cpu);
void linux_proc_free(struct linux_proc *p);

/* Map the image's segments, the stack with argv, envp and auxv, and set
 * the CPU's registers for entry.  exe is the program as named on the
 * command line.  Returns 0, or -1 with one line in err. */
int linux_proc_load(struct linux_proc *p, const struct elf_image *img, const char *exe,
		    int argc, char **argv, char **envp, char *err, size_t errlen);

/* Guest memory, checked: every byte must be mapped with the permission
 * the access needs (BUS_R to read from the guest, BUS_W to write to it).
 * Return 0 or -EFAULT; nothing is copied on failure. */
int user_read(struct linux_proc *p, void *dst, uint64_t src, size_t len);
int user_write(struct linux_proc *p, uint64_t dst, const void *src, size_t len);
bool user_range_ok(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned need);
/* How many bytes from addr on are accessible (0..len): read and write
 * transfer that much, as Linux stops at the first fault. */
uint64_t user_range_prefix(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned need);
/* A NUL-terminated string of at most max bytes including the NUL: its
 * length, -EFAULT or -ENAMETOOLONG. */
long user_read_string(struct linux_proc *p, char *dst, uint64_t src, size_t max);

/* The memory map (used by mmap, munmap, mprotect, mremap, brk).  prot uses
 * Linux PROT_* bits.  Return 0 / an address, or a negative errno. */
int64_t user_mmap_anywhere(struct linux_proc *p, uint64_t hint, uint64_t len, unsigned prot);
int64_t user_map_fixed(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned prot);
int user_unmap(struct linux_proc *p, uint64_t addr, uint64_t len);
int user_protect(struct linux_proc *p, uint64_t addr, uint64_t len, unsigned prot);
bool user_range_free(struct linux_proc *p, uint64_t addr, uint64_t len);
bool user_range_mapped(struct linux_proc *p, uint64_t addr, uint64_t len);
uint64_t user_brk(struct linux_proc *p, uint64_t want);

/* Simulated time since the start of the run, in nanoseconds. */
uint64_t user_now_ns(struct linux_proc *p);

#endif
