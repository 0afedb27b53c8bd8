/* machine/cpu_sys.h: the system half of the amd64 CPU.
 *
 * The user-level interpreter (machine/cpu.c and the instruction files)
 * runs flat 64-bit code at CPL 3 with paging off.  A CPU that boots
 * kernels also has segment registers with descriptor caches, descriptor
 * tables, control registers, MSRs, paging, and exception and interrupt
 * delivery through the IDT.  That state lives in struct cpu_sys, reached
 * through c->sys, which is NULL for a user-mode CPU: every system path in
 * the shared files starts with `if (c->sys)`, so the user-mode runner
 * behaves exactly as before.
 *
 *     struct cpu *c = cpu_new(&sim, &bus);
 *     cpu_sys_enable(c, &pc.intc, &pc.lapic);   // reset state, system mode
 *     cpu_sys_boot(c, &entry);                  // a Multiboot loader's state
 *     for (;;) {
 *         cpu_sys_interrupts(c);                // at a boundary: NMI, INTR
 *         enum cpu_exit why = cpu_run(c, budget);
 *         ...                                   // HALT, TRIPLE_FAULT, STOP
 *     }
 *
 * Memory: with CR0.PG = 1 every linear address goes through
 * paging_walk() (machine/paging.c), and the CPU's software TLB caches the
 * result per 4 KiB page with the access kinds the walk allowed; a store
 * is cached only once the walk has set the dirty bit, so A/D bits are
 * exact.  The TLB holds translations for the current CPL only and is
 * flushed on every CPL change, CR3 write, INVLPG (one page) and change of
 * CR0.PG/WP/PE, CR4.PSE/PAE/PGE or EFER.NXE.  Decoded
 * instructions are keyed by linear address and their code pages by
 * physical page, so self-modifying code through any alias is seen; a CR3
 * write, or an INVLPG of a page that held code, drops the decode cache.
 *
 * Faults in system mode do not end cpu_run(): the setjmp in cpu_run()
 * calls cpu_sys_exception(), which delivers the exception through the IDT
 * (Intel SDM Vol. 3A ch. 6), escalating to #DF per Table 6-5 and to a
 * triple fault (CPU_EXIT_TRIPLE_FAULT) when #DF itself cannot be
 * delivered.
 *
 * Debug exceptions (machine/debug.c), alignment checks (#AC, in the slow
 * paths of cpu_sys.c) and machine checks from poisoned memory
 * (machine/mce.c) keep the fast path as it is: the pages concerned, or
 * all pages while #AC checking is on, stay out of the software TLB, and
 * run_loop calls cpu_debug_after() only while c->debug is set.
 *
 * Modes: 64-bit mode, and 32-bit code in protected mode (flat segments:
 * bases other than FS/GS and limits are not applied) or compatibility
 * mode: the decoder follows c->sys->code32 (no REX, 32-bit operands and
 * addresses, INSN_NO64 forms), the 32-bit forms of near branches are
 * remapped by cpu_sys_decoded(), and 32-bit IDT gates deliver.  The
 * decode cache is dropped whenever code32 changes.  Not modelled: real
 * and virtual-8086 mode, 16-bit code and addressing, task switches.
 */
#ifndef MACHINE_CPU_SYS_H
#define MACHINE_CPU_SYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cpu;
struct insn;
struct intc;
struct lapic;
struct boot_entry;

/* Physical address width (CPUID 0x80000008 in system mode, the page
 * walker's reserved-bit checks, the APIC_BASE MSR): 46 bits, as the Xeon
 * Scalable parts of the Optane platform report, so a machine with 1.5 TB
 * of PM above 64 GiB of DRAM can address all of it.  (QEMU's TCG default
 * is 40; no cross-checked test depends on the width.) */
#define CPU_SYS_PHYS_BITS 46

/* Segment registers, in the ModRM.reg order of mov Sreg. */
enum { SR_ES, SR_CS, SR_SS, SR_DS, SR_FS, SR_GS, SR_COUNT };

/* A segment register with its descriptor cache.  attr holds bits 8-15
 * and 20-23 of the descriptor's high dword, as attr = high >> 8 & 0xF0FF:
 * type (0-3), S (4), DPL (5-6), P (7), AVL (12), L (13), D/B (14), G (15). */
struct seg {
	uint16_t sel;
	uint64_t base;
	uint32_t limit;
	uint16_t attr;
};

#define SEG_ATTR_S   (1u << 4)
#define SEG_ATTR_P   (1u << 7)
#define SEG_ATTR_L   (1u << 13)
#define SEG_ATTR_DB  (1u << 14)
#define SEG_ATTR_G   (1u << 15)
#define SEG_DPL(a)   (((a) >> 5) & 3u)

