/* tests/unit/test_devices_apic.c: local APIC, I/O APIC and the intc glue. */
#include "tests/unit/test_devices.h"
#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "devices/pic8259.h"

static struct sim sim;
static struct lapic la;
static struct ioapic io;
static struct pic8259 pic;
static struct intc ic;

static uint32_t rd(unsigned reg) { return lapic_mmio_read(&la, reg, 4); }
static void wr(unsigned reg, uint32_t v) { lapic_mmio_write(&la, reg, 4, v); }

static void io_wr(uint8_t reg, uint32_t v)
{
	ioapic_mmio_write(&io, 0x00, 4, reg);
	ioapic_mmio_write(&io, 0x10, 4, v);
}

static uint32_t io_rd(uint8_t reg)
{
	ioapic_mmio_write(&io, 0x00, 4, reg);
	return ioapic_mmio_read(&io, 0x10, 4);
}

static void setup(void)
{
	sim_init(&sim, 1);
	lapic_init(&la, &sim, 0, 100000000);     /* 100 MHz: 10 ns per clock */
	ioapic_init(&io, &sim, 1);
	pic_init(&pic, &sim);
	intc_init(&ic, &pic, &io, &la);
	wr(0xF0, 0x1FF);                         /* software enable, spurious 0xFF */
}

static void teardown(void) { sim_free(&sim); }

START_TEST(identity_registers)
{
	ck_assert_uint_eq(rd(0x20), 0);
	ck_assert_uint_eq(rd(0x30), 0x00050014);
	ck_assert_uint_eq(rd(0xE0), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(0x350), 0x00010000);   /* LVTs reset masked */
	ck_assert_uint_eq(lapic_get_base_msr(&la), 0xFEE00900);
}
END_TEST

START_TEST(timer_one_shot_with_divider)
{
	wr(0x3E0, 0x3);                          /* divide by 16: 160 ns ticks */
	wr(0x320, 0x20);                         /* one-shot, vector 0x20 */
	wr(0x380, 1000);                         /* 160 us */
	run_to(&sim, 80 * SIM_US);
	ck_assert_uint_eq(rd(0x390), 500);
	ck_assert_int_eq(lapic_pending(&la), -1);
	run_to(&sim, 160 * SIM_US - 1);
	ck_assert_int_eq(lapic_pending(&la), -1);
	run_to(&sim, 160 * SIM_US);
	ck_assert_int_eq(lapic_pending(&la), 0x20);
	ck_assert_uint_eq(rd(0x390), 0);
	ck_assert(intc_pending(&ic));
	ck_assert_int_eq(intc_ack(&ic), 0x20);
	ck_assert_uint_eq(rd(0x100 + 0x10), 1);  /* ISR bit 32 */
	ck_assert_uint_eq(rd(0xA0), 0x20);       /* PPR follows ISR */
	wr(0xB0, 0);
	ck_assert_uint_eq(rd(0x110), 0);
	run_to(&sim, SIM_MS);
	ck_assert_uint_eq(stats_get(&sim.stats, "lapic.timer_fires"), 1);
}
END_TEST

START_TEST(timer_periodic)
{
	wr(0x3E0, 0xB);                          /* divide by 1 */
	wr(0x320, 0x20030);                      /* periodic, vector 0x30 */
	wr(0x380, 10000);                        /* 100 us */
	run_to(&sim, 50 * SIM_US);
	ck_assert_uint_eq(rd(0x390), 5000);
	run_to(&sim, 1 * SIM_MS);
	ck_assert_uint_eq(stats_get(&sim.stats, "lapic.timer_fires"), 10);
	ck_assert_uint_eq(rd(0x390), 10000);     /* just reloaded */
	run_to(&sim, 1 * SIM_MS + 25 * SIM_US);
	ck_assert_uint_eq(rd(0x390), 7500);
	wr(0x380, 0);                            /* initial count 0 stops */
	run_to(&sim, 2 * SIM_MS);
	ck_assert_uint_eq(stats_get(&sim.stats, "lapic.timer_fires"), 10);
	ck_assert_uint_eq(rd(0x390), 0);
}
END_TEST

START_TEST(timer_masked_counts_but_does_not_interrupt)
{
	wr(0x3E0, 0xB);
	wr(0x320, 0x10040);
	wr(0x380, 100);
	run_to(&sim, 10 * SIM_US);
	ck_assert_uint_eq(stats_get(&sim.stats, "lapic.timer_fires"), 1);
	ck_assert_int_eq(lapic_pending(&la), -1);
}
END_TEST

