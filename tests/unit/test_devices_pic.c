/* tests/unit/test_devices_pic.c: the 8259A pair through its ports. */
#include "tests/unit/test_devices.h"
#include "devices/pic8259.h"

static struct sim sim;
static struct pic8259 pic;

static void outb(uint16_t port, uint8_t v) { pic_io_write(&pic, port, 1, v); }
static uint8_t inb(uint16_t port) { return pic_io_read(&pic, port, 1); }

/* The classic remap: master at 0x20, slave at 0x28. */
static void setup(void)
{
	sim_init(&sim, 1);
	pic_init(&pic, &sim);
	outb(0x20, 0x11); outb(0xA0, 0x11);
	outb(0x21, 0x20); outb(0xA1, 0x28);
	outb(0x21, 0x04); outb(0xA1, 0x02);
	outb(0x21, 0x01); outb(0xA1, 0x01);
	outb(0x21, 0x00); outb(0xA1, 0x00);
}

static void teardown(void) { sim_free(&sim); }

START_TEST(init_sequence_sets_vectors)
{
	ck_assert(!pic_int_output(&pic));
	pic_set_irq(&pic, 1, true);
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x21);
	/* OCW3 read ISR, then read IRR again */
	outb(0x20, 0x0B);
	ck_assert_uint_eq(inb(0x20), 0x02);
	outb(0x20, 0x0A);
	ck_assert_uint_eq(inb(0x20), 0x00);   /* the edge was consumed */
	ck_assert_uint_eq(inb(0x21), 0x00);   /* IMR cleared by the init */
}
END_TEST

START_TEST(priority_and_nesting)
{
	pic_set_irq(&pic, 5, true);
	pic_set_irq(&pic, 3, true);
	ck_assert_int_eq(pic_ack(&pic), 0x23);   /* lower IR wins */
	/* IRQ5 is below the in-service IRQ3: blocked */
	ck_assert(!pic_int_output(&pic));
	/* IRQ0 is above it: nests */
	pic_set_irq(&pic, 0, true);
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x20);
	outb(0x20, 0x0B);
	ck_assert_uint_eq(inb(0x20), 0x09);
	outb(0x20, 0x20);                        /* non-specific EOI: IRQ0 */
	ck_assert_uint_eq(inb(0x20), 0x08);
	ck_assert(!pic_int_output(&pic));
	outb(0x20, 0x63);                        /* specific EOI for IRQ3 */
	ck_assert_uint_eq(inb(0x20), 0x00);
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x25);
}
END_TEST

START_TEST(irq7_in_service_blocks_nothing_above_it)
{
	pic_set_irq(&pic, 7, true);
	ck_assert_int_eq(pic_ack(&pic), 0x27);
	pic_set_irq(&pic, 0, true);
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x20);
	outb(0x20, 0x0B);
	ck_assert_uint_eq(inb(0x20), 0x81);
}
END_TEST

START_TEST(special_mask_mode)
{
	pic_set_irq(&pic, 3, true);
	ck_assert_int_eq(pic_ack(&pic), 0x23);
	pic_set_irq(&pic, 5, true);
	ck_assert(!pic_int_output(&pic));       /* below the in-service IRQ3 */
	outb(0x20, 0x68);                        /* OCW3: set special mask */
	outb(0x21, 0x08);                        /* mask IRQ3 */
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x25);
	outb(0x20, 0x48);                        /* reset special mask */
	outb(0x20, 0x65);                        /* specific EOI IRQ5 */
	pic_set_irq(&pic, 6, true);
	ck_assert(!pic_int_output(&pic));       /* IRQ3 blocks again */
}
END_TEST

START_TEST(masking)
{
	outb(0x21, 0x02);
	ck_assert_uint_eq(inb(0x21), 0x02);
	pic_set_irq(&pic, 1, true);
	ck_assert(!pic_int_output(&pic));
	outb(0x20, 0x0A);
	ck_assert_uint_eq(inb(0x20), 0x02);     /* requested, just masked */
	outb(0x21, 0x00);
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x21);
}
END_TEST

START_TEST(cascade_through_irq2)
{
	pic_set_irq(&pic, 12, true);
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x2C);
	outb(0x20, 0x0B);
	outb(0xA0, 0x0B);
	ck_assert_uint_eq(inb(0x20), 0x04);
	ck_assert_uint_eq(inb(0xA0), 0x10);
	/* Masking the cascade line on the master hides the slave. */
	pic_set_irq(&pic, 12, false);
	outb(0xA0, 0x20); outb(0x20, 0x20);
	outb(0x21, 0x04);
	pic_set_irq(&pic, 9, true);
	ck_assert(!pic_int_output(&pic));
	outb(0x21, 0x00);
	ck_assert_int_eq(pic_ack(&pic), 0x29);
}
END_TEST

