/* tests/unit/test_devices_pc.c: the run config mapped onto the devices. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/unit/test_devices.h"
#include "devices/pc.h"
#include "machine/guest_abi.h"
#include "machine/bus.h"
#include "sim/config.h"

START_TEST(defaults_from_run_config)
{
	struct config cfg;
	struct pc_config pc;
	char err[256];
	config_defaults(&cfg);
	ck_assert_int_eq(pc_config_from(&pc, &cfg, err, sizeof err), 0);
	ck_assert_int_eq(pc.epoch, 1767225600);
	ck_assert_ptr_eq(pc.com1_out, stdout);
	ck_assert_ptr_null(pc.com1_in);
	ck_assert(pc.virtual_wire);
	ck_assert_uint_eq(pc.apic_bus_hz, 100000000);
	ck_assert_uint_eq(pc.ram_bytes, cfg.memory.dram_mb << 20);
	config_free(&cfg);
}
END_TEST

START_TEST(files_and_errors)
{
	struct config cfg;
	struct pc_config pc;
	char err[256], path[] = "/tmp/test_devices_pc_XXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "abc", 3), 3);
	close(fd);

	config_defaults(&cfg);
	char set[300];
	snprintf(set, sizeof set, "serial.input=%s", path);
	ck_assert_int_eq(config_set(&cfg, set, err, sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "serial.output=none", err, sizeof err), 0);
	ck_assert_int_eq(pc_config_from(&pc, &cfg, err, sizeof err), 0);
	ck_assert_ptr_null(pc.com1_out);
	ck_assert_ptr_nonnull(pc.com1_in);
	ck_assert(pc.own_in);
	fclose(pc.com1_in);

	ck_assert_int_eq(config_set(&cfg, "serial.input=/nonexistent/in", err, sizeof err), 0);
	ck_assert_int_eq(pc_config_from(&pc, &cfg, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "serial.input"));
	config_free(&cfg);
	unlink(path);
}
END_TEST

/* The whole set on a real bus: every device reachable where docs/machine.md
 * says, and the interrupt path from the PIT to the CPU interface. */
START_TEST(wired_on_the_bus)
{
	struct sim sim;
	struct bus bus;
	struct pc_devices *pc = malloc(sizeof *pc);
	struct pc_config cfg = pc_default_config();
	char *out = NULL;
	size_t outlen = 0;

	sim_init(&sim, 1);
	bus_init(&bus, &sim);
	cfg.epoch = 1700000000;
	cfg.ram_bytes = 64 << 20;
	cfg.com1_out = open_memstream(&out, &outlen);
	ck_assert_int_eq(pc_devices_init(pc, &sim, &bus, &cfg), 0);

	/* PIC remap, PIT at 1 kHz: IRQ0 arrives through ExtINT */
	static const uint8_t init[][2] = {
		{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01},
		{0xA0, 0x11}, {0xA1, 0x28}, {0xA1, 0x02}, {0xA1, 0x01},
		{0x21, 0xFE}, {0xA1, 0xFF},
		{0x43, 0x34}, {0x40, 0xA9}, {0x40, 0x04},
	};
	for (size_t i = 0; i < sizeof init / sizeof init[0]; i++)
		bus_pio_out(&bus, init[i][0], 1, init[i][1]);
	ck_assert_uint_eq(bus_pio_in(&bus, 0x21, 1), 0xFE);
	ck_assert(!intc_pending(&pc->intc));
	sim_run_events(&sim, 1500 * SIM_US);
	ck_assert(intc_pending(&pc->intc));
	ck_assert_int_eq(intc_ack(&pc->intc), 0x20);

	/* COM1, RTC, PCI, APICs */
	bus_pio_out(&bus, 0x3F8, 1, 'o');
	bus_pio_out(&bus, 0x3F8, 1, 'k');
	fflush(cfg.com1_out);
	ck_assert_uint_eq(outlen, 2);
	bus_pio_out(&bus, 0x70, 1, 0x04);
	ck_assert_uint_eq(bus_pio_in(&bus, 0x71, 1), 0x22);
	bus_pio_out(&bus, 0x70, 1, 0x15);
	ck_assert_uint_eq(bus_pio_in(&bus, 0x71, 1), 0x80);  /* 640 KiB, low byte */
	bus_pio_out(&bus, 0xCF8, 4, 0x80000000);
	ck_assert_uint_eq(bus_pio_in(&bus, 0xCFC, 4), 0x12378086);
	ck_assert_uint_eq(bus_read(&bus, ABI_LAPIC_BASE + 0x30, 4), 0x00050014);
	bus_write(&bus, ABI_IOAPIC_BASE, 4, 1);
	ck_assert_uint_eq(bus_read(&bus, ABI_IOAPIC_BASE + 0x10, 4), 0x00170011);

	/* the LAPIC page follows the APIC_BASE MSR */
	ck_assert_int_eq(lapic_set_base_msr(&pc->lapic, 0xFED00900), 0);
	ck_assert_uint_eq(bus_read(&bus, 0xFED00030, 4), 0x00050014);
	ck_assert_uint_eq(bus_read(&bus, ABI_LAPIC_BASE + 0x30, 4), 0xFFFFFFFF);

	/* debug exit ends the run */
	bus_pio_out(&bus, 0xF4, 1, 3);
	ck_assert_int_eq(sim.stop, SIM_STOP_REQUESTED);
	ck_assert_int_eq(sim.stop_code, 7);

	pc_devices_free(pc);
	fclose(cfg.com1_out);
	free(out);
	free(pc);
	bus_free(&bus);
	sim_free(&sim);
}
END_TEST

Suite *pc_suite(void)
{
	Suite *s = suite_create("pc");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, defaults_from_run_config);
	tcase_add_test(tc, files_and_errors);
	tcase_add_test(tc, wired_on_the_bus);
	suite_add_tcase(s, tc);
	return s;
}
