/* tests/unit/test_bus.c: the physical map: RAM, MMIO, unmapped accesses,
 * DMA, splitting on remove/protect, store hooks, I/O ports. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "machine/bus.h"
#include "sim/sim.h"

static struct sim S;
static struct bus B;

static void setup(void)
{
	sim_init(&S, 1);
	bus_init(&B, &S);
}

static void teardown(void)
{
	bus_free(&B);
	sim_free(&S);
}

START_TEST(ram_roundtrip_and_overlap)
{
	ck_assert_int_eq(bus_add_ram(&B, "a", 0x1000, 0x2000, BUS_RWX), 0);
	ck_assert_int_eq(bus_add_ram(&B, "b", 0x2000, 0x1000, BUS_RWX), -1);  /* overlaps a */
	ck_assert_int_eq(bus_add_ram(&B, "c", 0x0, 0x1001, BUS_RWX), -1);
	ck_assert_int_eq(bus_add_ram(&B, "d", 0x3000, 0, BUS_RWX), -1);       /* empty */
	bus_write(&B, 0x1ffc, 8, 0x1122334455667788ull);
	ck_assert_uint_eq(bus_read(&B, 0x1ffc, 8), 0x1122334455667788ull);
	ck_assert_uint_eq(bus_read(&B, 0x2000, 2), 0x3344);
	ck_assert_ptr_nonnull(bus_find(&B, 0x2fff));
	ck_assert_ptr_null(bus_find(&B, 0x3000));
}
END_TEST

START_TEST(unmapped_reads_all_ones_reported_once)
{
	uint64_t gen = B.generation;
	ck_assert_uint_eq(bus_read(&B, 0xdead0000, 4), 0xffffffffu);
	ck_assert_uint_eq(bus_read(&B, 0xdead0000, 1), 0xff);
	ck_assert_uint_eq(bus_read(&B, 0xdead0000, 8), ~0ull);
	bus_write(&B, 0xdead0000, 4, 1);                /* dropped */
	ck_assert_uint_eq(stats_get(&S.stats, "bus.unknown_mmio"), 4);
	ck_assert_uint_eq(B.nreported, 1);              /* one address, one report */
	bus_read(&B, 0xbeef0000, 2);
	ck_assert_uint_eq(B.nreported, 2);
	ck_assert_uint_eq(B.generation, gen);
	ck_assert_uint_eq(bus_pio_in(&B, 0x80, 1), 0xff);
	ck_assert_uint_eq(bus_pio_in(&B, 0x80, 2), 0xffff);
	bus_pio_out(&B, 0x80, 1, 0);
	ck_assert_uint_eq(stats_get(&S.stats, "bus.unknown_pio"), 3);
	ck_assert_uint_eq(B.nreported, 3);              /* port 0x80 once */
}
END_TEST

START_TEST(dma_refuses_outside_ram)
{
	uint8_t buf[32];
	memset(buf, 0xab, sizeof buf);
	ck_assert_int_eq(bus_add_ram(&B, "a", 0x1000, 0x1000, BUS_RWX), 0);
	ck_assert_int_eq(bus_add_ram(&B, "b", 0x2000, 0x1000, BUS_RWX), 0);
	ck_assert_int_eq(bus_add_mmio(&B, "m", 0x3000, 0x1000, NULL, NULL, NULL), 0);
	/* spans a and b: fine */
	ck_assert_int_eq(bus_dma_write(&B, 0x1ff0, buf, 32), 0);
	ck_assert_uint_eq(bus_read(&B, 0x200f, 1), 0xab);
	/* runs into MMIO: refused, nothing written */
	memset(buf, 0xcd, sizeof buf);
	ck_assert_int_eq(bus_dma_write(&B, 0x2ff0, buf, 32), -1);
	ck_assert_uint_eq(bus_read(&B, 0x2ff0, 1), 0);
	ck_assert_int_eq(bus_dma_read(&B, 0x2ff0, buf, 32), -1);
	/* unmapped and wrapping */
	ck_assert_int_eq(bus_dma_read(&B, 0x100000, buf, 1), -1);
	ck_assert_int_eq(bus_dma_read(&B, ~0ull - 4, buf, 16), -1);
	ck_assert_int_eq(bus_dma_read(&B, 0x1000, buf, 0), 0);
}
END_TEST

START_TEST(remove_splits_regions)
{
	ck_assert_int_eq(bus_add_ram(&B, "a", 0x10000, 0x10000, BUS_RWX), 0);
	bus_write(&B, 0x10000, 4, 0x11111111);
	bus_write(&B, 0x1f000, 4, 0x22222222);
	uint64_t gen = B.generation;
	ck_assert_int_eq(bus_remove(&B, 0x14000, 0x2000), 0);
	ck_assert_uint_gt(B.generation, gen);
	ck_assert_uint_eq(B.nregions, 2);
	ck_assert_ptr_null(bus_find(&B, 0x14000));
	ck_assert_ptr_null(bus_find(&B, 0x15fff));
	ck_assert_ptr_nonnull(bus_find(&B, 0x13fff));
	ck_assert_ptr_nonnull(bus_find(&B, 0x16000));
	/* contents survive the split on both sides */
	ck_assert_uint_eq(bus_read(&B, 0x10000, 4), 0x11111111);
	ck_assert_uint_eq(bus_read(&B, 0x1f000, 4), 0x22222222);
	ck_assert_uint_eq(bus_read(&B, 0x15000, 4), 0xffffffffu);
	/* removing across the hole and the start of the right piece */
	ck_assert_int_eq(bus_remove(&B, 0x13000, 0x4000), 0);
	ck_assert_uint_eq(B.nregions, 2);
	ck_assert_uint_eq(bus_find(&B, 0x17000)->base, 0x17000);
	ck_assert_uint_eq(bus_read(&B, 0x1f000, 4), 0x22222222);
}
END_TEST

