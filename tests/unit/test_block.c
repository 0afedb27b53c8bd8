/* tests/unit/test_block.c: the test driver for virtio-blk, the blockdev
 * tests, and main. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/unit/test_block.h"

static void irq_set_cb(void *ctx, int line, bool level)
{
	struct tb_irq *p = ctx;
	(void)line;
	if (level && !p->level)
		p->rises++;
	p->level = level;
}

uint32_t tb_cfg_read(struct tb *t, unsigned off, unsigned size)
{
	return pci_cfg_read(&t->pci, 0, TB_DEV, 0, off, size);
}

void tb_cfg_write(struct tb *t, unsigned off, unsigned size, uint32_t v)
{
	pci_cfg_write(&t->pci, 0, TB_DEV, 0, off, size, v);
}

uint64_t tb_mmio_read(struct tb *t, uint32_t off, unsigned size)
{
	return bus_read(&t->bus, TB_BAR + off, size);
}

void tb_mmio_write(struct tb *t, uint32_t off, unsigned size, uint64_t v)
{
	bus_write(&t->bus, TB_BAR + off, size, v);
}

void tb_poke(struct tb *t, uint64_t pa, const void *src, size_t len)
{
	ck_assert_int_eq(bus_dma_write(&t->bus, pa, src, len), 0);
}

void tb_peek(struct tb *t, uint64_t pa, void *dst, size_t len)
{
	ck_assert_int_eq(bus_dma_read(&t->bus, pa, dst, len), 0);
}

static void le16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void le32(uint8_t *p, uint32_t v) { le16(p, v); le16(p + 2, v >> 16); }
static void le64(uint8_t *p, uint64_t v) { le32(p, v); le32(p + 4, v >> 32); }

void tb_put_desc(struct tb *t, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next)
{
	uint8_t d[16];
	le64(d, addr);
	le32(d + 8, len);
	le16(d + 12, flags);
	le16(d + 14, next);
	tb_poke(t, table + 16ull * i, d, sizeof d);
}

void tb_pattern(uint8_t *buf, size_t len, uint32_t tag)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)((i * 131 + tag * 17 + (i >> 9) * 7) ^ (tag >> 3));
}

int tb_machine(struct tb *t, const struct tb_opts *o, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	sim_init(&t->sim, 1);
	bus_init(&t->bus, &t->sim);
	ck_assert_int_eq(bus_add_ram(&t->bus, "ram", 0, TB_RAM, BUS_RWX), 0);
	pci_init(&t->pci, &t->sim);
	ck_assert_int_eq(pci_attach(&t->pci, &t->bus), 0);
	strcpy(t->dir, "/tmp/test_block.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path, sizeof t->path, "%s/disk.img", t->dir);
	struct blockdev_params p = {
		.path = t->path,
		.size = o->size ? o->size : 4u << 20,
		.sector_size = o->sector_size ? o->sector_size : 512,
		.atomic_bytes = o->atomic_bytes ? o->atomic_bytes : 4096,
		.volatile_cache = !o->write_through,
		.preset = o->preset,
	};
	if (blockdev_open(&t->bd, &t->sim, &p, err, errlen) < 0)
		return -1;
	virtio_blk_init(&t->vb, &t->sim, &t->bus, &t->bd, NULL);
	pci_func_set_irq(&t->vb.pci, 1, 11, (struct irq_line){irq_set_cb, &t->irq, 0});
	ck_assert_int_eq(virtio_blk_attach(&t->vb, &t->pci, TB_DEV), 0);

	/* Find the function and its capabilities, as a driver does. */
	ck_assert_uint_eq(tb_cfg_read(t, PCI_VENDOR_ID, 2), 0x1AF4);
	ck_assert_uint_eq(tb_cfg_read(t, PCI_DEVICE_ID, 2), 0x1042);
	ck_assert(tb_cfg_read(t, PCI_STATUS, 2) & PCI_STATUS_CAP);
	for (unsigned c = tb_cfg_read(t, PCI_CAP_PTR, 1), n = 0; c && n < 48; n++) {
		ck_assert_uint_eq(tb_cfg_read(t, c, 1), 0x09);
		unsigned type = tb_cfg_read(t, c + 3, 1);
		uint32_t off = tb_cfg_read(t, c + 8, 4);
		ck_assert_uint_eq(tb_cfg_read(t, c + 4, 1), 0);         /* BAR0 */
		switch (type) {
		case 1: t->common = off; break;
		case 2: t->notify = off; t->notify_mult = tb_cfg_read(t, c + 16, 4); break;
		case 3: t->isr = off; break;
		case 4: t->devcfg = off; break;
		case 5: t->pcicfg_cap = c; break;
		}
		c = tb_cfg_read(t, c + 1, 1);
	}
	/* Size and place BAR0, then enable memory decode and bus mastering. */
	tb_cfg_write(t, PCI_BAR0, 4, 0xFFFFFFFF);
	ck_assert_uint_eq(tb_cfg_read(t, PCI_BAR0, 4) & ~0xFu, ~(uint32_t)(VBLK_BAR_SIZE - 1));
	tb_cfg_write(t, PCI_BAR0, 4, TB_BAR);
	tb_cfg_write(t, PCI_COMMAND, 2, PCI_CMD_MEM | PCI_CMD_MASTER);
	ck_assert_uint_eq(t->vb.bar_addr, TB_BAR);
	t->qsize = o->qsize ? o->qsize : 64;
	return 0;
}

