/* tests/unit/test_devices_pci.c: PCI configuration space and debug-exit. */
#include "tests/unit/test_devices.h"
#include "devices/debug_exit.h"
#include "devices/pci.h"

static struct sim sim;
static struct pci_host pci;
static struct pci_func dev;

static struct {
	int calls, bar;
	uint64_t old_addr, new_addr;
} mapped;

static void map_cb(void *ctx, int bar, uint64_t old_addr, uint64_t new_addr)
{
	mapped.calls++;
	mapped.bar = bar;
	mapped.old_addr = old_addr;
	mapped.new_addr = new_addr;
}

static uint32_t cfg_addr(unsigned d, unsigned f, unsigned reg)
{
	return 0x80000000u | d << 11 | f << 8 | reg;
}

static uint32_t rd(unsigned d, unsigned reg, unsigned size)
{
	pci_io_write(&pci, 0xCF8, 4, cfg_addr(d, 0, reg & 0xFC));
	return pci_io_read(&pci, 0xCFC + (reg & 3), size);
}

static void wr(unsigned d, unsigned reg, unsigned size, uint32_t v)
{
	pci_io_write(&pci, 0xCF8, 4, cfg_addr(d, 0, reg & 0xFC));
	pci_io_write(&pci, 0xCFC + (reg & 3), size, v);
}

static void setup(void)
{
	sim_init(&sim, 1);
	pci_init(&pci, &sim);
	pci_func_init(&dev, 0, 3, 0, 0x1AF4, 0x1042, 0x010000, 1);
	ck_assert_int_eq(pci_func_set_bar(&dev, 0, 0x1000, PCI_BAR_MEM32), 0);
	ck_assert_int_eq(pci_func_set_bar(&dev, 1, 0x20, PCI_BAR_IO), 0);
	ck_assert_int_eq(pci_func_set_bar(&dev, 2, 0x100000, PCI_BAR_MEM64 | PCI_BAR_PREFETCH), 0);
	dev.map = map_cb;
	mapped.calls = 0;
	ck_assert_int_eq(pci_register(&pci, &dev), 0);
}

static void teardown(void) { sim_free(&sim); }

START_TEST(host_bridge_identity)
{
	ck_assert_uint_eq(rd(0, 0x00, 4), 0x12378086);
	ck_assert_uint_eq(rd(0, 0x08, 4), 0x06000002);
	ck_assert_uint_eq(rd(0, 0x02, 2), 0x1237);
	ck_assert_uint_eq(rd(0, 0x0B, 1), 0x06);
	ck_assert_uint_eq(pci_io_read(&pci, 0xCF8, 4), 0x80000008);
}
END_TEST

START_TEST(absent_functions_read_all_ones)
{
	ck_assert_uint_eq(rd(1, 0x00, 4), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(1, 0x02, 2), 0xFFFF);
	ck_assert_uint_eq(rd(31, 0x3C, 1), 0xFF);
	pci_io_write(&pci, 0xCF8, 4, cfg_addr(3, 1, 0));
	ck_assert_uint_eq(pci_io_read(&pci, 0xCFC, 4), 0xFFFFFFFF);
	/* enable bit clear: nothing responds, not even the bridge */
	pci_io_write(&pci, 0xCF8, 4, 0);
	ck_assert_uint_eq(pci_io_read(&pci, 0xCFC, 4), 0xFFFFFFFF);
	/* other buses are empty */
	pci_io_write(&pci, 0xCF8, 4, 0x80010000);
	ck_assert_uint_eq(pci_io_read(&pci, 0xCFC, 4), 0xFFFFFFFF);
	ck_assert_uint_eq(rd(3, 0x00, 4), 0x10421AF4);
}
END_TEST

START_TEST(read_only_and_write_one_to_clear)
{
	wr(3, 0x00, 4, 0);
	ck_assert_uint_eq(rd(3, 0x00, 4), 0x10421AF4);
	wr(3, 0x04, 2, 0xFFFF);
	ck_assert_uint_eq(rd(3, 0x04, 2), 0x0547);
	dev.cfg[PCI_STATUS + 1] = 0x80;          /* parity error detected */
	wr(3, 0x06, 2, 0x0000);
	ck_assert_uint_eq(rd(3, 0x06, 2), 0x8000);
	wr(3, 0x06, 2, 0x8000);
	ck_assert_uint_eq(rd(3, 0x06, 2), 0x0000);
	wr(3, 0x3C, 1, 11);
	ck_assert_uint_eq(rd(3, 0x3C, 1), 11);
	/* byte lanes: a byte write to 0xCFD lands at offset 0x0D */
	wr(3, 0x0D, 1, 0x40);
	ck_assert_uint_eq(rd(3, 0x0C, 4) & 0xFF00, 0x4000);
}
END_TEST

START_TEST(bar_sizing)
{
	wr(3, 0x10, 4, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(3, 0x10, 4), 0xFFFFF000);
	wr(3, 0x14, 4, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(3, 0x14, 4), 0xFFFFFFE1);
	wr(3, 0x18, 4, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(3, 0x18, 4), 0xFFF0000C);
	wr(3, 0x1C, 4, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(3, 0x1C, 4), 0xFFFFFFFF);
	wr(3, 0x20, 4, 0xFFFFFFFF);
	ck_assert_uint_eq(rd(3, 0x20, 4), 0);    /* unimplemented BAR */
	ck_assert_int_eq(mapped.calls, 0);       /* decode was off */
}
END_TEST