START_TEST(priority_tpr_and_eoi)
{
	lapic_accept(&la, 0x45, false);
	lapic_accept(&la, 0x31, false);
	ck_assert_int_eq(intc_ack(&ic), 0x45);
	/* 0x31 is in a lower class than the in-service 0x45 */
	ck_assert(!intc_pending(&ic));
	lapic_accept(&la, 0x52, false);
	ck_assert_int_eq(intc_ack(&ic), 0x52);
	wr(0xB0, 0);                             /* EOI clears the highest: 0x52 */
	ck_assert_uint_eq(rd(0x100 + 0x20), 1u << 5);    /* 0x45 still */
	wr(0xB0, 0);
	ck_assert(intc_pending(&ic));
	wr(0x80, 0x40);                          /* TPR class 4 blocks 0x31 */
	ck_assert(!intc_pending(&ic));
	ck_assert_uint_eq(rd(0xA0), 0x40);
	lapic_set_cr8(&la, 2);
	ck_assert_uint_eq(rd(0x80), 0x20);
	ck_assert_int_eq(intc_ack(&ic), 0x31);
}
END_TEST

static int ipis_out;
static void count_ipi(void *ctx, uint32_t icr, uint8_t dest) { ipis_out++; }

START_TEST(self_ipi_and_illegal_vector)
{
	ipis_out = 0;
	la.send_ipi = count_ipi;
	wr(0x300, 0xC0051);                      /* all excluding self */
	ck_assert_int_eq(ipis_out, 1);
	ck_assert_int_eq(lapic_pending(&la), -1);
	wr(0x310, 0x05000000);                   /* physical APIC 5: not us */
	wr(0x300, 0x00052);
	ck_assert_int_eq(ipis_out, 2);
	ck_assert_int_eq(lapic_pending(&la), -1);
	wr(0x310, 0xFF000000);                   /* broadcast: us and the others */
	wr(0x300, 0x00053);
	ck_assert_int_eq(ipis_out, 3);
	ck_assert_int_eq(intc_ack(&ic), 0x53);
	wr(0xB0, 0);
	wr(0x300, 0x40050);                      /* self shorthand, fixed, 0x50 */
	ck_assert_int_eq(lapic_pending(&la), 0x50);
	wr(0x310, 0);                            /* physical destination 0: us */
	wr(0x300, 0x00061);
	ck_assert_uint_eq(rd(0x200 + 0x30), 1u << 1);    /* IRR bit 0x61 */
	wr(0x300, 0x40005);                      /* vector 5: illegal */
	wr(0x280, 0);
	ck_assert_uint_eq(rd(0x280), 0x20);      /* send illegal vector */
	wr(0x280, 0);
	ck_assert_uint_eq(rd(0x280), 0);
	wr(0x300, 0x40400);                      /* NMI to self */
	ck_assert(intc_nmi_pending(&ic));
	intc_nmi_ack(&ic);
	ck_assert(!intc_nmi_pending(&ic));
}
END_TEST

START_TEST(software_disable_masks_lvts)
{
	wr(0x350, 0x700);
	ck_assert(lapic_extint_open(&la));
	wr(0xF0, 0xFF);
	ck_assert_uint_eq(rd(0x350) & APIC_LVT_MASKED, APIC_LVT_MASKED);
	wr(0x350, 0x700);                        /* stays masked */
	ck_assert_uint_eq(rd(0x350), 0x10700);
	lapic_accept(&la, 0x40, false);          /* dropped */
	ck_assert_int_eq(lapic_pending(&la), -1);
}
END_TEST

START_TEST(apic_base_msr)
{
	ck_assert_int_eq(lapic_set_base_msr(&la, 0xFEE00900 | LAPIC_BASE_EXTD), -1);
	ck_assert_int_eq(lapic_set_base_msr(&la, 1ULL << 50), -1);
	ck_assert_int_eq(lapic_set_base_msr(&la, 0xFEE00800), 0);
	ck_assert_uint_eq(lapic_get_base_msr(&la), 0xFEE00900);  /* BSP kept */
	/* hardware disable forgets everything, LINT0 becomes INTR */
	lapic_accept(&la, 0x40, false);
	ck_assert_int_eq(lapic_set_base_msr(&la, 0xFEE00100), 0);
	ck_assert(!lapic_hw_enabled(&la));
	ck_assert(lapic_extint_open(&la));
	ck_assert_int_eq(lapic_set_base_msr(&la, 0xFEE00900), 0);
	ck_assert_int_eq(lapic_pending(&la), -1);
	ck_assert_uint_eq(rd(0xF0), 0xFF);
}
END_TEST

