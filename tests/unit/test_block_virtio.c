/* tests/unit/test_block_virtio.c: virtio-blk as a driver sees it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sim/rng.h"
#include "tests/unit/test_block.h"

static struct tb t;

static void up_default(void)
{
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME});
}

static void down(void) { tb_down(&t); }

START_TEST(identity_and_capabilities)
{
	ck_assert_uint_eq(tb_cfg_read(&t, PCI_REVISION, 1), 1);
	ck_assert_uint_eq(tb_cfg_read(&t, PCI_CLASS_PROG + 1, 2), 0x0180);
	ck_assert_uint_eq(tb_cfg_read(&t, PCI_SUBSYS_VENDOR, 2), 0x1AF4);
	ck_assert_uint_ge(tb_cfg_read(&t, PCI_SUBSYS_ID, 2), 0x40);
	ck_assert_uint_eq(tb_cfg_read(&t, PCI_INT_PIN, 1), 1);
	ck_assert_uint_eq(t.common, VBLK_COMMON_OFF);
	ck_assert_uint_eq(t.isr, VBLK_ISR_OFF);
	ck_assert_uint_eq(t.devcfg, VBLK_DEVCFG_OFF);
	ck_assert_uint_eq(t.notify, VBLK_NOTIFY_OFF);
	ck_assert_uint_eq(t.notify_mult, VBLK_NOTIFY_MULT);
	ck_assert_uint_ne(t.pcicfg_cap, 0);
	/* Device configuration: capacity in 512-byte sectors, blk_size, limits. */
	ck_assert_uint_eq(tb_mmio_read(&t, t.devcfg + 0, 8), (4u << 20) / 512);
	ck_assert_uint_eq(tb_mmio_read(&t, t.devcfg + 0x14, 4), 512);
	ck_assert_uint_eq(tb_mmio_read(&t, t.devcfg + 0x0C, 4), VBLK_SEG_MAX);
	ck_assert_uint_eq(tb_mmio_read(&t, t.devcfg + 0x08, 4), VBLK_SIZE_MAX);
	ck_assert_uint_eq(tb_mmio_read(&t, t.common + 0x12, 2), 1);      /* num_queues */
	ck_assert_uint_eq(tb_mmio_read(&t, t.common + 0x10, 2), 0xFFFF); /* no MSI-X */
	/* Features offered. */
	tb_mmio_write(&t, t.common, 4, 1);
	ck_assert_uint_eq(tb_mmio_read(&t, t.common + 4, 4), 1);        /* VERSION_1 */
	tb_mmio_write(&t, t.common, 4, 0);
	uint32_t lo = tb_mmio_read(&t, t.common + 4, 4);
	ck_assert(lo & 1u << VIRTIO_BLK_F_FLUSH);
	ck_assert(lo & 1u << VIRTIO_BLK_F_BLK_SIZE);
	ck_assert(lo & 1u << VIRTIO_F_INDIRECT_DESC);
	/* The PCI_CFG window reaches the same registers. */
	unsigned c = t.pcicfg_cap;
	tb_cfg_write(&t, c + 4, 1, 0);
	tb_cfg_write(&t, c + 8, 4, VBLK_DEVCFG_OFF + 0x14);
	tb_cfg_write(&t, c + 12, 4, 4);
	ck_assert_uint_eq(tb_cfg_read(&t, c + 16, 4), 512);
	tb_cfg_write(&t, c + 8, 4, VBLK_COMMON_OFF + 0x16);             /* queue_select */
	tb_cfg_write(&t, c + 12, 4, 2);
	tb_cfg_write(&t, c + 16, 2, 5);
	ck_assert_uint_eq(tb_mmio_read(&t, t.common + 0x16, 2), 5);
	ck_assert_uint_eq(tb_mmio_read(&t, t.common + 0x18, 2), 0);     /* no queue 5 */
}
END_TEST