void tb_driver_init(struct tb *t, uint64_t features)
{
	uint32_t c = t->common;
	tb_mmio_write(t, c + 0x14, 1, 0);                               /* reset */
	tb_mmio_write(t, c + 0x14, 1, VIRTIO_STAT_ACKNOWLEDGE);
	tb_mmio_write(t, c + 0x14, 1, VIRTIO_STAT_ACKNOWLEDGE | VIRTIO_STAT_DRIVER);
	tb_mmio_write(t, c + 0x00, 4, 0);
	uint64_t dev = tb_mmio_read(t, c + 0x04, 4);
	tb_mmio_write(t, c + 0x00, 4, 1);
	dev |= tb_mmio_read(t, c + 0x04, 4) << 32;
	features &= dev;
	tb_mmio_write(t, c + 0x08, 4, 0);
	tb_mmio_write(t, c + 0x0C, 4, (uint32_t)features);
	tb_mmio_write(t, c + 0x08, 4, 1);
	tb_mmio_write(t, c + 0x0C, 4, (uint32_t)(features >> 32));
	tb_mmio_write(t, c + 0x14, 1, VIRTIO_STAT_ACKNOWLEDGE | VIRTIO_STAT_DRIVER |
					  VIRTIO_STAT_FEATURES_OK);
	ck_assert(tb_mmio_read(t, c + 0x14, 1) & VIRTIO_STAT_FEATURES_OK);
	tb_mmio_write(t, c + 0x16, 2, 0);
	ck_assert_uint_eq(tb_mmio_read(t, c + 0x18, 2), VBLK_QUEUE_MAX);
	tb_mmio_write(t, c + 0x18, 2, t->qsize);
	/* The 64-bit addresses as two 32-bit halves, as many drivers do. */
	tb_mmio_write(t, c + 0x20, 4, TB_DESC);
	tb_mmio_write(t, c + 0x24, 4, 0);
	tb_mmio_write(t, c + 0x28, 4, TB_AVAIL);
	tb_mmio_write(t, c + 0x2C, 4, 0);
	tb_mmio_write(t, c + 0x30, 8, TB_USED);
	tb_mmio_write(t, c + 0x1C, 2, 1);
	ck_assert_uint_eq(tb_mmio_read(t, c + 0x1C, 2), 1);
	uint8_t zero[4] = {0};
	tb_poke(t, TB_AVAIL, zero, 4);
	tb_poke(t, TB_USED, zero, 4);
	t->avail_idx = t->used_seen = 0;
	tb_mmio_write(t, c + 0x14, 1, VIRTIO_STAT_ACKNOWLEDGE | VIRTIO_STAT_DRIVER |
					  VIRTIO_STAT_FEATURES_OK | VIRTIO_STAT_DRIVER_OK);
	ck_assert_uint_eq(tb_mmio_read(t, c + 0x14, 1), 0x0F);
}

void tb_up(struct tb *t, const struct tb_opts *o)
{
	char err[512];
	if (tb_machine(t, o, err, sizeof err) < 0)
		ck_abort_msg("%s", err);
	uint64_t f = 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		     1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_BLK_F_SEG_MAX;
	if (!o->no_flush_feature)
		f |= 1ull << VIRTIO_BLK_F_FLUSH;
	tb_driver_init(t, f);
}

