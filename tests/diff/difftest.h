/* tests/diff/difftest.h: what the differential CPU test passes around.
 *
 * A case is one short instruction sequence plus the machine state it starts
 * from.  Three runners execute it and each fills a dt_result:
 *
 *     ours     machine/cpu.c on a struct bus        (tests/diff/run_ours.c)
 *     host     the real CPU, in a forked child      (tests/diff/run_host.c)
 *     unicorn  QEMU's TCG through libunicorn        (tests/diff/run_unicorn.c)
 *
 * All three see the same two pages at the same addresses, so memory
 * operands, push/pop and rip-relative addressing agree:
 *
 *     DT_CODE     0x10000000  the sequence, then the runner's exit stub
 *     DT_SCRATCH  0x10001000  data page; the stack lives in its top part
 *     DT_GUARD    0x10002000  never mapped: a deliberate #PF lands here
 *
 * The generator (tests/diff/gen.c) builds cases; tests/diff/difftest.c
 * drives the runners and compares their results.
 */
#ifndef TESTS_DIFF_DIFFTEST_H
#define TESTS_DIFF_DIFFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_CODE         0x10000000ULL
#define DT_SCRATCH      0x10001000ULL
#define DT_GUARD        0x10002000ULL
#define DT_PAGE         4096u
/* Room the generator may fill; the rest of the code page holds exit stubs. */
#define DT_CODE_MAX     1024u
#define DT_MAX_INSNS    64u

/* RFLAGS bits the test sets and compares: the six status flags and DF. */
#define DT_FL_CF        0x0001u
#define DT_FL_PF        0x0004u
#define DT_FL_AF        0x0010u
#define DT_FL_ZF        0x0040u
#define DT_FL_SF        0x0080u
#define DT_FL_DF        0x0400u
#define DT_FL_OF        0x0800u
#define DT_FL_STATUS    (DT_FL_CF | DT_FL_PF | DT_FL_AF | DT_FL_ZF | DT_FL_SF | DT_FL_OF)
#define DT_FL_COMPARED  (DT_FL_STATUS | DT_FL_DF)

/* MXCSR: the six sticky exception flags. */
#define DT_MXCSR_FLAGS  0x003fu

/* No exception: the sequence ran to its end. */
#define DT_VEC_NONE     (-1)
/* The runner gave up (watchdog, runner error): always a mismatch. */
#define DT_VEC_HANG     (-2)
#define DT_VEC_ERROR    (-3)

/* x87, MXCSR and XMM state in the FXSAVE64 layout (SDM vol. 1, 10.5.1),
 * so the host trampoline loads and stores it with one FXRSTOR64/FXSAVE64.
 * st[i] is ST(i) (not the physical register), 80 bits in the low 10 bytes;
 * ftw is the abridged tag byte (bit i set: physical register i valid). */
struct dt_fx {
	uint16_t fcw, fsw;
	uint8_t ftw, rsvd0;
	uint16_t fop;
	uint64_t fip, fdp;
	uint32_t mxcsr, mxcsr_mask;
	uint8_t st[8][16];
	uint8_t xmm[16][16];
	uint8_t rsvd1[96];
};

/* The register file.  The layout is shared with the host trampoline's
 * assembly; run_host.c checks the offsets against offsetof(). */
struct dt_regs {
	uint64_t gpr[16];               /* 0: rax rcx rdx rbx rsp rbp rsi rdi r8..r15 */
	uint64_t rip;                   /* 128 */
	uint64_t rflags;                /* 136 */
	struct dt_fx fx;                /* 144, 16-byte aligned for FXSAVE */
} __attribute__((aligned(16)));
#define DT_OFF_GPR      0
#define DT_OFF_RIP      128
#define DT_OFF_RFLAGS   136
#define DT_OFF_FX       144
#define DT_REGS_SIZE    656

struct dt_case {
	uint8_t code[DT_CODE_MAX];
	uint32_t len;                   /* bytes of code */
	uint32_t ninsns;
	uint16_t insn_off[DT_MAX_INSNS + 1];    /* start of each; [ninsns] = len */
	int16_t insn_form[DT_MAX_INSNS];        /* insn table id, -1 = setup */
	/* RFLAGS bits undefined (Intel SDM) before instruction i, and at the
	 * end ([ninsns]): left undefined by an earlier instruction and not
	 * rewritten since.  The comparison ignores them; a fault compares
	 * against the set before the faulting instruction. */
	uint16_t undef_flags_at[DT_MAX_INSNS + 1];
	/* Same for the x87 status word (C0-C3 after most x87 insns). */
	uint16_t undef_fsw_at[DT_MAX_INSNS + 1];
	/* Scratch bytes whose final value is implementation specific (FXSAVE
	 * and FNSTENV instruction/data pointers and reserved fields). */
	uint8_t scratch_mask[DT_PAGE / 8];
	/* XMM register holding rcp/rsqrt approximations (-1: none): its low
	 * approx_lanes float lanes compare within the SDM's error bound. */
	int8_t approx_xmm;
	uint8_t approx_lanes;
	/* ST(i) (bit i) holding an x87 transcendental's result, whose last
	 * bits differ between implementations: compared within 2^-60. */
	uint8_t approx_st;
	/* Unicorn is known not to model what this case tests (see
	 * docs/difftest.md); its result is not compared. */
	bool uc_skip;
	/* This case is expected to end in this exception (DT_VEC_NONE if not);
	 * informational, the comparison checks what actually happened. */
	int expect_vector;
	struct dt_regs init;
	uint8_t scratch[DT_PAGE];
};

struct dt_result {
	struct dt_regs regs;            /* at the end, or at the faulting insn */
	int vector;                     /* DT_VEC_NONE or the exception vector */
	uint64_t fault_addr;            /* for #PF */
	uint8_t scratch[DT_PAGE];
};

/* Runners.  Each returns 0, or -1 when the runner is unavailable (and says
 * why once on stderr). */
struct dt_host;
struct dt_host *dt_host_open(void);
/* Runs cases [0, n) and fills res[0..n).  Cases and results must live in
 * memory from dt_host_alloc() (shared with the child). */
int dt_host_run(struct dt_host *h, const struct dt_case *cases, struct dt_result *res, size_t n);
/* Start the batch in the child and return at once; dt_host_wait collects. */
int dt_host_start(struct dt_host *h, const struct dt_case *cases, struct dt_result *res, size_t n);
int dt_host_wait(struct dt_host *h);
void *dt_host_alloc(size_t bytes);
void dt_host_free(void *p, size_t bytes);
void dt_host_close(struct dt_host *h);

struct dt_unicorn;
struct dt_unicorn *dt_unicorn_open(void);
void dt_unicorn_run(struct dt_unicorn *u, const struct dt_case *c, struct dt_result *r);
void dt_unicorn_close(struct dt_unicorn *u);

struct dt_ours;
struct dt_ours *dt_ours_open(void);
void dt_ours_run(struct dt_ours *o, const struct dt_case *c, struct dt_result *r);
void dt_ours_close(struct dt_ours *o);

static inline void dt_put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