START_TEST(protect_splits_regions)
{
	ck_assert_int_eq(bus_add_ram(&B, "a", 0x10000, 0x4000, BUS_RWX), 0);
	bus_write(&B, 0x12000, 4, 0x33333333);
	ck_assert_int_eq(bus_protect(&B, 0x11000, 0x2000, BUS_R), 0);
	ck_assert_uint_eq(B.nregions, 3);
	ck_assert_uint_eq(bus_find(&B, 0x10000)->flags & BUS_RWX, BUS_RWX);
	ck_assert_uint_eq(bus_find(&B, 0x11000)->flags & BUS_RWX, BUS_R);
	ck_assert_uint_eq(bus_find(&B, 0x12fff)->flags & BUS_RWX, BUS_R);
	ck_assert_uint_eq(bus_find(&B, 0x13000)->flags & BUS_RWX, BUS_RWX);
	ck_assert_uint_eq(bus_read(&B, 0x12000, 4), 0x33333333);
	/* a range with a hole is refused and changes nothing */
	ck_assert_int_eq(bus_protect(&B, 0x13000, 0x2000, BUS_R), -1);
	ck_assert_uint_eq(bus_find(&B, 0x13000)->flags & BUS_RWX, BUS_RWX);
}
END_TEST

struct mmio_log {
	uint64_t last_off, last_val;
	unsigned reads, writes;
};

static uint64_t mmio_rd(void *ctx, uint64_t off, unsigned size)
{
	struct mmio_log *l = ctx;
	l->reads++;
	l->last_off = off;
	return 0x100 + off;
}

static void mmio_wr(void *ctx, uint64_t off, unsigned size, uint64_t v)
{
	struct mmio_log *l = ctx;
	l->writes++;
	l->last_off = off;
	l->last_val = v;
}

START_TEST(mmio_offsets_survive_split)
{
	struct mmio_log log = { 0 };
	ck_assert_int_eq(bus_add_mmio(&B, "dev", 0x40000, 0x3000, mmio_rd, mmio_wr, &log), 0);
	ck_assert_uint_eq(bus_read(&B, 0x40010, 4), 0x110);
	ck_assert_int_eq(bus_remove(&B, 0x41000, 0x1000), 0);
	ck_assert_uint_eq(bus_read(&B, 0x42008, 4), 0x100 + 0x2008);
	bus_write(&B, 0x42004, 2, 0xabcdef);
	ck_assert_uint_eq(log.last_off, 0x2004);
	ck_assert_uint_eq(log.last_val, 0xcdef);        /* masked to the size */
	ck_assert_uint_eq(log.writes, 1);
}
END_TEST

struct hook_log {
	unsigned n;
	uint64_t pa;
	unsigned len;
};

static void store_hook(void *ctx, uint64_t pa, unsigned len)
{
	struct hook_log *l = ctx;
	l->n++, l->pa = pa, l->len = len;
}

START_TEST(store_hook_fires)
{
	struct hook_log log = { 0 };
	ck_assert_int_eq(bus_add_ram(&B, "pmem", 0x100000, 0x10000, BUS_RWX), 0);
	uint64_t gen = B.generation;
	ck_assert_int_eq(bus_set_store_hook(&B, 0x100000, store_hook, &log), 0);
	ck_assert_uint_gt(B.generation, gen);
	ck_assert_uint_ne(bus_find(&B, 0x100000)->flags & BUS_STORE_HOOK, 0);
	bus_write(&B, 0x100040, 8, 1);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.pa, 0x100040);
	ck_assert_uint_eq(log.len, 8);
	uint8_t buf[100] = { 0 };
	ck_assert_int_eq(bus_dma_write(&B, 0x100100, buf, sizeof buf), 0);
	ck_assert_uint_eq(log.n, 2);
	ck_assert_uint_eq(log.len, 100);
	bus_read(&B, 0x100040, 8);
	ck_assert_uint_eq(log.n, 2);                    /* reads do not fire it */
	ck_assert_int_eq(bus_set_store_hook(&B, 0x900000, store_hook, &log), -1);
}
END_TEST

static uint32_t port_in(void *ctx, uint16_t port, unsigned size)
{
	return port * 2u;
}

static void port_out(void *ctx, uint16_t port, unsigned size, uint32_t v)
{
	*(uint32_t *)ctx = v;
}

START_TEST(io_ports)
{
	uint32_t last = 0;
	ck_assert_int_eq(bus_add_pio(&B, 0x3f8, 8, port_in, port_out, &last), 0);
	ck_assert_int_eq(bus_add_pio(&B, 0x3fc, 8, port_in, port_out, &last), -1);
	ck_assert_int_eq(bus_add_pio(&B, 0xfffc, 8, port_in, port_out, &last), -1);
	ck_assert_uint_eq(bus_pio_in(&B, 0x3f9, 1), (0x3f9 * 2) & 0xff);
	bus_pio_out(&B, 0x3ff, 2, 0x12345);
	ck_assert_uint_eq(last, 0x2345);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bus");
	TCase *t = tcase_create("map");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, ram_roundtrip_and_overlap);
	tcase_add_test(t, unmapped_reads_all_ones_reported_once);
	tcase_add_test(t, dma_refuses_outside_ram);
	tcase_add_test(t, remove_splits_regions);
	tcase_add_test(t, protect_splits_regions);
	tcase_add_test(t, mmio_offsets_survive_split);
	tcase_add_test(t, store_hook_fires);
	tcase_add_test(t, io_ports);
	suite_add_tcase(s, t);
	SRunner *r = srunner_create(s);
	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