void tb_down(struct tb *t)
{
	virtio_blk_free(&t->vb);
	blockdev_close(&t->bd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->dir);
	ck_assert_int_eq(system(cmd), 0);
	bus_free(&t->bus);
	sim_free(&t->sim);
}

void tb_make_available(struct tb *t, uint16_t head)
{
	uint8_t b[2];
	le16(b, head);
	tb_poke(t, TB_AVAIL + 4 + 2u * (t->avail_idx % t->qsize), b, 2);
	t->avail_idx++;
	le16(b, t->avail_idx);
	tb_poke(t, TB_AVAIL + 2, b, 2);
}

void tb_notify(struct tb *t)
{
	tb_mmio_write(t, t->notify, 2, 0);
}

uint16_t tb_submit(struct tb *t, unsigned slot, uint32_t type, uint64_t sector,
		   uint64_t data_addr, uint32_t data_len)
{
	uint8_t hdr[16] = {0};
	le32(hdr, type);
	le64(hdr + 8, sector);
	tb_poke(t, TB_HDR + 16u * slot, hdr, sizeof hdr);
	uint8_t junk = 0xAA;
	tb_poke(t, TB_STATUS + slot, &junk, 1);
	uint16_t d0 = (uint16_t)(slot * 3);
	bool in = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
	if (data_len) {
		tb_put_desc(t, TB_DESC, d0, TB_HDR + 16u * slot, 16, VIRTQ_DESC_F_NEXT, d0 + 1);
		tb_put_desc(t, TB_DESC, d0 + 1, data_addr, data_len,
			    VIRTQ_DESC_F_NEXT | (in ? VIRTQ_DESC_F_WRITE : 0), d0 + 2);
		tb_put_desc(t, TB_DESC, d0 + 2, TB_STATUS + slot, 1, VIRTQ_DESC_F_WRITE, 0);
	} else {
		tb_put_desc(t, TB_DESC, d0, TB_HDR + 16u * slot, 16, VIRTQ_DESC_F_NEXT, d0 + 1);
		tb_put_desc(t, TB_DESC, d0 + 1, TB_STATUS + slot, 1, VIRTQ_DESC_F_WRITE, 0);
	}
	tb_make_available(t, d0);
	tb_notify(t);
	return d0;
}

void tb_run(struct tb *t)
{
	for (int i = 0; i < 1000000 && event_next_time(&t->sim.events) != SIM_TIME_MAX; i++)
		sim_run_events(&t->sim, event_next_time(&t->sim.events));
	ck_assert_uint_eq(event_next_time(&t->sim.events), SIM_TIME_MAX);
}

bool tb_used(struct tb *t, uint32_t *id, uint32_t *len)
{
	uint8_t b[8];
	tb_peek(t, TB_USED + 2, b, 2);
	uint16_t idx = b[0] | b[1] << 8;
	if (idx == t->used_seen)
		return false;
	tb_peek(t, TB_USED + 4 + 8u * (t->used_seen % t->qsize), b, 8);
	*id = b[0] | b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	*len = b[4] | b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
	t->used_seen++;
	return true;
}

uint8_t tb_status(struct tb *t, unsigned slot)
{
	uint8_t s;
	tb_peek(t, TB_STATUS + slot, &s, 1);
	return s;
}

uint8_t tb_dev_status(struct tb *t)
{
	return (uint8_t)tb_mmio_read(t, t->common + 0x14, 1);
}

uint8_t tb_do(struct tb *t, uint32_t type, uint64_t sector, uint64_t data_addr, uint32_t len)
{
	uint16_t head = tb_submit(t, 0, type, sector, data_addr, len);
	tb_run(t);
	uint32_t id, ulen;
	ck_assert(tb_used(t, &id, &ulen));
	ck_assert_uint_eq(id, head);
	ck_assert(!tb_used(t, &id, &ulen));
	tb_mmio_read(t, t->isr, 1);             /* acknowledge */
	return tb_status(t, 0);
}

/* --- blockdev on its own -------------------------------------------- */