/* Control-register and EFER bits (SDM Vol. 3A 2.5, 2.2.1). */
#define CR0_PE  (1ull << 0)
#define CR0_MP  (1ull << 1)
#define CR0_EM  (1ull << 2)
#define CR0_TS  (1ull << 3)
#define CR0_ET  (1ull << 4)
#define CR0_NE  (1ull << 5)
#define CR0_AM  (1ull << 18)
#define CR0_NW  (1ull << 29)
#define CR0_CD  (1ull << 30)
#define CR4_DE  (1ull << 3)
#define CR4_MCE (1ull << 6)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)

/* MSR numbers. */
enum {
	MSR_TSC = 0x10,
	MSR_APIC_BASE = 0x1B,
	MSR_FEATURE_CONTROL = 0x3A,
	MSR_TSC_ADJUST = 0x3B,
	MSR_MTRRCAP = 0xFE,
	MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
	MSR_MCG_CAP = 0x179, MSR_MCG_STATUS = 0x17A, MSR_MCG_CTL = 0x17B,
	MSR_MISC_ENABLE = 0x1A0,
	MSR_MISC_FEATURE_CONTROL = 0x1A4,       /* prefetcher disables */
	MSR_PAT = 0x277,
	MSR_MTRR_DEF_TYPE = 0x2FF,
	MSR_MC0_CTL = 0x400, MSR_MC0_STATUS = 0x401, MSR_MC0_ADDR = 0x402, MSR_MC0_MISC = 0x403,
	MSR_EFER = 0xC0000080u, MSR_STAR = 0xC0000081u, MSR_LSTAR = 0xC0000082u,
	MSR_CSTAR = 0xC0000083u, MSR_FMASK = 0xC0000084u,
	MSR_FS_BASE = 0xC0000100u, MSR_GS_BASE = 0xC0000101u,
	MSR_KERNEL_GS_BASE = 0xC0000102u, MSR_TSC_AUX = 0xC0000103u,
};

struct cpu_sys {
	struct seg seg[SR_COUNT];       /* FS/GS bases also in c->fs_base/gs_base */
	struct seg ldtr, tr;
	uint64_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit;
	uint64_t dr[8];
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	uint64_t pat, misc_enable, mtrr_def_type, tsc_offset;
	uint64_t misc_feature;          /* MSR 0x1A4: bits 0-3 turn prefetchers off */
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;

	struct intc *intc;              /* NULL: no interrupt controller */
	struct lapic *lapic;            /* NULL: no APIC (CR8 reads 0) */

	bool code32;                    /* executing 32-bit code: !(EFER.LMA && CS.L) */
	bool shadow;                    /* STI / MOV SS interrupt shadow */
	bool nmi_blocked;               /* from NMI delivery to the next IRET */
	bool halted;                    /* in HLT, waiting for an interrupt */

	/* Exception delivery in progress (SDM Table 6-5): the vector being
	 * delivered (-1: none), whether it is external (EXT bit), and the
	 * state to restore if delivery faults. */
	int delivering;
	bool deliver_ext;
	uint8_t saved_cpl;
	uint64_t saved_rsp;
	struct seg saved_cs, saved_ss;

	/* Debug exceptions (machine/debug.c, SDM Vol. 3 ch. 17).  c->debug
	 * asks run_loop to call cpu_debug_after() after each instruction
	 * while any of this can matter. */
	bool step;                      /* TF was 1 when the current insn began */
	bool db_shadow;                 /* MOV SS / POP SS: #DB traps wait an insn */
	bool rf_keep;                   /* IRET loaded RF = 1: keep it one boundary */
	uint8_t db_hits;                /* data breakpoints hit (B0-B3) by this insn */
	uint32_t db_pending;            /* DR6 B0-B3/BS of traps held by db_shadow */
	uint8_t bp_exec, bp_data;       /* enabled breakpoints by kind: bit n = DRn */

	/* Machine checks (machine/mce.c, SDM Vol. 3 ch. 15): poisoned
	 * physical 64-byte lines (sorted, kept across reset) and bank 0. */
	uint64_t *poison;
	size_t npoison;
	uint64_t mcg_status, mc0_ctl, mc0_status, mc0_addr, mc0_misc;
	bool mc_shutdown;               /* the #MC being raised is a shutdown */

	/* Linear pages that held decoded code (a 4096-bit filter), so INVLPG
	 * of a data page keeps the decode cache. */
	uint64_t code_lin[64];

	uint64_t *st_interrupts, *st_exceptions, *st_tlb_flushes, *st_walks,
		 *st_double_faults, *st_triple_faults;
};

/* Give c system state in its power-on condition (real mode is not
 * modelled: CS is a flat 32-bit code segment, paging off, CPL 0). */
int cpu_sys_enable(struct cpu *c, struct intc *intc, struct lapic *lapic);
void cpu_sys_free(struct cpu *c);
/* Power-on reset of the architectural state (keeps intc/lapic). */
void cpu_sys_reset(struct cpu *c);
/* The state a Multiboot loader hands over (machine/multiboot.h). */
void cpu_sys_boot(struct cpu *c, const struct boot_entry *b);

