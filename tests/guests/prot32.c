/* tests/guests/prot32.c: a 32-bit protected-mode Multiboot kernel (ELF32,
 * never entering long mode): 32-bit IDT gates and iretd, exceptions and
 * their error codes, PIT interrupts, 32-bit paging with 4 MiB and 4 KiB
 * pages and #PF, CPL 3 through iretd and back through int 0x80 (the stack
 * switch of the 32-bit TSS), pusha/popa, inc/dec, push/pop of segment
 * registers, far jmp/call ptr16:32.  Built with gcc -m32; runs under
 * phantom-sim boot and QEMU with the same output. */
#include <stdbool.h>
#include <stdint.h>

__asm__(
	".section .multiboot, \"a\"\n"
	".align 4\n"
	".long 0x1BADB002, 0x00000003, -(0x1BADB002 + 0x00000003)\n"
	".text\n"
	".globl _start\n"
	"_start:\n"
	"	cli\n"
	"	movl $stack_top, %esp\n"
	"	lgdt gdt_ptr\n"
	"	ljmp $0x08, $1f\n"
	"1:	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movw %ax, %ss\n"
	"	movw %ax, %fs\n"
	"	movw %ax, %gs\n"
	"	call kmain\n"
	"2:	cli; hlt; jmp 2b\n"
	/* stubs: error code or 0, vector, pusha, call trap(frame), popa, iret */
	".macro stub v\n"
	"isr_\\v:\n"
	"	.if !((\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17))\n"
	"	pushl $0\n"
	"	.endif\n"
	"	pushl $\\v\n"
	"	jmp isr_common\n"
	".endm\n"
	".altmacro\n"
	".macro stubs from, to\n"
	"	stub \\from\n"
	"	.if \\to-\\from\n"
	"	stubs %(\\from+1), \\to\n"
	"	.endif\n"
	".endm\n"
	"	stubs 0, 47\n"
	"	stub 128\n"
	"isr_common:\n"
	"	pusha\n"
	"	pushl %ds\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	pushl %esp\n"
	"	call trap\n"
	"	addl $4, %esp\n"
	"	popl %eax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	popa\n"
	"	addl $8, %esp\n"
	"	iret\n"
	".macro entry v\n"
	"	.long isr_\\v\n"
	".endm\n"
	".macro entries from, to\n"
	"	entry \\from\n"
	"	.if \\to-\\from\n"
	"	entries %(\\from+1), \\to\n"
	"	.endif\n"
	".endm\n"
	".section .rodata\n"
	"isr_table:\n"
	"	entries 0, 47\n"
	"	entry 128\n"
	".text\n");

void enter_user(uint32_t eip, uint32_t esp);
void user_exit(void);

struct frame {
	uint32_t ds, edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	uint32_t vector, error, eip, cs, eflags, esp, ss;       /* esp, ss: from CPL 3 only */
};

struct tss32 {
	uint32_t link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags;
	uint32_t regs[8], es, cs, ss, ds, fs, gs, ldt;
	uint16_t trap, iomap;
} __attribute__((packed));

extern const uint32_t isr_table[49];
uint8_t stack[16384] __attribute__((aligned(16)));
__asm__(".globl stack_top\n.set stack_top, stack + 16384\n");
static uint8_t kstack[8192] __attribute__((aligned(16)));
static uint8_t ustack[8192] __attribute__((aligned(16)));
static struct tss32 tss;
uint64_t gdt[8] __attribute__((aligned(16))) = {
	0,
	0x00CF9A000000FFFFull,  /* 0x08 code32 */
	0x00CF92000000FFFFull,  /* 0x10 data */
	0x00CFFA000000FFFFull,  /* 0x18 code32 DPL3 */
	0x00CFF2000000FFFFull,  /* 0x20 data DPL3 */
	0,                      /* 0x28 TSS */
};
struct { uint16_t limit; uint32_t base; } __attribute__((packed)) gdt_ptr = { sizeof gdt - 1, (uint32_t)gdt };
static uint64_t idt[256] __attribute__((aligned(8)));
static uint32_t pd[1024] __attribute__((aligned(4096)));
static uint32_t pt[1024] __attribute__((aligned(4096)));
static uint8_t frame4k[4096] __attribute__((aligned(4096)));

static volatile int expect = -1, got = -1;
static volatile uint32_t got_err, got_eip, got_cs, resume, ticks, int80_cs, int80_esp_in_kstack;
static int failures;

static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(p)); }
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(p)); }

