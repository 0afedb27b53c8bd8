/* tests/unit/test_devices_rtc.c: the CMOS clock at a known epoch. */
#include "tests/unit/test_devices.h"
#include "devices/rtc_cmos.h"

static struct sim sim;
static struct rtc_cmos rtc;
static struct irq_probe irq;

/* 2023-11-14 22:13:20 UTC, a Tuesday. */
#define EPOCH 1700000000

static uint8_t cmos(uint8_t i)
{
	rtc_io_write(&rtc, 0x70, 1, i);
	return rtc_io_read(&rtc, 0x71, 1);
}

static void cmos_wr(uint8_t i, uint8_t v)
{
	rtc_io_write(&rtc, 0x70, 1, i);
	rtc_io_write(&rtc, 0x71, 1, v);
}

static void setup(void)
{
	sim_init(&sim, 1);
	irq = (struct irq_probe){ .sim = &sim };
	rtc_init(&rtc, &sim, probe_line(&irq), EPOCH);
}

static void teardown(void) { sim_free(&sim); }

START_TEST(bcd_time_at_epoch)
{
	ck_assert_uint_eq(cmos(0x00), 0x20);
	ck_assert_uint_eq(cmos(0x02), 0x13);
	ck_assert_uint_eq(cmos(0x04), 0x22);
	ck_assert_uint_eq(cmos(0x06), 3);        /* Tuesday, Sunday = 1 */
	ck_assert_uint_eq(cmos(0x07), 0x14);
	ck_assert_uint_eq(cmos(0x08), 0x11);
	ck_assert_uint_eq(cmos(0x09), 0x23);
	ck_assert_uint_eq(cmos(0x32), 0x20);
	ck_assert_uint_eq(cmos(0x0A), 0x26);
	ck_assert_uint_eq(cmos(0x0B), 0x02);
	ck_assert_uint_eq(cmos(0x0D), 0x80);
}
END_TEST

START_TEST(time_advances_with_simulated_time)
{
	run_to(&sim, 61 * SIM_S + SIM_S / 2);
	ck_assert_uint_eq(cmos(0x00), 0x21);
	ck_assert_uint_eq(cmos(0x02), 0x14);
	ck_assert_int_eq(rtc_time(&rtc), EPOCH + 61);
	/* across midnight and a month: 2023-11-30 23:59:59 + 1 s */
	run_to(&sim, (sim_time_t)(1701388799 - EPOCH) * SIM_S);
	ck_assert_uint_eq(cmos(0x07), 0x30);
	ck_assert_uint_eq(cmos(0x04), 0x23);
	run_to(&sim, (sim_time_t)(1701388800 - EPOCH) * SIM_S);
	ck_assert_uint_eq(cmos(0x07), 0x01);
	ck_assert_uint_eq(cmos(0x08), 0x12);
	ck_assert_uint_eq(cmos(0x04), 0x00);
	ck_assert_uint_eq(cmos(0x06), 6);        /* Friday */
}
END_TEST

START_TEST(binary_and_12_hour)
{
	cmos_wr(0x0B, 0x06);                     /* binary, 24 h */
	ck_assert_uint_eq(cmos(0x00), 20);
	ck_assert_uint_eq(cmos(0x04), 22);
	ck_assert_uint_eq(cmos(0x09), 23);
	cmos_wr(0x0B, 0x04);                     /* binary, 12 h */
	ck_assert_uint_eq(cmos(0x04), 0x80 | 10);
	cmos_wr(0x0B, 0x00);                     /* BCD, 12 h */
	ck_assert_uint_eq(cmos(0x04), 0x80 | 0x10);
}
END_TEST

START_TEST(uip_before_each_update)
{
	run_to(&sim, SIM_S / 2);
	ck_assert_uint_eq(cmos(0x0A) & 0x80, 0);
	run_to(&sim, SIM_S - 244 * SIM_US);
	ck_assert_uint_eq(cmos(0x0A) & 0x80, 0x80);
	run_to(&sim, SIM_S);
	ck_assert_uint_eq(cmos(0x0A) & 0x80, 0);
	ck_assert_uint_eq(cmos(0x00), 0x21);
}
END_TEST

START_TEST(set_bit_freezes_and_restarts)
{
	cmos_wr(0x0B, 0x92);                     /* SET (and UIE, which SET clears) */
	ck_assert_uint_eq(cmos(0x0B), 0x82);
	run_to(&sim, 5 * SIM_S);
	ck_assert_uint_eq(cmos(0x00), 0x20);     /* frozen */
	cmos_wr(0x04, 0x08);
	cmos_wr(0x02, 0x00);
	cmos_wr(0x00, 0x00);
	cmos_wr(0x0B, 0x02);
	ck_assert_uint_eq(cmos(0x04), 0x08);
	run_to(&sim, 6 * SIM_S);
	ck_assert_uint_eq(cmos(0x00), 0x01);
	ck_assert_int_eq(rtc_time(&rtc), EPOCH - 22 * 3600 - 13 * 60 - 20 + 8 * 3600 + 1);
}
END_TEST