START_TEST(feature_negotiation)
{
	uint32_t c = t.common;
	tb_mmio_write(&t, c + 0x14, 1, 0);
	ck_assert_uint_eq(tb_dev_status(&t), 0);
	tb_mmio_write(&t, c + 0x14, 1, VIRTIO_STAT_ACKNOWLEDGE | VIRTIO_STAT_DRIVER);
	/* Without VERSION_1: FEATURES_OK does not stick. */
	tb_mmio_write(&t, c + 0x08, 4, 0);
	tb_mmio_write(&t, c + 0x0C, 4, 1u << VIRTIO_BLK_F_FLUSH);
	tb_mmio_write(&t, c + 0x14, 1, 0x0B);
	ck_assert_uint_eq(tb_dev_status(&t) & VIRTIO_STAT_FEATURES_OK, 0);
	/* A feature not offered (bit 13, DISCARD): refused too. */
	tb_mmio_write(&t, c + 0x0C, 4, 1u << 13);
	tb_mmio_write(&t, c + 0x08, 4, 1);
	tb_mmio_write(&t, c + 0x0C, 4, 1);
	tb_mmio_write(&t, c + 0x14, 1, 0x0B);
	ck_assert_uint_eq(tb_dev_status(&t) & VIRTIO_STAT_FEATURES_OK, 0);
	/* DRIVER_OK without FEATURES_OK is not taken either. */
	tb_mmio_write(&t, c + 0x14, 1, 0x07);
	ck_assert_uint_eq(tb_dev_status(&t) & VIRTIO_STAT_DRIVER_OK, 0);
	/* VERSION_1 alone: accepted, and without FLUSH the cache writes through. */
	tb_mmio_write(&t, c + 0x08, 4, 0);
	tb_mmio_write(&t, c + 0x0C, 4, 0);
	tb_mmio_write(&t, c + 0x14, 1, 0x0B);
	ck_assert(tb_dev_status(&t) & VIRTIO_STAT_FEATURES_OK);
	ck_assert(!t.bd.writeback);
	/* Features are frozen after FEATURES_OK. */
	tb_mmio_write(&t, c + 0x0C, 4, 1u << VIRTIO_BLK_F_FLUSH);
	ck_assert_uint_eq(tb_mmio_read(&t, c + 0x0C, 4), 0);
}
END_TEST

START_TEST(read_write_round_trip)
{
	static uint8_t w[65536], r[65536];
	tb_pattern(w, sizeof w, 7);
	tb_poke(&t, TB_DATA, w, sizeof w);
	sim_time_t t0 = t.sim.now;
	uint16_t head = tb_submit(&t, 0, VIRTIO_BLK_T_OUT, 16, TB_DATA, sizeof w);
	ck_assert_uint_eq(t.vb.inflight, 1);
	ck_assert(!t.irq.level);
	tb_run(&t);
	/* nvme preset: 10 us + 64 KiB at 2000 MB/s. */
	ck_assert_uint_eq(t.sim.now - t0, 10 * SIM_US + 65536ull * 1000000 / 2000);
	uint32_t id, len;
	ck_assert(tb_used(&t, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, 1);
	ck_assert_uint_eq(tb_status(&t, 0), VIRTIO_BLK_S_OK);
	ck_assert(t.irq.level);
	ck_assert_uint_eq(tb_mmio_read(&t, t.isr, 1), 1);
	ck_assert(!t.irq.level);                        /* the ISR read lowered INTx */
	ck_assert_uint_eq(tb_mmio_read(&t, t.isr, 1), 0);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 1);  /* in the volatile cache */

	memset(r, 0, sizeof r);
	tb_poke(&t, TB_DATA + 0x20000, r, sizeof r);
	head = tb_submit(&t, 1, VIRTIO_BLK_T_IN, 16, TB_DATA + 0x20000, sizeof r);
	tb_run(&t);
	ck_assert(tb_used(&t, &id, &len));
	ck_assert_uint_eq(id, head);
	ck_assert_uint_eq(len, sizeof r + 1);
	ck_assert_uint_eq(tb_status(&t, 1), VIRTIO_BLK_S_OK);
	tb_peek(&t, TB_DATA + 0x20000, r, sizeof r);
	ck_assert_mem_eq(r, w, sizeof w);
	/* A read of untouched sectors returns zeros (a sparse image). */
	tb_poke(&t, TB_DATA, w, 512);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, 4000, TB_DATA, 512), VIRTIO_BLK_S_OK);
	tb_peek(&t, TB_DATA, r, 512);
	for (int i = 0; i < 512; i++)
		ck_assert_uint_eq(r[i], 0);
}
END_TEST

