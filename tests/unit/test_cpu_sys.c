/* tests/unit/test_cpu_sys.c: the CPU's system half without a machine:
 * control-register and MSR checks, and exception delivery through a
 * hand-built long-mode IDT (error code, CR2, IST, #DF, triple fault).
 * The test kernels in tests/guests/ check the same against QEMU. */
#include <check.h>
#include <stdlib.h>
#include "machine/bus.h"
#include "machine/cpu.h"
#include "machine/cpu_sys.h"
#include "machine/insn.h"
#include "machine/multiboot.h"
#include "machine/paging.h"
#include "sim/sim.h"

static struct sim sim;
static struct bus bus;
static struct cpu *c;

/* Memory map of the tests (physical = linear, 2 MiB identity pages):
 *   0x1000 PML4, 0x2000 PDPT, 0x3000 PD, 0x5000 GDT, 0x6000 IDT,
 *   0x7000 TSS, 0x10000 code, 0x20000 handlers, 0x30000 stack top,
 *   0x40000 IST1 stack top. */
#define GDT 0x5000
#define IDT 0x6000
#define TSS 0x7000
#define CODE 0x10000
#define HANDLER 0x20000

static void put8(uint64_t pa, uint64_t v) { bus_write(&bus, pa, 8, v); }
static void putb(uint64_t pa, const void *p, size_t n) { bus_dma_write(&bus, pa, p, n); }

static void gate(unsigned v, uint64_t handler, unsigned ist, bool present)
{
	uint64_t lo = (handler & 0xFFFF) | (0x08ull << 16) | ((uint64_t)ist << 32) |
		      ((uint64_t)(present ? 0x8E : 0x0E) << 40) | ((handler >> 16 & 0xFFFF) << 48);
	put8(IDT + 16 * v, lo);
	put8(IDT + 16 * v + 8, handler >> 32);
}

static void setup(void)
{
	sim_init(&sim, 1);
	bus_init(&bus, &sim);
	ck_assert_int_eq(bus_add_ram(&bus, "ram", 0, 64 << 20, BUS_RWX), 0);
	c = cpu_new(&sim, &bus);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(cpu_sys_enable(c, NULL, NULL), 0);
	put8(0x1000, 0x2003);
	put8(0x2000, 0x3003);
	for (int i = 0; i < 32; i++)
		put8(0x3000 + 8 * i, (uint64_t)i << 21 | 0x83);
	put8(GDT + 0x08, 0x00AF9A000000FFFFull);
	put8(GDT + 0x10, 0x00CF92000000FFFFull);
	uint64_t limit = 0x67;
	put8(GDT + 0x18, limit | ((uint64_t)TSS << 16) | (0x8Bull << 40));
	put8(GDT + 0x20, 0);
	put8(TSS + 0x24, 0x40000);              /* IST1 */
	for (unsigned v = 0; v < 32; v++)
		gate(v, HANDLER + 16 * v, v == 8 ? 1 : 0, true);
	static const uint8_t hlt = 0xF4;
	for (unsigned v = 0; v < 32; v++)
		putb(HANDLER + 16 * v, &hlt, 1);
	struct boot_entry b = {
		.mode = BOOT_LONG64, .entry = CODE, .gdt_base = GDT, .gdt_limit = 0x27,
		.cs = 0x08, .ds = 0x10, .cr3 = 0x1000,
	};
	cpu_sys_boot(c, &b);
	c->sys->idtr_base = IDT;
	c->sys->idtr_limit = 32 * 16 - 1;
	c->sys->tr.sel = 0x18;
	c->sys->tr.base = TSS;
	c->sys->tr.limit = 0x67;
	c->gpr[CPU_RSP] = 0x30000;
}

static void teardown(void)
{
	cpu_free(c);
	bus_free(&bus);
	sim_free(&sim);
}

/* Run code at CODE until the handler's hlt. */
static enum cpu_exit run(const void *code, size_t n)
{
	putb(CODE, code, n);
	return cpu_run(c, 100);
}