/* At an instruction boundary: deliver a pending NMI or (IF = 1, no
 * shadow) external interrupt.  Returns true if one was delivered (a HLT
 * ends).  May end in a triple fault (c->exit). */
bool cpu_sys_interrupts(struct cpu *c);
/* Would an interrupt be taken now (ends HLT)? */
bool cpu_sys_wakeup_pending(struct cpu *c);

/* Hooks from the shared interpreter files. */
void cpu_sys_exception(struct cpu *c);          /* cpu_run's fault path */
void cpu_sys_softint(struct cpu *c, unsigned vector, bool int3);
void cpu_sys_int1(struct cpu *c);                /* INT1 / ICEBP */
void cpu_sys_syscall(struct cpu *c);
void cpu_sys_if_raised(struct cpu *c);          /* popf/iret/sysret set IF */
void cpu_sys_sti(struct cpu *c, bool was_if);
/* A freshly decoded instruction: SSE/x87 forms fault under CR0.TS/EM. */
void cpu_sys_decoded(struct cpu *c, struct insn *d);
/* Does the physical page hold decoded instructions? (machine/cpu.c) */
bool cpu_code_page(const struct cpu *c, uint64_t page);
uint16_t cpu_sys_selector(const struct cpu *c, unsigned sreg);
uint64_t cpu_sys_code_page(struct cpu *c, uint64_t la);  /* physical page of code */
/* Memory slow paths with paging (machine/cpu.c calls these when c->sys). */
uint8_t cpu_sys_fetch_slow(struct cpu *c, uint64_t la);
uint64_t cpu_sys_read_slow(struct cpu *c, uint64_t la, unsigned size);
void cpu_sys_write_slow(struct cpu *c, uint64_t la, unsigned size, uint64_t v);
void cpu_sys_check(struct cpu *c, uint64_t la, unsigned len, unsigned acc);
uint64_t cpu_sys_phys(struct cpu *c, uint64_t la);

/* MSRs: 0, or -1 for #GP (unknown MSR, reserved bits, non-canonical). */
int cpu_sys_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v);
int cpu_sys_wrmsr(struct cpu *c, uint32_t msr, uint64_t v);
/* Control registers: 0, or -1 for #GP. */
int cpu_sys_write_cr(struct cpu *c, unsigned n, uint64_t v);
uint64_t cpu_sys_read_cr(struct cpu *c, unsigned n);

/* Debug exceptions (machine/debug.c). */
/* run_loop, after each retired instruction while c->debug: deliver the
 * #DB traps the instruction earned (single-step, data breakpoints), clear
 * RF, and fault on an instruction breakpoint at the next rip. */
void cpu_debug_after(struct cpu *c);
/* TF, RF or AC may have gone from 0 to 1 (popf, iret, sysret). */
void cpu_sys_flags_raised(struct cpu *c, uint64_t old_rflags);
/* An event was delivered: TF and RF are now 0 and the handler's first
 * instruction may hold an instruction breakpoint. */
void cpu_debug_delivered(struct cpu *c);
/* MOV SS / POP SS: hold #DB traps for one more instruction. */
void cpu_debug_ss_shadow(struct cpu *c);
/* Does the linear page hold an enabled data breakpoint? */
bool cpu_debug_data_page(const struct cpu *c, uint64_t lpg);
/* A data access at la: note the data breakpoints it hits. */
void cpu_debug_data(struct cpu *c, uint64_t la, unsigned len, bool write);
/* Reset the debug state (DR6/DR7 at their power-on values). */
void cpu_debug_reset(struct cpu *c);

/* Machine checks from poisoned memory (machine/mce.c). */
/* The physical addresses whose 64-byte lines are poisoned (copied). */
int cpu_sys_set_poison(struct cpu *c, const uint64_t *pa, size_t n);
/* Does the physical page hold a poisoned line? */
bool cpu_mce_page(const struct cpu *c, uint64_t ppage);
/* A load or fetch of [pa, pa+len): #MC if it touches a poisoned line. */
void cpu_mce_check(struct cpu *c, uint64_t pa, unsigned len, bool fetch);
/* Bank 0 and MCG MSRs: 0, 1 not an MCA MSR, or -1 for #GP. */
int cpu_mce_rdmsr(struct cpu *c, uint32_t msr, uint64_t *v);
int cpu_mce_wrmsr(struct cpu *c, uint32_t msr, uint64_t v);

/* Is the CPU executing 64-bit code (EFER.LMA and CS.L)? */
bool cpu_sys_long64(const struct cpu *c);
/* Drop every TLB entry (not the decode cache). */
void cpu_sys_tlb_flush(struct cpu *c);

#endif