START_TEST(no_interrupt_flag_suppresses_irq)
{
	uint8_t f[2] = {VIRTQ_AVAIL_F_NO_INTERRUPT, 0};
	tb_poke(&t, TB_AVAIL, f, 2);
	tb_submit(&t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	tb_run(&t);
	uint32_t id, len;
	ck_assert(tb_used(&t, &id, &len));
	ck_assert_int_eq(t.irq.rises, 0);
}
END_TEST

START_TEST(flush_empties_cache)
{
	static uint8_t w[4096];
	tb_pattern(w, sizeof w, 3);
	tb_poke(&t, TB_DATA, w, sizeof w);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 8, TB_DATA, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 2);
	sim_time_t t0 = t.sim.now;
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(t.sim.now - t0, 30 * SIM_US + 8192ull * 1000000 / 2000);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 0);
	ck_assert_mem_eq(t.bd.media + 8 * 512, w, 4096);
	t0 = t.sim.now;
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(t.sim.now - t0, 5 * SIM_US);          /* nothing to write */
}
END_TEST

START_TEST(get_id)
{
	uint8_t id[20];
	memset(id, 0xEE, sizeof id);
	tb_poke(&t, TB_DATA, id, sizeof id);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_GET_ID, 0, TB_DATA, 20), VIRTIO_BLK_S_OK);
	tb_peek(&t, TB_DATA, id, sizeof id);
	ck_assert_mem_eq(id, "disk.img\0\0\0\0\0\0\0\0\0\0\0\0", 20);
}
END_TEST

START_TEST(bad_requests_get_ioerr)
{
	uint64_t cap = (4u << 20) / 512;
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, cap, TB_DATA, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, cap - 1, TB_DATA, 1024), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, UINT64_MAX / 256, TB_DATA, 512),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, cap - 1, TB_DATA, 512), VIRTIO_BLK_S_OK);
	/* Not a multiple of the sector size. */
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_DATA, 100), VIRTIO_BLK_S_IOERR);
	/* Unknown type. */
	ck_assert_uint_eq(tb_do(&t, 77, 0, 0, 0), VIRTIO_BLK_S_UNSUPP);
	/* Data outside RAM: read into and write from unmapped memory. */
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, 0, 0xF0000000u, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_RAM - 256, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_BAR, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 0);  /* nothing was written */
	/* Too large a request. */
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, 0, TB_DATA, VBLK_REQ_MAX + 512),
			  VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_dev_status(&t), 0x0F);     /* still healthy */
	ck_assert_uint_eq(stats_get(&t.sim.stats, "virtio_blk.ioerr"), 8);
}
END_TEST

START_TEST(sector_size_4096_alignment)
{
	tb_down(&t);
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_SATA, .sector_size = 4096});
	ck_assert_uint_eq(tb_mmio_read(&t, t.devcfg + 0x14, 4), 4096);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 1, TB_DATA, 4096), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 8, TB_DATA, 512), VIRTIO_BLK_S_IOERR);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 8, TB_DATA, 8192), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blockdev_pending_write(&t.bd, 0)->sector, 1);
	ck_assert_uint_eq(blockdev_pending_write(&t.bd, 0)->count, 2);
}
END_TEST

