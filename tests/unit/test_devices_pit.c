/* tests/unit/test_devices_pit.c: the 8254 against simulated time. */
#include "tests/unit/test_devices.h"
#include "devices/pit8254.h"

static struct sim sim;
static struct pit8254 pit;
static struct irq_probe irq0;

static void outb(uint16_t port, uint8_t v) { pit_io_write(&pit, port, 1, v); }
static uint8_t inb(uint16_t port) { return pit_io_read(&pit, port, 1); }

static void setup(void)
{
	sim_init(&sim, 1);
	irq0 = (struct irq_probe){ .sim = &sim };
	pit_init(&pit, &sim, probe_line(&irq0));
}

static void teardown(void) { sim_free(&sim); }

static uint16_t latch_read(int ch)
{
	outb(0x43, (uint8_t)(ch << 6));          /* counter latch */
	uint16_t lo = inb(0x40 + ch);
	return lo | inb(0x40 + ch) << 8;
}

START_TEST(clock_conversion_round_trips)
{
	/* 1193182 ticks is one second give or take a tick. */
	ck_assert_uint_eq(pit_ticks(SIM_S), 1193181);
	for (uint64_t n = 0; n < 5000; n += 7)
		ck_assert_uint_eq(pit_ticks(pit_time(n)), n);
	ck_assert_uint_eq(pit_ticks(pit_time(1000) - 1), 999);
}
END_TEST

START_TEST(mode2_period_and_irq_edges)
{
	outb(0x43, 0x34);                        /* ch0, lo/hi, mode 2 */
	outb(0x40, 1193 & 0xFF);
	outb(0x40, 1193 >> 8);
	ck_assert(irq0.level);                   /* OUT high after the load */
	run_to(&sim, 10 * SIM_MS);
	/* Rising edges at N, 2N, ...: ten of them in 10 ms with N = 1193. */
	ck_assert_int_eq(irq0.rises, 1 + 10);    /* +1: OUT high from reset */
	ck_assert_int_eq(irq0.falls, 10);
	run_to(&sim, 10 * SIM_MS + 5 * SIM_US);
	ck_assert_int_eq(irq0.rises, 11);
	ck_assert_uint_eq(stats_get(&sim.stats, "pit.irq0_edges"), 10);  /* counting edges, not reset */
}
END_TEST

START_TEST(mode2_low_for_exactly_one_clock)
{
	outb(0x43, 0x34);
	outb(0x40, 100);
	outb(0x40, 0);
	run_to(&sim, pit_time(99) - 1);
	ck_assert(pit_out(&pit, 0));
	run_to(&sim, pit_time(99));
	ck_assert(!pit_out(&pit, 0));
	ck_assert(!irq0.level);
	run_to(&sim, pit_time(100));
	ck_assert(pit_out(&pit, 0));
	ck_assert(irq0.level);
}
END_TEST

START_TEST(mode2_readback_at_known_times)
{
	outb(0x43, 0x34);
	outb(0x40, 0xE8);                        /* 1000 */
	outb(0x40, 0x03);
	run_to(&sim, pit_time(250));
	ck_assert_uint_eq(latch_read(0), 750);
	run_to(&sim, pit_time(1000 + 999));
	ck_assert_uint_eq(latch_read(0), 1);
	run_to(&sim, pit_time(3000));
	ck_assert_uint_eq(latch_read(0), 1000);
}
END_TEST

START_TEST(latch_freezes_the_value)
{
	outb(0x43, 0x34);
	outb(0x40, 0); outb(0x40, 0x10);         /* 4096 */
	run_to(&sim, pit_time(96));
	outb(0x43, 0x00);                        /* latch */
	run_to(&sim, pit_time(1000));
	uint16_t v = inb(0x40);
	v |= inb(0x40) << 8;
	ck_assert_uint_eq(v, 4000);
	/* Unlatched reads follow time again. */
	v = inb(0x40);
	v |= inb(0x40) << 8;
	ck_assert_uint_eq(v, 3096);
}
END_TEST

START_TEST(mode3_square_wave)
{
	outb(0x43, 0x36);                        /* ch0 lo/hi mode 3 */
	outb(0x40, 100);
	outb(0x40, 0);
	run_to(&sim, pit_time(10));
	ck_assert_uint_eq(latch_read(0), 80);    /* counts down by two */
	ck_assert(pit_out(&pit, 0));
	run_to(&sim, pit_time(50));
	ck_assert(!pit_out(&pit, 0));
	ck_assert_uint_eq(latch_read(0), 100);
	run_to(&sim, pit_time(75));
	ck_assert_uint_eq(latch_read(0), 50);
	run_to(&sim, pit_time(1000));
	ck_assert_int_eq(irq0.rises, 1 + 10);
}
END_TEST