static uint64_t stack(unsigned k)
{
	return bus_read(&bus, c->gpr[CPU_RSP] + 8 * k, 8);
}

START_TEST(cr_checks)
{
	ck_assert_int_eq(cpu_sys_write_cr(c, 0, c->cr0 | (1ull << 32)), -1);
	ck_assert_int_eq(cpu_sys_write_cr(c, 0, c->cr0 & ~CR0_PG), -1);     /* in 64-bit mode */
	ck_assert_int_eq(cpu_sys_write_cr(c, 4, c->cr4 & ~CR4_PAE), -1);
	ck_assert_int_eq(cpu_sys_write_cr(c, 4, c->cr4 | CR4_SMEP), -1);    /* not advertised */
	ck_assert_int_eq(cpu_sys_write_cr(c, 4, c->cr4 | CR4_PGE), 0);
	ck_assert_int_eq(cpu_sys_write_cr(c, 3, 1ull << CPU_SYS_PHYS_BITS), -1);
	ck_assert_int_eq(cpu_sys_write_cr(c, 8, 16), -1);
	ck_assert_int_eq(cpu_sys_write_cr(c, 0, c->cr0 | CR0_NW), -1);      /* NW without CD */
}
END_TEST

START_TEST(msr_checks)
{
	uint64_t v;
	ck_assert_int_eq(cpu_sys_rdmsr(c, 0x12345678, &v), -1);
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_FS_BASE, 0x0000800000000000ull), -1);
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_FS_BASE, 0xFFFF800000000000ull), 0);
	ck_assert_uint_eq(c->fs_base, 0xFFFF800000000000ull);
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_PAT, 0x0000000000000002ull), -1);    /* type 2 */
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_EFER, c->efer | (1ull << 15)), -1);
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_EFER, c->efer & ~EFER_LME), -1);     /* paging on */
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_EFER, (c->efer | EFER_NXE) & ~EFER_LMA), 0);
	ck_assert_uint_eq(c->efer & EFER_LMA, EFER_LMA);                           /* read-only */
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_TSC_AUX, 1ull << 32), -1);
	ck_assert_int_eq(cpu_sys_rdmsr(c, MSR_APIC_BASE, &v), -1);                 /* no APIC here */
}
END_TEST

START_TEST(page_fault_delivery)
{
	/* mov (0x7f0000000000), %al: not present -> #PF error 0, CR2. */
	static const uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0x8a, 0x00 };
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 14 + 1);       /* after the handler's hlt */
	ck_assert_uint_eq(c->cr2, 0x7f0000000000ull);
	ck_assert_uint_eq(stack(0), 0);                         /* error code */
	ck_assert_uint_eq(stack(1), CODE + 10);                 /* the faulting mov */
	ck_assert_uint_eq(stack(2), 0x08);
	ck_assert_uint_eq(stack(4), 0x30000);                   /* old rsp */
	ck_assert_uint_eq(c->rflags & FL_IF, 0);
}
END_TEST

START_TEST(double_fault_on_ist)
{
	gate(14, HANDLER + 16 * 14, 0, false);                  /* #PF gate missing */
	static const uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0x8a, 0x00 };
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 8 + 1);
	ck_assert_uint_eq(c->gpr[CPU_RSP], 0x40000 - 48);      /* IST1, frame with error code */
	ck_assert_uint_eq(stack(0), 0);
}
END_TEST

/* Non-canonical through SS: #SS(0) with an error code (SDM 6.15). */
START_TEST(stack_fault_delivery)
{
	/* mov rbp, 1<<63; mov rax, [rbp+8] */
	static const uint8_t code[] = { 0x48, 0xbd, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x48, 0x8b, 0x45, 0x08 };
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 12 + 1);
	ck_assert_uint_eq(c->gpr[CPU_RSP], 0x30000 - 48);      /* frame with error code */
	ck_assert_uint_eq(stack(0), 0);
	ck_assert_uint_eq(stack(1), CODE + 10);
	/* The same through rax is #GP(0). */
	static const uint8_t code2[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x48, 0x8b, 0x40, 0x08 };
	c->rip = CODE;
	c->gpr[CPU_RSP] = 0x30000;
	run(code2, sizeof code2);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 13 + 1);
	ck_assert_uint_eq(stack(0), 0);
}
END_TEST