static void expect_needs_reset(void)
{
	tb_run(&t);
	ck_assert(tb_dev_status(&t) & VIRTIO_STAT_NEEDS_RESET);
	ck_assert(t.irq.level);
	ck_assert_uint_eq(tb_mmio_read(&t, t.isr, 1) & 2, 2);   /* configuration change */
	/* Further notifies do nothing; a reset and a new setup recover. */
	tb_notify(&t);
	tb_run(&t);
	tb_driver_init(&t, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
}

START_TEST(descriptor_loop_sets_needs_reset)
{
	/* 0 -> 1 -> 0 -> ... : a chain without end. */
	tb_put_desc(&t, TB_DESC, 0, TB_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	tb_put_desc(&t, TB_DESC, 1, TB_STATUS, 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 0);
	tb_make_available(&t, 0);
	tb_notify(&t);
	expect_needs_reset();
}
END_TEST

START_TEST(next_out_of_range_sets_needs_reset)
{
	tb_put_desc(&t, TB_DESC, 0, TB_HDR, 16, VIRTQ_DESC_F_NEXT, 999);
	tb_make_available(&t, 0);
	tb_notify(&t);
	expect_needs_reset();
}
END_TEST

START_TEST(head_out_of_range_sets_needs_reset)
{
	tb_make_available(&t, 200);
	tb_notify(&t);
	expect_needs_reset();
}
END_TEST

START_TEST(status_outside_ram_sets_needs_reset)
{
	uint8_t hdr[16] = {VIRTIO_BLK_T_FLUSH};
	tb_poke(&t, TB_HDR, hdr, 16);
	tb_put_desc(&t, TB_DESC, 0, TB_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	tb_put_desc(&t, TB_DESC, 1, 0xF0000000u, 1, VIRTQ_DESC_F_WRITE, 0);
	tb_make_available(&t, 0);
	tb_notify(&t);
	expect_needs_reset();
}
END_TEST

START_TEST(ring_outside_ram_sets_needs_reset)
{
	uint32_t c = t.common;
	tb_mmio_write(&t, c + 0x14, 1, 0);
	tb_mmio_write(&t, c + 0x14, 1, 3);
	tb_mmio_write(&t, c + 0x0C, 4, 0);
	tb_mmio_write(&t, c + 0x08, 4, 1);
	tb_mmio_write(&t, c + 0x0C, 4, 1);
	tb_mmio_write(&t, c + 0x14, 1, 0x0B);
	tb_mmio_write(&t, c + 0x20, 8, 0xF0000000u);
	tb_mmio_write(&t, c + 0x28, 8, 0xF0010000u);
	tb_mmio_write(&t, c + 0x30, 8, 0xF0020000u);
	tb_mmio_write(&t, c + 0x1C, 2, 1);
	tb_mmio_write(&t, c + 0x14, 1, 0x0F);
	tb_notify(&t);
	expect_needs_reset();
	/* A misaligned ring or a queue size that is no power of two. */
	tb_mmio_write(&t, c + 0x14, 1, 0);
	tb_mmio_write(&t, c + 0x14, 1, 3);
	tb_mmio_write(&t, c + 0x18, 2, 100);
	tb_mmio_write(&t, c + 0x1C, 2, 1);
	ck_assert(tb_dev_status(&t) & VIRTIO_STAT_NEEDS_RESET);
	ck_assert_uint_eq(tb_mmio_read(&t, c + 0x1C, 2), 0);
}
END_TEST

START_TEST(indirect_descriptors)
{
	static uint8_t w[8192], r[8192];
	tb_pattern(w, sizeof w, 11);
	tb_poke(&t, TB_DATA, w, sizeof w);
	/* An indirect table of four: header, two data halves, status. */
	const uint64_t table = 0x50000;
	uint8_t hdr[16] = {VIRTIO_BLK_T_OUT};
	hdr[8] = 40;
	tb_poke(&t, TB_HDR, hdr, 16);
	tb_put_desc(&t, table, 0, TB_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	tb_put_desc(&t, table, 1, TB_DATA, 4096, VIRTQ_DESC_F_NEXT, 2);
	tb_put_desc(&t, table, 2, TB_DATA + 4096, 4096, VIRTQ_DESC_F_NEXT, 3);
	tb_put_desc(&t, table, 3, TB_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	tb_put_desc(&t, TB_DESC, 5, table, 64, VIRTQ_DESC_F_INDIRECT, 0);
	tb_make_available(&t, 5);
	tb_notify(&t);
	tb_run(&t);
	uint32_t id, len;
	ck_assert(tb_used(&t, &id, &len));
	ck_assert_uint_eq(id, 5);
	ck_assert_uint_eq(tb_status(&t, 0), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_IN, 40, TB_DATA + 0x10000, 8192), VIRTIO_BLK_S_OK);
	tb_peek(&t, TB_DATA + 0x10000, r, sizeof r);
	ck_assert_mem_eq(r, w, sizeof w);
	/* An indirect table pointing at itself through INDIRECT: refused. */
	tb_put_desc(&t, table, 0, table, 16, VIRTQ_DESC_F_INDIRECT, 0);
	tb_make_available(&t, 5);
	tb_notify(&t);
	expect_needs_reset();
}
END_TEST

START_TEST(many_in_flight_complete_in_time_order)
{
	/* 20 reads at once: every used element arrives, each head once. */
	bool seen[64] = {false};
	for (unsigned i = 0; i < 20; i++) {
		uint8_t hdr[16] = {VIRTIO_BLK_T_IN};
		hdr[8] = (uint8_t)i;
		tb_poke(&t, TB_HDR + 16 * i, hdr, 16);
		tb_put_desc(&t, TB_DESC, 3 * i, TB_HDR + 16 * i, 16, VIRTQ_DESC_F_NEXT, 3 * i + 1);
		tb_put_desc(&t, TB_DESC, 3 * i + 1, TB_DATA + 4096 * i, 512 * (i + 1),
			    VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3 * i + 2);
		tb_put_desc(&t, TB_DESC, 3 * i + 2, TB_STATUS + i, 1, VIRTQ_DESC_F_WRITE, 0);
		tb_make_available(&t, 3 * i);
	}
	tb_notify(&t);
	ck_assert_uint_eq(t.vb.inflight, 20);
	tb_run(&t);
	ck_assert_uint_eq(t.vb.inflight, 0);
	uint32_t id, len;
	for (unsigned i = 0; i < 20; i++) {
		ck_assert(tb_used(&t, &id, &len));
		ck_assert_uint_eq(id % 3, 0);
		ck_assert(!seen[id / 3]);
		seen[id / 3] = true;
		ck_assert_uint_eq(len, 512 * (id / 3 + 1) + 1);
	}
	ck_assert(!tb_used(&t, &id, &len));
}
END_TEST

START_TEST(write_through_without_volatile_cache)
{
	tb_down(&t);
	tb_up(&t, &(struct tb_opts){.preset = BLOCK_PRESET_NVME, .write_through = true});
	static uint8_t w[4096];
	tb_pattern(w, sizeof w, 5);
	tb_poke(&t, TB_DATA, w, sizeof w);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096), VIRTIO_BLK_S_OK);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 0);
	ck_assert_mem_eq(t.bd.media, w, 4096);
}
END_TEST

START_TEST(reset_drops_requests_in_flight)
{
	tb_submit(&t, 0, VIRTIO_BLK_T_OUT, 0, TB_DATA, 4096);
	ck_assert_uint_eq(t.vb.inflight, 1);
	tb_mmio_write(&t, t.common + 0x14, 1, 0);
	ck_assert_uint_eq(t.vb.inflight, 0);
	tb_run(&t);
	ck_assert_uint_eq(blockdev_pending(&t.bd), 0);
	ck_assert_uint_eq(tb_status(&t, 0), 0xAA);              /* never answered */
}
END_TEST

START_TEST(no_bus_master_no_dma)
{
	tb_cfg_write(&t, PCI_COMMAND, 2, PCI_CMD_MEM);
	tb_submit(&t, 0, VIRTIO_BLK_T_FLUSH, 0, 0, 0);
	tb_run(&t);
	uint32_t id, len;
	ck_assert(!tb_used(&t, &id, &len));
	tb_cfg_write(&t, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	tb_notify(&t);
	tb_run(&t);
	ck_assert(tb_used(&t, &id, &len));
}
END_TEST

/* Random garbage in the descriptor table and the rings, random register
 * writes: the device must neither crash nor hang (run under ASan/UBSan
 * with --enable-sanitizers). */
START_TEST(fuzz_rings)
{
	struct rng r;
	rng_seed(&r, 0xB10C + (uint64_t)_i);
	static uint8_t junk[0x2000];
	static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
					 VIRTIO_BLK_T_GET_ID, 2, 0xFFFFFFFF};
	for (int round = 0; round < 400; round++) {
		rng_fill(&r, junk, sizeof junk);
		/* Descriptors: garbage, or plausible ones aimed at RAM (data,
		 * the headers, the descriptor table itself) with random flags
		 * and next indices, some beyond the queue. */
		for (unsigned i = 0; i < 64; i++) {
			uint8_t *d = junk + 16 * i;
			if (rng_below(&r, 8) == 0)
				continue;
			static const uint64_t where[] = {TB_DATA, TB_HDR, TB_DESC, TB_STATUS,
							 TB_RAM - 8, 0xF0000000u};
			uint64_t a = where[rng_below(&r, 6)] + rng_below(&r, 64) * 16;
			uint32_t l = rng_below(&r, 4) ? (uint32_t)rng_below(&r, 3) * 512 + 16 * (uint32_t)rng_below(&r, 2)
						      : (uint32_t)rng_next(&r);
			uint16_t fl = (uint16_t)(rng_below(&r, 16) ? rng_below(&r, 8) : rng_next(&r));
			uint16_t nx = (uint16_t)rng_below(&r, 70);
			memcpy(d, &a, 8);
			memcpy(d + 8, &l, 4);
			memcpy(d + 12, &fl, 2);
			memcpy(d + 14, &nx, 2);
		}
		bool garbage = rng_below(&r, 2);
		if (garbage)
			tb_poke(&t, TB_DESC, junk, 64 * 16);
		/* Headers: a known type or garbage, a small or wild sector. */
		for (unsigned i = 0; i < 64; i++) {
			uint8_t *h = junk + 0x1000 + 16 * i;
			uint32_t ty = types[rng_below(&r, 6)];
			uint64_t sec = rng_below(&r, 4) ? rng_below(&r, 9000) : rng_next(&r);
			memcpy(h, &ty, 4);
			memcpy(h + 8, &sec, 8);
		}
		if (garbage)
			tb_poke(&t, TB_HDR, junk + 0x1000, 64 * 16);
		/* A few heads made available, sometimes a wild index. */
		unsigned k = (unsigned)rng_below(&r, 6);
		for (unsigned i = 0; i < k && garbage; i++)
			tb_make_available(&t, (uint16_t)(rng_below(&r, 10) ? rng_below(&r, 64)
									  : rng_below(&r, 0x10000)));
		/* Or well-formed requests (header, data, status) with one byte of
		 * a descriptor or header flipped now and then. */
		for (unsigned i = 0; i < k && !garbage; i++) {
			unsigned slot = (unsigned)rng_below(&r, 21), d0 = 3 * slot;
			static const uint32_t lens[] = {512, 1024, 4096, 20, 100};
			uint32_t ty = types[rng_below(&r, 4)];
			uint32_t len = lens[rng_below(&r, 5)];
			bool in = ty == VIRTIO_BLK_T_IN || ty == VIRTIO_BLK_T_GET_ID;
			tb_put_desc(&t, TB_DESC, d0, TB_HDR + 16 * slot, 16, VIRTQ_DESC_F_NEXT, d0 + 1);
			tb_put_desc(&t, TB_DESC, d0 + 1, TB_DATA + 8192 * slot, len,
				    VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0), d0 + 2);
			tb_put_desc(&t, TB_DESC, d0 + 2, TB_STATUS + slot, 1, VIRTQ_DESC_F_WRITE, 0);
			uint8_t hdr[16] = {0};
			uint64_t sec = rng_below(&r, 8200);
			memcpy(hdr, &ty, 4);
			memcpy(hdr + 8, &sec, 8);
			tb_poke(&t, TB_HDR + 16 * slot, hdr, 16);
			if (rng_below(&r, 3) == 0) {
				uint64_t at = rng_below(&r, 2) ? TB_DESC + 16 * d0 + rng_below(&r, 48)
							       : TB_HDR + 16 * slot + rng_below(&r, 16);
				uint8_t b = (uint8_t)rng_next(&r);
				tb_poke(&t, at, &b, 1);
			}
			tb_make_available(&t, (uint16_t)d0);
		}
		if (rng_below(&r, 20) == 0) {
			uint16_t idx = (uint16_t)rng_next(&r);
			tb_poke(&t, TB_AVAIL + 2, &idx, 2);
		}
		if (rng_below(&r, 30) == 0) {
			unsigned off = (unsigned)rng_below(&r, 0x40);
			tb_mmio_write(&t, t.common + off, 1u << rng_below(&r, 3), rng_next(&r));
		}
		tb_notify(&t);
		sim_run_events(&t.sim, t.sim.now + (rng_below(&r, 2) ? 100 * SIM_MS : 5 * SIM_US));
		uint8_t st = tb_dev_status(&t);
		if ((st & VIRTIO_STAT_NEEDS_RESET) || st != 0x0F || rng_below(&r, 40) == 0) {
			tb_run(&t);
			tb_driver_init(&t, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH |
					       1ull << VIRTIO_F_INDIRECT_DESC);
		}
	}
	tb_run(&t);
	/* The garbage reached the request paths, good and bad. */
	struct stats *st = &t.sim.stats;
	ck_assert_uint_gt(stats_get(st, "virtio_blk.requests"), 0);
	ck_assert_uint_gt(stats_get(st, "virtio_blk.needs_reset"), 0);
	ck_assert_uint_gt(stats_get(st, "virtio_blk.ioerr"), 0);
	ck_assert_uint_gt(stats_get(st, "blk.writes"), 0);
	ck_assert_uint_gt(stats_get(st, "blk.reads"), 0);
	if (_i == 0)
		fprintf(stderr, "fuzz_rings: requests %llu, ioerr %llu, unsupp %llu, needs_reset %llu\n",
			(unsigned long long)stats_get(st, "virtio_blk.requests"),
			(unsigned long long)stats_get(st, "virtio_blk.ioerr"),
			(unsigned long long)stats_get(st, "virtio_blk.unsupp"),
			(unsigned long long)stats_get(st, "virtio_blk.needs_reset"));
	/* Still a working disk afterwards. */
	tb_driver_init(&t, 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_FLUSH);
	ck_assert_uint_eq(tb_do(&t, VIRTIO_BLK_T_FLUSH, 0, 0, 0), VIRTIO_BLK_S_OK);
}
END_TEST

