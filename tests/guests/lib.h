/* tests/guests/lib.h: what the test kernels share (lib.c, boot.S).
 *
 * A test kernel defines tk_main(); it prints to COM1 with tk_printf and
 * returns 0 (pass) or nonzero.  tk_start() then writes the result to
 * isa-debug-exit: status (r << 1) | 1 under QEMU and phantom-sim alike.
 * Output must be identical under both (the shell test compares it), so
 * tests print only what the architecture defines, never timings.
 *
 * Expected exceptions: tk_expect(v) arms the trap handler; the faulting
 * instruction sits in a TK_TRY block, whose end label is where the
 * handler resumes.  The handler records vector, error code and CR2.
 *
 *     tk_expect(14);
 *     TK_TRY("movb $1, (%0)", : "r"(ro_page));
 *     tk_check_exc(14, 0x3, ro_page);    // #PF, P|W
 */
#ifndef TESTS_GUESTS_LIB_H
#define TESTS_GUESTS_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tk_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

typedef void tk_handler(struct tk_frame *f);

extern uint64_t tk_gdt[];
extern uint64_t tk_pml4[], tk_pdpt[], tk_pd[];
extern volatile uint64_t tk_resume;     /* where an expected fault resumes */
extern volatile int tk_got_vector;
extern volatile uint64_t tk_got_error, tk_got_cr2, tk_got_rip, tk_got_cs;
extern int tk_failures;

int tk_main(const char *cmdline);

void tk_putc(char c);
void tk_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tk_set_handler(int vector, tk_handler *h);
/* Gate type 0xE (interrupt) or 0xF (trap), DPL, IST index. */
void tk_set_gate(int vector, unsigned type, unsigned dpl, unsigned ist);
void tk_set_gate_present(int vector, bool present);
void tk_expect(int vector);
/* Compare the last trap with what was expected; prints and counts. */
void tk_check_exc(const char *what, int vector, uint64_t error);
void tk_check(const char *what, bool ok);
/* A check of SDM behaviour QEMU 7.2 is known to get wrong
 * (docs/machine.md): the line starts "SDM " and is left out of the QEMU
 * comparison; a failure counts only under phantom-sim. */
void tk_sdm(const char *what, bool ok);
bool tk_on_phantom(void);       /* the trace port answers "PHNT" */
void tk_exit(uint32_t code) __attribute__((noreturn));
uint64_t tk_tss_set_rsp0(uint64_t rsp0);
void tk_tss_set_ist(int n, uint64_t rsp);
void *tk_page_alloc(void);      /* a zeroed 4 KiB page from a static pool */

/* The faulting instruction(s), then the resume point.  The optional
 * operands start after the first colon: TK_TRY("movb $1, (%0)", : "r"(p)),
 * TK_TRY("rdmsr", : "c"(msr) : "rax", "rdx"). */
#define TK_TRY(insn, ...) \
	__asm__ volatile("movq $1f, tk_resume(%%rip)\n\t" insn "\n1:\n" : __VA_ARGS__)

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline uint32_t inl(uint16_t port) { uint32_t v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }
static inline void write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" :: "r"(v) : "memory"); }
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return lo | (uint64_t)hi << 32;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline void invlpg(const volatile void *p) { __asm__ volatile("invlpg (%0)" :: "r"(p) : "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline uint64_t read_rflags(void) { uint64_t v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
void *tk_memset(void *d, int c, size_t n);
void *tk_memcpy(void *d, const void *s, size_t n);

#endif
