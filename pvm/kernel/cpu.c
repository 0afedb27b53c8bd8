/* pvm/kernel/cpu.c: descriptor tables, traps and CPU features.
 *
 * The GDT comes from boot.S; here it gains a TSS whose IST1 stack takes
 * double faults, so a kernel stack overflow still reports.  The IDT has
 * 48 gates: exceptions 0-31 and the remapped PIC IRQs 32-47.  trap() is
 * the one C entry: IRQs go to their handler, object-space write faults
 * to the snapshot layer's copy-on-write hook, and every other exception
 * is fatal: it is reported on the console (vector, name, error code, RIP,
 * CR2) and through the trace port (ABI_EV_EXCEPTION), then the machine
 * powers off with EXIT_EXCEPTION.
 */
#include "pvm/kernel/kernel.h"

struct cpu_features cpu_features;
bool (*page_fault_hook)(uint64_t addr, uint64_t error);

extern uint64_t gdt64[];
extern const uint64_t isr_table[48];

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3, iomap;
} __attribute__((packed));

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} __attribute__((packed));

static struct tss tss;
static struct idt_gate idt[48];
static uint8_t df_stack[8192] __attribute__((aligned(16)));
static irq_handler_t irq_handlers[16];

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection",
};

static void set_gate(int v, uint64_t handler, uint8_t ist)
{
	idt[v] = (struct idt_gate){
		.off_lo = (uint16_t)handler, .sel = 0x08, .ist = ist,
		.type = 0x8E,           /* present, DPL 0, 64-bit interrupt gate */
		.off_mid = (uint16_t)(handler >> 16), .off_hi = (uint32_t)(handler >> 32),
	};
}

static void detect_features(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t max = r[0];
	memcpy(cpu_features.vendor, &r[1], 4);
	memcpy(cpu_features.vendor + 4, &r[3], 4);
	memcpy(cpu_features.vendor + 8, &r[2], 4);
	cpu_features.vendor[12] = 0;
	cpuid(1, 0, r);
	cpu_features.clflush = r[3] & (1u << 19);
	if (max >= 7) {
		cpuid(7, 0, r);
		cpu_features.clflushopt = r[1] & (1u << 23);
		cpu_features.clwb = r[1] & (1u << 24);
	}
	cpuid(0x80000000u, 0, r);
	if (r[0] >= 0x80000007u) {
		cpuid(0x80000007u, 0, r);
		cpu_features.invariant_tsc = r[3] & (1u << 8);
	}
}

/* SSE for the snapshot layer's copy loops (persist/digest.c) only: the
 * kernel's C code is compiled without SSE, so no other code touches the
 * xmm registers and traps need not save them (no FXSAVE anywhere).
 * CR0: EM off, MP on; CR4: OSFXSR (SSE instructions allowed) and
 * OSXMMEXCPT (SIMD exceptions as #XM, not #UD); SDM Vol. 3 §13.1.3. */
static void enable_sse(void)
{
	uint64_t cr0, cr4;
	__asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
	cr0 = (cr0 & ~0x4ull) | 0x2ull;
	__asm__ volatile("mov %0, %%cr0" :: "r"(cr0));
	__asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
	cr4 |= (1ull << 9) | (1ull << 10);
	__asm__ volatile("mov %0, %%cr4" :: "r"(cr4));
}

void cpu_init(void)
{
	/* TSS descriptor (16 bytes) in GDT slots 4-5, selector 0x20. */
	uint64_t base = (uint64_t)&tss, limit = sizeof tss - 1;
	tss.ist[0] = (uint64_t)(df_stack + sizeof df_stack);
	tss.iomap = sizeof tss;
	gdt64[4] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
		   (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt64[5] = base >> 32;
	__asm__ volatile("ltr %w0" :: "r"(0x20));

	for (int v = 0; v < 48; v++)
		set_gate(v, isr_table[v], v == 8 ? 1 : 0);
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof idt - 1, (uint64_t)idt,
	};
	__asm__ volatile("lidt %0" :: "m"(idtr));
	detect_features();
	enable_sse();
}

void irq_register(int irq, irq_handler_t h)
{
	irq_handlers[irq] = h;
}

static void fatal_exception(struct trapframe *tf)
{
	uint64_t cr2 = tf->vector == 14 ? read_cr2() : 0;
	const char *name = tf->vector < 32 && exception_names[tf->vector] ?
			   exception_names[tf->vector] : "?";
	kprintf("EXCEPTION vector=%lu (%s) error=0x%lx rip=0x%lx cr2=0x%lx rsp=0x%lx\n",
		tf->vector, name, tf->error, tf->rip, cr2, tf->rsp);
	uint32_t a[] = { (uint32_t)tf->vector, (uint32_t)tf->error, (uint32_t)(tf->error >> 32),
			 (uint32_t)tf->rip, (uint32_t)(tf->rip >> 32) };
	trace_event(ABI_EV_EXCEPTION, a, 5);
	kprintf("TRACE exception vector=%lu error=0x%lx rip=0x%lx\n", tf->vector, tf->error, tf->rip);
	poweroff(EXIT_EXCEPTION);
}

void trap(struct trapframe *tf)
{
	if (tf->vector >= 32) {
		int irq = (int)tf->vector - 32;
		if (irq_handlers[irq])
			irq_handlers[irq]();
		if (irq >= 8)
			outb(0xA0, 0x20);       /* EOI to the slave PIC */
		outb(0x20, 0x20);               /* and the master */
		return;
	}
	if (tf->vector == 14 && page_fault_hook && page_fault_hook(read_cr2(), tf->error))
		return;
	fatal_exception(tf);
}