Suite *virtio_blk_suite(void)
{
	Suite *s = suite_create("virtio_blk");
	TCase *tc = tcase_create("driver");
	tcase_add_checked_fixture(tc, up_default, down);
	tcase_add_test(tc, identity_and_capabilities);
	tcase_add_test(tc, feature_negotiation);
	tcase_add_test(tc, read_write_round_trip);
	tcase_add_test(tc, no_interrupt_flag_suppresses_irq);
	tcase_add_test(tc, flush_empties_cache);
	tcase_add_test(tc, get_id);
	tcase_add_test(tc, bad_requests_get_ioerr);
	tcase_add_test(tc, sector_size_4096_alignment);
	tcase_add_test(tc, descriptor_loop_sets_needs_reset);
	tcase_add_test(tc, next_out_of_range_sets_needs_reset);
	tcase_add_test(tc, head_out_of_range_sets_needs_reset);
	tcase_add_test(tc, status_outside_ram_sets_needs_reset);
	tcase_add_test(tc, ring_outside_ram_sets_needs_reset);
	tcase_add_test(tc, indirect_descriptors);
	tcase_add_test(tc, many_in_flight_complete_in_time_order);
	tcase_add_test(tc, write_through_without_volatile_cache);
	tcase_add_test(tc, reset_drops_requests_in_flight);
	tcase_add_test(tc, no_bus_master_no_dma);
	tcase_add_loop_test(tc, fuzz_rings, 0, 8);
	suite_add_tcase(s, tc);
	return s;
}
