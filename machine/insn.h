/* machine/insn.h: the instruction table as data.
 *
 * Every instruction form the CPU implements is listed exactly once, in
 * machine/insn.def (which includes machine/insn_sys.def, the system
 * instructions, all INSN_NOTEST).  The decoder and the interpreter's dispatch are derived
 * from that table, and so are the differential test generator
 * (tests/diff/) and any disassembly cross-check: they iterate the forms
 * through insn_forms() and never need to know how the CPU is built.
 *
 * Encoding a random instance of a form f (64-bit mode):
 *
 *     [mandatory prefix f->mprefix: 66/F3/F2]   (MP_66/MP_F3/MP_F2)
 *     [66 if operand size 16 and f->osz allows OS_16]
 *     [REX: W=1 if operand size 64 (OS_64), R/X/B free]
 *     0F / 0F 38 / 0F 3A  according to f->map
 *     f->opcode  (+ register number 0..7 when f->attr & INSN_OPREG)
 *     ModRM if f->modrm != MR_NONE:
 *         reg field = f->reg if f->reg >= 0, else any
 *         mod = 3 (register) only if f->modrm is MR_ANY or MR_REG;
 *         mod = 0..2 (memory, SIB/disp as usual) only if MR_ANY or MR_MEM;
 *         rm field = f->rm if f->rm >= 0 (then mod is 3)
 *     immediate of insn_imm_size(f, operand size) bytes
 *
 * The mandatory prefix of SSE forms comes before REX, like any legacy
 * prefix.  f->osz == 0 means "no operand-size choice" (SSE, x87, and the
 * like): emit neither 66 nor REX.W unless they are the mandatory prefix.
 *
 * Results and flags: bits in f->flags_undef are architecturally undefined
 * after the instruction and must be masked out when comparing with another
 * implementation.  Forms with INSN_UNDEF_RESULT can also leave an undefined
 * destination for some inputs (bsf/bsr of zero, shld/shrd of 16-bit
 * operands by more than 16); see the comment on that flag.
 */
#ifndef MACHINE_INSN_H
#define MACHINE_INSN_H

#include <stddef.h>
#include <stdint.h>

/* Opcode maps. */
enum insn_map {
	MAP_1B = 0,     /* one-byte opcodes */
	MAP_0F = 1,     /* 0F xx */
	MAP_0F38 = 2,   /* 0F 38 xx */
	MAP_0F3A = 3,   /* 0F 3A xx */
};

/* Mandatory (opcode-selecting) prefix. */
enum insn_mprefix {
	MP_ANY = 0,     /* 66 is the operand-size prefix, F2/F3 are rep or ignored */
	MP_NONE = 1,    /* no F2/F3; 66 only as operand size (forms with OS_16),
			 * otherwise 66 selects another form (SSE "ps" forms) */
	MP_66 = 2,
	MP_F3 = 3,
	MP_F2 = 4,
};

/* Whether a ModRM byte follows and which mod values are allowed. */
enum insn_modrm {
	MR_NONE = 0,
	MR_ANY = 1,     /* register or memory operand */
	MR_MEM = 2,     /* memory only (mod != 3) */
	MR_REG = 3,     /* register only (mod == 3) */
};

/* Operand sizes a form accepts (bit set). */
enum {
	OS_8 = 1, OS_16 = 2, OS_32 = 4, OS_64 = 8,
	OS_V = OS_16 | OS_32 | OS_64,
	OS_DQ = OS_32 | OS_64,
};

/* Immediate kinds. */
enum insn_imm {
	IMM_NONE = 0,
	IMM_8,          /* 1 byte (imm8 or rel8) */
	IMM_16,         /* 2 bytes */
	IMM_Z,          /* 2 bytes at operand size 16, else 4 (sign-extended to 64) */
	IMM_V,          /* 2/4/8 bytes by operand size (mov r64, imm64) */
	IMM_16_8,       /* enter: imm16 then imm8 */
	IMM_32,         /* always 4 bytes (rel32 of call/jmp/jcc) */
	IMM_MOFFS,      /* mov moffs: an address of 8 bytes, 4 with 67 (zero-extended) */
	IMM_FARPTR,     /* ptr16:16/32 (jmp/call far, 32-bit code): offset in imm, selector in disp */
};