/* Pushing a frame below the canonical upper half is #SS(0) too: int3 on
 * rsp = 0xFFFF800000000010 faults on its first frame slot, and #SS
 * (a benign event first, so no #DF) is delivered on IST1. */
START_TEST(stack_fault_in_delivery)
{
	gate(12, HANDLER + 16 * 12, 1, true);
	static const uint8_t code[] = { 0xcc };
	c->gpr[CPU_RSP] = 0xFFFF800000000010ull;
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 12 + 1);
	ck_assert_uint_eq(c->gpr[CPU_RSP], 0x40000 - 48);
	ck_assert_uint_eq(stack(0), 0);                         /* error code */
	ck_assert_uint_eq(stack(4), 0xFFFF800000000010ull);     /* old rsp */
}
END_TEST

START_TEST(triple_fault)
{
	gate(14, HANDLER + 16 * 14, 0, false);
	gate(8, HANDLER + 16 * 8, 1, false);
	static const uint8_t code[] = { 0x48, 0xb8, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0x8a, 0x00 };
	ck_assert_int_eq(run(code, sizeof code), CPU_EXIT_TRIPLE_FAULT);
}
END_TEST

START_TEST(int_n_gate_dpl)
{
	/* int $0x0d from CPL 0 through a DPL 0 gate: delivered, no error code. */
	static const uint8_t code[] = { 0xcd, 0x0d };
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 13 + 1);
	ck_assert_uint_eq(stack(0), CODE + 2);                  /* return address, no error code */
}
END_TEST

START_TEST(ud_in_user_mode_cpu)
{
	/* Without system state, privileged instructions are #GP(0) and the
	 * run ends with CPU_EXIT_EXCEPTION, as for a Linux process. */
	struct cpu *u = cpu_new(&sim, &bus);
	cpu_set_mode_user64(u);
	static const uint8_t code[] = { 0x0f, 0x01, 0x10 };     /* lgdt (%rax) */
	putb(0x50000, code, sizeof code);
	u->rip = 0x50000;
	ck_assert_int_eq(cpu_run(u, 1), CPU_EXIT_EXCEPTION);
	ck_assert_uint_eq(u->exc_vector, CPU_EXC_GP);
	cpu_free(u);
}
END_TEST

/* Debug, alignment and machine-check exceptions (machine/debug.c,
 * machine/mce.c): the guest kernels tests/guests/debug.c, align.c and
 * mce.c check the same in more detail. */

START_TEST(single_step_after_popf)
{
	/* pushfq; orq $0x100,(%rsp); popfq; nop; nop: the trap follows the
	 * first nop (TF is sampled as an instruction begins). */
	static const uint8_t code[] = { 0x9c, 0x48, 0x81, 0x0c, 0x24, 0x00, 0x01, 0x00, 0x00,
					0x9d, 0x90, 0x90 };
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 1 + 1);
	ck_assert_uint_eq(stack(0), CODE + 11);                 /* the second nop */
	ck_assert_uint_eq(stack(2) & (FL_TF | 0x10000), FL_TF); /* TF saved, RF 0 */
	ck_assert_uint_eq(c->sys->dr[6] & 0x4000, 0x4000);      /* DR6.BS */
	ck_assert_uint_eq(c->rflags & FL_TF, 0);
}
END_TEST

