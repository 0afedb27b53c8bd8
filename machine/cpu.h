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
 *
 * The state below is plain data: tests and the differential tester set
 * registers, flags (c->rflags is always up to date: flags are computed
 * eagerly), xmm registers and mxcsr directly, run cpu_run(c, 1) to execute
 * exactly one instruction, and compare.  Writing guest memory from outside
 * (bus_dma_write) is seen by the decode cache through bus->code_write.
 *
 * Exceptions in user mode end cpu_run() with CPU_EXIT_EXCEPTION; rip then
 * points at the faulting instruction (faults) or after it (int3, int n),
 * exc_vector/exc_error/cr2 describe it, and no architectural state of the
 * faulting instruction has been committed except completed iterations of a
 * rep string instruction (as on hardware).
 *
 * User-mode specifics (what a Linux user process sees on hardware):
 *   syscall      loads rcx = next rip and r11 = rflags, then ends the run
 *                with CPU_EXIT_SYSCALL (rip past the syscall);
 *   int3, int n  traps: CPU_EXIT_EXCEPTION with exc_vector 3 or n and rip
 *                past the instruction (the instruction retired);
 *   hlt, cli/sti, in/out   #GP(0) at CPL 3 (IOPL 0); hlt at CPL 0 ends
 *                the run with CPU_EXIT_HALT;
 *   SSE          an exception MXCSR leaves unmasked raises #XM (19);
 *   x87          a pending unmasked exception raises #MF (16) on the next
 *                waiting x87 instruction (CR0.NE = 1).
 *   non-canonical  #SS(0) (12) through the stack segment (push, pop, call,
 *                ret, enter, leave, an operand based on rsp/rbp without an
 *                fs/gs override), #GP(0) (13) otherwise.
 * The feature set cpuid reports is tabulated in machine/cpuid.c.
 *
 * Time: every retired instruction advances sim->now by ps_per_insn and
 * sim->insns by one; a rep string instruction retires once per chunk of at
 * most CPU_REP_CHUNK iterations, so a huge rcx cannot stall the event loop.
 * rdtsc reads sim->now converted at tsc_hz.
 */
#ifndef MACHINE_CPU_H
#define MACHINE_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

struct sim;
struct bus;
struct insn;
struct code_page;

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
	CPU_EXIT_TRIPLE_FAULT,  /* system mode: shutdown (machine/cpu_sys.h) */
};

/* Exception vectors the interpreter raises. */
enum {
	CPU_EXC_DE = 0, CPU_EXC_DB = 1, CPU_EXC_BP = 3, CPU_EXC_UD = 6,
	CPU_EXC_NM = 7, CPU_EXC_SS = 12, CPU_EXC_GP = 13, CPU_EXC_PF = 14, CPU_EXC_MF = 16,
	CPU_EXC_AC = 17, CPU_EXC_MC = 18, CPU_EXC_XM = 19,
};

/* #PF error code bits (SDM vol. 3, 4.7). */
enum {
	CPU_PF_P = 1,           /* protection violation (0: not present) */
	CPU_PF_W = 2,           /* write access */
	CPU_PF_U = 4,           /* CPL 3 */
	CPU_PF_I = 16,          /* instruction fetch */
};

/* Persistence and ordering hooks, for the memory-ordering / persistence
 * model of a later issue.  All optional (NULL pointer = nothing to call):
 *
 *   flush(ctx, pa, kind)  clflush/clflushopt/clwb of the line holding the
 *                         physical address pa (after translation), kind is
 *                         enum cpu_flush_kind;
 *   fence(ctx, kind)      sfence/lfence/mfence, each locked instruction
 *                         (after its store), each serializing instruction
 *                         (cpuid), and each in/out (before the access);
 *   ntstore(ctx, pa, len) a non-temporal store (movnti, movntps/pd/dq,
 *                         maskmovdqu) of len bytes at pa, after it landed.
 */
enum cpu_flush_kind { CPU_FLUSH_CLFLUSH, CPU_FLUSH_CLFLUSHOPT, CPU_FLUSH_CLWB };
enum cpu_fence_kind {
	CPU_FENCE_SFENCE, CPU_FENCE_LFENCE, CPU_FENCE_MFENCE,
	CPU_FENCE_LOCKED, CPU_FENCE_SERIALIZE, CPU_FENCE_IO,
};
struct cpu_mem_hooks {
	void (*flush)(void *ctx, uint64_t pa, int kind);
	void (*fence)(void *ctx, int kind);
	void (*ntstore)(void *ctx, uint64_t pa, unsigned len);
	void *ctx;
	/* wbinvd: every cached line written back, then serialized (NULL:
	 * treated as a serializing fence). */
	void (*writeback_all)(void *ctx);
};

/* x87 state.  st[] are the physical registers R0..R7 (ST(i) is
 * st[(top + i) & 7]); tag_empty has bit r set when Rr is empty.  The
 * status word is kept without TOP, which lives in `top` (use
 * x87_status_word() for the architectural value). */
struct cpu_x87 {
	long double st[8];
	uint16_t cw, sw;
	uint8_t top;
	uint8_t tag_empty;
	/* The last non-control x87 instruction (fnstenv/fnsave/fxsave). */
	uint16_t fop;           /* opcode bits 10:0 */
	uint16_t fcs, fds;      /* code and data selectors */
	uint64_t fip, fdp;      /* its address and its memory operand's */
};