START_TEST(mode0_interrupt_on_terminal_count)
{
	ck_assert(irq0.level);                   /* reset: OUT high */
	outb(0x43, 0x30);                        /* ch0 lo/hi mode 0 */
	ck_assert(!pit_out(&pit, 0));
	ck_assert(!irq0.level);
	outb(0x40, 0x10);
	outb(0x40, 0x27);                        /* 10000 */
	run_to(&sim, pit_time(9999));
	ck_assert(!irq0.level);
	run_to(&sim, pit_time(10000));
	ck_assert(irq0.level);
	ck_assert_int_eq(irq0.rises, 2);
	run_to(&sim, SIM_S);
	ck_assert_int_eq(irq0.rises, 2);         /* one shot */
	/* the counter wraps past zero and keeps counting */
	ck_assert_uint_eq(pit_count(&pit, 0), (uint16_t)(10000 - pit_ticks(SIM_S)));
}
END_TEST

START_TEST(count_zero_is_65536)
{
	outb(0x43, 0x34);
	outb(0x40, 0);
	outb(0x40, 0);
	run_to(&sim, pit_time(65535));
	ck_assert_int_eq(irq0.rises, 1);
	run_to(&sim, pit_time(65536));
	ck_assert_int_eq(irq0.rises, 2);
}
END_TEST

START_TEST(readback_status_and_count)
{
	outb(0x43, 0xB4);                        /* ch2 lo/hi mode 2 */
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20); /* OUT2 high in mode 2 */
	outb(0x43, 0xE8);                        /* read-back status ch2 */
	ck_assert_uint_eq(inb(0x42), 0x80 | 0x40 | 0x30 | 0x04);
	outb(0x42, 50);
	outb(0x42, 0);
	outb(0x61, 0x01);                        /* gate 2 on */
	run_to(&sim, pit_time(20));
	outb(0x43, 0xC8);                        /* read-back count+status ch2 */
	ck_assert_uint_eq(inb(0x42), 0x80 | 0x30 | 0x04);   /* status first */
	ck_assert_uint_eq(inb(0x42), 30);
	ck_assert_uint_eq(inb(0x42), 0);
}
END_TEST

START_TEST(channel2_gate_calibration)
{
	/* What kernels do: gate off, mode 0 on ch2, load, gate on, spin on
	 * port 0x61 bit 5. */
	outb(0x61, 0x00);
	outb(0x43, 0xB0);
	outb(0x42, 0x9C);
	outb(0x42, 0x2E);                        /* 11932: 10 ms */
	run_to(&sim, SIM_MS);
	ck_assert_uint_eq(pit_count(&pit, 2), 11932);   /* gate low: paused */
	outb(0x61, 0x01);
	sim_time_t t0 = sim.now;
	run_to(&sim, t0 + pit_time(11931));
	ck_assert_uint_eq(inb(0x61) & 0x20, 0);
	run_to(&sim, t0 + pit_time(11932));
	ck_assert_uint_eq(inb(0x61) & 0x20, 0x20);
	ck_assert_uint_eq(inb(0x61) & 0x01, 0x01);
	ck_assert_int_eq(irq0.rises, 1);         /* reset only: channel 2 is not IRQ0 */
	ck_assert_int_eq(irq0.falls, 0);
}
END_TEST

START_TEST(lsb_only_and_msb_only)
{
	outb(0x43, 0x14);                        /* ch0 lsb only, mode 2 */
	outb(0x40, 200);
	run_to(&sim, pit_time(50));
	ck_assert_uint_eq(inb(0x40), 150);
	outb(0x43, 0x24);                        /* msb only */
	outb(0x40, 0x05);                        /* 1280 */
	run_to(&sim, sim.now + pit_time(6));
	ck_assert_uint_eq(inb(0x40), 0x04);      /* 1274 = 0x04FA */
}
END_TEST

START_TEST(refresh_bit_toggles_with_time)
{
	uint8_t a = inb(0x61) & 0x10;
	run_to(&sim, pit_time(18));
	uint8_t b = inb(0x61) & 0x10;
	ck_assert_uint_ne(a, b);
}
END_TEST

Suite *pit_suite(void)
{
	Suite *s = suite_create("pit8254");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, clock_conversion_round_trips);
	tcase_add_test(tc, mode2_period_and_irq_edges);
	tcase_add_test(tc, mode2_low_for_exactly_one_clock);
	tcase_add_test(tc, mode2_readback_at_known_times);
	tcase_add_test(tc, latch_freezes_the_value);
	tcase_add_test(tc, mode3_square_wave);
	tcase_add_test(tc, mode0_interrupt_on_terminal_count);
	tcase_add_test(tc, count_zero_is_65536);
	tcase_add_test(tc, readback_status_and_count);
	tcase_add_test(tc, channel2_gate_calibration);
	tcase_add_test(tc, lsb_only_and_msb_only);
	tcase_add_test(tc, refresh_bit_toggles_with_time);
	suite_add_tcase(s, tc);
	return s;
}