static void putc_(char c)
{
	while (!(inb(0x3FD) & 0x20))
		;
	outb(0x3F8, (uint8_t)c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void puthex(uint32_t v)
{
	char b[9];
	for (int k = 7; k >= 0; k--, v >>= 4)
		b[k] = "0123456789abcdef"[v & 15];
	b[8] = 0;
	const char *p = b;
	while (*p == '0' && p[1])
		p++;
	puts_(p);
}

static void check(const char *what, bool ok)
{
	puts_(what);
	puts_(ok ? ": ok\n" : ": FAIL\n");
	if (!ok)
		failures++;
}

static void check_exc(const char *what, int v, uint32_t err)
{
	puts_(what);
	puts_(": vector ");
	puthex((uint32_t)got);
	puts_(" error ");
	puthex(got_err);
	bool ok = got == v && got_err == err;
	puts_(ok ? "\n" : " FAIL\n");
	if (!ok)
		failures++;
}

#define TRY(insn, ...) __asm__ volatile("movl $1f, resume\n\t" insn "\n1:\n" : __VA_ARGS__)

void trap(struct frame *f)
{
	if (f->vector == 32) {
		ticks++;
		outb(0x20, 0x20);
		return;
	}
	if (f->vector == 128) {
		int80_cs = f->cs;
		int80_esp_in_kstack = (uint32_t)f > (uint32_t)kstack &&
				      (uint32_t)f < (uint32_t)kstack + sizeof kstack;
		if (f->eax == 0) {
			/* "exit": return to CPL 0 at user_exit instead (a
			 * same-level iret, which leaves SS:ESP behind). */
			f->eip = (uint32_t)user_exit;
			f->cs = 0x08;
		}
		return;
	}
	if ((int)f->vector == expect) {
		got = (int)f->vector;
		got_err = f->error;
		got_eip = f->eip;
		got_cs = f->cs;
		expect = -1;
		f->eip = resume;
		return;
	}
	puts_("UNEXPECTED vector ");
	puthex(f->vector);
	puts_(" eip ");
	puthex(f->eip);
	puts_("\n");
	outl(0xF4, 2);
}

/* enter_user(eip, esp): run eip at CPL 3 until it makes int 0x80 with
 * eax = 0; user_exit restores the caller's stack and returns. */
void enter_user(uint32_t eip, uint32_t esp);
void user_exit(void);
__asm__(
	".text\n"
	".globl enter_user, user_exit\n"
	"enter_user:\n"
	"	pushl %ebx; pushl %esi; pushl %edi; pushl %ebp\n"
	"	movl %esp, saved_esp\n"
	"	movl 20(%esp), %ecx\n"
	"	movl 24(%esp), %edx\n"
	"	movw $0x23, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	pushl $0x23\n"
	"	pushl %edx\n"
	"	pushl $0x202\n"
	"	pushl $0x1B\n"
	"	pushl %ecx\n"
	"	iret\n"
	"user_exit:\n"
	"	cli\n"
	"	movw $0x10, %ax\n"
	"	movw %ax, %ds\n"
	"	movw %ax, %es\n"
	"	movl saved_esp, %esp\n"
	"	popl %ebp; popl %edi; popl %esi; popl %ebx\n"
	"	ret\n");
uint32_t saved_esp;

static void set_gate(int v, uint32_t h, unsigned type, unsigned dpl)
{
	idt[v] = (h & 0xFFFF) | (0x08ull << 16) | ((uint64_t)(0x80 | dpl << 5 | type) << 40) |
		 ((uint64_t)(h >> 16) << 48);
}

static void user_code(void)
{
	/* CPL 3: a privileged instruction faults, then int 0x80 "exit". */
	TRY("cli");
	__asm__ volatile("int $0x80" :: "a"(1) : "memory");
	__asm__ volatile("int $0x80" :: "a"(0) : "memory");
	for (;;)
		;
}

void kmain(void)
{
	outb(0x3F9, 0); outb(0x3FB, 0x80); outb(0x3F8, 1); outb(0x3F9, 0);
	outb(0x3FB, 3); outb(0x3FA, 0xC7); outb(0x3FC, 3);
	outb(0x21, 0xFF); outb(0xA1, 0xFF);
	puts_("prot32: 32-bit protected mode\n");

	uint32_t tb = (uint32_t)&tss;
	tss.ss0 = 0x10;
	tss.esp0 = (uint32_t)kstack + sizeof kstack;
	tss.iomap = sizeof tss;
	gdt[5] = ((sizeof tss - 1) & 0xFFFF) | ((uint64_t)(tb & 0xFFFFFF) << 16) | (0x89ull << 40) |
		 ((uint64_t)(tb >> 24) << 56);
	__asm__ volatile("ltr %w0" :: "r"(0x28));
	for (int v = 0; v < 48; v++)
		set_gate(v, isr_table[v], 0xE, 0);
	set_gate(128, isr_table[48], 0xE, 3);
	struct { uint16_t limit; uint32_t base; } __attribute__((packed)) idtr = { sizeof idt - 1, (uint32_t)idt };
	__asm__ volatile("lidt %0" :: "m"(idtr));

	uint32_t cr0;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	check("cr0 PE, PG off", (cr0 & 0x80000001u) == 1);
	uint16_t cs;
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	check("cs 0x08", cs == 0x08);

	expect = 3;
	TRY("int3");
	check_exc("int3", 3, 0);
	expect = 6;
	TRY("ud2");
	check_exc("#UD", 6, 0);
	expect = 0;
	TRY("xorl %%ecx, %%ecx; movl $1, %%eax; cltd; idivl %%ecx", :: "eax", "ecx", "edx");
	check_exc("#DE", 0, 0);
	expect = 13;
	TRY("movw %w0, %%ds", : "r"(0x58));
	check_exc("#GP mov ds beyond the gdt", 13, 0x58);

	/* inc/dec keep CF; pusha/popa; push/pop es. */
	uint32_t a = 0xFFFFFFFFu, flags;
	__asm__ volatile("stc; incl %0; pushfl; popl %1" : "+r"(a), "=r"(flags));
	check("inc wraps, keeps CF, sets ZF", a == 0 && (flags & 0x41) == 0x41);
	__asm__ volatile("clc; decl %0; pushfl; popl %1" : "+r"(a), "=r"(flags));
	check("dec keeps CF clear, sets SF", a == 0xFFFFFFFFu && (flags & 0x81) == 0x80);
	uint32_t r1, r2;
	__asm__ volatile("movl $0x1111, %%esi; movl $0x2222, %%edi; pusha; movl $0, %%esi; movl $0, %%edi;"
			 "popa; movl %%esi, %0; movl %%edi, %1" : "=r"(r1), "=r"(r2) :: "esi", "edi", "memory");
	check("pusha/popa", r1 == 0x1111 && r2 == 0x2222);
	uint16_t es;
	__asm__ volatile("pushl %%es; movw %w1, %%es; popl %%es; movw %%es, %0" : "=r"(es) : "r"(0x20));
	check("push/pop es", es == 0x10);

	/* Far jump and call through ptr16:32. */
	uint32_t hit = 0;
	__asm__ volatile("ljmp $0x08, $1f; movl $5, %0; 1: addl $1, %0" : "+r"(hit));
	check("ljmp ptr16:32", hit == 1);
	__asm__ volatile("lcall $0x08, $1f; jmp 2f; 1: addl $1, %0; lret; 2:" : "+r"(hit));
	check("lcall ptr16:32, lret", hit == 2);

	/* PIT interrupts through the 8259A. */
	outb(0x20, 0x11); outb(0xA0, 0x11); outb(0x21, 0x20); outb(0xA1, 0x28);
	outb(0x21, 0x04); outb(0xA1, 0x02); outb(0x21, 0x01); outb(0xA1, 0x01);
	outb(0x21, 0xFE); outb(0xA1, 0xFF);
	outb(0x43, 0x34); outb(0x40, 1193 & 0xFF); outb(0x40, 1193 >> 8);
	while (ticks < 5)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	check("pit: 5 interrupts", ticks >= 5);
	outb(0x21, 0xFF);

	/* 32-bit paging: 4 MiB pages for 0-16 MiB, a 4 KiB table at 1 GiB. */
	for (int k = 0; k < 4; k++)
		pd[k] = (uint32_t)(k << 22) | 0x87;
	pd[256] = (uint32_t)pt | 7;
	pt[0] = (uint32_t)frame4k | 3;
	pt[1] = 0;
	uint32_t cr4;
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4 | 0x10));
	__asm__ volatile("mov %0, %%cr3" :: "r"((uint32_t)pd));
	__asm__ volatile("mov %0, %%cr0" :: "r"(cr0 | 0x80010000u));
	frame4k[0] = 0x42;
	check("4 KiB page", *(volatile uint8_t *)0x40000000 == 0x42);
	check("accessed bit", (pt[0] & 0x20) != 0);
	*(volatile uint8_t *)0x40000001 = 1;
	check("dirty bit", (pt[0] & 0x40) != 0);
	expect = 14;
	TRY("movb $1, 0x40001003");
	check_exc("#PF not present", 14, 2);
	uint32_t cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	check("cr2", cr2 == 0x40001003);

	/* CPL 3 through iretd; back through int 0x80 (a DPL 3 gate). */
	expect = 13;
	enter_user((uint32_t)user_code, (uint32_t)ustack + sizeof ustack);
	check_exc("cli at cpl 3", 13, 0);
	check("int 0x80 from cpl 3: frame cs 0x1b", int80_cs == 0x1B);
	check("int 0x80 ran on the TSS esp0 stack", int80_esp_in_kstack);
	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	check("back at cpl 0", cs == 0x08);
	puts_(failures ? "RESULT FAIL\n" : "RESULT PASS\n");
	outl(0xF4, failures ? 1 : 0);
}