START_TEST(instruction_breakpoint)
{
	/* DR0 = CODE + 19, DR7 = L0 (execute, 1 byte); nop; nop: a fault
	 * before the second nop, DR6.B0. */
	static const uint8_t code[] = {
		0x48, 0xc7, 0xc0, 0x13, 0x00, 0x01, 0x00,       /* mov $0x10013, %rax */
		0x0f, 0x23, 0xc0,                               /* mov %rax, %dr0 */
		0xb8, 0x01, 0x04, 0x00, 0x00,                   /* mov $0x401, %eax */
		0x0f, 0x23, 0xf8,                               /* mov %rax, %dr7 */
		0x90, 0x90,
	};
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 1 + 1);
	ck_assert_uint_eq(stack(0), CODE + 19);
	ck_assert_uint_eq(stack(2) & 0x10000, 0);               /* RF 0: the handler's to set */
	ck_assert_uint_eq(c->sys->dr[6] & 0xF, 1);
}
END_TEST

START_TEST(fault_frame_rf)
{
	/* ud2: a fault-class exception pushes RF = 1 (SDM 17.3.1.1). */
	static const uint8_t code[] = { 0x0f, 0x0b };
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 6 + 1);
	ck_assert_uint_eq(stack(2) & 0x10000, 0x10000);
	ck_assert_uint_eq(c->rflags & 0x10000, 0);
}
END_TEST

START_TEST(machine_check_on_poison)
{
	/* mov 0x8010, %rax with the line 0x8000 poisoned: #MC, bank 0 set. */
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x10, 0x80, 0x00, 0x00 };
	uint64_t line = 0x8000, v;
	ck_assert_int_eq(cpu_sys_set_poison(c, &line, 1), 0);
	ck_assert_int_eq(cpu_sys_write_cr(c, 4, c->cr4 | CR4_MCE), 0);
	run(code, sizeof code);
	ck_assert_uint_eq(c->rip, HANDLER + 16 * 18 + 1);
	ck_assert_uint_eq(stack(0), CODE);                      /* no error code */
	ck_assert_int_eq(cpu_sys_rdmsr(c, MSR_MCG_STATUS, &v), 0);
	ck_assert_uint_eq(v, 6);                                /* EIPV MCIP */
	ck_assert_int_eq(cpu_sys_rdmsr(c, MSR_MC0_ADDR, &v), 0);
	ck_assert_uint_eq(v, 0x8000);
	ck_assert_int_eq(cpu_sys_rdmsr(c, MSR_MC0_STATUS, &v), 0);
	ck_assert_uint_eq(v >> 63, 1);
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_MC0_STATUS, 1), -1);
	ck_assert_int_eq(cpu_sys_wrmsr(c, MSR_MC0_STATUS, 0), 0);
}
END_TEST

START_TEST(machine_check_shutdown)
{
	/* With CR4.MCE = 0 the same load shuts the CPU down. */
	static const uint8_t code[] = { 0x48, 0x8b, 0x04, 0x25, 0x10, 0x80, 0x00, 0x00 };
	uint64_t line = 0x8000;
	ck_assert_int_eq(cpu_sys_set_poison(c, &line, 1), 0);
	ck_assert_int_eq(run(code, sizeof code), CPU_EXIT_TRIPLE_FAULT);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cpu_sys");
	TCase *tc = tcase_create("system");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, cr_checks);
	tcase_add_test(tc, msr_checks);
	tcase_add_test(tc, page_fault_delivery);
	tcase_add_test(tc, double_fault_on_ist);
	tcase_add_test(tc, stack_fault_delivery);
	tcase_add_test(tc, stack_fault_in_delivery);
	tcase_add_test(tc, triple_fault);
	tcase_add_test(tc, int_n_gate_dpl);
	tcase_add_test(tc, ud_in_user_mode_cpu);
	tcase_add_test(tc, single_step_after_popf);
	tcase_add_test(tc, instruction_breakpoint);
	tcase_add_test(tc, fault_frame_rf);
	tcase_add_test(tc, machine_check_on_poison);
	tcase_add_test(tc, machine_check_shutdown);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