START_TEST(level_line_dropped_gives_spurious_irq7)
{
	outb(0x4D0, 0x20);                       /* IRQ5 level-triggered */
	pic_set_irq(&pic, 5, true);
	ck_assert(pic_int_output(&pic));
	pic_set_irq(&pic, 5, false);
	ck_assert_int_eq(pic_ack(&pic), 0x27);
	outb(0x20, 0x0B);
	ck_assert_uint_eq(inb(0x20), 0x00);     /* no ISR bit for spurious */
	ck_assert_uint_eq(stats_get(&sim.stats, "pic.spurious"), 1);
}
END_TEST

START_TEST(level_stays_requested_after_eoi)
{
	outb(0x4D1, 0x04);                       /* IRQ10 level */
	pic_set_irq(&pic, 10, true);
	ck_assert_int_eq(pic_ack(&pic), 0x2A);
	outb(0xA0, 0x20); outb(0x20, 0x20);
	ck_assert(pic_int_output(&pic));        /* still asserted */
	ck_assert_int_eq(pic_ack(&pic), 0x2A);
}
END_TEST

START_TEST(edges_latch_and_repeat_only_on_new_edges)
{
	irq_pulse(&(struct irq_line){ .set = pic_set_irq, .ctx = &pic, .line = 4 });
	ck_assert(pic_int_output(&pic));
	ck_assert_int_eq(pic_ack(&pic), 0x24);
	outb(0x20, 0x20);
	ck_assert(!pic_int_output(&pic));
	pic_set_irq(&pic, 6, true);
	ck_assert_int_eq(pic_ack(&pic), 0x26);
	outb(0x20, 0x20);
	pic_set_irq(&pic, 6, true);              /* no new edge */
	ck_assert(!pic_int_output(&pic));
}
END_TEST

START_TEST(auto_eoi_and_poll)
{
	outb(0x20, 0x11); outb(0x21, 0x40); outb(0x21, 0x04); outb(0x21, 0x03);
	outb(0x21, 0x00);
	pic_set_irq(&pic, 3, true);
	ck_assert_int_eq(pic_ack(&pic), 0x43);
	outb(0x20, 0x0B);
	ck_assert_uint_eq(inb(0x20), 0x00);     /* AEOI: nothing in service */
	pic_set_irq(&pic, 1, true);
	outb(0x20, 0x0C);                        /* poll */
	ck_assert_uint_eq(inb(0x20), 0x81);
	outb(0x20, 0x0C);
	ck_assert_uint_eq(inb(0x20), 0x00);
}
END_TEST

START_TEST(rotation_and_set_priority)
{
	outb(0x20, 0xC4);                        /* IRQ4 lowest: IRQ5 highest */
	pic_set_irq(&pic, 1, true);
	pic_set_irq(&pic, 6, true);
	ck_assert_int_eq(pic_ack(&pic), 0x26);
	outb(0x20, 0xA0);                        /* rotate on non-specific EOI */
	/* IRQ6 is now lowest, IRQ7 highest, then 0, 1 */
	ck_assert_int_eq(pic_ack(&pic), 0x21);
}
END_TEST

START_TEST(elcr_masks_edge_only_lines)
{
	outb(0x4D0, 0xFF);
	outb(0x4D1, 0xFF);
	ck_assert_uint_eq(inb(0x4D0), 0xF8);
	ck_assert_uint_eq(inb(0x4D1), 0xDE);
}
END_TEST

Suite *pic_suite(void)
{
	Suite *s = suite_create("pic8259");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, init_sequence_sets_vectors);
	tcase_add_test(tc, priority_and_nesting);
	tcase_add_test(tc, irq7_in_service_blocks_nothing_above_it);
	tcase_add_test(tc, special_mask_mode);
	tcase_add_test(tc, masking);
	tcase_add_test(tc, cascade_through_irq2);
	tcase_add_test(tc, level_line_dropped_gives_spurious_irq7);
	tcase_add_test(tc, level_stays_requested_after_eoi);
	tcase_add_test(tc, edges_latch_and_repeat_only_on_new_edges);
	tcase_add_test(tc, auto_eoi_and_poll);
	tcase_add_test(tc, rotation_and_set_priority);
	tcase_add_test(tc, elcr_masks_edge_only_lines);
	suite_add_tcase(s, tc);
	return s;
}