START_TEST(bar_mapping_callbacks)
{
	wr(3, 0x10, 4, 0xE0001000);
	ck_assert_int_eq(mapped.calls, 0);
	wr(3, 0x04, 2, PCI_CMD_MEM);
	ck_assert_int_eq(mapped.calls, 1);
	ck_assert_int_eq(mapped.bar, 0);
	ck_assert_uint_eq(mapped.old_addr, PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(mapped.new_addr, 0xE0001000);
	wr(3, 0x10, 4, 0xE0002000);
	ck_assert_int_eq(mapped.calls, 2);
	ck_assert_uint_eq(mapped.old_addr, 0xE0001000);
	ck_assert_uint_eq(mapped.new_addr, 0xE0002000);
	/* sizing with decode on does not map at the probe pattern */
	wr(3, 0x10, 4, 0xFFFFFFFF);
	ck_assert_int_eq(mapped.calls, 3);
	ck_assert_uint_eq(mapped.new_addr, PCI_BAR_UNMAPPED);
	/* 64-bit BAR above 4 GiB */
	wr(3, 0x18, 4, 0x00000000);
	wr(3, 0x1C, 4, 0x00000010);
	ck_assert_int_eq(mapped.bar, 2);
	ck_assert_uint_eq(mapped.new_addr, 0x1000000000ULL);
	/* I/O BAR only with I/O decode */
	wr(3, 0x14, 4, 0xC040);
	ck_assert_int_eq(mapped.bar, 2);
	wr(3, 0x04, 2, PCI_CMD_MEM | PCI_CMD_IO);
	ck_assert_int_eq(mapped.bar, 1);
	ck_assert_uint_eq(mapped.new_addr, 0xC040);
	wr(3, 0x04, 2, 0);
	ck_assert_uint_eq(dev.bar[1].mapped, PCI_BAR_UNMAPPED);
	ck_assert_uint_eq(dev.bar[2].mapped, PCI_BAR_UNMAPPED);
}
END_TEST

START_TEST(intx_and_disable)
{
	struct irq_probe p = {0};
	pci_func_set_irq(&dev, 1, 11, probe_line(&p));
	ck_assert_uint_eq(rd(3, 0x3D, 1), 1);
	pci_set_irq(&dev, true);
	ck_assert(p.level);
	ck_assert_uint_eq(rd(3, 0x06, 2) & PCI_STATUS_INTX, PCI_STATUS_INTX);
	wr(3, 0x04, 2, PCI_CMD_INTX_DISABLE);
	ck_assert(!p.level);
	ck_assert_uint_eq(rd(3, 0x06, 2) & PCI_STATUS_INTX, PCI_STATUS_INTX);
	pci_set_irq(&dev, false);
	wr(3, 0x04, 2, 0);
	ck_assert(!p.level);
	ck_assert_int_eq(p.rises, 1);
}
END_TEST

START_TEST(registry_rejects_duplicates_and_bad_bars)
{
	struct pci_func again;
	pci_func_init(&again, 0, 3, 0, 1, 2, 0, 0);
	ck_assert_int_eq(pci_register(&pci, &again), -1);
	ck_assert_int_eq(pci_func_set_bar(&again, 0, 0x1800, PCI_BAR_MEM32), -1);
	ck_assert_int_eq(pci_func_set_bar(&again, 5, 0x1000, PCI_BAR_MEM64), -1);
	ck_assert_int_eq(pci_func_set_bar(&again, 0, 8, PCI_BAR_MEM32), -1);
	ck_assert_ptr_eq(pci_find(&pci, 0, 3, 0), &dev);
	ck_assert_ptr_null(pci_find(&pci, 0, 4, 0));
}
END_TEST

START_TEST(debug_exit_code)
{
	struct debug_exit dx;
	debug_exit_init(&dx, &sim);
	debug_exit_io_write(&dx, 0x80, 1, 0x55);
	debug_exit_io_write(&dx, 0x80, 1, 0xAA);
	ck_assert_uint_eq(debug_exit_io_read(&dx, 0x80, 1), 0xAA);
	ck_assert_uint_eq(stats_get(&sim.stats, "post.writes"), 2);
	ck_assert_int_eq(sim.stop, SIM_STOP_NONE);
	debug_exit_io_write(&dx, 0xF4, 1, 0x21);
	ck_assert_int_eq(sim.stop, SIM_STOP_REQUESTED);
	ck_assert_int_eq(sim.stop_code, 0x43);
	debug_exit_io_write(&dx, 0xF4, 1, 0x00);
	ck_assert_int_eq(sim.stop_code, 0x43);   /* the first request wins */
	ck_assert_int_eq(dx.code, 0x43);
}
END_TEST

START_TEST(debug_exit_zero_is_one)
{
	struct debug_exit dx;
	debug_exit_init(&dx, &sim);
	debug_exit_io_write(&dx, 0xF4, 1, 0x100);  /* a byte port: 0 */
	ck_assert_int_eq(sim.stop_code, 1);
}
END_TEST

Suite *pci_suite(void)
{
	Suite *s = suite_create("pci");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, host_bridge_identity);
	tcase_add_test(tc, absent_functions_read_all_ones);
	tcase_add_test(tc, read_only_and_write_one_to_clear);
	tcase_add_test(tc, bar_sizing);
	tcase_add_test(tc, bar_mapping_callbacks);
	tcase_add_test(tc, intx_and_disable);
	tcase_add_test(tc, registry_rejects_duplicates_and_bad_bars);
	tcase_add_test(tc, debug_exit_code);
	tcase_add_test(tc, debug_exit_zero_is_one);
	suite_add_tcase(s, tc);
	return s;
}