START_TEST(ioapic_edge_to_lapic)
{
	ck_assert_uint_eq(io_rd(0x01), 0x00170011);
	ck_assert_uint_eq(io_rd(0x00), 1u << 24);
	ck_assert_uint_eq(io_rd(0x10 + 2 * 4), 0x10000);     /* masked */
	intc_isa_set(&ic, 4, true);              /* masked: lost */
	intc_isa_set(&ic, 4, false);
	ck_assert_int_eq(lapic_pending(&la), -1);
	io_wr(0x10 + 2 * 4, 0x34);               /* fixed, edge, high, vector 0x34 */
	io_wr(0x11 + 2 * 4, 0);                  /* APIC ID 0 */
	intc_isa_set(&ic, 4, true);
	ck_assert(intc_pending(&ic));
	ck_assert_int_eq(intc_ack(&ic), 0x34);
	ck_assert_uint_eq(rd(0x180 + 0x10) & (1u << 20), 0);  /* TMR: edge */
	ck_assert_uint_eq(rd(0x100 + 0x10), 1u << 20);        /* ISR 0x34 */
	/* IRQ0 arrives on pin 2 */
	io_wr(0x10 + 2 * 2, 0x30);
	intc_isa_set(&ic, 0, true);
	ck_assert_uint_eq(rd(0x200 + 0x10), 1u << 16);        /* IRR 0x30 */
	/* a destination that is not us */
	io_wr(0x10 + 2 * 5, 0x35);
	io_wr(0x11 + 2 * 5, 3u << 24);
	intc_isa_set(&ic, 5, true);
	ck_assert_uint_eq(rd(0x200 + 0x10) & (1u << 21), 0);
}
END_TEST

START_TEST(ioapic_level_remote_irr)
{
	intc_set_gsi_active_low(&ic, 20, true);
	/* level, active low, vector 0x60 */
	io_wr(0x10 + 2 * 20, 0x60 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_POLARITY_LOW);
	ck_assert_int_eq(lapic_pending(&la), -1);
	intc_gsi_set(&ic, 20, true);
	ck_assert(io_rd(0x10 + 2 * 20) & IOAPIC_RTE_REMOTE_IRR);
	ck_assert_int_eq(intc_ack(&ic), 0x60);
	ck_assert_uint_eq(rd(0x180 + 0x30), 1u);  /* TMR bit 0x60 */
	/* EOI with the line still asserted: delivered again */
	wr(0xB0, 0);
	ck_assert_int_eq(lapic_pending(&la), 0x60);
	ck_assert_int_eq(intc_ack(&ic), 0x60);
	intc_gsi_set(&ic, 20, false);
	wr(0xB0, 0);
	ck_assert(!(io_rd(0x10 + 2 * 20) & IOAPIC_RTE_REMOTE_IRR));
	ck_assert_int_eq(lapic_pending(&la), -1);
	ck_assert_uint_eq(stats_get(&sim.stats, "ioapic.delivered"), 2);
}
END_TEST

START_TEST(ioapic_unmask_delivers_active_level)
{
	io_wr(0x10 + 2 * 9, 0x59 | IOAPIC_RTE_LEVEL | IOAPIC_RTE_MASKED);
	intc_isa_set(&ic, 9, true);
	ck_assert_int_eq(lapic_pending(&la), -1);
	io_wr(0x10 + 2 * 9, 0x59 | IOAPIC_RTE_LEVEL);
	ck_assert_int_eq(lapic_pending(&la), 0x59);
}
END_TEST

START_TEST(pic_through_extint)
{
	pic_io_write(&pic, 0x20, 1, 0x11);
	pic_io_write(&pic, 0x21, 1, 0x20);
	pic_io_write(&pic, 0x21, 1, 0x04);
	pic_io_write(&pic, 0x21, 1, 0x01);
	pic_io_write(&pic, 0x21, 1, 0x00);
	intc_isa_set(&ic, 1, true);
	/* LINT0 masked (reset state): the PIC cannot reach the CPU */
	ck_assert(!intc_pending(&ic));
	lapic_set_virtual_wire(&la);
	ck_assert(intc_pending(&ic));
	/* a LAPIC vector goes first */
	lapic_accept(&la, 0x80, false);
	ck_assert_int_eq(intc_ack(&ic), 0x80);
	ck_assert_int_eq(intc_ack(&ic), 0x21);
	ck_assert(!intc_pending(&ic));
	/* with the APIC hardware-disabled the PIC is wired straight in */
	pic_io_write(&pic, 0x20, 1, 0x20);
	intc_isa_set(&ic, 3, true);
	ck_assert(intc_pending(&ic));
	wr(0x350, 0x10000);
	ck_assert(!intc_pending(&ic));
	lapic_set_base_msr(&la, 0xFEE00100);
	ck_assert(intc_pending(&ic));
}
END_TEST

Suite *apic_suite(void)
{
	Suite *s = suite_create("apic");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identity_registers);
	tcase_add_test(tc, timer_one_shot_with_divider);
	tcase_add_test(tc, timer_periodic);
	tcase_add_test(tc, timer_masked_counts_but_does_not_interrupt);
	tcase_add_test(tc, priority_tpr_and_eoi);
	tcase_add_test(tc, self_ipi_and_illegal_vector);
	tcase_add_test(tc, software_disable_masks_lvts);
	tcase_add_test(tc, apic_base_msr);
	tcase_add_test(tc, ioapic_edge_to_lapic);
	tcase_add_test(tc, ioapic_level_remote_irr);
	tcase_add_test(tc, ioapic_unmask_delivers_active_level);
	tcase_add_test(tc, pic_through_extint);
	suite_add_tcase(s, tc);
	return s;
}