START_TEST(update_interrupt)
{
	cmos_wr(0x0B, 0x12);                     /* UIE */
	run_to(&sim, SIM_S - 1);
	ck_assert(!irq.level);
	run_to(&sim, SIM_S);
	ck_assert(irq.level);
	ck_assert_uint_eq(cmos(0x0C), 0xD0);     /* IRQF UF, and PF: it always ticks */
	ck_assert(!irq.level);
	ck_assert_uint_eq(cmos(0x0C), 0x00);
}
END_TEST

START_TEST(periodic_interrupt)
{
	cmos_wr(0x0B, 0x42);                     /* PIE, 1024 Hz from reg A */
	run_to(&sim, 976562 * SIM_NS);
	ck_assert(!irq.level);
	run_to(&sim, 976563 * SIM_NS);
	ck_assert(irq.level);
	ck_assert_uint_eq(cmos(0x0C), 0xC0);
	ck_assert(!irq.level);
	run_to(&sim, 1953125 * SIM_NS - 1);
	ck_assert_int_eq(irq.rises, 1);
	run_to(&sim, 1953125 * SIM_NS);
	ck_assert_int_eq(irq.rises, 2);
	/* Nobody reads C: the line stays up, no new edges. */
	run_to(&sim, SIM_S);
	ck_assert_int_eq(irq.rises, 2);
	ck_assert_uint_eq(cmos(0x0C), 0xD0);
	run_to(&sim, SIM_S + 976563 * SIM_NS);
	ck_assert_int_eq(irq.rises, 3);
}
END_TEST

START_TEST(periodic_flag_without_interrupt)
{
	ck_assert_uint_eq(cmos(0x0C) & 0x40, 0);
	run_to(&sim, SIM_MS);
	ck_assert_uint_eq(cmos(0x0C) & 0x40, 0x40);
	ck_assert_uint_eq(cmos(0x0C) & 0x40, 0);
	ck_assert(!irq.level);
}
END_TEST

START_TEST(alarm_interrupt)
{
	cmos_wr(0x01, 0x23);                     /* 22:13:23 */
	cmos_wr(0x03, 0x13);
	cmos_wr(0x05, 0xC0);                     /* any hour */
	cmos_wr(0x0B, 0x22);                     /* AIE */
	run_to(&sim, 2 * SIM_S);
	ck_assert(!irq.level);
	run_to(&sim, 3 * SIM_S);
	ck_assert(irq.level);
	ck_assert_uint_eq(cmos(0x0C), 0xF0);     /* IRQF PF AF UF */
}
END_TEST

START_TEST(memory_bytes_and_nmi_mask)
{
	rtc_set_memory(&rtc, 256ULL << 20);
	ck_assert_uint_eq(cmos(0x15) | cmos(0x16) << 8, 640);
	ck_assert_uint_eq(cmos(0x17) | cmos(0x18) << 8, 0xFFFF);
	ck_assert_uint_eq(cmos(0x30) | cmos(0x31) << 8, 0xFFFF);
	ck_assert_uint_eq(cmos(0x34) | cmos(0x35) << 8, (256 - 16) * 16);
	rtc_set_memory(&rtc, 32ULL << 20);
	ck_assert_uint_eq(cmos(0x17) | cmos(0x18) << 8, 31 * 1024);
	ck_assert(!rtc_nmi_masked(&rtc));
	rtc_io_write(&rtc, 0x70, 1, 0x8F);
	ck_assert(rtc_nmi_masked(&rtc));
	cmos_wr(0x40, 0xA5);
	ck_assert_uint_eq(cmos(0x40), 0xA5);
	cmos_wr(0x0D, 0x00);
	ck_assert_uint_eq(cmos(0x0D), 0x80);
}
END_TEST

Suite *rtc_suite(void)
{
	Suite *s = suite_create("rtc_cmos");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, bcd_time_at_epoch);
	tcase_add_test(tc, time_advances_with_simulated_time);
	tcase_add_test(tc, binary_and_12_hour);
	tcase_add_test(tc, uip_before_each_update);
	tcase_add_test(tc, set_bit_freezes_and_restarts);
	tcase_add_test(tc, update_interrupt);
	tcase_add_test(tc, periodic_interrupt);
	tcase_add_test(tc, periodic_flag_without_interrupt);
	tcase_add_test(tc, alarm_interrupt);
	tcase_add_test(tc, memory_bytes_and_nmi_mask);
	suite_add_tcase(s, tc);
	return s;
}