/* Software TLB: linear page -> host pointer, with the access kinds the
 * fast path may use (BUS_R/W/X).  A store-hooked or code-holding page is
 * never writable here, so such stores reach the slow path. */
#define CPU_TLB_SIZE 256
struct cpu_tlb_entry {
	uint64_t page;          /* linear address >> 12, or ~0 */
	uint8_t *host;          /* host address of the page */
	uint64_t ppage;         /* physical page (for the timing model) */
	uint8_t pshift;         /* log2 of the page size that mapped it (TLB model) */
	unsigned perm;          /* BUS_R | BUS_W | BUS_X allowed on the fast path */
};

#define CPU_REP_CHUNK 65536

struct cpu {
	/* Architectural state. */
	uint64_t gpr[16];
	uint64_t rip;
	uint64_t rflags;        /* always exact; bit 1 always set */
	uint64_t fs_base, gs_base;
	union {
		uint8_t xmm[16][16];
		uint64_t xmm_q[16][2];
		uint32_t xmm_d[16][4];
	};
	uint32_t mxcsr;
	struct cpu_x87 x87;
	uint64_t cr0, cr3, cr4, efer;
	uint8_t cpl;            /* current privilege level */
	uint32_t tsc_aux;       /* rdtscp's ecx */

	/* Last exception (CPU_EXIT_EXCEPTION). */
	uint8_t exc_vector;
	uint32_t exc_error;
	uint64_t cr2;

	/* Time. */
	uint64_t cycles;        /* instructions retired by this CPU (1 cycle each) */
	uint64_t ps_per_insn;   /* simulated time per instruction */
	uint64_t tsc_hz;        /* rdtsc frequency */

	const struct cpu_mem_hooks *hooks;      /* NULL: none */
	/* Approximate timing (machine/cpu_timing.h), NULL in fast mode.  A
	 * slice of cpu_run() then also ends when sim->now reaches deadline. */
	struct cpu_timing *timing;
	uint64_t deadline;
	bool cur_nt;                    /* executing a non-temporal store */
	/* Instruction trace (sim/insn_trace.c): called before each
	 * instruction executes; NULL when off. */
	void (*insn_hook)(void *ctx, struct cpu *c, uint64_t rip, unsigned len);
	void *insn_hook_ctx;

	struct sim *sim;
	struct bus *bus;
	/* System state (machine/cpu_sys.h); NULL for a user-mode CPU. */
	struct cpu_sys *sys;

	/* Interpreter internals (machine/cpu.c). */
	uint64_t bus_generation;        /* bus map the caches were filled from */
	struct cpu_tlb_entry tlb[CPU_TLB_SIZE];
	struct insn **dcache;           /* decoded instructions by rip, chained */
	size_t dcache_buckets, dcache_count;
	struct code_page **cpages;      /* pages holding decoded code, chained */
	size_t cpage_buckets, cpage_count;
	uint16_t form_first[4][256];    /* decoder index: first candidate form */
	uint8_t form_count[4][256];     /* ... and how many */
	uint16_t *form_order;           /* form ids sorted by (map, opcode) */
	uint8_t *form_class;            /* timing class by form id */
	struct insn *dead;              /* invalidated while maybe executing */
	uint64_t next_rip;              /* rip after the executing instruction */
	uint64_t budget;                /* instructions left in this cpu_run */
	enum cpu_exit exit;             /* set by handlers to end the run */
	volatile bool exit_request;     /* cpu_request_exit() */
	bool debug;                     /* system mode: call cpu_debug_after() */
	bool stack_acc;                 /* an implicit stack access is on the slow path */
	jmp_buf fault;                  /* exceptions unwind to cpu_run */
	uint64_t *stat_insns, *stat_decoded, *stat_smc, *stat_exc;
};

struct cpu *cpu_new(struct sim *sim, struct bus *bus);
void cpu_free(struct cpu *c);
/* Flat 64-bit user mode: CPL 3, paging off, SSE on, x87 and MXCSR at
 * their reset values (FCW 0x37F, MXCSR 0x1F80), rflags 0x202. */
void cpu_set_mode_user64(struct cpu *c);
/* Execute at most budget instructions. */
enum cpu_exit cpu_run(struct cpu *c, uint64_t budget);
/* Make a running cpu_run() return CPU_EXIT_STOP after the current insn. */
void cpu_request_exit(struct cpu *c);
const char *cpu_exit_name(enum cpu_exit why);

/* rflags accessors (rflags is eager, these exist for symmetry with a lazy
 * implementation and mask reserved bits). */
uint64_t cpu_get_rflags(const struct cpu *c);
void cpu_set_rflags(struct cpu *c, uint64_t v);

/* Drop every cached translation and decoded instruction. */
void cpu_flush_caches(struct cpu *c);

/* The architectural x87 status word (with TOP) and tag word (2 bits/reg). */
uint16_t x87_status_word(const struct cpu *c);
uint16_t x87_tag_word(const struct cpu *c);

/* CPUID as this CPU answers it (machine/cpuid.c). */
void cpu_cpuid(const struct cpu *c, uint32_t leaf, uint32_t subleaf,
	       uint32_t out[4]);

#endif