/* Attributes. */
enum {
	INSN_OPREG = 1 << 0,    /* opcode + register (50+r, B8+r, ...) */
	INSN_LOCK = 1 << 1,     /* lock prefix allowed (with a memory destination) */
	INSN_REP = 1 << 2,      /* rep/repe/repne prefix meaningful */
	INSN_NOTEST = 1 << 3,   /* keep out of random tests: control flow, syscall, hlt, cpuid, rdtsc, I/O, ... */
	INSN_STACK = 1 << 4,    /* reads or writes memory at rsp */
	INSN_STRING = 1 << 5,   /* implicit memory at rsi/rdi */
	INSN_D64 = 1 << 6,      /* operand size defaults to 64 (push, pop, ...) */
	INSN_UNDEF_RESULT = 1 << 7, /* destination undefined for some inputs */
	INSN_X87 = 1 << 8,      /* x87 instruction (D8-DF) */
	INSN_SSE = 1 << 9,      /* SSE/SSE2 instruction (xmm registers) */
	INSN_BRANCH = 1 << 10,  /* changes rip other than falling through */
	INSN_MEMHOOK = 1 << 11, /* calls struct cpu_mem_hooks (fences, flushes, NT stores) */
	INSN_MXCSR = 1 << 12,   /* result depends on / updates MXCSR */
	INSN_XMM_RM = 1 << 13,  /* the ModRM.rm register operand is an xmm register */
	INSN_XMM_REG = 1 << 14, /* the ModRM.reg operand is an xmm register */
	INSN_ALIGN16 = 1 << 15, /* memory operand must be 16-byte aligned (#GP) */
	INSN_NO64 = 1 << 16,    /* only outside 64-bit mode (32-bit code, machine/cpu_sys.h) */
};

/* RFLAGS bits, used in flags_def/flags_undef. */
enum {
	FL_CF = 1 << 0, FL_PF = 1 << 2, FL_AF = 1 << 4, FL_ZF = 1 << 6,
	FL_SF = 1 << 7, FL_TF = 1 << 8, FL_IF = 1 << 9, FL_DF = 1 << 10,
	FL_OF = 1 << 11, FL_NT = 1 << 14, FL_AC = 1 << 18, FL_ID = 1 << 21,
	FL_ARITH = FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF,
};

struct insn_form {
	const char *mnemonic;   /* Intel mnemonic, lower case (as Capstone prints) */
	const char *operands;   /* SDM-style operand summary, e.g. "Ev,Gv" */
	uint8_t map;            /* enum insn_map */
	uint8_t opcode;         /* last opcode byte (base, for INSN_OPREG) */
	uint8_t mprefix;        /* enum insn_mprefix */
	uint8_t modrm;          /* enum insn_modrm */
	int8_t reg;             /* ModRM.reg /digit, or -1 */
	int8_t rm;              /* ModRM.rm with mod == 3, or -1 */
	uint8_t osz;            /* OS_* set; 0 = not applicable */
	uint8_t imm;            /* enum insn_imm */
	uint32_t attr;          /* INSN_* */
	uint32_t flags_def;     /* RFLAGS bits written with defined values */
	uint32_t flags_undef;   /* RFLAGS bits left undefined */
	uint16_t id;            /* index of this form in the table */
};

/* The whole table, in insn.def order; *n receives its length. */
const struct insn_form *insn_forms(size_t *n);

/* Immediate size in bytes of form f at operand size osize (1, 2, 4, 8). */
unsigned insn_imm_size(const struct insn_form *f, unsigned osize);

#endif
