/* tests/guests/mode.c: long-mode system state: control registers, EFER,
 * segment registers and descriptor tables, far transfers, segment loads
 * and their checks, MSRs, CPUID features, swapgs. */
#include "tests/guests/lib.h"

static uint16_t sreg(int n)
{
	uint16_t v = 0;
	switch (n) {
	case 0: __asm__ volatile("mov %%cs, %0" : "=r"(v)); break;
	case 1: __asm__ volatile("mov %%ss, %0" : "=r"(v)); break;
	case 2: __asm__ volatile("mov %%ds, %0" : "=r"(v)); break;
	}
	return v;
}

static volatile uint64_t far_target_hit;
static struct { uint64_t off; uint16_t sel; } __attribute__((packed)) farptr;

int tk_main(const char *cmdline)
{
	(void)cmdline;
	tk_printf("mode: long mode system state\n");
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(0xC0000080);
	tk_check("cr0 PE PG", (cr0 & 0x80000001u) == 0x80000001u);
	tk_check("cr0 ET", (cr0 & 0x10) != 0);
	tk_check("cr4 PAE", (cr4 & 0x20) != 0);
	tk_check("efer LME LMA", (efer & 0x500) == 0x500);
	tk_check("cs 0x08", sreg(0) == 0x08);
	tk_check("ss 0x10", sreg(1) == 0x10);
	uint16_t tr;
	__asm__ volatile("str %0" : "=r"(tr));
	tk_check("tr 0x30", tr == 0x30);

	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) g, i;
	__asm__ volatile("sgdt %0; sidt %1" : "=m"(g), "=m"(i));
	tk_check("sgdt", g.base == (uint64_t)tk_gdt && g.limit == 0x47);
	tk_check("sidt limit", i.limit == 0xFFF);

	/* The TSS descriptor is busy after ltr. */
	tk_check("tss busy", ((tk_gdt[6] >> 40) & 0xF) == 0xB);

	uint32_t r[4];
	cpuid(1, 0, r);
	tk_check("cpuid msr pae apic pge", (r[3] & (1u << 5 | 1u << 6 | 1u << 9 | 1u << 13)) ==
		 (1u << 5 | 1u << 6 | 1u << 9 | 1u << 13));
	cpuid(0x80000001u, 0, r);
	tk_check("cpuid lm nx syscall", (r[3] & (1u << 29 | 1u << 20 | 1u << 11)) ==
		 (1u << 29 | 1u << 20 | 1u << 11));

	/* lar / lsl / verr / verw on the kernel and user code segments. */
	uint32_t ar = 0, lim = 0;
	uint8_t zf;
	__asm__ volatile("lar %2, %0; setz %1" : "=r"(ar), "=q"(zf) : "r"(0x08u));
	tk_check("lar 0x08", zf && (ar & 0x00F0FE00) == 0x00A09A00);
	__asm__ volatile("lsl %2, %0; setz %1" : "=r"(lim), "=q"(zf) : "r"(0x10u));
	tk_check("lsl 0x10", zf && lim == 0xFFFFFFFFu);
	__asm__ volatile("lar %2, %0; setz %1" : "=r"(ar), "=q"(zf) : "r"(0x58u));
	tk_check("lar beyond the gdt", !zf);
	__asm__ volatile("verr %w1; setz %0" : "=q"(zf) : "r"(0x08u));
	tk_check("verr code64", zf);
	__asm__ volatile("verw %w1; setz %0" : "=q"(zf) : "r"(0x08u));
	tk_check("verw code64", !zf);
	__asm__ volatile("verw %w1; setz %0" : "=q"(zf) : "r"(0x10u));
	tk_check("verw data", zf);

	/* Segment loads and their faults. */
	__asm__ volatile("mov %0, %%ds" :: "r"(0x20u));
	tk_check("mov ds, user data", sreg(2) == 0x20);
	__asm__ volatile("mov %0, %%ds" :: "r"(0x10u));
	tk_expect(13);
	TK_TRY("mov %0, %%ss", : "r"(0x23u));
	tk_check_exc("mov ss, dpl3 data", 13, 0x20);
	tk_expect(13);
	TK_TRY("mov %0, %%ds", : "r"(0x58u));
	tk_check_exc("mov ds, beyond limit", 13, 0x58);
	tk_expect(13);
	TK_TRY("mov %0, %%es", : "r"(0x30u));
	tk_check_exc("mov es, tss", 13, 0x30);
	tk_expect(6);
	TK_TRY(".byte 0x8e, 0xc8");     /* mov cs, ax */
	tk_check_exc("mov cs", 6, 0);

	/* Far transfers: lretq and ljmp through memory, to 64-bit code. */
	__asm__ volatile("pushq $0x08; leaq 1f(%%rip), %%rax; pushq %%rax; lretq; 1:" ::: "rax", "memory");
	tk_check("lretq", sreg(0) == 0x08);
	__asm__ volatile("leaq 1f(%%rip), %%rax; movq %%rax, %0; movw $0x08, %1; .byte 0x48; ljmp *%0; 1: movq $1, %2"
			 : "=m"(farptr.off), "=m"(farptr.sel), "=m"(far_target_hit) :: "rax", "memory");
	tk_check("ljmp m16:64", far_target_hit == 1 && sreg(0) == 0x08);
	tk_expect(13);
	farptr.sel = 0x10;
	TK_TRY(".byte 0x48; ljmp *%0", : "m"(farptr));
	tk_check_exc("ljmp to a data segment", 13, 0x10);

	/* MSRs. */
	wrmsr(0xC0000100, 0x12345000);
	tk_check("fs_base", rdmsr(0xC0000100) == 0x12345000);
	static volatile uint64_t cell = 0xfeedface;
	wrmsr(0xC0000100, (uint64_t)&cell - 8);
	uint64_t v;
	__asm__ volatile("movq %%fs:8, %0" : "=r"(v));
	tk_check("fs: override", v == 0xfeedface);
	wrmsr(0xC0000101, 0x1000);
	wrmsr(0xC0000102, 0x2000);
	__asm__ volatile("swapgs" ::: "memory");
	tk_check("swapgs", rdmsr(0xC0000101) == 0x2000 && rdmsr(0xC0000102) == 0x1000);
	__asm__ volatile("swapgs" ::: "memory");
	wrmsr(0xC0000100, 0);
	tk_check("star", (wrmsr(0xC0000081, 0x0018000800000000ull), rdmsr(0xC0000081) == 0x0018000800000000ull));
	tk_check("pat reset value", rdmsr(0x277) == 0x0007040600070406ull);
	tk_check("apic base", (rdmsr(0x1B) & ~0xFFFull) == 0xFEE00000u && (rdmsr(0x1B) & 0x900) == 0x900);
	tk_expect(13);
	TK_TRY("wrmsr", : "c"(0xC0000100), "a"(0), "d"(0x8000u));
	tk_sdm("wrmsr fs_base non-canonical #GP", tk_got_vector == 13);
	tk_expect(13);
	TK_TRY("rdmsr", : "c"(0x12345678) : "rax", "rdx");
	tk_sdm("rdmsr unknown msr #GP", tk_got_vector == 13);
	/* Checks QEMU 7.2 does not make (its guest would crash): run under
	 * phantom-sim only, as SDM lines. */
	if (tk_on_phantom()) {
		tk_expect(13);
		TK_TRY("wrmsr", : "c"(0xC0000080), "a"((uint32_t)rdmsr(0xC0000080) | 0x8000), "d"(0));
		tk_sdm("efer reserved bit #GP", tk_got_vector == 13);
		tk_expect(13);
		TK_TRY("mov %0, %%cr4", : "r"(read_cr4() & ~0x20ull));
		tk_sdm("clear cr4.pae in long mode #GP", tk_got_vector == 13);
		tk_expect(13);
		TK_TRY("mov %0, %%cr0", : "r"(read_cr0() & ~0x80000000ull));
		tk_sdm("clear cr0.pg in 64-bit mode #GP", tk_got_vector == 13);
		tk_expect(13);
		TK_TRY("mov %0, %%cr4", : "r"(read_cr4() | (1ull << 40)));
		tk_sdm("cr4 reserved bit #GP", tk_got_vector == 13);
	} else {
		tk_printf("SDM control register checks: not run under QEMU\n");
	}
	tk_expect(6);
	TK_TRY(".byte 0x0f, 0x20, 0xe8");       /* mov rax, cr5 */
	tk_check_exc("mov from cr5", 6, 0);

	/* pushf/popf: IOPL and IF change at CPL 0. */
	uint64_t fl;
	__asm__ volatile("pushq $0x3002; popfq; pushfq; popq %0; pushq $2; popfq" : "=r"(fl) :: "memory", "cc");
	tk_check("popf iopl=3", (fl & 0x3000) == 0x3000);
	return 0;
}