static const char *tmpdir(char *buf)
{
	strcpy(buf, "/tmp/test_blockdev.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(buf));
	return buf;
}

START_TEST(wrong_size_image_refused_untouched)
{
	char dir[64], path[128], cmd[160];
	tmpdir(dir);
	snprintf(path, sizeof path, "%s/disk.img", dir);
	FILE *f = fopen(path, "wb");
	for (int i = 0; i < 3000; i++)
		fputc(i * 7, f);
	fclose(f);
	struct stat st0, st1;
	ck_assert_int_eq(stat(path, &st0), 0);
	struct sim sim;
	sim_init(&sim, 1);
	struct blockdev bd;
	char err[512] = "";
	struct config cfg;
	config_defaults(&cfg);
	free(cfg.block.image);
	cfg.block.image = strdup(path);
	cfg.block.size_mb = 2;
	ck_assert_int_eq(blockdev_open_config(&bd, &sim, &cfg, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_nonnull(strstr(err, "2097152"));
	ck_assert_ptr_nonnull(strstr(err, "block.size_mb = 2"));
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert_int_eq(stat(path, &st1), 0);
	ck_assert_int_eq(st1.st_size, 3000);
	ck_assert_int_eq(st1.st_mtim.tv_sec, st0.st_mtim.tv_sec);
	ck_assert_int_eq(st1.st_mtim.tv_nsec, st0.st_mtim.tv_nsec);
	f = fopen(path, "rb");
	for (int i = 0; i < 3000; i++)
		ck_assert_int_eq(fgetc(f), (i * 7) & 0xFF);
	fclose(f);
	config_free(&cfg);
	sim_free(&sim);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(missing_image_created_sparse)
{
	char dir[64], path[128], cmd[160];
	tmpdir(dir);
	snprintf(path, sizeof path, "%s/big.img", dir);
	struct sim sim;
	sim_init(&sim, 1);
	struct blockdev bd;
	char err[512];
	struct blockdev_params p = {.path = path, .size = 1ull << 30, .sector_size = 4096,
				    .atomic_bytes = 4096, .volatile_cache = true,
				    .preset = BLOCK_PRESET_SATA};
	ck_assert_int_eq(blockdev_open(&bd, &sim, &p, err, sizeof err), 0);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 1 << 30);
	ck_assert_int_le(st.st_blocks, 64);
	uint8_t buf[4096];
	memset(buf, 0x5A, sizeof buf);
	ck_assert_int_eq(blockdev_write(&bd, 262143, 1, buf), 0);      /* last sector */
	ck_assert_int_eq(blockdev_write(&bd, 262144, 1, buf), -1);     /* beyond */
	ck_assert_uint_eq(blockdev_pending(&bd), 1);
	blockdev_flush(&bd);
	ck_assert_uint_eq(blockdev_pending(&bd), 0);
	struct crash_policy pol = {POLICY_STRICT, false};
	ck_assert_int_eq(blk_crash_apply(&bd, &pol, NULL, err, sizeof err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, 1 << 30);
	ck_assert_int_le(st.st_blocks, 64);                     /* still sparse */
	blockdev_close(&bd);
	int fd = open(path, O_RDONLY);
	uint8_t back[4096];
	ck_assert_int_eq(pread(fd, back, 4096, (1 << 30) - 4096), 4096);
	ck_assert_mem_eq(back, buf, 4096);
	close(fd);
	sim_free(&sim);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(reads_see_newest_and_destage_bounds_cache)
{
	char dir[64], path[128], cmd[160];
	tmpdir(dir);
	snprintf(path, sizeof path, "%s/d.img", dir);
	struct sim sim;
	sim_init(&sim, 1);
	struct blockdev bd;
	char err[512];
	struct blockdev_params p = {.path = path, .size = 128u << 20, .sector_size = 512,
				    .atomic_bytes = 4096, .volatile_cache = true,
				    .preset = BLOCK_PRESET_SATA};
	ck_assert_int_eq(blockdev_open(&bd, &sim, &p, err, sizeof err), 0);
	uint8_t a[1024], b[512], r[1024];
	memset(a, 1, sizeof a);
	memset(b, 2, sizeof b);
	ck_assert_int_eq(blockdev_write(&bd, 10, 2, a), 0);
	ck_assert_int_eq(blockdev_write(&bd, 11, 1, b), 0);
	ck_assert_int_eq(blockdev_read(&bd, 10, 2, r), 0);
	ck_assert_uint_eq(r[0], 1);
	ck_assert_uint_eq(r[512], 2);
	/* 40 MiB more than the 32 MiB cache: the oldest writes destage. */
	static uint8_t big[1 << 20];
	for (int i = 0; i < 40; i++)
		ck_assert_int_eq(blockdev_write(&bd, 4096 + 2048ull * i, 2048, big), 0);
	ck_assert_uint_le(bd.pend_bytes, bd.timing->cache_bytes);
	ck_assert_uint_eq(bd.media[11 * 512], 2);               /* destaged in order */
	ck_assert_int_eq(blockdev_read(&bd, 10, 2, r), 0);
	ck_assert_uint_eq(r[512], 2);
	blockdev_close(&bd);
	sim_free(&sim);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(timing_from_presets)
{
	char dir[64], path[128], cmd[160];
	tmpdir(dir);
	snprintf(path, sizeof path, "%s/d.img", dir);
	struct sim sim;
	sim_init(&sim, 1);
	struct blockdev bd;
	char err[512];
	struct blockdev_params p = {.path = path, .size = 1u << 20, .sector_size = 512,
				    .atomic_bytes = 4096, .volatile_cache = true,
				    .preset = BLOCK_PRESET_SATA};
	ck_assert_int_eq(blockdev_open(&bd, &sim, &p, err, sizeof err), 0);
	/* One 4 KiB read: 70 us + 4096 B / 550 MB/s. */
	sim_time_t one = blockdev_submit(&bd, BLK_OP_READ, 4096);
	ck_assert_uint_eq(one, 70 * SIM_US + 4096ull * 1000000 / 550);
	ck_assert(one >= 50 * SIM_US && one <= 100 * SIM_US);   /* the SATA figure */
	/* 31 more fit the NCQ depth of 32; the 33rd waits for a slot. */
	sim_time_t last = 0;
	for (int i = 0; i < 31; i++)
		last = blockdev_submit(&bd, BLK_OP_READ, 4096);
	sim_time_t waited = blockdev_submit(&bd, BLK_OP_READ, 4096);
	ck_assert_uint_gt(waited, last);
	ck_assert_uint_ge(waited, one + 70 * SIM_US);
	/* Flush: empty vs with data (0.9 ms without power-loss protection). */
	ck_assert_uint_eq(blockdev_submit(&bd, BLK_OP_FLUSH, 0) - sim.now >= 10 * SIM_US, 1);
	uint8_t buf[16384] = {0};
	blockdev_write(&bd, 0, 32, buf);
	sim.now = 10 * SIM_MS;
	sim_time_t f = blockdev_submit(&bd, BLK_OP_FLUSH, 0) - sim.now;
	ck_assert_uint_eq(f, 900 * SIM_US + 16384ull * 1000000 / 500);
	blockdev_close(&bd);
	sim_free(&sim);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(presets_carry_source_figures)
{
	const struct blockdev_timing *n = blockdev_preset(BLOCK_PRESET_NVME);
	const struct blockdev_timing *c = blockdev_preset(BLOCK_PRESET_NVME_CONSUMER);
	const struct blockdev_timing *s = blockdev_preset(BLOCK_PRESET_SATA);
	ck_assert_ptr_null(blockdev_preset(99));
	/* 4 KiB read NVMe 10-20 us, SATA 50-100 us. */
	for (int i = 0; i < 2; i++) {
		const struct blockdev_timing *t = i ? c : n;
		sim_time_t r = t->read_latency + 4096ull * 1000000 / t->read_mb_s;
		ck_assert(r >= 10 * SIM_US && r <= 20 * SIM_US);
	}
	ck_assert(n->flush_latency >= 12 * SIM_US && n->flush_latency <= 58 * SIM_US);
	ck_assert_uint_eq(c->flush_latency, 900 * SIM_US);
	ck_assert_uint_eq(s->queue_depth, 32);
}
END_TEST

Suite *blockdev_suite(void)
{
	Suite *s = suite_create("blockdev");
	TCase *tc = tcase_create("blockdev");
	tcase_add_test(tc, wrong_size_image_refused_untouched);
	tcase_add_test(tc, missing_image_created_sparse);
	tcase_add_test(tc, reads_see_newest_and_destage_bounds_cache);
	tcase_add_test(tc, timing_from_presets);
	tcase_add_test(tc, presets_carry_source_figures);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(blockdev_suite());
	srunner_add_suite(sr, virtio_blk_suite());
	srunner_add_suite(sr, blk_crash_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
